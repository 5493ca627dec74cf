"""A prepare killed mid-download (SIGKILL, Ctrl-C) resumes with a Range request on the next run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from httpserver import Fault
from makefiles import interruptible
from test_reliability import ID, partial, payload, prepared, serve

SIZE = 1 << 20
PIECE = 1 << 16


def start_prepare() -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "datamaestro", "prepare", ID],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(), preexec_fn=interruptible,
    )


def wait_for_bytes(path, at_least: int, process: subprocess.Popen, timeout: float = 15) -> int:
    """Poll until ``path`` holds ``at_least`` bytes (bounded); returns its size."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        size = path.stat().st_size if path.exists() else 0
        if size >= at_least:
            return size
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    raise AssertionError(f"{path} did not reach {at_least} bytes in {timeout} s")


def interrupted_download(env, server, how: int) -> tuple[bytes, int, subprocess.Popen]:
    """Start prepare on a trickling server and stop it with signal ``how`` mid-file."""
    data = payload(SIZE)
    serve(env, server, {"a.idx": data})
    # 16 pieces of 64 KiB, 0.15 s apart: about 2.4 s for the whole file
    server.faults["/d/blob/a.idx"] = Fault(trickle=PIECE, pause=0.15)
    process = start_prepare()
    wait_for_bytes(partial(env), 3 * PIECE, process)
    process.send_signal(how)
    process.wait(timeout=30)
    kept = partial(env).stat().st_size
    assert 3 * PIECE <= kept < SIZE
    assert not prepared(env).exists()  # an interrupted run never looks prepared
    del server.faults["/d/blob/a.idx"]
    return data, kept, process


def test_sigkill_mid_download_then_resume(env, server, cli):
    data, kept, process = interrupted_download(env, server, signal.SIGKILL)
    assert process.returncode == -signal.SIGKILL
    result = cli("prepare", ID)
    assert result.returncode == 0, result.stderr
    assert f"org.rel.blob: a.idx: resuming after {kept} bytes" in result.stderr.splitlines()
    assert server.log[-1] == ("GET", "/d/blob/a.idx", f"bytes={kept}-")
    # the second run was sent less than the whole file: only what the first one had not kept
    assert [n for _, r, n in server.sent if r is not None] == [SIZE - kept]
    assert prepared(env).read_bytes() == data  # md5 checked over the whole file
    assert not partial(env).exists()


def test_ctrl_c_mid_download_keeps_the_partial_then_resume(env, server, cli):
    data, kept, process = interrupted_download(env, server, signal.SIGINT)
    stdout, stderr = process.communicate()
    assert process.returncode == 130
    assert stdout == ""
    assert stderr.splitlines()[-1] == "datamaestro: interrupted"
    result = cli("prepare", "-q", ID)
    assert result.returncode == 0, result.stderr
    assert server.log[-1] == ("GET", "/d/blob/a.idx", f"bytes={kept}-")
    assert [n for _, r, n in server.sent if r is not None] == [SIZE - kept]
    assert prepared(env).read_bytes() == data
