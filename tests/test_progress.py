"""Progress bars go to stderr only when it is a terminal, and never with --quiet."""

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios

from makefiles import md5, mnist_gz_files, write_module
from test_prepare import digits_module


def prepare_on_terminal(*args: str) -> tuple[str, str, int]:
    """Run prepare with stderr on a pseudo-terminal; (stdout, terminal output, exit code)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "datamaestro", "prepare", *args],
        stdout=subprocess.PIPE, stderr=slave, env=os.environ.copy(),
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    stdout = process.stdout.read().decode()
    process.wait(timeout=60)
    os.close(master)
    return stdout, b"".join(chunks).decode(), process.returncode


def serve_toy(env, server) -> None:
    files, _ = mnist_gz_files(n_train=2000)
    for name, data in files.items():
        server.files[f"/toy/{name}"] = data
    checksums = {name: f"md5:{md5(data)}" for name, data in files.items()}
    write_module(env.use_registry(), "org.test", digits_module(server.url("toy/"), checksums))


def test_progress_bar_on_a_terminal(env, server):
    serve_toy(env, server)
    stdout, terminal, code = prepare_on_terminal("org.test.digits")
    assert code == 0, terminal
    assert re.search(r"org\.test\.digits: train_images\.idx: +\d+%\|", terminal)
    assert "\r" in terminal
    assert stdout.startswith("{") and "100%" not in stdout


def test_quiet_hides_progress_on_a_terminal(env, server):
    serve_toy(env, server)
    stdout, terminal, code = prepare_on_terminal("--quiet", "org.test.digits")
    assert code == 0, terminal
    assert terminal == ""
    assert stdout.startswith("{")


def test_no_progress_bar_when_stderr_is_a_pipe(env, server, cli):
    serve_toy(env, server)
    result = cli("prepare", "org.test.digits")
    assert result.returncode == 0
    assert "%" not in result.stderr
    lines = result.stderr.splitlines()
    assert all(line.startswith("downloading org.test.digits: ") for line in lines)
    assert sorted(line.split()[2] for line in lines) == [
        "test_images.idx", "test_labels.idx", "train_images.idx", "train_labels.idx"
    ]
