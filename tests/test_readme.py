"""README.md's and the quick start's examples, run as written so that they cannot rot.

Every ``datamaestro`` command line of a ``console`` block runs (through bash,
so pipes into ``jq`` work too) and must succeed; after a ``$ `` prompt, the
lines shown must be the command's output (``...`` stands for any lines); where
``jq`` is not installed, a command piped into it runs without the pipe and must
print JSON.
``python`` blocks run in order, each after the ones before it (as in one
session); a block marked ``python extras=torch,tf`` needs those optional
frameworks: it runs where they are installed and is only compiled elsewhere.
``yaml`` blocks must be valid configuration files.

Network: the examples never leave the machine. Where Debian's package
``dataset-fashion-mnist`` is installed (``.ci/run`` installs it), Fashion-MNIST
comes from its real files served on 127.0.0.1 through the config's ``mirrors``
(Debian recompressed them: their data checksums prove them intact). Elsewhere,
and always for MNIST, whose published checksums generated files cannot match,
the dataset is first prepared with ``prepare --from DIR --no-verify`` from
generated files in the published names and format (gzipped IDX); the examples
then use it as prepared.
"""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

import makefiles
import numpy as np
import pytest
from PIL import Image

from datamaestro.config import read_config

ROOT = Path(__file__).resolve().parents[1]
FASHION = Path("/usr/share/datasets/fashion-mnist")
FASHION_BASE = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
FASHION_ID = "com.github.zalandoresearch.fashion-mnist"
BIN = str(Path(sys.executable).parent)
#: where the examples pretend the data folder is
SHOWN_DATA = "/home/me/.local/share/datamaestro"
#: command lines shown but not run: installing, the test suite itself, the docs server, shell setup
NOT_RUN = ("pip ", "python -m pytest", "mkdocs ", "eval ")
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```", re.S | re.M)
#: extras a Python example may need -> the module that must import
EXTRAS = {"torch": "torch", "tf": "tensorflow"}


def code_blocks(path: Path) -> list[tuple[str, str, str]]:
    """(language, attributes, text) of the fenced blocks of a Markdown file."""
    blocks = []
    for info, text in FENCE.findall(path.read_text(encoding="utf-8")):
        language, _, attributes = info.strip().partition(" ")
        blocks.append((language, attributes, text))
    return blocks


def missing_extras(attributes: str) -> list[str]:
    """The extras named by ``extras=a,b`` whose framework is not installed."""
    import importlib.util

    match = re.search(r"extras=([\w,]+)", attributes)
    names = match.group(1).split(",") if match else []
    return [n for n in names if importlib.util.find_spec(EXTRAS[n]) is None]


def console_commands(text: str) -> list[tuple[str, Optional[list[str]]]]:
    """(command, expected output lines or None) of a console block."""
    lines = text.splitlines()
    if not any(line.startswith("$ ") for line in lines):
        return [(strip_comment(line), None) for line in lines if line.strip()]
    commands: list[tuple[str, Optional[list[str]]]] = []
    for line in lines:
        if line.startswith("$ "):
            commands.append((strip_comment(line[2:]), []))
        else:
            commands[-1][1].append(line)  # type: ignore[union-attr]
    return commands


def strip_comment(line: str) -> str:
    return re.split(r"\s+#\s", line, maxsplit=1)[0].strip()


def output_matches(expected: list[str], actual: list[str]) -> bool:
    """Whether ``actual`` is ``expected`` with each ``...`` line standing for any lines."""
    chunks: list[list[str]] = [[]]
    for line in expected:
        if line == "...":
            chunks.append([])
        else:
            chunks[-1].append(line)
    first, *middle_and_last = chunks
    if actual[: len(first)] != first:
        return False
    if not middle_and_last:
        return len(actual) == len(first)
    *middle, last = middle_and_last
    position = len(first)
    for chunk in middle:
        for start in range(position, len(actual) - len(chunk) + 1):
            if actual[start : start + len(chunk)] == chunk:
                position = start + len(chunk)
                break
        else:
            return False
    return not last or (
        len(actual) - len(last) >= position and actual[len(actual) - len(last) :] == last
    )


class Runner:
    """Runs example command lines in a work folder with the test's environment."""

    def __init__(self, work: Path, environ: dict[str, str]):
        self.work = work
        self.environ = environ

    def run(self, command: str) -> tuple[int, str, str]:
        argv = ["bash", "-o", "pipefail", "-c", command]
        if self.on_terminal(command):
            return self._on_terminal(argv)
        r = subprocess.run(argv, cwd=self.work, env=self.environ, capture_output=True,
                           text=True, timeout=120)
        return r.returncode, r.stdout, r.stderr

    @staticmethod
    def on_terminal(command: str) -> bool:
        """Whether ``command`` draws in the terminal (so needs one as stdout)."""
        return command.startswith("datamaestro show") and " -o " not in f" {command} "

    def _on_terminal(self, argv: list[str]) -> tuple[int, str, str]:
        """Run with stdout on a pseudo-terminal (what `show` draws to without -o)."""
        master, slave = pty.openpty()
        process = subprocess.Popen(argv, cwd=self.work, env=self.environ, stdout=slave,
                                   stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        os.close(master)
        stderr = process.stderr.read().decode() if process.stderr else ""
        process.wait(timeout=120)
        return process.returncode, b"".join(chunks).decode().replace("\r\n", "\n"), stderr


def generated_copy(folder: Path, n_train: int, n_test: int) -> Path:
    """``folder`` holding generated files with the published names of MNIST and Fashion-MNIST."""
    folder.mkdir()
    files, _ = makefiles.mnist_gz_files(n_train, n_test)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def prepare_unverified(r: Runner, dataset_id: str, folder: Path) -> None:
    """Prepare ``dataset_id`` from the generated files of ``folder``."""
    code, _, err = r.run(f"datamaestro -q prepare {dataset_id} --from {folder} --no-verify")
    assert code == 0, err


@pytest.fixture
def runner(env, server, tmp_path) -> Runner:
    if FASHION.is_dir():
        for file in FASHION.glob("*.gz"):
            server.files["/fashion/" + file.name] = file.read_bytes()
        env.mirror(FASHION_BASE, server.url("fashion/"))
    home = tmp_path / "home"
    (home / ".config" / "fish" / "completions").mkdir(parents=True)
    work = tmp_path / "work"
    work.mkdir()
    environ = dict(os.environ, HOME=str(home), COLUMNS="100",
                   PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    r = Runner(work, environ)
    prepare_unverified(r, "com.lecun.mnist", generated_copy(tmp_path / "mnist-files", 20, 8))
    if not FASHION.is_dir():  # enough images for the examples' grids (18) and a first batch of 256
        prepare_unverified(r, FASHION_ID, generated_copy(tmp_path / "fashion-files", 300, 50))
    return r


def without_missing_jq(command: str) -> tuple[str, bool]:
    """``command`` without its pipe into jq when jq is not installed (and whether it was cut)."""
    if "| jq " not in command or shutil.which("jq"):
        return command, False
    return command.split("| jq ", 1)[0].strip(), True


def run_examples(path: Path, runner: Runner, env) -> dict[str, int]:
    """Run every example of ``path``; returns how many of each kind ran."""
    ran = {"console": 0, "python": 0, "compiled": 0, "yaml": 0}
    session = ""
    for language, attributes, text in code_blocks(path):
        if language == "console":
            for command, expected in console_commands(text):
                if command.startswith(NOT_RUN):
                    continue
                assert command.startswith("datamaestro "), f"{path.name}: unknown example {command!r}"
                command, jq_missing = without_missing_jq(command)
                code, out, err = runner.run(command)
                assert code == 0, f"{path.name}: {command}\n{err}"
                if jq_missing:  # what would have gone into jq must be JSON
                    json.loads(out)
                if runner.on_terminal(command):
                    assert "\u2580" in out, f"{path.name}: {command} drew nothing"
                if expected:
                    shown = [line.replace(SHOWN_DATA, str(env.data)) for line in expected]
                    assert output_matches(shown, out.splitlines()), (
                        f"{path.name}: the output of {command} is not the one shown:\n{out}"
                    )
                ran["console"] += 1
        elif language == "python" and missing_extras(attributes):
            compile(session + text, f"{path.name} example", "exec")
            ran["compiled"] += 1
        elif language == "python":
            session += text
            script = runner.work / "example.py"
            script.write_text(session)
            r = subprocess.run([sys.executable, str(script)], cwd=runner.work, env=runner.environ,
                               capture_output=True, text=True, timeout=120)
            assert r.returncode == 0, f"{path.name}: Python example failed:\n{r.stderr}"
            ran["python"] += 1
        elif language == "yaml":
            config = runner.work / "config.yaml"
            config.write_text(text)
            assert read_config(config), f"{path.name}: empty configuration example"
            ran["yaml"] += 1
    return ran


def test_output_matching():
    assert output_matches(["a", "...", "c"], ["a", "b", "b", "c"])
    assert output_matches(["a", "..."], ["a"])
    assert output_matches(["a", "b"], ["a", "b"])
    assert not output_matches(["a", "b"], ["a", "b", "c"])
    assert not output_matches(["a", "...", "c"], ["a", "c", "d"])
    assert not output_matches(["b", "..."], ["a", "b"])
    assert output_matches(["...", "x", "...", "y"], ["w", "x", "z", "y"])


def test_readme_examples(runner, env):
    ran = run_examples(ROOT / "README.md", runner, env)
    # every command line runs unless NOT_RUN names it (an unknown one fails above)
    assert ran["console"] >= 12 and ran["yaml"] == 1
    assert ran["python"] + ran["compiled"] == len(
        [b for b in code_blocks(ROOT / "README.md") if b[0] == "python"]
    ) and ran["python"] >= 2
    grid = Image.open(runner.work / "fashion.png")
    assert grid.format == "PNG" and grid.width == 8 * (28 * 3 + 8)
    # the README's own facts: install command, main job, test command
    readme = (ROOT / "README.md").read_text()
    for fact in ("pip install -e .", "datamaestro prepare com.lecun.mnist",
                 "python -m pytest"):
        assert fact in readme


def test_quick_start_examples(runner, env):
    ran = run_examples(ROOT / "docs" / "index.md", runner, env)
    assert ran["console"] >= 7 and ran["python"] == 1
    # the fish completion example wrote its script into the (test's) home
    fish = Path(runner.environ["HOME"]) / ".config/fish/completions/datamaestro.fish"
    assert "complete -c datamaestro" in fish.read_text()
    grid = np.asarray(Image.open(runner.work / "fashion.png"))
    assert grid.shape[1] == 8 * 92 and grid.shape[0] % 2 == 0  # 16 images: 2 rows of 8


def test_compat_page_examples(runner, env):
    """docs/compat.md: the datamaestro versions of the books' snippets run as written."""
    ran = run_examples(ROOT / "docs" / "compat.md", runner, env)
    assert ran["python"] + ran["compiled"] == 3 and ran["python"] >= 2  # d2l 1.0's needs torch
    grid = Image.open(runner.work / "fashion-grid.png")
    assert grid.format == "PNG" and grid.mode == "L" and grid.width == 9 * (28 * 3 + 8)


def test_cli_reference_is_generated_from_the_parser(monkeypatch):
    """docs/cli.md's marker becomes one section per command, with that command's --help."""
    import importlib.util

    from datamaestro.cli.main import build_parser

    spec = importlib.util.spec_from_file_location("cli_hook", ROOT / "docs/hooks/cli_reference.py")
    assert spec and spec.loader
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    page = (ROOT / "docs" / "cli.md").read_text()
    assert hook.MARKER in page
    monkeypatch.setenv("COLUMNS", "40")  # the reference does not depend on the terminal
    rendered = hook.on_page_markdown(page, page=None)
    assert hook.MARKER not in rendered
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    monkeypatch.setenv("COLUMNS", "88")
    for name, command in sub.choices.items():
        assert f"## datamaestro {name}\n\n```text\n{command.format_help().rstrip()}\n```" in rendered
    assert os.environ["COLUMNS"] == "88"
    assert hook.on_page_markdown("# other page", page=None) == "# other page"
