"""The record of one dataset in a store: resource name -> sha256, size, original URL, declared checksum.

Records come from a store, so they are untrusted: ``parse_record`` checks every
field (types, hex digests, sizes, resource names, the id) and refuses the
whole record on the first problem.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Optional

from datamaestro.errors import DatamaestroError, StoreError
from datamaestro.hashing import HEX64, Checksum
from datamaestro.paths import is_valid_name, printable

FORMAT = 1
#: a record larger than this is refused unread
MAX_RECORD = 1 << 20
MAX_URL = 2000


class BadRecordError(StoreError):
    """A record in the store is not valid JSON of the expected shape."""


@dataclass(frozen=True)
class Entry:
    """One original file in the store."""

    sha256: str
    size: int
    #: the URL it was downloaded from (informative only: never fetched from)
    url: str
    #: the checksum the definition declared when it was pushed ("md5:<hex>"), if any
    checksum: Optional[str] = None


@dataclass
class Record:
    """What the store holds of one dataset."""

    dataset_id: str
    files: dict[str, Entry] = field(default_factory=dict)
    updated: str = ""

    def to_bytes(self) -> bytes:
        """The record as the JSON written to the store."""
        return json.dumps(
            {
                "format": FORMAT,
                "id": self.dataset_id,
                "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "files": {
                    name: {"sha256": e.sha256, "size": e.size, "url": e.url, "checksum": e.checksum}
                    for name, e in sorted(self.files.items())
                },
            },
            indent=2,
            sort_keys=True,
        ).encode()

    def to_json(self) -> dict[str, Any]:
        """The record as ``store ls --json`` prints it."""
        return {
            "id": self.dataset_id,
            "updated": self.updated,
            "files": {
                name: {"sha256": e.sha256, "size": e.size, "url": e.url, "checksum": e.checksum}
                for name, e in sorted(self.files.items())
            },
        }


def parse_record(data: bytes, dataset_id: str, where: str) -> Record:
    """The record of ``dataset_id`` read from ``where``; raises ``BadRecordError`` if it is not one."""

    def bad(problem: str) -> BadRecordError:
        return BadRecordError(
            f"refused the record {printable(where)}: {problem}; "
            "remove it from the store and push the dataset again from a trusted machine"
        )

    if len(data) > MAX_RECORD:
        raise bad(f"{len(data)} bytes, more than {MAX_RECORD}")
    try:
        content = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise bad(f"not JSON ({e})") from None
    except RecursionError:  # arrays or objects nested thousands deep: a record is three levels
        raise bad("JSON nested too deeply") from None
    if not isinstance(content, dict):
        raise bad("not a JSON object")
    if content.get("format") != FORMAT:
        raise bad(f"unknown format {printable(repr(content.get('format')))} (expected {FORMAT})")
    if content.get("id") != dataset_id:
        raise bad(f"its id {printable(repr(content.get('id')))} is not {dataset_id}")
    files = content.get("files")
    if not isinstance(files, dict):
        raise bad("'files' is not an object")
    updated = content.get("updated", "")
    if not isinstance(updated, str) or len(updated) > 40:
        raise bad("'updated' is not a short string")
    entries: dict[str, Entry] = {}
    for name, value in files.items():
        if not is_valid_name(name):
            raise bad(f"'{printable(str(name))}' is not a resource name")
        try:
            entries[name] = _entry(value)
        except ValueError as e:
            raise bad(f"{name}: {e}") from None
    return Record(dataset_id, entries, printable(updated))


def _entry(value: Any) -> Entry:
    """One file's entry; raises ValueError naming the bad field."""
    if not isinstance(value, dict):
        raise ValueError("not an object")
    sha256, size, url, checksum = (value.get(k) for k in ("sha256", "size", "url", "checksum"))
    if not isinstance(sha256, str) or not HEX64.fullmatch(sha256):
        raise ValueError("'sha256' is not 64 lowercase hex digits")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ValueError("'size' is not a non-negative integer")
    if not isinstance(url, str) or len(url) > MAX_URL or printable(url, MAX_URL) != url:
        raise ValueError("'url' is not a printable string")
    if checksum is not None:
        if not isinstance(checksum, str):
            raise ValueError("'checksum' is not a string")
        try:
            checksum = str(Checksum.parse(checksum))
        except DatamaestroError:
            raise ValueError("'checksum' is not '<algorithm>:<hex>'") from None
    return Entry(sha256, size, url, checksum)

