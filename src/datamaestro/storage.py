"""The data folder: where prepared datasets, manifests and partial downloads live.

Layout under the data folder::

    datasets/<id>/<file>           prepared files, each complete and verified
    datasets/<id>/.manifest.json   what was prepared: sizes, sha256, sources
    downloads/<id>/<file>.part     downloads in progress, never read as data
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

MANIFEST = ".manifest.json"


class DataFolder:
    """Paths and atomic writes inside one data folder."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def dataset_dir(self, dataset_id: str) -> Path:
        """The folder holding the prepared files of ``dataset_id``."""
        return self.root / "datasets" / dataset_id

    def download_dir(self, dataset_id: str) -> Path:
        """The folder holding partial downloads of ``dataset_id``."""
        return self.root / "downloads" / dataset_id

    def manifest_path(self, dataset_id: str) -> Path:
        return self.dataset_dir(dataset_id) / MANIFEST

    def read_manifest(self, dataset_id: str) -> dict[str, Any]:
        """The manifest of ``dataset_id`` ({} when nothing was prepared)."""
        try:
            with open(self.manifest_path(dataset_id), encoding="utf-8") as f:
                return json.load(f)
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def record(self, dataset_id: str, name: str, entry: dict[str, Any]) -> None:
        """Add or replace the manifest entry of one prepared file."""
        manifest = self.read_manifest(dataset_id) or {"id": dataset_id, "files": {}}
        manifest["files"][name] = entry
        manifest["updated"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with atomic_file(self.manifest_path(dataset_id)) as f:
            f.write(json.dumps(manifest, indent=2, sort_keys=True).encode())


@contextmanager
def atomic_file(dest: Path) -> Iterator[Any]:
    """Open a temporary file beside ``dest``; it replaces ``dest`` only on success."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
