"""Published checksums ("sha256:<hex>", "md5:<hex>") and file hashing."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from datamaestro.errors import DefinitionError
from datamaestro.record import Record

if TYPE_CHECKING:
    from typing import Any

#: algorithm -> hex digits of its digests
HEX_DIGITS = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}
ALGORITHMS = tuple(HEX_DIGITS)
CHUNK = 1 << 20


class Checksum(Record, kw_only=False, frozen=True):
    """An expected digest: algorithm and lowercase hex value."""

    algorithm: str
    hexdigest: str

    @classmethod
    def parse(cls, text: str) -> Checksum:
        """Parse ``"<algorithm>:<hex>"``."""
        algorithm, _, value = text.partition(":")
        algorithm, value = algorithm.strip().lower(), value.strip().lower()
        size = HEX_DIGITS.get(algorithm, 0)
        if not size or not re.fullmatch(f"[0-9a-f]{{{size}}}", value):
            raise DefinitionError(
                f"invalid checksum '{text}': expected '<algorithm>:<hex>' with "
                f"algorithm one of {', '.join(ALGORITHMS)}"
            )
        return cls(algorithm, value)

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hexdigest}"


class FileHash(Record, kw_only=False, frozen=True):
    """What identifies a file's content: its size and sha256."""

    size: int
    sha256: str


def hash_into(path: Path, hashers: dict[str, Any]) -> None:
    """Feed the content of ``path`` to every hasher of ``hashers``."""
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            for h in hashers.values():
                h.update(chunk)


def file_digests(path: Path, algorithms: Iterable[str]) -> dict[str, str]:
    """The hex digests of a file's content, one per algorithm, in one read."""
    import hashlib  # not on the path of a prepared dataset

    hashers = {a: hashlib.new(a) for a in set(algorithms)}
    hash_into(path, hashers)
    return {a: h.hexdigest() for a, h in hashers.items()}


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """The hex digest of a file's content."""
    return file_digests(path, [algorithm])[algorithm]


def hash_file(path: Path) -> FileHash:
    """The size and sha256 of a file."""
    return FileHash(path.stat().st_size, file_digest(path))
