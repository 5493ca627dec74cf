"""archivedownloader: verified, extracted safely, or refused with nothing left behind."""

from __future__ import annotations

import hashlib
import io
import stat
import tarfile
import zipfile

import pytest
from makefiles import write_module

from datamaestro.api import prepare_dataset
from datamaestro.errors import ChecksumError, FormatError

OUTSIDE = "outside.txt"


def tar_bytes(members: list[tuple[tarfile.TarInfo, bytes]], mode: str = "w:gz") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as tar:
        for info, data in members:
            info.size = len(data) if info.isfile() else 0
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return buffer.getvalue()


def member(name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.mode = 0o644
    return info, data


def good_members() -> list[tuple[tarfile.TarInfo, bytes]]:
    return [
        member("pkg", kind=tarfile.DIRTYPE),
        member("pkg/a.txt", b"alpha"),
        member("pkg/sub/b.txt", b"beta"),
        member("pkg/link", kind=tarfile.SYMTYPE, linkname="a.txt"),
        member("README", b"top"),
    ]


def define(env, server, archive: bytes, filename: str, subpath: str | None = "pkg", checksum: str | None = "md5") -> str:
    server.files[f"/files/{filename}"] = archive
    env.mirror("https://example.org/files/", server.url("/files/"))
    registry = env.use_registry()
    digest = f'"md5:{hashlib.md5(archive).hexdigest()}"' if checksum == "md5" else repr(checksum)
    write_module(
        registry,
        "org.example",
        f"""
        from datamaestro.data.base import Base
        from datamaestro.download.archive import archivedownloader
        from datamaestro.definitions import dataset
        from dataclasses import dataclass
        from pathlib import Path

        @dataclass(kw_only=True)
        class Folder(Base):
            path: Path

        @archivedownloader("content", "https://example.org/files/{filename}", checksum={digest}, subpath={subpath!r})
        @dataset(Folder, id="arch")
        def arch(content):
            return {{"path": content}}
        """,
    )
    return "org.example.arch"


def leftovers(env) -> list[str]:
    """Every file under the data folder but the per-dataset lock files."""
    files = (p.relative_to(env.data).as_posix() for p in env.data.rglob("*") if p.is_file())
    return sorted(f for f in files if not f.startswith("locks/"))


@pytest.mark.parametrize("filename,mode", [("a.tar.gz", "w:gz"), ("a.tgz", "w:gz"), ("a.tar", "w")])
def test_tar_archive_extracted_with_subpath(env, server, filename, mode):
    dataset_id = define(env, server, tar_bytes(good_members(), mode), filename)
    data = prepare_dataset(dataset_id)
    root = data.path
    assert root == env.data / "datasets" / dataset_id / "content"
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == ["a.txt", "link", "sub", "sub/b.txt"]
    assert (root / "link").read_text() == "alpha"
    assert (root / "sub/b.txt").read_text() == "beta"
    assert not (root.parent / "README").exists()
    # prepared once: a second prepare does not download again
    before = len(server.log)
    prepare_dataset(dataset_id)
    assert len(server.log) == before


def test_zip_archive_whole(env, server):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("x/one.txt", "1")
        z.writestr("two.txt", "2")
    dataset_id = define(env, server, buffer.getvalue(), "a.zip", subpath=None)
    root = prepare_dataset(dataset_id).path
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == ["two.txt", "x", "x/one.txt"]


def test_missing_subpath(env, server):
    dataset_id = define(env, server, tar_bytes(good_members()), "a.tar.gz", subpath="nope")
    with pytest.raises(FormatError, match=r"^content of org\.example\.arch: the archive has no folder 'nope'; nothing was extracted$"):
        prepare_dataset(dataset_id)
    assert leftovers(env) == []


def test_checksum_mismatch_keeps_nothing(env, server):
    dataset_id = define(env, server, tar_bytes(good_members()), "a.tar.gz", checksum="md5:" + "0" * 32)
    with pytest.raises(ChecksumError, match="^checksum mismatch for content of org.example.arch: "):
        prepare_dataset(dataset_id)
    assert leftovers(env) == []


ATTACKS = [
    (
        [member("../" + OUTSIDE, b"evil")],
        "refused: member '../outside.txt' goes up with '..'; nothing was extracted",
    ),
    (
        [member("pkg/../../" + OUTSIDE, b"evil")],
        "refused: member 'pkg/../../outside.txt' goes up with '..'; nothing was extracted",
    ),
    (
        [member("/tmp/" + OUTSIDE, b"evil")],
        "refused: member '/tmp/outside.txt' has an absolute path; nothing was extracted",
    ),
    (
        [member("pkg/evil", kind=tarfile.SYMTYPE, linkname="../../" + OUTSIDE)],
        "refused: symbolic link 'pkg/evil' -> '../../outside.txt' leads outside the archive; nothing was extracted",
    ),
    (
        [member("pkg/evil", kind=tarfile.SYMTYPE, linkname="/etc/passwd")],
        "refused: symbolic link 'pkg/evil' -> '/etc/passwd' points to an absolute path; nothing was extracted",
    ),
    (
        [member("pkg/hard", kind=tarfile.LNKTYPE, linkname="../etc/passwd")],
        "refused: member 'pkg/hard' is a hard link; only files, folders and symbolic links are extracted; nothing was extracted",
    ),
    (
        [member("pkg/null", kind=tarfile.CHRTYPE)],
        "refused: member 'pkg/null' is a device file; only files, folders and symbolic links are extracted; nothing was extracted",
    ),
    (
        [member("pkg/disk", kind=tarfile.BLKTYPE)],
        "refused: member 'pkg/disk' is a device file; only files, folders and symbolic links are extracted; nothing was extracted",
    ),
    (
        [member("pkg/fifo", kind=tarfile.FIFOTYPE)],
        "refused: member 'pkg/fifo' is a FIFO; only files, folders and symbolic links are extracted; nothing was extracted",
    ),
]


@pytest.mark.parametrize("members,message", ATTACKS)
def test_tar_attacks_are_refused_and_leave_nothing(env, server, tmp_path, members, message):
    # good members first: the refusal must also remove what could have been written before
    dataset_id = define(env, server, tar_bytes(good_members() + members), "a.tar.gz")
    with pytest.raises(FormatError) as error:
        prepare_dataset(dataset_id)
    assert str(error.value) == f"content of {dataset_id}: {message}"
    assert leftovers(env) == []
    assert not list(env.data.rglob("*.tmp"))
    assert not (tmp_path / OUTSIDE).exists() and not (env.data / OUTSIDE).exists()


def zip_with(name: str, data: bytes = b"x", mode: int = stat.S_IFREG | 0o644) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("pkg/ok.txt", "fine")
        info = zipfile.ZipInfo(name)
        info.external_attr = mode << 16
        z.writestr(info, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "archive,message",
    [
        (zip_with("../" + OUTSIDE), "refused: member '../outside.txt' goes up with '..'; nothing was extracted"),
        (zip_with("/abs.txt"), "refused: member '/abs.txt' has an absolute path; nothing was extracted"),
        (zip_with("pkg\\..\\..\\evil.txt"), "refused: member 'pkg\\..\\..\\evil.txt' goes up with '..'; nothing was extracted"),
        (
            zip_with("pkg/evil", b"../../" + OUTSIDE.encode(), stat.S_IFLNK | 0o777),
            "refused: symbolic link 'pkg/evil' -> '../../outside.txt' leads outside the archive; nothing was extracted",
        ),
        (zip_with("pkg/dev", b"", stat.S_IFCHR | 0o644), "refused: member 'pkg/dev' is a device file; only files, folders and symbolic links are extracted; nothing was extracted"),
    ],
)
def test_zip_attacks_are_refused(env, server, archive, message):
    dataset_id = define(env, server, archive, "a.zip")
    with pytest.raises(FormatError) as error:
        prepare_dataset(dataset_id)
    assert str(error.value) == f"content of {dataset_id}: {message}"
    assert leftovers(env) == []


def test_truncated_archive(env, server):
    archive = tar_bytes(good_members())[:-30]
    dataset_id = define(env, server, archive, "a.tar.gz")
    with pytest.raises(FormatError, match=r"^content of org\.example\.arch: corrupt or truncated"):
        prepare_dataset(dataset_id)
    assert leftovers(env) == []


def test_cli_refuses_with_one_line(env, server, cli):
    dataset_id = define(env, server, tar_bytes([member("../" + OUTSIDE, b"evil")]), "a.tar.gz")
    result = cli("prepare", dataset_id)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        f"datamaestro: error: content of {dataset_id}: refused: member '../outside.txt' "
        "goes up with '..'; nothing was extracted"
    )
