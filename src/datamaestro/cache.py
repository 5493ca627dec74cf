"""Small caches in the user cache folder, each valid while its stamp is unchanged.

They spare the frequent commands work whose inputs rarely change: importing the
definition modules, scanning installed packages for plugins, importing YAML.
A cache that cannot be read or written only costs speed. Values are stored
with ``marshal`` (loading is several times faster than JSON, and importing it
is free): they may hold None, booleans, numbers, strings, bytes, and tuples,
lists and dicts of them. marshal trusts its input, as these files are our own.
"""

from __future__ import annotations

import marshal
import os
from pathlib import Path
from typing import Any, Optional

from datamaestro.folders import user_folder


def cache_dir() -> Path:
    """``DATAMAESTRO_CACHE``, else the platform's user cache folder."""
    env = os.environ.get("DATAMAESTRO_CACHE")
    return Path(env) if env else user_folder("cache")


def load(name: str, stamp: Any) -> Optional[Any]:
    """The value saved under ``name`` if it was saved with an equal ``stamp``."""
    try:
        with open(cache_dir() / f"{name}.marshal", "rb") as f:
            saved = marshal.loads(f.read())  # marshal.load(f) reads object by object: slow
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if isinstance(saved, tuple) and len(saved) == 3 and saved[:2] == (marshal.version, stamp):
        return saved[2]
    return None


def save(name: str, stamp: Any, value: Any) -> None:
    """Save ``value`` under ``name`` with ``stamp``; a stamp made of lists compares equal to
    itself after loading, tuples too."""
    try:
        data = marshal.dumps((marshal.version, stamp, value))
    except ValueError:  # not made of the types above
        return
    folder = cache_dir()
    tmp = folder / f".{name}.marshal.{os.getpid()}.tmp"
    try:  # replaced atomically: readers see the old or the new file, whole; no fsync: a file
        folder.mkdir(parents=True, exist_ok=True)  # lost or cut short is only read as absent
        tmp.unlink(missing_ok=True)  # left by a killed process that had our pid
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, folder / f"{name}.marshal")
    except OSError:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass

