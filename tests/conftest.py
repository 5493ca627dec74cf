"""Every test runs in its own data, cache and config folders, offline but for loopback servers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from httpserver import FileServer


class Env:
    """The isolated folders of one test, and helpers to configure them."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch):
        self.root = root
        self.data = root / "data"
        self.cache = root.parent / f"{root.name}-cache"  # beside the test's folder: tests list what it holds
        self.registry = root / "registry"
        self.config = root / "config.yaml"
        self.monkeypatch = monkeypatch

    def write_config(self, content: dict[str, Any]) -> Path:
        self.config.write_text(yaml.safe_dump(content))
        self.monkeypatch.setenv("DATAMAESTRO_CONFIG", str(self.config))
        return self.config

    def mirror(self, prefix: str, target: str) -> None:
        """Add a mirror rewriting rule to the config file."""
        config = yaml.safe_load(self.config.read_text()) if self.config.exists() else {}
        config.setdefault("mirrors", {})[prefix] = target
        self.write_config(config)

    def use_registry(self) -> Path:
        """Put the test's own registry folder on DATAMAESTRO_PATH."""
        self.registry.mkdir(exist_ok=True)
        self.monkeypatch.setenv("DATAMAESTRO_PATH", str(self.registry))
        return self.registry


@pytest.fixture(scope="session")
def built_in_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder holding the index of the built-in definitions, built once per session: each
    test starts from a copy, so that it does not import every definition module again. (The index
    is keyed by each module file's path and stamp: a test's own modules are indexed as usual.)"""
    cache = tmp_path_factory.mktemp("index-cache")
    environment = {k: v for k, v in os.environ.items() if k not in ("DATAMAESTRO_PATH", "DATAMAESTRO_CONFIG")}
    subprocess.run(
        [sys.executable, "-c", "from datamaestro.registry import Registry; Registry().ids()"],
        env={**environment, "DATAMAESTRO_CACHE": str(cache)}, check=True,
    )
    return cache


@pytest.fixture(autouse=True)
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, built_in_index: Path) -> Env:
    e = Env(tmp_path, monkeypatch)
    shutil.copytree(built_in_index, e.cache)
    for name in ("DATAMAESTRO_CONFIG", "DATAMAESTRO_PATH", "DATAMAESTRO_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATAMAESTRO_DIR", str(e.data))
    monkeypatch.setenv("DATAMAESTRO_CACHE", str(e.cache))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    return e


@pytest.fixture
def server() -> Iterator[FileServer]:
    s = FileServer().start()
    yield s
    s.stop()


def run_cli(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m datamaestro ARGS`` in a subprocess with the test's environment."""
    return subprocess.run(
        [sys.executable, "-m", "datamaestro", *args],
        capture_output=True,
        text=True,
        input=input,
        env=os.environ.copy(),
        timeout=120,
    )


@pytest.fixture
def cli() -> Any:
    return run_cli
