"""The platform's user folders for datamaestro (configuration, data, cache)."""

from __future__ import annotations

from pathlib import Path

APP = "datamaestro"


def user_folder(kind: str) -> Path:
    """The platform's user folder of ``kind`` ("config", "data" or "cache") for datamaestro."""
    import platformdirs  # (a dependency; imported when a folder is first asked for)

    return Path(getattr(platformdirs, f"user_{kind}_dir")(APP))
