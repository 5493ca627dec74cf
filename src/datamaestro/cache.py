"""Small caches in the user cache folder, each valid while its stamp is unchanged.

They spare the frequent commands work whose inputs rarely change: reading the
definition modules, scanning installed packages for plugins, importing YAML.
A cache that cannot be read or written only costs speed. JSON caches are for
small values; ``load_binary``/``save_binary`` (``marshal``: fast, but only for
this Python version, and only for trusted files such as our own) for the
registry index.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional


def cache_dir() -> Path:
    """``DATAMAESTRO_CACHE``, else the platform's user cache folder."""
    env = os.environ.get("DATAMAESTRO_CACHE")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("datamaestro"))


def load(name: str, stamp: Any) -> Optional[Any]:
    """The value saved under ``name`` if it was saved with an equal ``stamp``."""
    import json

    try:
        with open(cache_dir() / f"{name}.json", encoding="utf-8") as f:
            saved = json.load(f)
        return saved["value"] if saved["stamp"] == stamp else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(name: str, stamp: Any, value: Any) -> None:
    """Save ``value`` (JSON-serialisable) under ``name`` with ``stamp``."""
    import json

    try:
        _write(name + ".json", json.dumps({"stamp": stamp, "value": value}).encode())
    except (TypeError, ValueError):
        pass


def load_binary(name: str, stamp: Any) -> Optional[Any]:
    """Like ``load``, for a value saved by ``save_binary``."""
    import marshal

    try:
        with open(cache_dir() / f"{name}.marshal", "rb") as f:
            saved = marshal.loads(f.read())  # marshal.load(f) reads object by object: slow
        return saved[1] if isinstance(saved, tuple) and len(saved) == 2 and saved[0] == stamp else None
    except (OSError, ValueError, EOFError, TypeError):
        return None


def save_binary(name: str, stamp: Any, value: Any) -> None:
    """Save ``value`` (made of tuples, lists, dicts, strings, bytes, numbers) under ``name``."""
    import marshal

    try:
        _write(name + ".marshal", marshal.dumps((stamp, value)))
    except ValueError:
        pass


def _write(filename: str, data: bytes) -> None:
    """Replace the cache file atomically (readers see the old or the new one, whole).

    No fsync: a cache file lost or cut short by a crash is only read as absent.
    """
    folder = cache_dir()
    tmp = folder / f".{filename}.{os.getpid()}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp.unlink(missing_ok=True)  # left by a killed process that had our pid
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, folder / filename)
    except OSError:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass


def file_stamp(path: Path) -> list[Any]:
    """What identifies a version of a file: path, size, modification time."""
    stat = path.stat()
    return [str(path), stat.st_size, stat.st_mtime_ns]
