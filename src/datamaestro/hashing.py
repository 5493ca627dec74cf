"""Published checksums ("sha256:<hex>", "md5:<hex>") and file hashing: the one hashing module."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from datamaestro.errors import DefinitionError

#: a sha256 hex digest as recorded (lowercase)
HEX64 = re.compile(r"[0-9a-f]{64}")

#: algorithm -> hex digits of its digests
HEX_DIGITS = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}
ALGORITHMS = tuple(HEX_DIGITS)
CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Checksum:
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


@dataclass(frozen=True, slots=True)
class FileHash:
    """What identifies a file's content: its size and sha256."""

    size: int
    sha256: str


class Hashers:
    """Several digests of the same bytes, fed chunk by chunk."""

    def __init__(self, algorithms: Iterable[str]):
        self.hashers = {a: hashlib.new(a) for a in sorted(set(algorithms))}

    def update(self, chunk: bytes | memoryview) -> None:
        """Feed ``chunk`` to every digest."""
        for h in self.hashers.values():
            h.update(chunk)

    def feed(self, file: BinaryIO) -> None:
        """Feed what the open ``file`` holds from its position on, leaving it at its end."""
        while chunk := file.read(CHUNK):
            self.update(chunk)

    def hexdigests(self) -> dict[str, str]:
        """The hex digest of each algorithm."""
        return {a: h.hexdigest() for a, h in self.hashers.items()}


def file_digests(path: Path, algorithms: Iterable[str]) -> dict[str, str]:
    """The hex digests of a file's content, one per algorithm, in one read."""
    hashers = Hashers(algorithms)
    with open(path, "rb") as f:
        hashers.feed(f)
    return hashers.hexdigests()


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """The hex digest of a file's content."""
    return file_digests(path, [algorithm])[algorithm]


def hash_file(path: Path) -> FileHash:
    """The size and sha256 of a file."""
    return FileHash(path.stat().st_size, file_digest(path))
