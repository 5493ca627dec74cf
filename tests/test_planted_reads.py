"""FIFOs and links planted where datamaestro reads back its own state: never waited on, never followed.

Anyone who can write into a shared data folder may put a FIFO (which blocks
whoever opens it for reading), or a symbolic link to a FIFO, a device or a
huge file, where datamaestro reads a resume note, a segment state, a manifest
or the shared mirror memory. Each is read by ``paths.read_inside``: what it
refuses is treated like a corrupt file (the download starts over, the manifest
is rebuilt from the declarations, the mirror memory is ignored) and named in
one line. Every command runs in a subprocess with a generous timeout, so that
a hang fails the test instead of stalling the suite; a canary file outside the
data folder must stay byte-identical.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_planted_links import intact, note, refused_link, segmented
from test_reliability import ID, partial, payload, prepared, serve

from datamaestro.errors import UnsafePathError
from datamaestro.paths import read_inside

A = payload()
BIG = payload(3 << 20, seed=2)
#: seconds any command may take before the test calls it hung (each takes a few at most)
TIMEOUT = 60
KINDS = ["fifo", "link"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m datamaestro ARGS`` with the test's environment; raises ``TimeoutExpired`` if it hangs."""
    return subprocess.run(
        [sys.executable, "-m", "datamaestro", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=TIMEOUT,
    )


def outside(tmp_path: Path, content: bytes) -> Path:
    """A canary file outside the data folder, holding ``content`` (a tempting state if it were read)."""
    path = tmp_path / "outside" / "canary.json"
    path.parent.mkdir()
    path.write_bytes(content)
    return path


def plant(kind: str, path: Path, canary: Path) -> None:
    """Put a FIFO, or a symbolic link to ``canary``, at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    else:
        os.symlink(canary, path)


def ignored(kind: str, path: Path, canary: Path) -> str:
    """The start of the line that names what was planted at ``path``."""
    if kind == "fifo":
        return f"ignored: {path} is not a regular file; it was not read"
    return f"ignored: {path} is a symbolic link (to {canary}), not a file datamaestro made; it was not followed"


def warned_once(result: subprocess.CompletedProcess[str], line: str) -> None:
    assert sum(line in x for x in result.stderr.splitlines()) == 1, result.stderr


# -- the resume note: downloads/<id>/<name>.part.json -------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_planted_resume_note_is_not_read(env, server, tmp_path, kind):
    serve(env, server, {"a.idx": A})
    part = partial(env)
    part.parent.mkdir(parents=True)
    part.write_bytes(b"\0" * 1000)  # not a prefix of A: resuming from it would splice
    path = part.with_name("a.idx.part.json")
    content = json.dumps({"url": server.url("d/blob/a.idx"), "validator": '"v1"'}).encode()
    canary = outside(tmp_path, content)
    plant(kind, path, canary)
    result = run("prepare", ID)
    assert intact(canary, content)
    assert f"{ignored(kind, path, canary)}; the partial download starts over" in result.stderr
    if kind == "fifo":  # replaced by a new note: the download starts over
        assert result.returncode == 0, result.stderr
    else:  # read as corrupt, then refused when the new note is written (never written through)
        refused_link(result, path, canary)
        path.unlink()
        assert run("prepare", ID).returncode == 0
    assert prepared(env).read_bytes() == A and intact(canary, content)


# -- the segment state: downloads/<id>/<name>.part.segments -------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_planted_segment_state_is_not_read(env, server, tmp_path, kind):
    segmented(env, server)
    part = partial(env)
    part.parent.mkdir(parents=True)
    part.write_bytes(b"\0" * len(BIG))
    note(env, server, validator='"v1"')
    path = part.with_name("a.idx.part.segments")
    content = json.dumps({"size": len(BIG), "validator": '"v1"', "done": [[0, len(BIG)]]}).encode()
    canary = outside(tmp_path, content)
    plant(kind, path, canary)
    result = run("prepare", ID)
    assert result.returncode == 0, result.stderr
    assert f"{ignored(kind, path, canary)}; the segmented download starts over" in result.stderr
    assert prepared(env).read_bytes() == BIG and intact(canary, content)
    assert not os.path.lexists(path)  # removed with the partial it described (a link itself, not its target)


# -- the manifest: datasets/<id>/.manifest.json -------------------------------------------------------


def prepared_blob(env, server) -> Path:
    """org.rel.blob prepared from the loopback server; returns its manifest."""
    serve(env, server, {"a.idx": A})
    assert run("prepare", ID).returncode == 0
    return env.data / "datasets" / ID / ".manifest.json"


def plant_manifest(env, manifest: Path, kind: str) -> None:
    """Put a FIFO, a link to a FIFO inside the data folder, or a huge (sparse) file at ``manifest``."""
    manifest.unlink()
    if kind == "fifo":
        os.mkfifo(manifest)
    elif kind == "huge":
        with open(manifest, "wb") as f:
            f.truncate(1 << 40)  # sparse: nothing to read until the end, if it were read
    else:
        fifo = env.data / "fifo"
        if not fifo.exists():
            os.mkfifo(fifo)
        os.symlink(fifo, manifest)


MANIFEST_KINDS = ["fifo", "link to a fifo inside", "huge"]


@pytest.mark.parametrize("kind", MANIFEST_KINDS)
def test_a_planted_manifest_is_rebuilt_by_prepare(env, server, kind):
    """Treated as a corrupt manifest: the resources are adopted again by their declared checksums,
    without downloading them again, and a manifest replaces what was planted."""
    manifest = prepared_blob(env, server)
    plant_manifest(env, manifest, kind)
    gets = server.gets("/d/blob/a.idx")
    result = run("prepare", ID)
    assert result.returncode == 0, result.stderr
    warned_once(result, f"ignored: {manifest} ")
    assert server.gets("/d/blob/a.idx") == gets  # rebuilt in place, not downloaded again
    assert manifest.is_file() and not manifest.is_symlink()
    assert json.loads(manifest.read_text())["entries"]["a.idx"]["size"] == len(A)
    assert prepared(env).read_bytes() == A


@pytest.mark.parametrize("kind", MANIFEST_KINDS)
def test_a_planted_manifest_does_not_hang_list_or_verify(env, server, kind):
    manifest = prepared_blob(env, server)
    plant_manifest(env, manifest, kind)
    listing = run("list", "--prepared")  # reads only: says what it finds without a manifest
    assert listing.returncode == 0, listing.stderr
    assert f"{ID} " in listing.stdout and "Traceback" not in listing.stderr
    warned_once(listing, f"ignored: {manifest} ")
    verify = run("verify", ID)  # checks the file in place against its declaration, and records it
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.splitlines() == [f"{ID}: OK (1 file)"]
    warned_once(verify, f"ignored: {manifest} ")
    assert manifest.is_file() and not manifest.is_symlink()
    assert prepared(env).read_bytes() == A


def test_a_manifest_linked_outside_is_refused_by_every_reader(env, server, tmp_path):
    manifest = prepared_blob(env, server)
    content = manifest.read_bytes()
    manifest.unlink()
    canary = outside(tmp_path, content)  # a valid manifest: tempting, if it were followed
    os.symlink(canary, manifest)
    for command in (["prepare", ID], ["verify", ID], ["list", "--prepared"]):
        result = run(*command)
        assert result.returncode != 0, (command, result.stdout)
        assert result.stderr.splitlines()[-1] == (
            f"datamaestro: error: refused: {manifest} is a symbolic link to {canary}, outside {env.data}; "
            "it was not followed: remove it and run again"
        )
    assert intact(canary, content)


# -- the shared mirror memory: locks/mirrors.json -----------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_planted_mirror_memory_is_ignored(env, server, tmp_path, kind):
    serve(env, server, {"a.idx": A})
    path = env.data / "locks" / "mirrors.json"
    # if it were read, the origin would be skipped: a failure 10 s ahead counts as during this run
    content = json.dumps({server.base.rstrip("/"): {"at": time.time() + 10, "reason": "canary-reason"}}).encode()
    canary = outside(tmp_path, content)
    plant(kind, path, canary)
    result = run("prepare", ID)
    assert result.returncode == 0, result.stderr
    assert prepared(env).read_bytes() == A and intact(canary, content)
    warned_once(result, f"{ignored(kind, path, canary)}; the shared mirror memory is ignored")
    assert "canary-reason" not in result.stderr and "skipped" not in result.stderr


# -- read_inside itself ------------------------------------------------------------------------------


def test_read_inside_creates_nothing_and_refuses_what_datamaestro_did_not_write(tmp_path):
    root = tmp_path / "root"
    assert read_inside(root, root / "a" / "b" / "note.json", 100) is None
    assert not root.exists()  # a read creates nothing, not even the root
    (root / "a").mkdir(parents=True)
    assert read_inside(root, root / "a" / "b" / "note.json", 100) is None
    assert sorted(os.listdir(root / "a")) == []
    (root / "a" / "note.json").write_bytes(b"x" * 100)
    assert read_inside(root, root / "a" / "note.json", 100) == b"x" * 100
    with pytest.raises(UnsafePathError, match="holds more than 99 bytes"):
        read_inside(root, root / "a" / "note.json", 99)
    os.mkfifo(root / "a" / "fifo")
    with pytest.raises(UnsafePathError, match="is not a regular file"):
        read_inside(root, root / "a" / "fifo", 100)
    os.symlink(root / "a" / "note.json", root / "a" / "link")  # even to a good file inside
    with pytest.raises(UnsafePathError, match="is a symbolic link"):
        read_inside(root, root / "a" / "link", 100)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "note.json").write_bytes(b"x")
    os.symlink(tmp_path / "elsewhere", root / "out")  # a folder on the way that leads outside
    with pytest.raises(UnsafePathError, match="outside"):
        read_inside(root, root / "out" / "note.json", 100)
