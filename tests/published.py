"""Helpers for the per-dataset tests: serve fixture files under a definition's real URLs, or take them locally.

The fixtures are small files in the exact published layout; their checksums
are not the published ones. So a test first serves them on loopback under the
real URL (through the ``mirrors`` setting) and checks that the download is
refused for that reason, then prepares from the same files with
``--from DIR --no-verify``, which accepts and records them as unverified.
"""

from __future__ import annotations

import io
import re
import tarfile
from pathlib import Path
from typing import Any

import pytest

from datamaestro.api import prepare_dataset
from datamaestro.config import load_settings
from datamaestro.download.context import Request
from datamaestro.errors import ChecksumError, DownloadError
from datamaestro.registry import Registry


def tar_gz(members: dict[str, bytes]) -> bytes:
    """A tar.gz archive of regular files (name -> content)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def check_refused_download(
    env: Any, server: Any, dataset_id: str, bases: list[str], files: dict[str, bytes], published: str
) -> None:
    """Serve ``files`` under the definition's real URL folder(s) ``bases``: the size or checksum mismatch stops prepare.

    ``published`` is the checksum the definition must declare; a definition
    that declares sizes refuses the fixtures by their size.

    Every base (the URL and its mirrors) is rewritten to the loopback server,
    so that no test reaches a real host.
    """
    path = "/" + bases[0].split("://", 1)[1]
    for name, data in files.items():
        server.files[path + name] = data
    for base in bases:
        env.mirror(base, server.url(path))
    resources = [r.describe() for r in Registry().definition(dataset_id).resources]
    assert published in [r.get("checksum") for r in resources], f"{dataset_id} does not declare {published}"
    sizes = {r["size"] for r in resources if r.get("size")}
    with pytest.raises(DownloadError) as error:
        prepare_dataset(dataset_id, quiet=True)
    message = str(error.value)
    if sizes:  # a declared size refuses the fixture before its checksum is computed
        refused = re.findall(r"got (\d+) bytes, expected (\d+)", message)
        assert refused and dataset_id in message, message
        assert all(int(expected) in sizes and int(got) in {len(d) for d in files.values()} for got, expected in refused), message
    else:
        assert isinstance(error.value, ChecksumError) and "nothing was kept" in message
        assert re.search(f"checksum mismatch for .* of {dataset_id}: .*{published}", message), message
    assert server.gets(path + next(iter(files))) >= 1


def prepare_local(folder: Path, dataset_id: str, files: dict[str, bytes]) -> Any:
    """Write ``files`` into ``folder`` and prepare ``dataset_id`` from them with ``--no-verify``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    request = Request(quiet=True, source_dir=folder, no_verify=True)
    return prepare_dataset(dataset_id, settings=load_settings(None), request=request)
