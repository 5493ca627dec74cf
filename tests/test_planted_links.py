"""Links planted in the data folder where datamaestro keeps its own files: never written through.

Anyone who can write into a shared data folder may put a symbolic (or hard)
link where a partial download, its note, its segment state, a lock or the
manifest will be written. Each case plants one pointing at a canary file
outside the data folder, runs ``prepare`` (and ``prepare --force``), and
checks that the canary is byte-identical afterwards and that the message
names the link and tells the truth.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from httpserver import Fault
from test_reliability import FAST, ID, partial, payload, prepared, serve

from datamaestro.download.transport import for_data_folder
from datamaestro.errors import UnsafePathError
from datamaestro.paths import open_inside

A = payload()
BIG = payload(3 << 20, seed=2)
PREPARES = [["prepare"], ["prepare", "--force"]]
CANARY = b"precious: outside the data folder"


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    """A file outside the data folder that nothing may touch."""
    path = tmp_path / "outside" / "canary.txt"
    path.parent.mkdir()
    path.write_bytes(CANARY)
    return path


def intact(canary: Path, content: bytes = CANARY) -> bool:
    return canary.read_bytes() == content and sorted(p.name for p in canary.parent.iterdir()) == [canary.name]


def refused_link(result, link: Path, target: Path, root: Path | None = None) -> None:
    """``result`` failed with the one line refusing the planted ``link`` (found by the data folder's path
    check, which knows the data folder ``root``, or when the file is opened)."""
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"datamaestro: error: refused: {link} is a symbolic link to {target}, outside {root}; "
        "it was not followed: remove it and run again"
        if root
        else f"datamaestro: error: refused: {link} is a symbolic link (to {target}), not a file datamaestro "
        "made; it was not followed: remove it and run again"
    )
    assert "nothing was written" not in result.stderr


def note(env, server, name: str = "a.idx", validator: str | None = None) -> Path:
    """Write the resume note of ``name``'s partial download (its URL, and ``validator``)."""
    path = partial(env, name).with_name(f"{name}.part.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"url": server.url(f"d/blob/{name}"), "validator": validator}))
    return path


@pytest.mark.parametrize("command", PREPARES)
def test_a_linked_partial_download_is_not_resumed_into_its_target(env, server, cli, canary, command):
    serve(env, server, {"a.idx": A})  # a published checksum: a partial with a note is resumable
    note(env, server)
    link = partial(env)
    os.symlink(canary, link)
    result = cli(*command, ID)
    refused_link(result, link, canary)
    assert intact(canary)
    assert os.path.islink(link)  # left for the owner to inspect and remove
    link.unlink()
    assert cli(*command, ID).returncode == 0
    assert prepared(env).read_bytes() == A and intact(canary)


@pytest.mark.parametrize("command", PREPARES)
def test_a_linked_resume_note_is_not_written_through(env, server, cli, canary, command):
    serve(env, server, {"a.idx": A})
    link = partial(env).with_name("a.idx.part.json")
    link.parent.mkdir(parents=True)
    os.symlink(canary, link)
    result = cli(*command, ID)
    refused_link(result, link, canary)
    assert intact(canary)


def test_a_hard_linked_partial_download_is_not_resumed(env, server, cli, canary):
    """A hard link has no link to refuse: writing to it would change the other name's file."""
    serve(env, server, {"a.idx": A})
    note(env, server)
    part = partial(env)
    try:
        os.link(canary, part)
    except OSError as e:  # (a file system without hard links, or protected_hardlinks)
        pytest.skip(f"cannot make a hard link here: {e}")
    result = cli("prepare", ID)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"datamaestro: error: refused: {part} has another name (a hard link): writing to it would change "
        "another file; remove it and run again"
    )
    assert canary.read_bytes() == CANARY


def segmented(env, server) -> None:
    """org.rel.blob whose a.idx (3 MiB, with an ETag) comes in segments."""
    serve(env, server, {"a.idx": BIG}, config={**FAST, "segments": 4, "segment_threshold": 1 << 20})
    server.faults["/d/blob/a.idx"] = Fault(etag='"v1"')


@pytest.mark.parametrize("command", PREPARES)
def test_a_segmented_resume_into_a_linked_partial_is_refused(env, server, cli, tmp_path, command):
    """The state says the first MiB is done; the partial file is a link to a file of the same size."""
    segmented(env, server)
    big_canary = tmp_path / "outside" / "big.bin"
    big_canary.parent.mkdir()
    big_canary.write_bytes(b"x" * len(BIG))
    note(env, server, validator='"v1"')
    link = partial(env)
    os.symlink(big_canary, link)
    state = {"size": len(BIG), "validator": '"v1"', "done": [[0, 1 << 20]]}
    link.with_name("a.idx.part.segments").write_text(json.dumps(state))
    result = cli(*command, ID)
    refused_link(result, link, big_canary)
    assert intact(big_canary, b"x" * len(BIG))


@pytest.mark.parametrize("command", PREPARES)
def test_a_linked_segment_state_is_replaced_not_written_through(env, server, cli, canary, command):
    """A rename replaces the link itself; the download completes and the canary is untouched."""
    segmented(env, server)
    link = partial(env).with_name("a.idx.part.segments")
    link.parent.mkdir(parents=True)
    os.symlink(canary, link)
    result = cli(*command, ID)
    assert result.returncode == 0, result.stderr
    assert prepared(env).read_bytes() == BIG and intact(canary)
    assert not os.path.lexists(link)


@pytest.mark.parametrize("command", PREPARES)
def test_a_linked_segment_state_temporary_is_refused(env, server, cli, canary, command):
    segmented(env, server)
    link = partial(env).with_name("a.idx.part.segments.tmp")
    link.parent.mkdir(parents=True)
    os.symlink(canary, link)
    result = cli(*command, ID)
    refused_link(result, link, canary)
    assert intact(canary)


@pytest.mark.parametrize("command", PREPARES)
def test_a_linked_lock_file_is_refused(env, server, cli, canary, command):
    serve(env, server, {"a.idx": A})
    link = env.data / "locks" / f"{ID}.lock"
    link.parent.mkdir(parents=True)
    os.symlink(canary, link)
    result = cli(*command, ID)
    refused_link(result, link, canary, env.data)
    assert intact(canary)


@pytest.mark.parametrize("command", PREPARES)
def test_a_linked_manifest_is_refused(env, server, cli, canary, command):
    serve(env, server, {"a.idx": A})
    link = env.data / "datasets" / ID / ".manifest.json"
    link.parent.mkdir(parents=True)
    os.symlink(canary, link)
    result = cli(*command, ID)
    refused_link(result, link, canary, env.data)
    assert intact(canary)
    link.unlink()
    assert cli(*command, ID).returncode == 0
    assert json.loads(link.read_text())["entries"]["a.idx"]["size"] == len(A)


def test_a_local_copy_replaces_a_linked_partial_download(env, server, cli, canary, tmp_path):
    """``prepare --from DIR`` removes what is at the partial's place (the link itself) before copying."""
    serve(env, server, {"a.idx": A})
    source = tmp_path / "copies"
    source.mkdir()
    (source / "a.idx").write_bytes(A)
    link = partial(env)
    link.parent.mkdir(parents=True)
    os.symlink(canary, link)
    result = cli("prepare", ID, "--from", str(source))
    assert result.returncode == 0, result.stderr
    assert prepared(env).read_bytes() == A and intact(canary)


def test_the_shared_mirror_memory_stays_inside_the_data_folder(env, canary):
    """``locks/`` made a link to an outside folder: the mirror memory is not written there."""
    env.data.mkdir()
    os.symlink(canary.parent, env.data / "locks")
    health = for_data_folder(env.data)
    health.failed("http://127.0.0.1:9/x", "connection refused")
    assert intact(canary)


def test_open_inside_refuses_links_on_the_way_and_at_the_end(tmp_path, canary):
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    os.symlink(canary, root / "sub" / "file")
    os.symlink(canary.parent, root / "out")
    for mode in ("w", "a", "r+", "x"):
        with pytest.raises(UnsafePathError, match="is a symbolic link"):
            open_inside(root, root / "sub" / "file", mode)
        with pytest.raises(UnsafePathError, match="outside"):
            open_inside(root, root / "out" / "canary.txt", mode)
    os.mkfifo(root / "sub" / "fifo")
    for mode in ("a", "r+"):  # never blocks on a FIFO
        with pytest.raises(UnsafePathError, match="not a regular file"):
            open_inside(root, root / "sub" / "fifo", mode)
    with open_inside(root, root / "new" / "deeper" / "f", "x") as f:  # folders made on the way
        f.write(b"mine")
    assert (root / "new" / "deeper" / "f").read_bytes() == b"mine"
    assert intact(canary)
