"""Which stores offline mode may use: only a store on a local path (kept light: imported on every prepare)."""

from __future__ import annotations

from datamaestro.config import Settings
from datamaestro.paths import printable


def is_local_url(url: str) -> bool:
    """Whether a store URL is a local path (``file://`` or a plain folder): usable offline."""
    return url.startswith("file://") or "://" not in url


def usable_offline(settings: Settings) -> bool:
    """Whether offline mode may still take files from the store (only a local one)."""
    return bool(settings.store_url) and is_local_url(settings.store_url or "")


def offline_note(settings: Settings) -> str:
    """What an offline error adds about a store that offline mode does not use ('' if none)."""
    if not settings.store_url or usable_offline(settings):
        return ""
    return (
        f"; the store {printable(settings.store_url)} is not used offline, "
        "because only a store on a local path (file:// or a folder) is"
    )
