"""Fetching one URL into a file: tries until it is done, resumes, backoff, the mirror memory.

Deadlines: opening a connection may take ``connect_timeout`` seconds;
waiting for the next byte ``read_timeout``; the status line and headers, all of
them, 1.5 times that (``headers``); a try that receives fewer than
``stall_bytes`` in ``stall_seconds`` is abandoned (a trickling server). A try
that timed out without progress is retried once at most (a server that did
not answer twice in a row is dead, not flaky), so one URL costs at most about
two timeouts before the next mirror is tried. A host name that does not
resolve fails its URL at once (offline, or a mistyped mirror).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from datamaestro.download import progress
from datamaestro.download.transport import single
from datamaestro.download.transport.base import (
    NOT_RETRIED,
    UNREACHABLE,
    Interrupted,
    OnStart,
    Policy,
    Target,
    Transfer,
    TransferError,
)
from datamaestro.download.transport.health import MirrorHealth
from datamaestro.download.transport.partial import kept_bytes
from datamaestro.log import log


def fetch(
    url: str,
    dest: Path,
    algorithms: Iterable[str],
    label: str,
    quiet: bool,
    policy: Optional[Policy] = None,
    expected_size: Optional[int] = None,
    validator: Optional[str] = None,
    on_start: Optional[OnStart] = None,
    *,
    resumable_without_validator: Optional[bool] = None,
    health: Optional[MirrorHealth] = None,
    root: Optional[Path] = None,
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
    again; without a validator they are kept unless
    ``resumable_without_validator`` is False (True: the caller will check a
    published checksum); when it is False the download restarts from the first byte.
    ``on_start(validator)`` is called when a download starts from the first
    byte, with the new file's validator, before any byte is written.

    Segments: with ``policy.segments`` > 1, a file of at least
    ``policy.segment_threshold`` bytes whose server accepts ranges comes over
    several connections (``segments``).

    ``root``: the folder ``dest`` stays inside (default: ``dest``'s own), opened without following links.

    ``health``: the mirror memory; a mirror that failed moments ago is
    skipped at once (``TransferError``), failures by connection or timeout
    are recorded in it, and a success clears them.
    """
    policy = policy or Policy()
    target = Target(url, dest, tuple(sorted(set(algorithms))), label, quiet, policy, expected_size, root)
    if health is not None:
        skip(url, health)
    dest.parent.mkdir(parents=True, exist_ok=True)
    log.info("downloading %s from %s", label, url)
    tries = single.Tries(
        target, validator, segmented=policy.segments > 1,
        resumable=resumable_without_validator is not False, on_start=on_start,
    )
    try:
        return until_done(tries, health)
    except KeyboardInterrupt as e:
        if isinstance(e, Interrupted):
            raise
        raise Interrupted(dest, kept_bytes(dest, target.root), expected_size) from None


def skip(url: str, health: MirrorHealth) -> None:
    """Raise ``TransferError`` if ``url``'s mirror failed moments ago."""
    why = health.skip(url)
    if why:
        error = TransferError(why, kind="connect")
        error.elapsed = 0.0
        raise error


@dataclass(slots=True)
class Retries:
    """How the tries of one URL went: failures in a row without progress, the furthest point."""

    policy: Policy
    #: the most bytes kept after any try
    furthest: int
    failures: int = 0
    started: float = field(default_factory=time.monotonic)

    def wait_after(self, error: TransferError, kept: int) -> Optional[float]:
        """Seconds to wait after ``error``, which left ``kept`` bytes (None: give up)."""
        if error.kind in NOT_RETRIED:
            return None
        if error.retry_after is not None and error.retry_after > self.policy.max_retry_after:
            return None
        if kept >= self.furthest + self.policy.progress_bytes and error.kind != "stall":
            self.furthest, self.failures = kept, 0  # progress: keep going
            return error.retry_after or 0.0
        self.furthest = max(self.furthest, kept)
        self.failures += 1
        limit = self.policy.retries
        if error.kind in ("timeout", "stall"):
            limit = min(limit, self.policy.timeout_retries)
        if self.failures > limit:
            return None
        return self.policy.delay(self.failures, error.retry_after)


def until_done(tries: single.Tries, health: Optional[MirrorHealth]) -> Transfer:
    """Try ``tries.target`` until it is downloaded, or raise why it was given up."""
    target = tries.target
    retries = Retries(target.policy, kept_bytes(target.dest, target.root))
    while True:
        try:
            transfer = single.attempt(tries)
        except TransferError as e:
            kept = kept_bytes(target.dest, target.root)
            wait = retries.wait_after(e, kept)
            if wait is None:
                raise given_up(tries, retries, e, health) from None
            log.info(
                "%s: %s from %s; retrying in %.1f s (%d bytes kept)", target.label, e, target.url, wait, kept
            )
            sleep(wait)
            continue
        if transfer is not None:
            transfer.requests = tries.requests.count
            if health is not None:
                health.succeeded(target.url)
            return transfer


def given_up(
    tries: single.Tries, retries: Retries, last: TransferError, health: Optional[MirrorHealth]
) -> TransferError:
    """The error that ends the tries of a URL, after ``last``; recorded in the mirror memory."""
    made = tries.requests.count
    times = "once" if made == 1 else f"{made} times"
    error = TransferError(f"{last}, tried {times}", kind=last.kind)
    error.elapsed = time.monotonic() - retries.started
    if health is not None and last.kind in UNREACHABLE:
        health.failed(tries.target.url, str(last))
    return error


def sleep(seconds: float) -> None:
    """Wait, waking up early to notice a cancelled display."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        if progress.cancelled():
            raise KeyboardInterrupt
        time.sleep(min(left, 0.1))
