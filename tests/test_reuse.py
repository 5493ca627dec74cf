"""Datasets sharing one archive: the second links the folder the first unpacked, never a changed one."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tarfile

import pytest
from makefiles import write_module
from test_archive import member, tar_bytes

from datamaestro.api import prepare_dataset
from datamaestro.errors import UnpackLimitError

URL = "https://example.org/files/shared.tar.gz"
ARCHIVE = tar_bytes([
    member("pkg", kind=tarfile.DIRTYPE),
    member("pkg/a.txt", b"alpha"),
    member("pkg/sub", kind=tarfile.DIRTYPE),
    member("pkg/sub/b.txt", b"beta"),
    member("pkg/empty", kind=tarfile.DIRTYPE),
    member("README", b"top"),
])
CHECKSUM = f"sha256:{hashlib.sha256(ARCHIVE).hexdigest()}"
#: the files of the kept folder ``pkg``, as every dataset of the archive must hold them
FILES = {"a.txt": b"alpha", "sub/b.txt": b"beta"}


def dataset_source(name: str, subpath: str | None, extra: str = "") -> str:
    return f"""
@archivedownloader("content", {URL!r}, checksum={CHECKSUM!r}, subpath={subpath!r}{extra})
@dataset(Folder, id={name!r})
def {name}(content):
    return {{"path": content}}
"""


@pytest.fixture
def shared(env, server):
    """Datasets org.share.first and org.share.second of one archive, kept from ``pkg``; org.share.whole keeps
    all of it; org.share.small allows it fewer files than it holds."""
    server.files["/files/shared.tar.gz"] = ARCHIVE
    env.mirror("https://example.org/files/", server.url("/files/"))
    write_module(env.use_registry(), "org.share", "\n".join([
        "from dataclasses import dataclass",
        "from pathlib import Path",
        "from datamaestro.data.base import Base",
        "from datamaestro.download.archive import archivedownloader",
        "from datamaestro.definitions import dataset",
        "@dataclass(kw_only=True)",
        "class Folder(Base):",
        "    path: Path",
        dataset_source("first", "pkg"),
        dataset_source("second", "pkg"),
        dataset_source("whole", None),
        dataset_source("small", "pkg", ", unpacked_files=1"),
    ]))
    return server


def folder(env, name: str):
    return env.data / "datasets" / f"org.share.{name}" / "content"


def entry(env, name: str) -> dict:
    manifest = json.loads((env.data / "datasets" / f"org.share.{name}" / ".manifest.json").read_text())
    return manifest["entries"]["content"]


def tree(root) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


def test_the_second_dataset_links_the_folder_the_first_unpacked(env, shared, cli, caplog):
    prepare_dataset("org.share.first")
    with caplog.at_level(logging.INFO, logger="datamaestro"):
        second = prepare_dataset("org.share.second").path
    assert shared.gets("/files/shared.tar.gz") == 1
    first = folder(env, "first")
    assert f"org.share.second: content is already unpacked in {first}: linking it" in caplog.text
    assert tree(second) == tree(first) == ["a.txt", "empty", "sub", "sub/b.txt"]
    for relative, data in FILES.items():
        assert (second / relative).read_bytes() == data
        assert (second / relative).stat().st_ino == (first / relative).stat().st_ino
    recorded = entry(env, "second")
    assert recorded["files"] == entry(env, "first")["files"]
    assert recorded["verified_by"] == CHECKSUM and recorded["unpacking"] == "tar.gz, subpath pkg"
    assert recorded["source"] == f"linked from {first}"
    assert recorded["original"] == {"size": len(ARCHIVE), "sha256": CHECKSUM.removeprefix("sha256:")}
    assert [n for n in os.listdir(second.parent) if n.endswith(".tmp")] == []
    # removing the first leaves the second whole: its names are links of their own
    assert cli("rm", "--yes", "org.share.first").returncode == 0
    assert not first.parent.exists()
    assert {r: (second / r).read_bytes() for r in FILES} == FILES
    assert cli("verify", "org.share.second").stdout.splitlines() == ["org.share.second: OK (1 file)"]


def test_another_subpath_of_the_same_archive_is_downloaded(env, shared):
    prepare_dataset("org.share.first")
    whole = prepare_dataset("org.share.whole").path
    assert shared.gets("/files/shared.tar.gz") == 2
    assert tree(whole) == ["README", "pkg", "pkg/a.txt", "pkg/empty", "pkg/sub", "pkg/sub/b.txt"]
    assert entry(env, "whole")["unpacking"] == "tar.gz"


def test_a_shared_folder_beyond_the_unpack_limits_is_not_linked(env, shared):
    prepare_dataset("org.share.first")
    with pytest.raises(UnpackLimitError, match="the limit"):
        prepare_dataset("org.share.small")
    assert shared.gets("/files/shared.tar.gz") == 2
    assert not folder(env, "small").exists()


def test_a_changed_file_is_detected_and_the_archive_downloaded(env, shared, caplog):
    prepare_dataset("org.share.first")
    changed = folder(env, "first") / "sub" / "b.txt"
    with open(changed, "r+b") as f:  # the same size, other bytes: only the hash tells
        f.write(b"BETA")
    with caplog.at_level(logging.INFO, logger="datamaestro"):
        second = prepare_dataset("org.share.second").path
    assert shared.gets("/files/shared.tar.gz") == 2
    assert (
        "org.share.second: content of org.share.first is not reused (sub/b.txt: its bytes are not those recorded "
        "(same size, another sha256)); downloading content (check it with 'datamaestro verify org.share.first')"
    ) in caplog.text
    assert {r: (second / r).read_bytes() for r in FILES} == FILES
    assert changed.read_bytes() == b"BETA" and changed.stat().st_nlink == 1  # the first's copy, untouched
    assert (second / "a.txt").stat().st_nlink == 1
    assert "linked from" not in json.dumps(entry(env, "second"))


@pytest.mark.parametrize("change,why", [
    (lambda first: (first / "sub" / "b.txt").unlink(), "sub/b.txt: missing"),
    (lambda first: (first / "a.txt").write_bytes(b"alpha!"), "a.txt: 6 bytes, recorded 5"),
    (lambda first: (first / "extra.txt").write_bytes(b"x"), "extra.txt: not recorded"),
    (lambda first: (first / "c.txt").symlink_to("a.txt"), "c.txt: not a regular file (a link?), not recorded"),
])
def test_a_folder_that_differs_from_its_record_is_not_reused(env, shared, caplog, change, why):
    prepare_dataset("org.share.first")
    change(folder(env, "first"))
    with caplog.at_level(logging.INFO, logger="datamaestro"):
        second = prepare_dataset("org.share.second").path
    assert f"is not reused ({why}); downloading content" in caplog.text
    assert shared.gets("/files/shared.tar.gz") == 2
    assert tree(second) == ["a.txt", "empty", "sub", "sub/b.txt"]


def test_a_link_out_of_the_first_folder_is_not_followed(env, shared, tmp_path):
    """The first's ``sub`` replaced by a link to a folder outside holding the recorded bytes: refused."""
    prepare_dataset("org.share.first")
    canary = tmp_path / "outside"
    canary.mkdir()
    (canary / "b.txt").write_bytes(b"beta")
    sub = folder(env, "first") / "sub"
    (sub / "b.txt").unlink()
    sub.rmdir()
    sub.symlink_to(canary)
    second = prepare_dataset("org.share.second").path
    assert shared.gets("/files/shared.tar.gz") == 2
    assert (canary / "b.txt").stat().st_nlink == 1
    assert (second / "sub" / "b.txt").stat().st_ino != (canary / "b.txt").stat().st_ino
    assert not (second / "sub").is_symlink()


@pytest.mark.parametrize("hostile", ["../../../canary.txt", "sub/../../../../../canary.txt"])
def test_a_hostile_manifest_makes_nothing_outside_read_or_linked(env, shared, tmp_path, hostile, caplog):
    """The first's record names a file up out of its folder (the data folder's, then the test's, canary):
    that manifest is refused as corrupt, the canaries are neither read nor linked."""
    prepare_dataset("org.share.first")
    canary = env.data / "canary.txt"
    canary.write_bytes(b"beta")
    (tmp_path / "canary.txt").write_bytes(b"beta")
    manifest = folder(env, "first").parent / ".manifest.json"
    value = json.loads(manifest.read_text())
    files = value["entries"]["content"]["files"]
    files[hostile] = files.pop("sub/b.txt")
    manifest.write_text(json.dumps(value))
    with caplog.at_level(logging.INFO, logger="datamaestro"):
        second = prepare_dataset("org.share.second").path
    assert shared.gets("/files/shared.tar.gz") == 2
    assert "is corrupt" in caplog.text and "linking it" not in caplog.text
    assert canary.stat().st_nlink == 1 and (tmp_path / "canary.txt").stat().st_nlink == 1
    assert tree(second) == ["a.txt", "empty", "sub", "sub/b.txt"]
