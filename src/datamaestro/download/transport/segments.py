"""A large file over several connections into one partial file, resumable range by range.

``single`` switches to a segmented download when the first answer is a
``200`` whose ``Content-Length`` is at least the policy's threshold and whose
server sends ``Accept-Ranges: bytes``. The partial file is preallocated at
its full size; each connection writes its range at its offset, and the state
file beside it (``partial``) records what is written, so that after a crash
or SIGKILL the next call asks only for the missing ranges. The first answer's
body serves the first range; a connection that finishes early takes half of
the largest range left (so slow connections do not hold up the end).

Every ranged answer must be a ``206`` whose ``Content-Range`` is exactly the
range asked for, of the same total size, with the same validator; anything
else (a ``200``, another range or size, a changed ETag) means the server
cannot be trusted with ranges: ``FallBack`` is raised, and the partial file is
thrown away and downloaded over one connection.

The digests are computed once, in order, while the download runs: the
coordinating thread hashes the done prefix of the file as it grows (read back
from the page cache), so memory stays flat and no byte is hashed twice.
"""

from __future__ import annotations

import mmap
import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Optional

from datamaestro.download import progress
from datamaestro.download.transport.base import (
    BodyClosed,
    Requests,
    StallWatch,
    Target,
    Transfer,
    TransferError,
    body,
    validator_of,
    write_error,
)
from datamaestro.download.transport.partial import (
    SegmentState,
    discard,
    merge,
    read_state,
    state_path,
    write_state,
)
from datamaestro.download.transport.session import get
from datamaestro.hashing import Hashers
from datamaestro.log import log
from datamaestro.paths import printable
from datamaestro.storage import StorageError, disk_error

#: ranges are split (at the start, or by a connection that is done) only into pieces this large
MIN_PIECE = 256 << 10
#: seconds between writes of the state file
SAVE_EVERY = 0.25
#: seconds over the first connection before deciding whether to open the others
PROBE = 0.1
#: open the other connections when the rest would take longer than this (seconds) over one
WORTH_SPLITTING = 1.0
#: bytes hashed at a time
HASH_CHUNK = 4 << 20


class FallBack(Exception):
    """The server's answers to ranges cannot be trusted: download over one connection."""


def split(ranges: list[tuple[int, int]], count: int) -> list[tuple[int, int]]:
    """``ranges`` with the largest halved until there are ``count`` (or pieces get too small)."""
    pieces = list(ranges)
    while len(pieces) < count:
        largest = max(pieces, key=lambda r: r[1] - r[0])
        start, end = largest
        if end - start < 2 * MIN_PIECE:
            break
        middle = start + (end - start) // 2
        pieces.remove(largest)
        pieces += [(start, middle), (middle, end)]
    return sorted(pieces)


@dataclass(slots=True)
class Piece:
    """A range being downloaded: [start, end), written up to ``pos`` (its end may move down)."""

    start: int
    end: int
    pos: int


class Pieces:
    """The ranges of one segmented download, shared by its connections."""

    def __init__(self, before: list[tuple[int, int]], ranges: list[tuple[int, int]]):
        #: the ranges written when the download began
        self.before = list(before)
        self.lock = threading.Lock()
        self.all = [Piece(s, e, s) for s, e in ranges]
        self.queue = list(self.all)

    def take(self) -> Optional[Piece]:
        """The next range to download: a queued one, else half of the largest active one."""
        with self.lock:
            if self.queue:
                return self.queue.pop(0)
            active = [p for p in self.all if p.pos < p.end]
            if not active:
                return None
            victim = max(active, key=lambda p: p.end - p.pos)
            left = victim.end - victim.pos
            if left < 2 * MIN_PIECE:
                return None
            middle = victim.pos + left // 2
            piece = Piece(middle, victim.end, middle)
            victim.end = middle
            self.all.append(piece)
            return piece

    def asked(self, piece: Piece) -> tuple[int, int]:
        """The first and last byte to ask for ``piece`` now."""
        with self.lock:
            return piece.pos, piece.end - 1

    def room(self, piece: Piece) -> int:
        """How many bytes ``piece`` still takes."""
        with self.lock:
            return max(0, piece.end - piece.pos)

    def wrote(self, piece: Piece, n: int) -> bool:
        """``n`` bytes of ``piece`` are written; whether it is complete."""
        with self.lock:
            piece.pos += n
            return piece.pos >= piece.end

    def left(self) -> int:
        """Bytes not yet written."""
        with self.lock:
            return sum(max(0, p.end - p.pos) for p in self.all)

    def done(self) -> list[tuple[int, int]]:
        """The ranges written, with those written when the download began."""
        with self.lock:
            return merge([*self.before, *((p.start, p.pos) for p in self.all if p.pos > p.start)])


class InOrder:
    """The digests of the file, computed in order as its done prefix grows."""

    def __init__(self, algorithms: tuple[str, ...], fd: int):
        self.hashers = Hashers(algorithms)
        self.fd = fd
        self.hashed = 0

    def catch_up(self, done: list[tuple[int, int]]) -> None:
        """Hash the file from where hashing stopped up to the end of the done prefix.

        The bytes are read through a memory map (no copy) while they are
        still in the page cache.
        """
        end = done[0][1] if done and done[0][0] == 0 else 0
        if end <= self.hashed:
            return
        with mmap.mmap(self.fd, end, access=mmap.ACCESS_READ) as mapped:
            view = memoryview(mapped)
            try:
                while self.hashed < end:
                    stop = min(end, self.hashed + HASH_CHUNK)
                    self.hashers.update(view[self.hashed : stop])
                    self.hashed = stop
            finally:
                view.release()

    def digests(self) -> dict[str, str]:
        """The digests of the whole file (once it is all hashed)."""
        return self.hashers.hexdigests()


class Download:
    """One segmented download: its pieces, state file, connections and errors."""

    def __init__(self, target: Target, requests: Requests, state: SegmentState, fresh: bool):
        self.target = target
        self.requests = requests
        self.state = state
        self.resumed_from = state.done_bytes()
        missing = state.missing()
        self.pieces = Pieces(state.done, missing if fresh else split(missing, target.policy.segments))
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.errors: list[BaseException] = []
        self.threads: list[threading.Thread] = []
        #: the partial file, opened without following a link: written at offsets, read back to hash
        self.file = target.open("r+")
        self.fd = self.file.fileno()
        self.bar = progress.file_bar(target.label, state.size, self.resumed_from, target.quiet)

    def save(self) -> None:
        """Record the ranges written in the state file."""
        self.state.done = self.pieces.done()
        write_state(self.target, self.state)

    # -- connections ---------------------------------------------------------

    def open_connections(self, count: int, first: Optional[tuple[Any, Piece]] = None) -> None:
        """Open connections until there are ``count``; the first may read ``first``'s answer."""
        while len(self.threads) < count:
            thread = threading.Thread(target=self.worker, args=(first,), daemon=True)
            first = None
            self.threads.append(thread)
            thread.start()

    def worker(self, first: Optional[tuple[Any, Piece]]) -> None:
        """Download pieces until none is left (or the download stops); records errors."""
        try:
            if first is not None:
                self.receive(*first)
            while not self.stop.is_set():
                piece = self.pieces.take()
                if piece is None:
                    return
                self.fetch_piece(piece)
        except BaseException as e:  # reported by the coordinating thread
            with self.lock:
                self.errors.append(e)
            self.stop.set()

    def fetch_piece(self, piece: Piece) -> None:
        """One ranged request for ``piece``, checked against what the first answer said."""
        first, last = self.pieces.asked(piece)  # the piece's end may move down meanwhile
        headers = {"Range": f"bytes={first}-{last}"}
        if self.state.validator:
            headers["If-Range"] = self.state.validator
        self.requests.add()
        with get(self.target.url, headers, self.target.policy) as response:
            self.check(response, first, last)
            self.receive(response, piece)

    def check(self, response: Any, first: int, last: int) -> None:
        """Raise unless ``response`` is exactly the range asked for, of the same file."""
        status = response.status_code
        if status == 429 or status >= 500:
            raise TransferError(f"HTTP {status} {printable(response.reason or '', 100)}")
        if status != 206:
            raise FallBack(f"the server answered {status} to a range request")
        expected = f"bytes {first}-{last}/{self.state.size}"
        got = response.headers.get("Content-Range", "").strip()
        if got != expected:
            raise FallBack(f"the server sent range {printable(got, 80)!r}, not {expected!r}")
        new = validator_of(response.headers)
        if self.state.validator and new != self.state.validator:
            raise FallBack("the file changed on the server (its validator differs)")

    def receive(self, response: Any, piece: Piece) -> None:
        """Write the body at the piece's offset until the piece's end (which may move down)."""
        watch = StallWatch(self.target.policy)
        try:
            for chunk in body(response, self.target.policy):
                if self.stop.is_set():
                    return
                chunk = chunk[: self.pieces.room(piece)]
                written = 0
                while written < len(chunk):
                    written += os.pwrite(self.fd, chunk[written:], piece.pos + written)
                self.bar.update(len(chunk))
                if self.pieces.wrote(piece, len(chunk)):  # complete (or another connection took its end)
                    return
                watch.add(len(chunk))
        except BodyClosed:
            pass
        except OSError as e:
            raise write_error(self.target.dest, e) from None
        if piece.pos < piece.end and not self.stop.is_set():
            raise TransferError(
                f"connection closed early at byte {piece.pos} of range "
                f"{piece.start}-{piece.end - 1}", kind="closed",
            )

    # -- the whole download --------------------------------------------------

    def run(self, first: Optional[Any]) -> Transfer:
        """Run the connections, saving the state and hashing meanwhile; returns the transfer.

        With ``first`` (the answer to the first request, a whole-file body),
        the download starts over that one connection; the others open only
        if, after ``PROBE`` seconds, the rest would take longer than
        ``WORTH_SPLITTING`` at its speed: a fast server is read over one
        connection (as curl would), a capped one over ``segments``.
        """
        began = time.monotonic()
        probing = first is not None and bool(self.pieces.queue)
        if probing:
            self.open_connections(1, (first, self.pieces.queue.pop(0)))
        else:
            self.open_connections(max(1, min(self.target.policy.segments, len(self.pieces.all))))
        hashing = InOrder(self.target.algorithms, self.fd)
        try:
            self.watch(began, hashing, probing)
        except BaseException:
            self.stop.set()
            for t in self.threads:
                t.join(5)
            self.save()
            raise
        finally:
            self.file.close()
            self.bar.close()
        state_path(self.target.dest).unlink(missing_ok=True)
        return Transfer(
            self.state.size, hashing.digests(), resumed_from=self.resumed_from, segments=len(self.threads)
        )

    def watch(self, began: float, hashing: InOrder, probing: bool) -> None:
        """Until the connections end: open more if worth it (``probing``), hash, save; raise what failed."""
        saved = time.monotonic()
        while any(t.is_alive() for t in self.threads):
            time.sleep(0.02)
            if progress.cancelled():
                raise KeyboardInterrupt
            now = time.monotonic()
            if probing and now - began >= PROBE:
                probing = not self.split_if_worth_it(now - began)
            hashing.catch_up(self.pieces.done())  # in order, while the bytes are in the page cache
            if now - saved >= SAVE_EVERY:
                self.save()
                saved = time.monotonic()
        self.save()
        if self.errors:
            fallback = [e for e in self.errors if isinstance(e, FallBack)]
            raise fallback[0] if fallback else self.errors[0]
        if self.state.missing():  # every thread stopped early: cannot happen without an error
            raise TransferError("the segmented download ended with ranges missing", kind="closed")
        hashing.catch_up(self.pieces.done())

    def split_if_worth_it(self, seconds: float) -> bool:
        """Open the other connections if the rest would take long over one at its speed (True if so)."""
        left = self.pieces.left()
        rate = (self.state.size - left - self.resumed_from) / seconds
        if rate > 0 and left / rate <= WORTH_SPLITTING:
            return False
        self.open_connections(self.target.policy.segments)
        return True


def start(target: Target, requests: Requests, response: Any, size: int, validator: Optional[str]) -> Transfer:
    """Download ``target`` (``size`` bytes) in segments, the first from ``response``."""
    state = SegmentState(size, validator)
    write_state(target, state)  # before the file has its full size: never mistaken for complete
    preallocate(target, size)
    log.info(
        "%s: downloading %d bytes, over up to %d connections", target.label, size, target.policy.segments
    )
    return Download(target, requests, state, fresh=True).run(response)


def preallocate(target: Target, size: int) -> None:
    """Make the partial file ``size`` bytes long (reserving the space where the system can)."""
    try:
        with target.open("w") as f:
            try:
                os.posix_fallocate(f.fileno(), 0, size)
            except (AttributeError, OSError) as e:
                if isinstance(e, OSError) and disk_error(e):
                    raise
                f.truncate(size)
    except OSError as e:
        discard(target.dest)
        if disk_error(e):
            raise StorageError(
                f"cannot make room for {target.dest} ({size} bytes): {e.strerror}; free some space"
            ) from None
        raise


def resume(target: Target, requests: Requests, validator: Optional[str]) -> Optional[Transfer]:
    """Continue the segmented download into ``target.dest`` from its state file (None if none).

    A state file that is unreadable, of another validator, or that does not
    match the partial file's size is discarded with the partial file.
    """
    dest = target.dest
    if not state_path(dest).exists():
        return None
    state = read_state(dest, target.root)
    size = dest.stat().st_size if dest.exists() else -1
    expected = target.expected_size
    if state is None or state.size != size or (validator and state.validator != validator) or (
        expected is not None and state.size > expected
    ):
        log.info("%s: discarding a segmented partial download that does not match its state", target.label)
        discard(dest)
        return None
    log.info(
        "%s: resuming after %d bytes (%d ranges missing)",
        target.label, state.done_bytes(), len(state.missing()),
    )
    return Download(target, requests, state, fresh=False).run(None)
