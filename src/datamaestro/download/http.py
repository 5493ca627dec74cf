"""Fetching one URL into a file: resume with Range, retries, deadlines, segments, hashing.

The file at ``dest`` is always a prefix of the body being downloaded (or,
for a segmented download, holds the ranges its state file lists), so an
interrupted download (dropped connection, SIGKILL, Ctrl-C) is continued by the
next call with HTTP Range requests, and restarted from scratch when the
server ignores the Range or the bytes cannot be proven to be the same file.

Deadlines: opening a connection may take ``connect_timeout`` seconds;
waiting for the next byte ``read_timeout``; the status line and headers, all of
them, 1.5 times that (``datamaestro.download.headers``); a try that receives fewer than
``stall_bytes`` in ``stall_seconds`` is abandoned (a trickling server). A try
that timed out without progress is retried once at most (a server that did
not answer twice in a row is dead, not flaky), so one URL costs at most about
two timeouts before the next mirror is tried.
"""

from __future__ import annotations

import hashlib
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from datamaestro.download import progress
from datamaestro.errors import DownloadError
from datamaestro.hashing import file_digests, hash_into
from datamaestro.log import log
from datamaestro.paths import printable
from datamaestro.storage import StorageError, disk_error

if TYPE_CHECKING:
    from datamaestro.config import Settings
    from datamaestro.download.health import MirrorHealth


#: most bytes read from the network (and written) at a time: read1 returns what has arrived
CHUNK = 1 << 18
#: longest wait honoured from a Retry-After header (seconds)
MAX_RETRY_AFTER = 60.0
#: retries of a URL whose tries time out (or fail to connect) without receiving anything
DEAD_RETRIES = 1
_session = None

#: how a try failed: the kinds that say the mirror is unreachable
UNREACHABLE = ("connect", "timeout", "stall")


class TransferError(DownloadError):
    """A transfer failed in a way worth retrying (network, timeout, 429, 5xx).

    The bytes already written are a valid prefix of the file: a later attempt
    resumes from them. ``kind`` says how: "connect" (refused, unreachable),
    "timeout" (connecting or reading), "stall" (the stall rule), "closed" (the
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


@dataclass
class Policy:
    """How hard to try one URL: retries, backoff, deadlines, segments (from the settings)."""

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

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            settings.retries,
            settings.backoff,
            settings.connect_timeout,
            settings.read_timeout,
            settings.stall_bytes,
            settings.stall_seconds,
            settings.segments,
            settings.segment_threshold,
        )

    def delay(self, failures: int, retry_after: Optional[float]) -> float:
        """Seconds to wait before the next try: the server's Retry-After, else backoff with jitter."""
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER)
        base = self.backoff * 2 ** (failures - 1)
        return base / 2 + random.uniform(0, base / 2)

    @property
    def progress_bytes(self) -> int:
        """The least a try must add to the file to count as progress (resetting the retries)."""
        return max(1, self.stall_bytes)


@dataclass
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


def session() -> Any:
    """A shared ``requests.Session`` (connection pooling across files and threads)."""
    global _session
    if _session is None:
        import requests

        from datamaestro.download import headers

        s = requests.Session()
        s.headers["User-Agent"] = "datamaestro"
        # byte ranges and sizes refer to the file as published, never re-encoded
        s.headers["Accept-Encoding"] = "identity"
        # (its connections give up on headers that arrive too slowly: a server may trickle them)
        adapter = headers.adapter(pool_connections=16, pool_maxsize=64, max_retries=0)
        s.mount("http://", adapter)
        s.mount("https://", adapter)
        _session = s
    return _session


def state_path(dest: Path) -> Path:
    """The state file of a segmented download into ``dest`` (its done ranges)."""
    return dest.with_name(dest.name + ".segments")


def kept_bytes(dest: Path) -> int:
    """How many bytes of the download into ``dest`` are kept for the next run."""
    from datamaestro.download import segments

    state = segments.read_state(dest)
    if state is not None:
        return state.done_bytes()
    return _size(dest)


def discard(dest: Path) -> None:
    """Delete a partial download and its segment state."""
    dest.unlink(missing_ok=True)
    state_path(dest).unlink(missing_ok=True)


def fetch(
    url: str,
    dest: Path,
    algorithms: Iterable[str],
    label: str,
    quiet: bool,
    policy: Optional[Policy] = None,
    expected_size: Optional[int] = None,
    validator: Optional[str] = None,
    on_start: Optional[Callable[[Optional[str]], None]] = None,
    *,
    resumable_without_validator: Optional[bool] = None,
    health: Optional[MirrorHealth] = None,
) -> Transfer:
    """Download ``url`` into ``dest`` (resuming what ``dest`` already holds) and hash all of it.

    Retries connection errors, timeouts, 429 and 5xx with exponential backoff
    and jitter (a try that added at least ``stall_bytes`` resets the count; a
    try that timed out without progress is retried once at most); other HTTP
    errors fail at once. Raises ``DownloadError`` (``TransferError`` when the
    partial file can be resumed later, with ``elapsed`` set), ``StorageError``
    (disk full...) or ``Interrupted`` (Ctrl-C, or the current progress display
    was cancelled: ``kept`` says how many bytes stay for the next run).

    Resume: the bytes already in ``dest`` are kept only if they can be proven
    to be the same file: ``validator`` (the ETag or Last-Modified they came
    with) is sent as ``If-Range``, so a file changed on the server comes whole
    again; without a validator they are kept only when
    ``resumable_without_validator`` is true (the caller will check a
    published checksum); when it is false the download restarts from the
    first byte. None (not given) keeps the behaviour of callers written
    before this rule (resume): pass it explicitly.
    ``on_start(validator)`` is called when a download starts from the first
    byte, with the new file's validator, before any byte is written.

    Segments: with ``policy.segments`` > 1, a file of at least
    ``policy.segment_threshold`` bytes whose server accepts ranges comes over
    several connections (``datamaestro.download.segments``).

    ``health``: the mirror memory; a mirror that failed moments ago is
    skipped at once (``TransferError``), failures by connection or timeout
    are recorded in it, and a success clears them.
    """
    policy = policy or Policy()
    algorithms = sorted(set(algorithms))
    started_at = time.monotonic()
    if health is not None:
        why = health.skip(url)
        if why:
            error = TransferError(why, kind="connect")
            error.elapsed = 0.0
            raise error
    state: dict[str, Any] = {"validator": validator, "segmented": policy.segments > 1}

    def started(new: Optional[str]) -> None:
        state["validator"] = new
        if on_start:
            on_start(new)

    dest.parent.mkdir(parents=True, exist_ok=True)
    if resumable_without_validator is None:
        resumable_without_validator = True
    if (_size(dest) or state_path(dest).exists()) and not (validator or resumable_without_validator):
        log.info(
            "%s: discarding %d bytes of an earlier download that cannot be proven to be "
            "the same file (no ETag or Last-Modified, no checksum)", label, _size(dest),
        )
        discard(dest)
    log.info("downloading %s from %s", label, url)
    failures = 0
    requests_made = [0]
    furthest = kept_bytes(dest)
    try:
        while True:
            try:
                transfer = _attempt(
                    url, dest, algorithms, label, quiet, policy, expected_size, state,
                    started, requests_made,
                )
                transfer.requests = requests_made[0]
                if health is not None:
                    health.succeeded(url)
                return transfer
            except TransferError as e:
                now = kept_bytes(dest)
                if now >= furthest + policy.progress_bytes and e.kind != "stall":
                    furthest, failures = now, 0  # progress: keep going
                    wait = 0.0 if e.retry_after is None else min(e.retry_after, MAX_RETRY_AFTER)
                else:
                    furthest = max(furthest, now)
                    failures += 1
                    limit = policy.retries
                    if e.kind in ("timeout", "stall"):
                        limit = min(limit, DEAD_RETRIES)
                    if failures > limit:
                        elapsed = time.monotonic() - started_at
                        times = "once" if requests_made[0] == 1 else f"{requests_made[0]} times"
                        error = TransferError(f"{e}, tried {times}", kind=e.kind)
                        error.elapsed = elapsed
                        if health is not None and e.kind in UNREACHABLE:
                            health.failed(url, str(e))
                        raise error from None
                    wait = policy.delay(failures, e.retry_after)
                log.info(
                    "%s: %s from %s; retrying in %.1f s (%d bytes kept)",
                    label, e, url, wait, now,
                )
                _sleep(wait)
    except KeyboardInterrupt as e:
        if isinstance(e, Interrupted):
            raise
        raise Interrupted(dest, kept_bytes(dest), expected_size) from None


def _sleep(seconds: float) -> None:
    """Wait, waking up early to notice a cancelled display."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        if progress.cancelled():
            raise KeyboardInterrupt
        time.sleep(min(left, 0.1))


def _attempt(
    url: str,
    dest: Path,
    algorithms: list[str],
    label: str,
    quiet: bool,
    policy: Policy,
    expected_size: Optional[int],
    state: dict[str, Any],
    started: Callable[[Optional[str]], None],
    requests_made: list[int],
) -> Transfer:
    """One HTTP request, appending to ``dest`` when the server honours the Range."""
    import requests

    from datamaestro.download import segments

    validator = state["validator"]
    if state["segmented"]:
        try:
            resumed = segments.resume(
                url, dest, algorithms, label, quiet, policy, validator, requests_made
            )
        except segments.FallBack as e:
            log.info("%s: %s; downloading over one connection", label, e)
            state["segmented"] = False
            resumed = None
        if resumed is not None:
            return resumed
    if not state["segmented"] and state_path(dest).exists():  # segments were given up on: the partial is not a prefix
        discard(dest)
    have = _size(dest)
    if expected_size is not None and have > expected_size:
        _truncate(dest)
        have = 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    if have and validator:
        headers["If-Range"] = validator
    try:
        requests_made[0] += 1
        with session().get(
            url,
            stream=True,
            timeout=(policy.connect_timeout, policy.read_timeout),
            headers=headers,
        ) as response:
            status = response.status_code
            reason = printable(response.reason or "", 100)
            if status == 416 and have:
                total = _range_total(response.headers.get("Content-Range", ""))
                if total == have:  # the partial file is already complete
                    return Transfer(have, file_digests(dest, algorithms), resumed_from=have)
                log.info("%s: the server refused to resume; downloading from the start", label)
                _truncate(dest)
                state["validator"] = None
                return _attempt(
                    url, dest, algorithms, label, quiet, policy, expected_size, state,
                    started, requests_made,
                )
            if status == 206 and have:
                start = _range_start(response.headers.get("Content-Range", ""))
                if start != have:
                    _truncate(dest)
                    raise TransferError(f"the server sent bytes from {start}, not {have}", kind="closed")
                log.info("%s: resuming after %d bytes", label, have)
            elif status == 200:
                if have and validator and "If-Range" in headers:
                    log.info(
                        "%s: the file changed on the server (or it ignores Range); "
                        "downloading from the start", label,
                    )
                elif have:
                    log.info("%s: the server ignores Range; downloading from the start", label)
                have = 0
                started(_validator(response.headers))
                length = _length(response.headers)
                if (
                    state["segmented"]
                    and length is not None
                    and length >= policy.segment_threshold
                    and response.headers.get("Accept-Ranges", "").strip().lower() == "bytes"
                ):
                    try:
                        return segments.start(
                            url, dest, algorithms, label, quiet, policy, response, length,
                            state["validator"], requests_made,
                        )
                    except segments.FallBack as e:
                        log.info("%s: %s; downloading over one connection", label, e)
                        state["segmented"] = False
                        discard(dest)
                        return _attempt(
                            url, dest, algorithms, label, quiet, policy, expected_size, state,
                            started, requests_made,
                        )
            elif status == 429 or status >= 500:
                raise TransferError(
                    f"HTTP {status} {reason}",
                    _retry_after(response.headers.get("Retry-After")),
                )
            else:
                raise DownloadError(f"HTTP {status} {reason}")
            return _receive(
                response, dest, algorithms, label, quiet, have, _length(response.headers), policy
            )
    except _ReadTimeout:
        raise _read_timeout(policy) from None
    except requests.exceptions.RequestException as e:
        error = request_error(e, policy)
        if error is not None:
            raise error from None
        if isinstance(e, requests.exceptions.ChunkedEncodingError):
            raise TransferError(f"connection closed early after {_size(dest)} bytes", kind="closed") from None
        raise DownloadError(f"request failed ({_root_cause(e)})") from None


def request_error(error: Exception, policy: Policy) -> Optional[TransferError]:
    """The retryable failure that a ``requests`` exception stands for (None if it is not one)."""
    import requests

    from datamaestro.download.headers import too_slow

    slow = too_slow(error)
    if slow is not None:
        return TransferError(f"{slow} (the server sends them too slowly)", kind="timeout")
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return TransferError(f"timed out connecting ({policy.connect_timeout:g} s)", kind="timeout")
    if isinstance(error, requests.exceptions.Timeout):
        return _read_timeout(policy)
    if isinstance(error, requests.exceptions.ConnectionError):
        if "timed out" in str(error):  # a read timeout while streaming the body
            return _read_timeout(policy)
        return TransferError(f"connection failed ({_root_cause(error)})", kind="connect")
    return None


def _read_timeout(policy: Policy) -> TransferError:
    return TransferError(f"timed out (no data for {policy.read_timeout:g} s)", kind="timeout")


def _length(headers: Any) -> Optional[int]:
    """The Content-Length header as a number (None when absent or malformed)."""
    length = headers.get("Content-Length")
    return int(length) if length and length.isdigit() else None


def _receive(
    response: Any,
    dest: Path,
    algorithms: list[str],
    label: str,
    quiet: bool,
    have: int,
    length: Optional[int],
    policy: Policy,
) -> Transfer:
    """Append the body to ``dest`` (after ``have`` bytes), hashing the whole file."""
    hashers = {a: hashlib.new(a) for a in algorithms}
    if have:  # the digests cover the whole file: re-hash what is already there
        hash_into(dest, hashers)
    total = have + length if length is not None else None
    received = 0
    watch = StallWatch(policy)
    try:
        with open(dest, "ab" if have else "wb") as out, progress.file_bar(
            label, total, have, quiet
        ) as bar:
            for chunk in _body(response):
                out.write(chunk)  # whatever arrived is kept, even if the next read fails
                for h in hashers.values():
                    h.update(chunk)
                received += len(chunk)
                bar.update(len(chunk))
                if progress.cancelled():
                    raise KeyboardInterrupt
                watch.add(len(chunk))
            # No fsync: a partial download is untrusted until verified, and
            # what is installed from it is synced (storage.atomic_file).
            out.flush()
    except _Closed:
        raise TransferError(
            f"connection closed early after {have + received} bytes", kind="closed"
        ) from None
    except OSError as e:
        if disk_error(e):
            raise StorageError(
                f"cannot write {dest}: {e.strerror}; free some space and run again "
                "(the download resumes where it stopped)"
            ) from None
        raise
    if length is not None and received != length:
        raise TransferError(
            f"connection closed after {have + received} of {total} bytes"
            if received < length
            else f"the server sent {have + received} bytes, more than its Content-Length {total}",
            kind="closed",
        )
    return Transfer(have + received, {a: h.hexdigest() for a, h in hashers.items()}, resumed_from=have)


def _body(response: Any) -> Iterator[bytes]:
    """The body's bytes as they arrive (undecoded: the file as published)."""
    from urllib3.exceptions import ProtocolError, ReadTimeoutError

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
            raise _ReadTimeout() from None
        except (ProtocolError, ConnectionError):
            raise _Closed() from None
        if chunk:
            yield chunk


class _ReadTimeout(Exception):
    """The body stopped flowing for longer than the read timeout."""


class _Closed(Exception):
    """The connection closed (or was reset) before the end of the body."""


def _validator(headers: Any) -> Optional[str]:
    """What identifies this version of the file: a strong ETag, else Last-Modified."""
    etag = headers.get("ETag")
    if etag and not etag.startswith("W/"):
        return etag
    return headers.get("Last-Modified")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _truncate(path: Path) -> None:
    with open(path, "wb"):
        pass


def _range_start(content_range: str) -> Optional[int]:
    match = re.match(r"bytes (\d+)-\d+/(\d+|\*)", content_range.strip())
    return int(match.group(1)) if match else None


def _range_total(content_range: str) -> Optional[int]:
    match = re.match(r"bytes (?:\*|\d+-\d+)/(\d+)", content_range.strip())
    return int(match.group(1)) if match else None


def _retry_after(value: Optional[str]) -> Optional[float]:
    """Seconds from a Retry-After header (delta seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        import email.utils  # here: importing it costs more than the rest of the load path

        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _root_cause(error: BaseException) -> str:
    """The useful part of a requests/urllib3 error message."""
    text = str(error)
    match = re.search(r"\[Errno -?\d+\] [^'\")]+", text)
    return match.group(0) if match else type(error).__name__

