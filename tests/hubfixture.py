"""A loopback Hugging Face Hub: the HTTP API as huggingface_hub calls it, and real Parquet files.

Answers ``GET /api/datasets/{repo}[/revision/{rev}]?blobs=True`` (``HfApi.dataset_info``
with ``files_metadata=True``: the commit sha, every file with its size, git blob id and
LFS sha256, and ``cardData``), and ``/datasets/{repo}/resolve/{rev}/{path}`` (the files
themselves, by the ``FileServer``, at the commit sha or a revision name). A gated
repository answers 401 without ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from typing import Any, Optional
from urllib.parse import unquote

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from httpserver import FileServer
from PIL import Image


def png(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def parquet(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


def mnist_like(n: int, seed: int, names: list[str]) -> tuple[bytes, np.ndarray, np.ndarray]:
    """A Parquet file as the Hub's MNIST: an image column ({bytes, path}) and a ClassLabel column."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 6, 5), dtype=np.uint8)
    labels = rng.integers(0, len(names), size=n).astype(np.int64)
    image_type = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    table = pa.table({
        "image": pa.array([{"bytes": png(im), "path": None} for im in images], type=image_type),
        "label": pa.array(labels),
    })
    features = {"image": {"_type": "Image"}, "label": {"names": names, "_type": "ClassLabel"}}
    table = table.replace_schema_metadata({"huggingface": json.dumps({"info": {"features": features}})})
    return parquet(table), images, labels


def table_like() -> bytes:
    """A Parquet file of plain columns (no Hub metadata)."""
    return parquet(pa.table({
        "x": pa.array([1.5, 2.5, -1.0]), "n": pa.array([3, 4, 5], type=pa.int32()), "word": pa.array(["a", "bé", "c"]),
    }))


def git_blob(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Repo:
    """One dataset repository: its files and card at each revision (name -> commit sha)."""

    repo: str
    files: dict[str, bytes]
    card: dict[str, Any]
    body: str = ""
    commits: dict[str, str] = field(default_factory=lambda: {"main": "a" * 40})
    gated_token: Optional[str] = None
    #: path -> sha256 announced instead of the file's own (a lying API, or a server serving other bytes)
    announced: dict[str, str] = field(default_factory=dict)

    def readme(self) -> bytes:
        return f"---\n{yaml.safe_dump(self.card, sort_keys=False)}---\n{self.body}".encode()

    def all_files(self) -> dict[str, bytes]:
        return {**self.files, "README.md": self.readme()}

    def info(self, commit: str) -> dict[str, Any]:
        siblings = []
        for path, data in sorted(self.all_files().items()):
            sibling: dict[str, Any] = {"rfilename": path, "size": len(data), "blobId": git_blob(data)}
            if path.endswith(".parquet"):
                sha = self.announced.get(path, hashlib.sha256(data).hexdigest())
                sibling["lfs"] = {"size": len(data), "sha256": sha, "pointerSize": 134}
            siblings.append(sibling)
        return {"id": self.repo, "sha": commit, "private": False, "gated": bool(self.gated_token),
                "siblings": siblings, "cardData": self.card, "tags": []}


class Hub:
    """Serves ``repos`` on a ``FileServer`` as the Hub does; ``api_calls`` counts API requests."""

    def __init__(self, server: FileServer):
        self.server = server
        self.repos: dict[str, Repo] = {}
        self.api_calls = 0
        server.hook = self.answer

    @property
    def endpoint(self) -> str:
        return self.server.base.rstrip("/")

    def add(self, repo: Repo) -> Repo:
        self.repos[repo.repo] = repo
        for rev, commit in repo.commits.items():
            for path, data in repo.all_files().items():
                for name in {rev, commit}:
                    self.server.files[f"/datasets/{repo.repo}/resolve/{name}/{path}"] = data
        return repo

    def answer(self, handler: Any, path: str) -> bool:
        path = unquote(path)
        for repo in self.repos.values():
            if repo.gated_token and repo.repo in path and handler.headers.get("Authorization") != f"Bearer {repo.gated_token}":
                self.send(handler, 401, {"error": "gated"}, {"X-Error-Code": "GatedRepo"})
                return True
        if not path.startswith("/api/datasets/"):
            return False
        self.api_calls += 1
        rest = path.removeprefix("/api/datasets/")
        name, _, revision = rest.partition("/revision/")
        repo = self.repos.get(name)
        commit = repo.commits.get(revision or "main") if repo else None
        if repo is None or commit is None:
            code = "RepoNotFound" if repo is None else "RevisionNotFound"
            self.send(handler, 404, {"error": "not found"}, {"X-Error-Code": code})
        else:
            self.send(handler, 200, repo.info(commit), {})
        return True

    @staticmethod
    def send(handler: Any, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        for k, v in {**headers, "Content-Type": "application/json", "Content-Length": str(len(data))}.items():
            handler.send_header(k, v)
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(data)
