"""datamaestro completion: scripts generated from the parser, run in real bash, zsh and fish."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import makefiles
import pytest

BIN = str(Path(sys.executable).parent)


def script(cli, shell: str, tmp_path: Path) -> Path:
    r = cli("completion", shell)
    assert r.returncode == 0, r.stderr
    path = tmp_path / f"datamaestro.{shell}"
    path.write_text(r.stdout)
    return path


def run_shell(argv: list[str]) -> list[str]:
    environ = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    r = subprocess.run(argv, capture_output=True, text=True, env=environ, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def bash_complete(path: Path, words: list[str]) -> list[str]:
    """COMPREPLY for the command line ``words`` (the last one is being completed)."""
    quoted = " ".join("'" + w + "'" for w in words)
    code = (
        f"source '{path}'; COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; "
        'COMPREPLY=(); _datamaestro; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    return sorted(line for line in run_shell(["bash", "-c", code]) if line)


def need(shell: str) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed (.ci/run installs it)")


@pytest.fixture
def private_ids(env):
    makefiles.write_module(env.use_registry(), "org.example", '''
        from datamaestro.definitions import dataset

        @dataset(id="cats-vs-dogs")
        def cats():
            """Cats and dogs."""
            return {}

        @dataset()
        def birds():
            """Birds."""
            return {}
    ''')
    return ["org.example.birds", "org.example.cats-vs-dogs"]


def test_ids_come_from_the_registry(cli, private_ids):
    r = cli("completion", "--ids")
    assert r.returncode == 0
    ids = r.stdout.splitlines()
    assert "com.lecun.mnist" in ids
    assert set(private_ids) <= set(ids)


def test_no_shell_is_a_usage_error(cli):
    r = cli("completion")
    assert r.returncode == 2
    assert r.stderr == "datamaestro: error: name a shell: datamaestro completion bash|zsh|fish\n"
    r = cli("completion", "tcsh")
    assert r.returncode == 2 and "invalid choice: 'tcsh'" in r.stderr


def test_bash(cli, tmp_path, private_ids):
    need("bash")
    path = script(cli, "bash", tmp_path)
    assert bash_complete(path, ["datamaestro", "sh"]) == ["show"]
    assert "completion" in bash_complete(path, ["datamaestro", ""])
    assert bash_complete(path, ["datamaestro", "info", "org.ex"]) == private_ids
    assert bash_complete(path, ["datamaestro", "-q", "show", "org.example.c"]) == [
        "org.example.cats-vs-dogs"
    ]
    # options, option values, and nothing after the id
    assert bash_complete(path, ["datamaestro", "show", "--co"]) == ["--color", "--colour", "--cols"]
    assert bash_complete(path, ["datamaestro", "show", "x", "--colour", ""]) == [
        "auto", "grey", "truecolor"
    ]
    assert bash_complete(path, ["datamaestro", "show", "-n", ""]) == []
    assert bash_complete(path, ["datamaestro", "info", "com.lecun.mnist", ""]) == []
    assert bash_complete(path, ["datamaestro", "--data", "/tmp", "info", "com.lecun.m"]) == [
        "com.lecun.mnist"
    ]
    assert bash_complete(path, ["datamaestro", "completion", "z"]) == ["zsh"]
    (tmp_path / "grid-out.png").write_bytes(b"")
    assert bash_complete(path, ["datamaestro", "show", "-o", str(tmp_path / "grid-")]) == [
        str(tmp_path / "grid-out.png")
    ]


def test_zsh(cli, tmp_path, private_ids):
    need("zsh")
    path = script(cli, "zsh", tmp_path)

    def complete(*words: str) -> list[str]:
        # compadd and _files stand in for zsh's completion system: they print what is offered
        code = (
            'compadd() { [[ $1 == -- ]] && shift; print -l -- "$@"; }; '
            '_files() { print -- "<files $*>"; }; compdef() { :; }; '
            f"source '{path}'; words=({' '.join(repr(w) for w in words)}); "
            f"CURRENT={len(words)}; _datamaestro"
        )
        return sorted(line for line in run_shell(["zsh", "-f", "-c", code]) if line)

    # (the stand-in compadd prints every candidate: zsh itself filters them by prefix)
    assert {"completion", "info", "prepare", "search", "show"} <= set(complete("datamaestro", "s"))
    assert "--version" in complete("datamaestro", "--v")
    ids = complete("datamaestro", "info", "org.ex")
    assert set(private_ids) <= set(ids) and "com.lecun.mnist" in ids
    assert complete("datamaestro", "show", "x", "--colour", "") == ["auto", "grey", "truecolor"]
    assert complete("datamaestro", "show", "-o", "") == ["<files >"]
    assert complete("datamaestro", "show", "com.lecun.mnist", "") == []
    assert "--cols" in complete("datamaestro", "show", "--")


def test_fish(cli, tmp_path, private_ids):
    need("fish")
    path = script(cli, "fish", tmp_path)

    def complete(line: str) -> list[str]:
        out = run_shell(["fish", "--no-config", "-c", f"source '{path}'; complete -C '{line}'"])
        return sorted(entry.split("\t")[0] for entry in out)

    assert complete("datamaestro sh") == ["show"]
    assert complete("datamaestro info org.ex") == private_ids
    assert complete("datamaestro show x --colour ") == ["auto", "grey", "truecolor"]
    assert "--cols" in complete("datamaestro show --co")
    assert complete("datamaestro completion z") == ["zsh"]


def test_commands_taking_several_ids_and_new_ids(cli, tmp_path, private_ids):
    import argparse

    from datamaestro.cli.commands.completion import bash_script, describe_parser

    need("bash")
    parser = argparse.ArgumentParser(prog="datamaestro")
    parser.add_argument("--data", metavar="DIR")
    sub = parser.add_subparsers(dest="command")
    drop = sub.add_parser("drop", help="drop datasets")
    drop.add_argument("ids", nargs="+", metavar="ID")
    new = sub.add_parser("new", help="a new dataset")
    new.add_argument("id", metavar="NEW_ID")
    commands, options = describe_parser(parser)
    assert [(c.name, c.takes_id) for c in commands] == [("drop", 2), ("new", 0)]
    path = tmp_path / "synthetic.bash"
    path.write_text(bash_script(commands, options))
    assert bash_complete(path, ["datamaestro", "drop", "org.example.birds", "org.ex"]) == private_ids
    assert bash_complete(path, ["datamaestro", "new", "org.ex"]) == []
    # the real create-dataset takes a new id: nothing to complete
    real = script(cli, "bash", tmp_path)
    assert bash_complete(real, ["datamaestro", "create-dataset", "org.ex"]) == []
