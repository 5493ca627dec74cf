"""What every transfer shares: its policy, target, outcome and errors; the stall rule; reading
a body; the headers that matter (ranges, lengths, validators, Retry-After).

The single-connection download (``single``), the segmented one (``segments``)
and the retry loop (``retry``) all build on this module; it imports none of
them.
"""

from __future__ import annotations

import email.utils
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, Optional

from urllib3.exceptions import ProtocolError, ReadTimeoutError

from datamaestro.download.transport.headers import header_seconds
from datamaestro.errors import DownloadError
from datamaestro.paths import open_inside
from datamaestro.storage import StorageError, disk_error

#: most bytes read from the network (and written) at a time: read1 returns what has arrived
CHUNK = 1 << 18
#: seconds a mirror that has a next one gets for its headers before that one is tried (``hedged``)
HEDGE_AFTER = 4.0
#: how a try failed: the kinds that say the mirror is unreachable
UNREACHABLE = ("connect", "timeout", "stall", "dns")
#: the kinds not worth another try of the same URL (a name that does not resolve)
NOT_RETRIED = ("dns",)
#: the default bound of a file whose size nobody states (64 GiB): a static host of a large file
#: sends its Content-Length, so this bounds streamed answers, far larger than any known dataset
#: file sent so, and stops an endless one before it fills an ordinary data disk
MAX_DOWNLOAD_SIZE = 64 << 30


class TransferError(DownloadError):
    """A transfer failed in a way worth retrying (network, timeout, 429, 5xx).

    The bytes already written are a valid prefix of the file: a later attempt
    resumes from them. ``kind`` says how: "connect" (refused, unreachable),
    "dns" (the host name does not resolve), "timeout" (connecting or reading), "stall" (the stall rule), "closed" (the
    body ended early or was inconsistent) or "http" (429, 5xx); ``elapsed`` is
    the seconds spent on the URL (set when ``fetch`` gives up).
    """

    def __init__(self, message: str, retry_after: Optional[float] = None, kind: str = "http"):
        super().__init__(message)
        self.retry_after = retry_after
        self.kind = kind
        self.elapsed: Optional[float] = None


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (or ``progress.Display.cancel``) stopped a download; what it kept is resumable.

    ``kept`` bytes of ``total`` (None if unknown) are in ``path``; the next
    ``fetch`` of the same URL resumes from them.
    """

    def __init__(self, path: Path, kept: int, total: Optional[int]):
        super().__init__(f"interrupted: {kept} bytes kept in {path}")
        self.path = path
        self.kept = kept
        self.total = total


class BodyClosed(Exception):
    """The connection closed (or was reset) before the end of the body."""


@dataclass(slots=True)
class Policy:
    """How hard to try one URL: retries, backoff, deadlines, segments."""

    retries: int = 3
    backoff: float = 1.0
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    #: fewer than this many bytes in ``stall_seconds`` fails the try (0: no stall rule)
    stall_bytes: int = 16384
    stall_seconds: float = 20.0
    #: connections for one large file (1: never segmented)
    segments: int = 1
    #: smallest file (bytes) downloaded in segments
    segment_threshold: int = 8 << 20
    #: most bytes of a file of unknown size (neither declared nor sent as Content-Length)
    max_download_size: int = MAX_DOWNLOAD_SIZE
    #: longest wait honoured from a Retry-After header (seconds): a server asking for more is
    #: given up on (a 429 storm must not hold a URL for minutes)
    max_retry_after: float = 10.0
    #: seconds for the whole status line and headers (None: 1.5 read timeouts)
    header_timeout: Optional[float] = None
    #: retries of a URL whose tries time out (or stall) without progress: a server that did not
    #: answer twice in a row is dead, not flaky
    timeout_retries: int = 1

    def delay(self, failures: int, retry_after: Optional[float]) -> float:
        """Seconds to wait before the next try: the server's Retry-After, else backoff with jitter."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        base = self.backoff * 2 ** (failures - 1)
        return base / 2 + random.uniform(0, base / 2)

    @property
    def progress_bytes(self) -> int:
        """The least a try must add to the file to count as progress (resetting the retries)."""
        return max(1, self.stall_bytes)


def hedged(policy: Policy) -> Policy:
    """``policy`` for a mirror that has a next one: headers within ``HEDGE_AFTER`` seconds, no
    second try after a timeout (the next mirror is tried instead)."""
    header = policy.header_timeout or header_seconds(policy.read_timeout) or HEDGE_AFTER
    return replace(policy, header_timeout=min(HEDGE_AFTER, header), timeout_retries=0)


@dataclass(frozen=True, slots=True)
class Target:
    """One URL to download into one file: what to hash, how to show it, how hard to try."""

    url: str
    dest: Path
    algorithms: tuple[str, ...]
    label: str
    quiet: bool
    policy: Policy
    #: the size the definition declares (None: unknown)
    expected_size: Optional[int] = None
    #: the folder ``dest`` must stay inside (the data folder; None: ``dest``'s own folder)
    root: Optional[Path] = None

    def open(self, mode: str) -> BinaryIO:
        """Open the partial file in ``mode`` ("w", "r+"), never through a link (``paths.open_inside``)."""
        return open_inside(self.root or self.dest.parent, self.dest, mode)


class TooLarge(DownloadError):
    """A download passed its size bound (its partial file is deleted)."""


@dataclass(frozen=True, slots=True)
class SizeLimit:
    """The most bytes a download may hold, and where that number comes from."""

    most: int
    source: str

    def passed(self, url: str) -> TooLarge:
        """The error of a download of ``url`` that passed this limit."""
        return TooLarge(f"{url}: more than {self.most} bytes ({self.source}); the partial download was deleted")


def size_limit(target: Target, have: int, length: Optional[int]) -> SizeLimit:
    """The bound of a download that holds ``have`` bytes and gets ``length`` more (None: unknown)."""
    if target.expected_size is not None:
        return SizeLimit(target.expected_size, "its declared size")
    if length is not None:
        return SizeLimit(have + length, "its Content-Length")
    return SizeLimit(target.policy.max_download_size, "max_download_size")


@dataclass(slots=True)
class Transfer:
    """The outcome of ``fetch``: the file's size and digests, and how it was obtained."""

    size: int
    digests: dict[str, str]
    #: bytes kept from an earlier interrupted download
    resumed_from: int = 0
    #: HTTP requests made
    requests: int = 0
    #: connections used at once (more than 1: a segmented download)
    segments: int = 1


class Requests:
    """How many HTTP requests the tries of one URL made (counted from several threads)."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    def add(self) -> None:
        """One more request."""
        with self.lock:
            self.count += 1


class StallWatch:
    """The stall rule: raises ``TransferError`` when a try receives too little for too long."""

    def __init__(self, policy: Policy):
        self.policy = policy
        self.start = time.monotonic()
        self.received = 0

    def add(self, n: int) -> None:
        """``n`` more bytes arrived; raises if the current window got fewer than stall_bytes."""
        self.received += n
        now = time.monotonic()
        if now - self.start < self.policy.stall_seconds:
            return
        if self.received < self.policy.stall_bytes:
            raise TransferError(
                f"stalled (only {self.received} bytes in {now - self.start:.0f} s; "
                f"less than {self.policy.stall_bytes} in {self.policy.stall_seconds:g} s)",
                kind="stall",
            )
        self.start, self.received = now, 0


def body(response: Any, policy: Policy) -> Iterator[bytes]:
    """The body's bytes as they arrive (undecoded: the file as published).

    Raises ``TransferError`` when no byte comes within the read timeout, and
    ``BodyClosed`` when the connection ends before the body does.
    """
    raw = response.raw
    read = getattr(raw, "read1", None)
    chunks = iter(lambda: read(CHUNK, decode_content=False), b"") if read else raw.stream(
        CHUNK, decode_content=False
    )
    while True:
        try:
            chunk = next(chunks)
        except StopIteration:
            return
        except ReadTimeoutError:
            raise read_timeout(policy) from None
        except (ProtocolError, ConnectionError):
            raise BodyClosed() from None
        if chunk:
            yield chunk


def read_timeout(policy: Policy) -> TransferError:
    """The failure of a try that got no byte within the read timeout."""
    return TransferError(f"timed out (no data for {policy.read_timeout:g} s)", kind="timeout")


def write_error(dest: Path, error: OSError) -> Exception:
    """What to raise when writing ``dest`` failed: a ``StorageError`` when the disk is full."""
    if disk_error(error):
        return StorageError(
            f"cannot write {dest}: {error.strerror}; free some space and run again "
            "(the download resumes where it stopped)"
        )
    return error


def content_length(headers: Mapping[str, str]) -> Optional[int]:
    """The Content-Length header as a number (None when absent or malformed)."""
    length = headers.get("Content-Length")
    return int(length) if length and length.isdigit() else None


def validator_of(headers: Mapping[str, str]) -> Optional[str]:
    """What identifies this version of the file: a strong ETag, else Last-Modified."""
    etag = headers.get("ETag")
    if etag and not etag.startswith("W/"):
        return etag
    return headers.get("Last-Modified")


def range_start(content_range: str) -> Optional[int]:
    """The first byte of a Content-Range header (None when malformed)."""
    match = re.match(r"bytes (\d+)-\d+/(\d+|\*)", content_range.strip())
    return int(match.group(1)) if match else None


def range_total(content_range: str) -> Optional[int]:
    """The whole file's size in a Content-Range header (None when unknown or malformed)."""
    match = re.match(r"bytes (?:\*|\d+-\d+)/(\d+)", content_range.strip())
    return int(match.group(1)) if match else None


def retry_after(value: Optional[str]) -> Optional[float]:
    """Seconds from a Retry-After header (delta seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def root_cause(error: BaseException) -> str:
    """The useful part of a requests/urllib3 error message."""
    text = str(error)
    match = re.search(r"\[Errno -?\d+\] [^'\")]+", text)
    return match.group(0) if match else type(error).__name__


def file_size(path: Path) -> int:
    """The size of ``path`` (0 when it does not exist)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def truncate(target: Target) -> None:
    """Empty the partial file of ``target`` (a new empty file in its place)."""
    target.open("w").close()


#: called with the new file's validator when a download starts from the first byte
OnStart = Callable[[Optional[str]], None]
