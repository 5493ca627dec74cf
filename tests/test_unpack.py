"""The unpacking processors against good and hostile input.

Every hostile case builds its archive in code, unpacks it into ``staging/out``
under the test's folder, and checks that the refusal left the whole test
folder as it was: the canary file outside is byte-identical, nothing was
created, and ``out`` is gone.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hostile import (
    Member,
    bzip2_streams,
    chain_escape,
    cve_2025_4517,
    file,
    folder,
    gzip_members,
    hard_link,
    link,
    special,
    tar,
    tar_announcing,
    xz_streams,
    zeros_gzip,
    zip_archive,
    zip_lying_about_size,
)

from datamaestro.download.unpack import Limits, bunzip2, gunzip, kind_of, untar, unxz, unzip
from datamaestro.errors import FormatError, UnpackLimitError, UnsafeArchiveError
from datamaestro.hashing import FileHash

LABEL = "a.tar.gz of org.example.x"
LIMITS = Limits(max_bytes=1 << 20, max_files=100)
CANARY = b"the canary: must stay byte-identical\n"
TAR_KINDS = ["tar", "tar.gz", "tar.bz2", "tar.xz"]


def fh(data: bytes) -> FileHash:
    return FileHash(len(data), hashlib.sha256(data).hexdigest())


def snapshot(root: Path) -> dict[str, Any]:
    """Everything under ``root``, links not followed: content hashes, link targets, folders."""
    found: dict[str, Any] = {}
    for folder_path, folders, files in os.walk(root):
        for name in folders + files:
            path = Path(folder_path, name)
            key = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[key] = ("link", os.readlink(path))
            elif path.is_dir():
                found[key] = ("dir",)
            else:
                found[key] = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
    return found


class Case:
    """A test folder with a canary outside, a staging folder, and the archive to unpack."""

    def __init__(self, root: Path):
        self.root = root
        self.canary = root / "canary.txt"
        self.canary.write_bytes(CANARY)
        self.staging = root / "staging"
        self.staging.mkdir()
        self.dest = self.staging / "out"

    def source(self, data: bytes, name: str = "archive") -> Path:
        path = self.root / "downloads" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        return path

    def refused(
        self,
        unpack: Callable[..., Any],
        data: bytes,
        error: type[Exception] = UnsafeArchiveError,
        limits: Limits = LIMITS,
        **kwargs: Any,
    ) -> str:
        """Unpack ``data``: it must fail with ``error`` and change nothing; returns the message."""
        source = self.source(data)
        before = snapshot(self.root)
        with pytest.raises(error) as caught:
            unpack(source, self.dest, limits, LABEL, **kwargs)
        assert type(caught.value) is error
        assert snapshot(self.root) == before
        assert self.canary.read_bytes() == CANARY
        message = str(caught.value)
        assert "\n" not in message
        return message


@pytest.fixture
def case(tmp_path: Path) -> Case:
    return Case(tmp_path)


def refusal(what: str) -> str:
    return f"{LABEL}: refused: {what}; nothing was extracted"


# --- good archives --------------------------------------------------------------

GOOD = [
    folder("pkg"),
    file("pkg/a.txt", b"alpha"),
    file("pkg/sub/b.txt", b"beta" * 1000),
    link("pkg/link", "a.txt"),
    link("pkg/sublink", "sub"),
    link("pkg/chain", "sublink/b.txt"),  # a link through a link, inside
    file("README", b"top"),
]


def listing(root: Path) -> dict[str, Any]:
    return {key: value[0] if value[0] != "link" else value for key, value in snapshot(root).items()}


@pytest.mark.parametrize("kind", TAR_KINDS)
def test_untar_keeps_subpath_and_inside_links(case, kind):
    hashes = untar(case.source(tar(GOOD, kind)), case.dest, LIMITS, LABEL, subpath="pkg")
    assert hashes == {"a.txt": fh(b"alpha"), "sub/b.txt": fh(b"beta" * 1000)}
    assert listing(case.dest) == {
        "a.txt": "file",
        "sub": "dir",
        "sub/b.txt": "file",
        "link": ("link", "a.txt"),
        "sublink": ("link", "sub"),
        "chain": ("link", "sublink/b.txt"),
    }
    assert (case.dest / "chain").read_bytes() == b"beta" * 1000
    assert (case.dest / "a.txt").stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_untar_whole_archive_with_dot_prefix(case):
    members = [folder("."), file("./x/one.txt", b"1"), file("two.txt", b"2")]
    hashes = untar(case.source(tar(members, "tar")), case.dest, LIMITS, LABEL)
    assert hashes == {"x/one.txt": fh(b"1"), "two.txt": fh(b"2")}
    assert listing(case.dest) == {"x": "dir", "x/one.txt": "file", "two.txt": "file"}


def test_unzip_keeps_subpath_and_inside_links(case):
    hashes = unzip(case.source(zip_archive(GOOD)), case.dest, LIMITS, LABEL, subpath="pkg")
    assert hashes == {"a.txt": fh(b"alpha"), "sub/b.txt": fh(b"beta" * 1000)}
    assert listing(case.dest)["chain"] == ("link", "sublink/b.txt")
    assert (case.dest / "link").read_bytes() == b"alpha"


def test_zip_without_unix_modes(case):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("x/one.txt", "1")
        z.writestr("two.txt", b"")
    hashes = unzip(case.source(buffer.getvalue()), case.dest, LIMITS, LABEL)
    assert hashes == {"x/one.txt": fh(b"1"), "two.txt": fh(b"")}


def test_limits_are_inclusive(case):
    data = b"x" * 1000
    members = [file(f"f{i}", data) for i in range(4)]
    hashes = untar(case.source(tar(members)), case.dest, Limits(4000, 4), LABEL)
    assert len(hashes) == 4


def test_dest_must_be_new(case):
    case.dest.mkdir()
    with pytest.raises(FileExistsError):
        untar(case.source(tar(GOOD)), case.dest, LIMITS, LABEL)
    with pytest.raises(FileExistsError):
        gunzip(case.source(gzip_members(b"x")), case.dest, LIMITS, LABEL)


def test_gunzip_multi_member_with_padding(case):
    parts = [b"first member\n", b"", os.urandom(300_000), b"last"]
    source = case.source(gzip_members(*parts, padding=3000))
    assert gunzip(source, case.dest, LIMITS, LABEL) == fh(b"".join(parts))
    assert case.dest.read_bytes() == b"".join(parts)


def test_gunzip_large_output_in_chunks(case):
    data = bytes(range(256)) * 20_000  # 5 MB, compresses well: several full output chunks
    source = case.source(gzip_members(data))
    assert gunzip(source, case.dest, Limits(len(data), 1), LABEL) == fh(data)


def test_bunzip2_and_unxz_multi_stream(case):
    assert bunzip2(case.source(bzip2_streams(b"one", b"two")), case.dest, LIMITS, LABEL) == fh(b"onetwo")
    assert case.dest.read_bytes() == b"onetwo"
    other = case.staging / "other"
    assert unxz(case.source(xz_streams(b"three", b"four")), other, LIMITS, LABEL) == fh(b"threefour")


@pytest.mark.parametrize(
    "name,kind",
    [
        ("cifar-10-python.tar.gz", "tar.gz"),
        ("https://example.org/x/data.TGZ?download=1", "tgz"),
        ("a.tar", "tar"),
        ("a.tar.bz2", "tar.bz2"),
        ("a.tar.xz", "tar.xz"),
        ("a.zip", "zip"),
        ("train-images-idx3-ubyte.gz", "gz"),
        ("a.bz2", "bz2"),
        ("a.xz", "xz"),
        ("a.csv", None),
        ("https://example.org/a.gz/file.csv", None),
    ],
)
def test_kind_of(name, kind):
    assert kind_of(name) == kind


# --- members that would escape or are not plain -----------------------------------


def test_tar_dotdot(case):
    members = [*GOOD, file("pkg/../../../canary.txt", b"evil")]
    assert case.refused(untar, tar(members)) == refusal("member 'pkg/../../../canary.txt' goes up with '..'")


def test_tar_absolute(case):
    name = str(case.canary)
    assert case.refused(untar, tar([*GOOD, file(name, b"evil")])) == refusal(f"member '{name}' has an absolute path")


def test_zip_dotdot_absolute_and_backslash(case):
    assert case.refused(unzip, zip_archive([file("../../canary.txt", b"evil")])) == refusal(
        "member '../../canary.txt' goes up with '..'"
    )
    assert case.refused(unzip, zip_archive([file("pkg\\..\\..\\..\\canary.txt", b"evil")])) == refusal(
        "member 'pkg\\..\\..\\..\\canary.txt' goes up with '..'"
    )
    assert case.refused(unzip, zip_archive([file("C:\\Windows\\x", b"evil")])) == refusal(
        "member 'C:\\Windows\\x' has an absolute path"
    )


def test_tar_nul_byte_in_name(case):
    members = [Member("x", b"data", pax={"path": "a\0/../../canary.txt"})]
    assert case.refused(untar, tar(members)) == refusal("member 'a\\x00/../../canary.txt' has a NUL byte in its name")


def test_tar_symlink_to_root(case):
    members = [link("root", "/"), file(f"root{case.canary}", b"evil")]
    assert case.refused(untar, tar(members)) == refusal("symbolic link 'root' -> '/' points to an absolute path")


def test_tar_symlink_out_and_written_through(case):
    members = [link("up", "../.."), file("up/canary.txt", b"evil")]
    assert case.refused(untar, tar(members)) == refusal(
        "member 'up/canary.txt' would be written through the symbolic link 'up'"
    )
    assert case.refused(untar, tar(members[:1])) == refusal("symbolic link 'up' -> '../..' leads outside the archive")


@pytest.mark.parametrize("unpack,build", [(untar, tar), (unzip, zip_archive)])
def test_symlink_chain_escape(case, unpack, build):
    # each link looks inside on its own (a1 -> a0/.. is '.' lexically), but a0 is '.', so a1 is '..'
    assert case.refused(unpack, build(chain_escape(11, then="canary.txt"))) == refusal(
        "member 'a11/canary.txt' would be written through the symbolic link 'a11'"
    )
    assert case.refused(unpack, build(chain_escape(11))) == refusal(
        "symbolic link 'a1' -> 'a0/..' leads outside the archive"
    )


def test_symlink_chain_loop(case):
    assert case.refused(untar, tar([link("a", "b"), link("b", "a")])) == refusal(
        "symbolic link 'a' -> 'b' goes through more than 40 links (a loop?)"
    )


def test_links_followed_at_most_40_at_a_time(case):
    # the kernel follows at most 40 links in one resolution; the plan counts the same way
    chain = [folder("d")] + [link(f"l{i}", f"l{i - 1}" if i else "d") for i in range(40)]
    assert untar(case.source(tar(chain)), case.dest, LIMITS, LABEL) == {}
    assert (case.dest / "l39").resolve() == (case.dest / "d").resolve()
    shutil.rmtree(case.dest)
    chain.append(link("l40", "l39"))
    # l40 is checked last, but l1..l39 are resolved once and their counts reused
    assert case.refused(untar, tar(chain)) == refusal("symbolic link 'l40' -> 'l39' goes through more than 40 links (a loop?)")


def test_dangling_and_through_file_links(case):
    assert case.refused(untar, tar([link("a", "missing/x")])) == refusal(
        "symbolic link 'a' -> 'missing/x' leads to 'missing', which the archive does not hold"
    )
    assert case.refused(untar, tar([file("f", b"1"), link("a", "f/..")])) == refusal(
        "symbolic link 'a' -> 'f/..' goes through the file 'f'"
    )


def test_cve_2025_4517_pattern(case):
    # The folders' own names exceed PATH_MAX: refused before any link is considered.
    message = case.refused(untar, tar(cve_2025_4517("../../..")))
    assert message.startswith(f"{LABEL}: refused: member 'dddd")
    assert message.endswith("' has a name too long for this file system; nothing was extracted")


def test_cve_2025_4517_pattern_with_short_names(case):
    # The same shape with names short enough to be written: its long link is written through the short ones.
    members = cve_2025_4517("../../..", component=40, steps="abcdefgh")
    message = case.refused(untar, tar(members))
    assert message.startswith(f"{LABEL}: refused: member 'a/b/c/d/e/f/g/h/llll")
    assert message.endswith("' would be written through the symbolic link 'a'; nothing was extracted")
    # Its escape without that member: each short link goes one long folder down, then 9 '..' go out.
    escape = link("escape", "a/b/c/d/e/f/g/h/" + "../" * 9 + "canary.txt")
    assert case.refused(untar, tar([*members[:-3], escape])) == refusal(
        f"symbolic link 'escape' -> '{escape.target}' leads outside the archive"
    )
    inside = link("escape", "a/b/c/d/e/f/g/h/" + "../" * 8 + "a")
    assert untar(case.source(tar([*members[:-3], inside])), case.dest, LIMITS, LABEL) == {}
    assert (case.dest / "escape").resolve() == (case.dest / ("d" * 40)).resolve()


def test_hard_links_devices_and_fifos(case):
    for member, what in [
        (hard_link("pkg/hard", "pkg/a.txt"), "hard link"),
        (special("pkg/null", tarfile.CHRTYPE), "device file"),
        (special("pkg/disk", tarfile.BLKTYPE), "device file"),
        (special("pkg/fifo", tarfile.FIFOTYPE), "FIFO"),
    ]:
        assert case.refused(untar, tar([*GOOD, member])) == refusal(
            f"member '{member.name}' is a {what}; only files, folders and symbolic links are extracted"
        )
    for member, what in [(special("pkg/dev", tarfile.CHRTYPE), "device file"), (special("pkg/fifo", tarfile.FIFOTYPE), "FIFO")]:
        assert case.refused(unzip, zip_archive([*GOOD, member])) == refusal(
            f"member '{member.name}' is a {what}; only files, folders and symbolic links are extracted"
        )


@pytest.mark.filterwarnings("ignore:Duplicate name")
@pytest.mark.parametrize(
    "members,message",
    [
        ([file("x", b"1"), link("x", "../../canary.txt")], "member 'x' appears twice (as a file and as a symbolic link)"),
        ([link("x", "y"), file("y", b"1"), file("x", b"2")], "member 'x' appears twice (as a symbolic link and as a file)"),
        ([file("x", b"1"), file("x", b"2")], "member 'x' appears twice (as a file and as a file)"),
        ([file("d/f", b"1"), file("d", b"2")], "member 'd' appears twice (as a folder and as a file)"),
        ([file("d/f", b"1"), link("d", "../..")], "member 'd' appears twice (as a folder and as a symbolic link)"),
        ([folder("sub"), link("d", "sub"), file("d/f", b"1")], "member 'd/f' would be written through the symbolic link 'd'"),
        ([file("f", b"1"), file("f/g", b"2")], "member 'f/g' would be written through the file 'f'"),
    ],
)
@pytest.mark.parametrize("unpack,build", [(untar, tar), (unzip, zip_archive)])
def test_duplicates_and_writing_through(case, unpack, build, members, message):
    assert case.refused(unpack, build(members)) == refusal(message)


def test_zip_symlink_escape(case):
    members = [file("pkg/ok.txt", b"fine"), link("pkg/link", "../../../canary.txt")]
    assert case.refused(unzip, zip_archive(members)) == refusal(
        "symbolic link 'pkg/link' -> '../../../canary.txt' leads outside the archive"
    )


def test_link_inside_archive_but_outside_subpath(case):
    members = [file("other/secret", b"s"), link("pkg/up", "../other/secret"), file("pkg/a", b"a")]
    assert case.refused(untar, tar(members), subpath="pkg") == refusal(
        "symbolic link 'up' -> '../other/secret' leads outside the folder 'pkg'"
    )


def test_names_are_printed_terminal_safe(case):
    message = case.refused(untar, tar([file("\x1b[2J../x\n", b"1"), file("../\x1b]0;pwned\x07", b"2")]))
    assert message == refusal("member '../\\x1b]0;pwned\\x07' goes up with '..'")
    # a name that is not UTF-8 (decoded with surrogateescape) is shown escaped, and can be printed
    message = case.refused(untar, tar([file("../\udcff", b"1")], "tar"))
    assert message == refusal("member '../\\udcff' goes up with '..'")
    message.encode("utf-8")


# --- subpath ----------------------------------------------------------------------


def test_subpath_missing(case):
    message = case.refused(untar, tar(GOOD), FormatError, subpath="nope")
    assert message == f"{LABEL}: the archive has no folder 'nope'; nothing was extracted"


def test_subpath_is_a_symlink(case):
    members = [folder("real"), file("real/a", b"a"), link("pkg", "real")]
    message = case.refused(untar, tar(members), FormatError, subpath="pkg")
    assert message == f"{LABEL}: 'pkg' in the archive is a symbolic link, not a folder; nothing was extracted"
    message = case.refused(unzip, zip_archive(members), FormatError, subpath="pkg")
    assert message == f"{LABEL}: 'pkg' in the archive is a symbolic link, not a folder; nothing was extracted"


# --- bombs and limits --------------------------------------------------------------

TOO_BIG = (
    f"{LABEL}: refused: unpacking it would write more than 1.0 MiB (1048576 bytes), the limit; "
    "if the data is really that large, raise max_unpacked_size in the configuration"
)
TOO_MANY = (
    f"{LABEL}: refused: it holds more than 10 files, folders and links, the limit; "
    "if the data really holds that many, raise max_unpacked_files in the configuration"
)


def test_gzip_bomb(case):
    bomb = zeros_gzip(10 << 20)
    assert len(bomb) < 20_000
    assert case.refused(gunzip, bomb, UnpackLimitError) == TOO_BIG


@pytest.mark.parametrize("unpack,build", [(bunzip2, bzip2_streams), (unxz, xz_streams)])
def test_bzip2_and_xz_bombs(case, unpack, build):
    assert case.refused(unpack, build(bytes(10 << 20)), UnpackLimitError) == TOO_BIG


@pytest.mark.parametrize("kind", ["tar", "tar.gz"])
def test_tar_bomb_refused_from_its_header(case, kind):
    assert case.refused(untar, tar_announcing("zeros", 10 << 20, kind), UnpackLimitError) == TOO_BIG


def test_tar_bomb_of_many_small_files(case):
    members = [file(f"f{i}", bytes(100_000)) for i in range(11)]  # 1.1 MB in all
    assert case.refused(untar, tar(members), UnpackLimitError) == TOO_BIG


def test_tar_header_too_large(case):
    members = [Member("x", b"1", pax={"comment": "c" * (2 << 20)})]
    message = case.refused(untar, tar(members))
    assert re.fullmatch(re.escape(refusal("a header announces N bytes of names or attributes")).replace("N", r"\d+"), message)


def test_tar_gz_with_a_bomb_after_its_end(case):
    # the gzip stream goes on with 20 MiB of zeros after the end-of-archive blocks
    data = gzip_members(tar([file("a", b"a")], "tar") + bytes(20 << 20))
    message = case.refused(untar, data, FormatError)
    assert message == (
        f"{LABEL}: corrupt or truncated tar.gz archive "
        "(more than 16.0 MiB (16777216 bytes) of data after the end of the archive)"
    )


def test_zip_bomb(case):
    assert case.refused(unzip, zip_archive([file("zeros", bytes(10 << 20))]), UnpackLimitError) == TOO_BIG


def test_zip_lying_about_its_size_is_not_trusted(case):
    # the header says 10 bytes: zipfile stops there, and the CRC of those 10 bytes is wrong
    message = case.refused(unzip, zip_lying_about_size("zeros", bytes(10 << 20), 10), FormatError)
    assert message.startswith(f"{LABEL}: corrupt or truncated zip archive (")


@pytest.mark.parametrize("unpack,build", [(untar, tar), (unzip, zip_archive)])
def test_too_many_files(case, unpack, build):
    limits = Limits(1 << 20, 10)
    assert case.refused(unpack, build([file(f"f{i}") for i in range(11)]), UnpackLimitError, limits) == TOO_MANY
    # folders count: one member deep in folders is many entries
    assert case.refused(unpack, build([file("/".join("abcdefghijk"))]), UnpackLimitError, limits) == TOO_MANY


def test_zip_bzip2_members_are_refused(case):
    message = case.refused(unzip, zip_archive([file("a", b"x")], zipfile.ZIP_BZIP2), FormatError)
    assert message == (
        f"{LABEL}: member 'a' uses compression method 12; datamaestro extracts stored and deflated zip members only"
    )


# --- corrupt and truncated input ------------------------------------------------------


def corrupt(kind: str) -> str:
    return rf"^{LABEL}: corrupt or truncated {kind} archive \(.+\)$"


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


PAYLOAD = os.urandom(200_000)


@pytest.mark.parametrize(
    "unpack,data,kind",
    [
        (gunzip, gzip_members(PAYLOAD)[:-100], "gzip"),
        (gunzip, gzip_members(PAYLOAD)[:-4], "gzip"),  # the length field is missing
        (gunzip, flip(gzip_members(PAYLOAD), -6), "gzip"),  # CRC mismatch
        (gunzip, gzip_members(PAYLOAD) + b"garbage", "gzip"),
        (gunzip, b"", "gzip"),
        (gunzip, b"not gzip at all", "gzip"),
        (bunzip2, bzip2_streams(PAYLOAD)[:-100], "bzip2"),
        (bunzip2, b"", "bzip2"),
        (bunzip2, b"BZh9 not really", "bzip2"),
        (unxz, xz_streams(PAYLOAD)[:-100], "xz"),
        (unxz, flip(xz_streams(PAYLOAD), 5000), "xz"),
    ],
)
def test_corrupt_compressed_files(case, unpack, data, kind):
    assert re.match(corrupt(kind), case.refused(unpack, data, FormatError))


TAR = tar([file("a", PAYLOAD), file("b", b"bee")], "tar")
B_HEADER = tarfile.open(fileobj=io.BytesIO(TAR)).getmember("b").offset
END = B_HEADER + 1024  # after b's header and its one data block


@pytest.mark.parametrize(
    "data,kind",
    [
        (TAR[:5000], "tar"),  # inside the first member's data
        (TAR[:B_HEADER], "tar"),  # cut between members: no end-of-archive block
        (TAR[:END], "tar"),  # both members, no end-of-archive block
        (TAR[:B_HEADER] + b"\xff" * 512 + TAR[B_HEADER + 512 :], "tar"),  # a damaged header after the first
        (TAR[:END] + b"junk" * 128 + TAR[END + 512 :], "tar"),  # garbage where the end block should be
        (b"", "tar"),
        (b"\x00" * 100, "tar"),
        (tar([file("a", PAYLOAD)], "tar.gz")[:-1000], "tar.gz"),
        (flip(tar([file("a", PAYLOAD)], "tar.gz"), -6), "tar.gz"),  # CRC of the gzip stream
        (tar([file("a", PAYLOAD)], "tar.bz2")[:-1000], "tar.bz2"),
        (tar([file("a", PAYLOAD)], "tar.xz")[:-1000], "tar.xz"),
    ],
)
def test_corrupt_tar(case, data, kind):
    assert re.match(corrupt(kind), case.refused(untar, data, FormatError))


def test_corrupt_zip(case):
    good = zip_archive([file("a", PAYLOAD)], zipfile.ZIP_STORED)
    for data in (good[:-10], good[: len(good) // 2], b"", flip(good, 1000)):
        assert re.match(corrupt("zip"), case.refused(unzip, data, FormatError))


# --- a full disk -----------------------------------------------------------------------

DISK_FULL = """
import resource, signal, sys
from pathlib import Path
from datamaestro.download.unpack import Limits, gunzip, untar, unzip
from datamaestro.errors import DatamaestroError
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
unpack = {"gunzip": gunzip, "untar": untar, "unzip": unzip}[sys.argv[1]]
try:
    unpack(Path(sys.argv[2]), Path(sys.argv[3]), Limits(1 << 30, 100), "the archive")
except DatamaestroError as e:
    print(type(e).__name__, e)
"""


@pytest.mark.parametrize(
    "unpack,data",
    [
        ("gunzip", gzip_members(PAYLOAD)),
        ("untar", tar([file("small", b"s"), file("big", PAYLOAD)], "tar.gz")),
        ("unzip", zip_archive([file("big", PAYLOAD)])),
    ],
)
def test_disk_full_is_not_a_corrupt_archive(case, unpack, data):
    source = case.source(data)
    result = subprocess.run(
        [sys.executable, "-c", DISK_FULL, unpack, str(source), str(case.dest)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"StorageError the disk is full while unpacking the archive into {case.dest} (File too large); "
        "free some space and run again (the verified download is kept)\n"
    )
    assert source.read_bytes() == data
    assert not case.dest.exists()
    assert case.canary.read_bytes() == CANARY


def test_missing_source_is_not_an_archive_error(case):
    with pytest.raises(FileNotFoundError):
        untar(case.root / "nope.tar", case.dest, LIMITS, LABEL)
