"""One try at a URL over one connection: resume with Range, hand a large file to ``segments``.

The partial file is always a prefix of the file being downloaded: a try asks
for what follows it (``Range``, with ``If-Range`` and the file's validator
when there is one), and starts again from the first byte when the server
ignores the Range or the bytes cannot be proven to be the same file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from datamaestro.download import progress
from datamaestro.download.transport import segments
from datamaestro.download.transport.base import (
    BodyClosed,
    OnStart,
    Requests,
    StallWatch,
    Target,
    TooLarge,
    Transfer,
    TransferError,
    body,
    content_length,
    file_size,
    range_start,
    range_total,
    retry_after,
    size_limit,
    truncate,
    validator_of,
    write_error,
)
from datamaestro.download.transport.partial import discard, state_path
from datamaestro.download.transport.session import get
from datamaestro.errors import DownloadError
from datamaestro.hashing import Hashers
from datamaestro.log import log
from datamaestro.paths import printable


@dataclass(slots=True)
class Tries:
    """What the tries of one URL share and learn along the way."""

    target: Target
    #: the validator (ETag or Last-Modified) of the bytes in the partial file
    validator: Optional[str]
    #: whether a large file may still come in segments (False once its server lied about ranges)
    segmented: bool
    #: whether bytes without a validator may be resumed (the caller will check a checksum)
    resumable: bool = True
    #: called with the new validator when the download starts from the first byte
    on_start: Optional[OnStart] = None
    requests: Requests = field(default_factory=Requests)

    def started(self, validator: Optional[str]) -> None:
        """The download starts from the first byte, of the file version ``validator``."""
        self.validator = validator
        if self.on_start:
            self.on_start(validator)

    def no_segments(self, why: Exception) -> None:
        """Give up on segments (their server cannot be trusted with ranges)."""
        log.info("%s: %s; downloading over one connection", self.target.label, why)
        self.segmented = False


def attempt(tries: Tries) -> Optional[Transfer]:
    """One try (over one connection, or a segmented download); None: try again at once."""
    target = tries.target
    if not tries.validator and not tries.resumable:
        discard_unprovable(target)
    if tries.segmented:
        try:
            resumed = segments.resume(target, tries.requests, tries.validator)
        except segments.FallBack as e:
            tries.no_segments(e)
            resumed = None
        if resumed is not None:
            return resumed
    have = kept_prefix(tries)
    headers = {"Range": f"bytes={have}-"} if have else {}
    if have and tries.validator:
        headers["If-Range"] = tries.validator
    tries.requests.add()
    with get(target.url, headers, target.policy) as response:
        return answer(tries, response, have)


def discard_unprovable(target: Target) -> None:
    """Delete a partial download that cannot be proven to be the same file (no validator, no checksum)."""
    dest = target.dest
    if file_size(dest) or state_path(dest).exists():
        log.info(
            "%s: discarding %d bytes of an earlier download that cannot be proven to be "
            "the same file (no ETag or Last-Modified, no checksum)", target.label, file_size(dest),
        )
        discard(dest)


def kept_prefix(tries: Tries) -> int:
    """How many bytes of the partial file this try keeps (discarding what is not a prefix)."""
    dest, expected = tries.target.dest, tries.target.expected_size
    if not tries.segmented and state_path(dest).exists():  # segments were given up on
        discard(dest)
    have = file_size(dest)
    if expected is not None and have > expected:
        truncate(tries.target)
        have = 0
    return have


def answer(tries: Tries, response: Any, have: int) -> Optional[Transfer]:
    """Receive ``response`` (to a request for what follows the first ``have`` bytes)."""
    status = response.status_code
    reason = printable(response.reason or "", 100)
    if status == 416 and have:
        return refused_range(tries, response, have)
    if status == 206 and have:
        start = range_start(response.headers.get("Content-Range", ""))
        if start != have:
            truncate(tries.target)
            raise TransferError(f"the server sent bytes from {start}, not {have}", kind="closed")
        if tries.validator and validator_of(response.headers) != tries.validator:
            changed(tries, response)  # the If-Range was ignored: never splice two versions
            return None
        refuse_if_too_large(tries.target, range_total(response.headers.get("Content-Range", "")))
        log.info("%s: resuming after %d bytes", tries.target.label, have)
        return receive(tries.target, response, have)
    if status == 200:
        refuse_if_too_large(tries.target, content_length(response.headers))
        return whole(tries, response, have)
    if status == 429 or status >= 500:
        raise busy(tries.target, f"HTTP {status} {reason}", retry_after(response.headers.get("Retry-After")))
    raise DownloadError(f"HTTP {status} {reason}")


def busy(target: Target, message: str, wait: Optional[float]) -> TransferError:
    """The error of an answer asking to try again (after ``wait`` seconds, if it says)."""
    bound = target.policy.max_retry_after
    if wait is not None and wait > bound:  # given up on: say why
        message += f" (the server asks to wait {wait:.0f} s, more than {bound:g} s)"
    return TransferError(message, wait)


def changed(tries: Tries, response: Any) -> None:
    """A resume answered with another version of the file (a 206 of another validator): start again."""
    new = printable(validator_of(response.headers) or "none", 100)
    log.info(
        "%s: the server answered the resume with another version of the file (validator %s, not %s); "
        "downloading from the start", tries.target.label, new, printable(tries.validator or "none", 100),
    )
    truncate(tries.target)
    tries.validator = None


def refuse_if_too_large(target: Target, size: Optional[int]) -> None:
    """Raise ``TooLarge`` (deleting the partial file) if the file's ``size`` passes its declared size."""
    if target.expected_size is not None and size is not None and size > target.expected_size:
        discard(target.dest)
        raise size_limit(target, 0, size).passed(target.url)


def refused_range(tries: Tries, response: Any, have: int) -> Optional[Transfer]:
    """A 416 to a resume: the partial file is complete, or it starts again from the first byte."""
    target = tries.target
    if range_total(response.headers.get("Content-Range", "")) == have:  # already complete
        hashers = Hashers(target.algorithms)
        with target.open("r+") as kept:
            hashers.feed(kept)
        return Transfer(have, hashers.hexdigests(), resumed_from=have)
    log.info("%s: the server refused to resume; downloading from the start", target.label)
    truncate(target)
    tries.validator = None
    return None


def whole(tries: Tries, response: Any, have: int) -> Optional[Transfer]:
    """A 200: the whole file, over this connection or in segments."""
    target = tries.target
    if have and tries.validator:
        log.info(
            "%s: the file changed on the server (or it ignores Range); downloading from the start",
            target.label,
        )
    elif have:
        log.info("%s: the server ignores Range; downloading from the start", target.label)
    tries.started(validator_of(response.headers))
    length = content_length(response.headers)
    if tries.segmented and length is not None and worth_segments(target, response, length):
        try:
            return segments.start(target, tries.requests, response, length, tries.validator)
        except segments.FallBack as e:
            tries.no_segments(e)
            discard(target.dest)
            return None
    return receive(target, response, 0)


def worth_segments(target: Target, response: Any, length: int) -> bool:
    """Whether a file of ``length`` bytes served by ``response``'s server comes in segments."""
    ranges = response.headers.get("Accept-Ranges", "").strip().lower()
    return length >= target.policy.segment_threshold and ranges == "bytes"


def receive(target: Target, response: Any, have: int) -> Transfer:
    """Append the body to the partial file (after ``have`` bytes), hashing the whole file."""
    hashers = Hashers(target.algorithms)
    length = content_length(response.headers)
    total = have + length if length is not None else None
    limit = size_limit(target, have, length)
    received = 0
    watch = StallWatch(target.policy)
    try:
        with target.open("r+" if have else "w") as out, progress.file_bar(
            target.label, total, have, target.quiet
        ) as bar:
            if have:  # the digests cover the whole file: hash what is already there, then append
                hashers.feed(out)
            for chunk in body(response, target.policy):
                if have + received + len(chunk) > limit.most:
                    raise limit.passed(target.url)
                out.write(chunk)  # whatever arrived is kept, even if the next read fails
                hashers.update(chunk)
                received += len(chunk)
                bar.update(len(chunk))
                if progress.cancelled():
                    raise KeyboardInterrupt
                watch.add(len(chunk))
            # No fsync: a partial download is untrusted until verified, and
            # what is installed from it is synced (storage.atomic_file).
            out.flush()
    except BodyClosed:
        raise TransferError(f"connection closed early after {have + received} bytes", kind="closed") from None
    except OSError as e:
        raise write_error(target.dest, e) from None
    except TooLarge:
        discard(target.dest)
        raise
    if length is not None and received != length:
        raise TransferError(
            f"connection closed after {have + received} of {total} bytes"
            if received < length
            else f"the server sent {have + received} bytes, more than its Content-Length {total}",
            kind="closed",
        )
    return Transfer(have + received, hashers.hexdigests(), resumed_from=have)
