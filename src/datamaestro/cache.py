"""Small JSON caches in the user cache folder, each valid while its stamp is unchanged.

They spare the frequent commands work whose inputs rarely change: parsing the
definition modules, scanning installed packages for plugins, importing YAML.
A cache that cannot be read or written only costs speed.
"""

from __future__ import annotations

import json
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
    try:
        with open(cache_dir() / f"{name}.json", encoding="utf-8") as f:
            saved = json.load(f)
        return saved["value"] if saved["stamp"] == stamp else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(name: str, stamp: Any, value: Any) -> None:
    """Save ``value`` (JSON-serialisable) under ``name`` with ``stamp``."""
    from datamaestro.storage import atomic_file

    try:
        text = json.dumps({"stamp": stamp, "value": value})
        with atomic_file(cache_dir() / f"{name}.json") as f:
            f.write(text.encode())
    except (OSError, TypeError, ValueError):
        pass


def file_stamp(path: Path) -> list[Any]:
    """What identifies a version of a file: path, size, modification time."""
    stat = path.stat()
    return [str(path), stat.st_size, stat.st_mtime_ns]
