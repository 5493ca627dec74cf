"""Partial downloads: ``downloads/<id>/<name>.part`` and its note ``<name>.part.json``.

The partial file holds the bytes received so far and the note the URL they
come from (and the server's validator, ETag or Last-Modified). They are kept
when a transfer is interrupted (so the next run resumes), and deleted when
the file is installed, when its checksum or size is wrong, or when it came
from another URL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from datamaestro.download.transport import discard, kept_bytes
from datamaestro.errors import UnsafePathError
from datamaestro.log import log
from datamaestro.paths import open_inside, read_inside
from datamaestro.storage import StorageError, disk_error, ignored, link_or_copy

#: a resume note larger than this (bytes) is not one datamaestro wrote: it is ignored
MAX_NOTE = 1 << 20


@dataclass(frozen=True, slots=True)
class Note:
    """Where the bytes of a partial download come from."""

    url: Optional[str] = None
    #: the server's ETag or Last-Modified, sent back as If-Range when resuming
    validator: Optional[str] = None


class Partial:
    """The partial download of one resource, and its note, written inside ``root`` (the data folder;
    by default the partial's own folder) without following a link (``paths.open_inside``)."""

    def __init__(self, path: Path, root: Optional[Path] = None):
        self.path = path
        self.root = root or path.parent
        self.note_path = path.with_name(path.name + ".json")

    def note(self) -> Note:
        """The note of the partial download (empty when missing or unreadable: the download starts over)."""
        try:
            value = json.loads(read_inside(self.root, self.note_path, MAX_NOTE) or b"")
        except UnsafePathError as e:  # a link, a FIFO, a device, a huge file: planted, never followed
            ignored(e, "the partial download starts over")
            return Note()
        except (OSError, ValueError):
            return Note()
        if not isinstance(value, dict):
            return Note()
        url, validator = value.get("url"), value.get("validator")
        return Note(url if isinstance(url, str) else None, validator if isinstance(validator, str) else None)

    def url(self) -> Optional[str]:
        """The URL the partial download comes from (None if there is none)."""
        return self.note().url if self.path.is_file() else None

    def kept(self) -> int:
        """The bytes kept for the next run to resume."""
        return kept_bytes(self.path, self.root) if self.path.is_file() else 0

    def claim(self, url: str, provable: bool) -> Optional[str]:
        """Keep the partial download only if it can be proven to be a prefix of ``url``'s file; returns its validator.

        It must come from ``url``, and either carry the server's validator (ETag
        or Last-Modified, sent back as If-Range) or be checked by a published
        checksum (``provable``) once complete: otherwise a file changed on the
        server would be spliced onto the old bytes unnoticed.
        """
        note = self.note() if self.path.exists() else Note()
        if self.path.exists() and note.url != url:
            log.info("%s: discarding a partial download from another URL", self.path.name)
            self.path.unlink()
            note = Note()
        elif self.path.exists() and note.validator is None and not provable:
            log.info("%s: discarding a partial download that nothing could prove (no ETag, no checksum)", self.path.name)
            self.path.unlink()
            note = Note()
        self.write_note(url, note.validator)
        return note.validator

    def write_note(self, url: str, validator: Optional[str]) -> None:
        """Record where the bytes of the partial download come from (URL, ETag or Last-Modified)."""
        try:
            with open_inside(self.root, self.note_path, "w") as f:
                f.write(json.dumps({"url": url, "validator": validator}).encode("utf-8"))
        except OSError as e:
            if disk_error(e):
                raise StorageError(f"cannot write {self.path.parent}: {e.strerror}; free some space") from None
            raise

    def forget_origin(self) -> None:
        """Drop the note: the bytes come from no URL (a store, a local copy), so they are never resumed."""
        self.note_path.unlink(missing_ok=True)

    def discard(self) -> None:
        """Delete the partial download and its note."""
        discard(self.path)
        self.forget_origin()

    def copy_from(self, source: Path, algorithms: list[str], link: bool = False) -> dict[str, str]:
        """Put a copy of ``source`` here (a hard link with ``link``, where the file system allows),
        returning the digests of its bytes."""
        self.forget_origin()
        return link_or_copy(self.root, source, self.path, tuple(algorithms), link)
