"""Fetching one URL into a file: resume with Range, retries with backoff, timeouts, hashing.

The file at ``dest`` is always a prefix of the body being downloaded, so an
interrupted download (dropped connection, SIGKILL, Ctrl-C) is continued by the
next call with an HTTP Range request, and restarted from scratch when the
server ignores the Range.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from datamaestro.errors import DownloadError
from datamaestro.storage import StorageError, disk_error

if TYPE_CHECKING:
    from datamaestro.config import Settings

log = logging.getLogger("datamaestro")

#: most bytes read from the network (and written) at a time: read1 returns what has arrived
CHUNK = 1 << 16
#: longest wait honoured from a Retry-After header (seconds)
MAX_RETRY_AFTER = 60.0
_session = None


class TransferError(DownloadError):
    """A transfer failed in a way worth retrying (network, timeout, 429, 5xx).

    The bytes already written are a valid prefix of the file: a later attempt
    resumes from them.
    """

    def __init__(self, message: str, retry_after: Optional[float] = None):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class Policy:
    """How hard to try one URL: retries, backoff and timeouts (from the settings)."""

    retries: int = 3
    backoff: float = 1.0
    connect_timeout: float = 10.0
    read_timeout: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            settings.retries, settings.backoff, settings.connect_timeout, settings.read_timeout
        )

    def delay(self, failures: int, retry_after: Optional[float]) -> float:
        """Seconds to wait before the next try: the server's Retry-After, else backoff with jitter."""
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER)
        base = self.backoff * 2 ** (failures - 1)
        return base / 2 + random.uniform(0, base / 2)


@dataclass
class Transfer:
    """The outcome of ``fetch``: the file's size and digests, and how it was obtained."""

    size: int
    digests: dict[str, str]
    #: bytes kept from an earlier interrupted download
    resumed_from: int = 0
    #: HTTP requests made
    requests: int = 0


def session() -> Any:
    """A shared ``requests.Session`` (connection pooling across files)."""
    global _session
    if _session is None:
        import requests

        _session = requests.Session()
        _session.headers["User-Agent"] = "datamaestro"
        # byte ranges and sizes refer to the file as published, never re-encoded
        _session.headers["Accept-Encoding"] = "identity"
    return _session


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
) -> Transfer:
    """Download ``url`` into ``dest`` (resuming what ``dest`` already holds) and hash all of it.

    Retries connection errors, timeouts, 429 and 5xx with exponential backoff
    and jitter (an attempt that made progress resets the count); other HTTP
    errors fail at once. Raises ``DownloadError`` (``TransferError`` when the
    partial file can be resumed later) or ``StorageError`` (disk full...).

    ``validator`` (the ETag or Last-Modified of the bytes in ``dest``) is sent
    as ``If-Range``, so that a file changed on the server is downloaded whole
    again; ``on_start(validator)`` is called when a download starts from the
    first byte, with the new file's validator, before any byte is written.
    """
    state = {"validator": validator}

    def started(new: Optional[str]) -> None:
        state["validator"] = new
        if on_start:
            on_start(new)

    policy = policy or Policy()
    algorithms = sorted(set(algorithms))
    dest.parent.mkdir(parents=True, exist_ok=True)
    log.info("downloading %s from %s", label, url)
    failures = 0
    requests_made = 0
    furthest = _size(dest)
    while True:
        requests_made += 1
        try:
            transfer = _attempt(
                url, dest, algorithms, label, quiet, policy, expected_size, state["validator"], started
            )
            transfer.requests = requests_made
            return transfer
        except TransferError as e:
            now = _size(dest)
            if now > furthest:  # progress: keep going, the partial grows at each try
                furthest, failures = now, 0
                wait = 0.0 if e.retry_after is None else min(e.retry_after, MAX_RETRY_AFTER)
            else:
                failures += 1
                if failures > policy.retries:
                    times = "once" if requests_made == 1 else f"{requests_made} times"
                    raise TransferError(f"{e}, tried {times}") from None
                wait = policy.delay(failures, e.retry_after)
            log.info(
                "%s: %s from %s; retrying in %.1f s (%d bytes kept)",
                label, e, url, wait, now,
            )
            time.sleep(wait)


def _attempt(
    url: str,
    dest: Path,
    algorithms: list[str],
    label: str,
    quiet: bool,
    policy: Policy,
    expected_size: Optional[int],
    validator: Optional[str],
    started: Callable[[Optional[str]], None],
) -> Transfer:
    """One HTTP request, appending to ``dest`` when the server honours the Range."""
    import requests

    have = _size(dest)
    if expected_size is not None and have > expected_size:
        _truncate(dest)
        have = 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    if have and validator:
        headers["If-Range"] = validator
    try:
        with session().get(
            url,
            stream=True,
            timeout=(policy.connect_timeout, policy.read_timeout),
            headers=headers,
        ) as response:
            status = response.status_code
            if status == 416 and have:
                total = _range_total(response.headers.get("Content-Range", ""))
                if total == have:  # the partial file is already complete
                    return Transfer(have, _hash_file(dest, algorithms), resumed_from=have)
                log.info("%s: the server refused to resume; downloading from the start", label)
                _truncate(dest)
                return _attempt(
                    url, dest, algorithms, label, quiet, policy, expected_size, None, started
                )
            if status == 206 and have:
                start = _range_start(response.headers.get("Content-Range", ""))
                if start != have:
                    _truncate(dest)
                    raise TransferError(f"the server sent bytes from {start}, not {have}")
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
            elif status == 429 or status >= 500:
                raise TransferError(
                    f"HTTP {status} {response.reason}",
                    _retry_after(response.headers.get("Retry-After")),
                )
            else:
                raise DownloadError(f"HTTP {status} {response.reason}")
            length = response.headers.get("Content-Length")
            length = int(length) if length and length.isdigit() else None
            return _receive(response, dest, algorithms, label, quiet, have, length)
    except _ReadTimeout:
        raise TransferError(f"timed out (no data for {policy.read_timeout:g} s)") from None
    except requests.exceptions.ConnectTimeout:
        raise TransferError(f"timed out connecting ({policy.connect_timeout:g} s)") from None
    except requests.exceptions.Timeout:
        raise TransferError(f"timed out (no data for {policy.read_timeout:g} s)") from None
    except requests.exceptions.ConnectionError as e:
        if "timed out" in str(e):  # a read timeout while streaming the body
            raise TransferError(f"timed out (no data for {policy.read_timeout:g} s)") from None
        raise TransferError(f"connection failed ({_root_cause(e)})") from None
    except requests.exceptions.ChunkedEncodingError:
        raise TransferError(f"connection closed early after {_size(dest)} bytes") from None
    except requests.exceptions.RequestException as e:
        raise DownloadError(f"request failed ({_root_cause(e)})") from None


def _receive(
    response: Any,
    dest: Path,
    algorithms: list[str],
    label: str,
    quiet: bool,
    have: int,
    length: Optional[int],
) -> Transfer:
    """Append the body to ``dest`` (after ``have`` bytes), hashing the whole file."""
    from tqdm import tqdm

    hashers = {a: hashlib.new(a) for a in algorithms}
    if have:  # the digests cover the whole file: re-hash what is already there
        _hash_into(dest, hashers)
    total = have + length if length is not None else None
    received = 0
    try:
        with open(dest, "ab" if have else "wb") as out, tqdm(
            total=total,
            initial=have,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=label,
            file=sys.stderr,
            disable=quiet or not sys.stderr.isatty(),
            leave=False,
        ) as bar:
            for chunk in _body(response):
                out.write(chunk)  # whatever arrived is kept, even if the next read fails
                for h in hashers.values():
                    h.update(chunk)
                received += len(chunk)
                bar.update(len(chunk))
            # No fsync: a partial download is untrusted until verified, and
            # what is installed from it is synced (storage.atomic_file).
            out.flush()
    except _Closed:
        raise TransferError(f"connection closed early after {have + received} bytes") from None
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
            else f"the server sent {have + received} bytes, more than its Content-Length {total}"
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


def _hash_into(path: Path, hashers: dict[str, Any]) -> None:
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            for h in hashers.values():
                h.update(chunk)


def _hash_file(path: Path, algorithms: list[str]) -> dict[str, str]:
    hashers = {a: hashlib.new(a) for a in algorithms}
    _hash_into(path, hashers)
    return {a: h.hexdigest() for a, h in hashers.items()}


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

