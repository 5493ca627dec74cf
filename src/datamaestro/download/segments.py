"""A large file over several connections into one partial file, resumable range by range.

``http.fetch`` switches to a segmented download when the first answer is a
``200`` whose ``Content-Length`` is at least the policy's threshold and whose
server sends ``Accept-Ranges: bytes``. The partial file is preallocated at
its full size; each connection writes its range at its offset, and a small
state file beside it (``<partial>.segments``, JSON: size, validator, done
ranges) records what is written, so that after a crash or SIGKILL the next
call asks only for the missing ranges. The first answer's body serves the
first range; a connection that finishes early takes half of the largest
range left (so slow connections do not hold up the end).

Every ranged answer must be a ``206`` whose ``Content-Range`` is exactly the
range asked for, of the same total size, with the same validator; anything
else (a ``200``, another range or size, a changed ETag) means the server
cannot be trusted with ranges: ``FallBack`` is raised, and ``fetch`` throws
the partial file away and downloads over one connection.

The digests are computed once, in order, while the download runs: the
coordinating thread hashes the done prefix of the file as it grows (read back
from the page cache), so memory stays flat and no byte is hashed twice.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from datamaestro.download import progress
from datamaestro.download.http import (
    Policy,
    StallWatch,
    Transfer,
    TransferError,
    _body,
    _Closed,
    _read_timeout,
    _ReadTimeout,
    _root_cause,
    _validator,
    discard,
    request_error,
    session,
    state_path,
)
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


@dataclass
class State:
    """What the state file records: the file's size and validator, and the ranges written."""

    size: int
    validator: Optional[str]
    #: [start, end) ranges, sorted and merged
    done: list[tuple[int, int]] = field(default_factory=list)

    def done_bytes(self) -> int:
        return sum(e - s for s, e in self.done)

    def missing(self) -> list[tuple[int, int]]:
        """The [start, end) ranges still to download."""
        gaps, at = [], 0
        for s, e in self.done:
            if s > at:
                gaps.append((at, s))
            at = max(at, e)
        if at < self.size:
            gaps.append((at, self.size))
        return gaps


def read_state(dest: Path) -> Optional[State]:
    """The valid state of the segmented download into ``dest`` (None if none, or not valid)."""
    path = state_path(dest)
    try:
        raw = json.loads(path.read_bytes()[: 1 << 20].decode("utf-8"))
        size, validator, done = raw["size"], raw["validator"], raw["done"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        return None
    if validator is not None and not isinstance(validator, str):
        return None
    if not isinstance(done, list):
        return None
    ranges = []
    for item in done:
        if (
            not isinstance(item, list)
            or len(item) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in item)
            or not 0 <= item[0] < item[1] <= size
        ):
            return None
        ranges.append((item[0], item[1]))
    return State(size, validator, _merge(ranges))


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(ranges):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _write_state(dest: Path, state: State) -> None:
    """Replace the state file (no fsync: a lost update only costs bytes downloaded again)."""
    path = state_path(dest)
    tmp = path.with_name(path.name + ".tmp")
    data = {"size": state.size, "validator": state.validator, "done": [list(r) for r in state.done]}
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def _split(ranges: list[tuple[int, int]], count: int) -> list[tuple[int, int]]:
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


@dataclass
class _Piece:
    start: int
    end: int
    pos: int = -1

    def __post_init__(self) -> None:
        if self.pos < 0:
            self.pos = self.start


class _Download:
    """The shared state of one segmented download: pieces, state file, hashing, workers."""

    def __init__(
        self,
        url: str,
        dest: Path,
        algorithms: list[str],
        label: str,
        quiet: bool,
        policy: Policy,
        state: State,
        requests_made: list[int],
        fresh: bool = False,
    ):
        self.url, self.dest, self.label, self.policy = url, dest, label, policy
        self.state = state
        self.requests_made = requests_made
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.resumed_from = state.done_bytes()
        missing = state.missing()
        self.pieces = [_Piece(s, e) for s, e in (missing if fresh else _split(missing, policy.segments))]
        self.queue = list(self.pieces)
        self.hashers = {a: hashlib.new(a) for a in algorithms}
        self.hashed = 0
        self.bar = progress.file_bar(label, state.size, self.resumed_from, quiet)
        self.fd = os.open(dest, os.O_WRONLY)
        #: most connections open at once
        self.connections = 0

    # -- pieces ------------------------------------------------------------

    def take(self) -> Optional[_Piece]:
        """The next range to download: a queued one, else half of the largest active one."""
        with self.lock:
            if self.queue:
                return self.queue.pop(0)
            active = [p for p in self.pieces if p.pos < p.end]
            if not active:
                return None
            victim = max(active, key=lambda p: p.end - p.pos)
            left = victim.end - victim.pos
            if left < 2 * MIN_PIECE:
                return None
            middle = victim.pos + left // 2
            piece = _Piece(middle, victim.end)
            victim.end = middle
            self.pieces.append(piece)
            return piece

    def left(self) -> int:
        """Bytes not yet written."""
        with self.lock:
            return sum(max(0, p.end - p.pos) for p in self.pieces)

    def wrote(self, piece: _Piece, n: int) -> None:
        with self.lock:
            piece.pos += n
        self.bar.update(n)

    def done_ranges(self) -> list[tuple[int, int]]:
        with self.lock:
            return _merge([*self.state.done, *((p.start, p.pos) for p in self.pieces if p.pos > p.start)])

    def save(self) -> None:
        self.state.done = self.done_ranges()
        _write_state(self.dest, self.state)

    # -- hashing in order ----------------------------------------------------

    def hash_prefix(self, fd: int) -> None:
        """Hash the file from where hashing stopped up to the end of the done prefix.

        The bytes are read through a memory map (no copy) while they are
        still in the page cache.
        """
        done = self.done_ranges()
        end = done[0][1] if done and done[0][0] == 0 else 0
        if end <= self.hashed:
            return
        with mmap.mmap(fd, end, access=mmap.ACCESS_READ) as mapped:
            view = memoryview(mapped)
            try:
                while self.hashed < end:
                    stop = min(end, self.hashed + HASH_CHUNK)
                    for h in self.hashers.values():
                        h.update(view[self.hashed : stop])
                    self.hashed = stop
            finally:
                view.release()

    # -- connections ---------------------------------------------------------

    def worker(self, first: Optional[tuple[Any, _Piece]] = None) -> None:
        """Download pieces until none is left (or the download stops); records errors."""
        try:
            if first is not None:
                response, piece = first
                self.receive(response, piece)
            while not self.stop.is_set():
                next_piece = self.take()
                if next_piece is None:
                    return
                self.fetch_piece(next_piece)
        except BaseException as e:  # reported by the coordinating thread
            with self.lock:
                self.errors.append(e)
            self.stop.set()

    def fetch_piece(self, piece: _Piece) -> None:
        """One ranged request for ``piece``, checked against what the first answer said."""
        import requests

        with self.lock:  # what is asked for; the piece's end may move down meanwhile
            first, last = piece.pos, piece.end - 1
        headers = {"Range": f"bytes={first}-{last}"}
        if self.state.validator:
            headers["If-Range"] = self.state.validator
        with self.lock:
            self.requests_made[0] += 1
        policy = self.policy
        try:
            with session().get(
                self.url, stream=True, headers=headers,
                timeout=(policy.connect_timeout, policy.read_timeout),
            ) as response:
                status = response.status_code
                if status == 429 or status >= 500:
                    raise TransferError(f"HTTP {status} {printable(response.reason or '', 100)}")
                if status != 206:
                    raise FallBack(f"the server answered {status} to a range request")
                expected = f"bytes {first}-{last}/{self.state.size}"
                got = response.headers.get("Content-Range", "").strip()
                if got != expected:
                    raise FallBack(
                        f"the server sent range {printable(got, 80)!r}, not {expected!r}"
                    )
                new = _validator(response.headers)
                if self.state.validator and new and new != self.state.validator:
                    raise FallBack("the file changed on the server (its validator differs)")
                self.receive(response, piece)
        except requests.exceptions.RequestException as e:
            error = request_error(e, policy)
            raise error or TransferError(f"request failed ({_root_cause(e)})", kind="closed") from None

    def receive(self, response: Any, piece: _Piece) -> None:
        """Write the body at the piece's offset until the piece's end (which may move down)."""
        watch = StallWatch(self.policy)
        try:
            for chunk in _body(response):
                if self.stop.is_set():
                    return
                with self.lock:
                    room = max(0, piece.end - piece.pos)
                chunk = chunk[:room]
                written = 0
                while written < len(chunk):
                    written += os.pwrite(self.fd, chunk[written:], piece.pos + written)
                self.wrote(piece, len(chunk))
                with self.lock:
                    if piece.pos >= piece.end:  # complete (or another connection took its end)
                        return
                watch.add(len(chunk))
        except _ReadTimeout:
            raise _read_timeout(self.policy) from None
        except _Closed:
            pass
        except OSError as e:
            if disk_error(e):
                raise StorageError(
                    f"cannot write {self.dest}: {e.strerror}; free some space and run again "
                    "(the download resumes where it stopped)"
                ) from None
            raise
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
        threads: list[threading.Thread] = []

        def open_connections(count: int) -> None:
            while len(threads) < count:
                thread = threading.Thread(target=self.worker, daemon=True)
                threads.append(thread)
                thread.start()
            self.connections = max(self.connections, len(threads))

        began = time.monotonic()
        if first is not None and self.queue:
            thread = threading.Thread(target=self.worker, args=((first, self.queue.pop(0)),), daemon=True)
            threads.append(thread)
            thread.start()
            self.connections = 1
            split = False
        else:
            open_connections(max(1, min(self.policy.segments, len(self.pieces))))
            split = True
        reader = os.open(self.dest, os.O_RDONLY)
        try:
            last = time.monotonic()
            while any(t.is_alive() for t in threads):
                time.sleep(0.02)
                if progress.cancelled():
                    raise KeyboardInterrupt
                now = time.monotonic()
                if not split and now - began >= PROBE:
                    done = self.state.size - self.left()
                    rate = (done - self.resumed_from) / (now - began)
                    if rate <= 0 or self.left() / rate > WORTH_SPLITTING:
                        open_connections(self.policy.segments)
                        split = True
                self.hash_prefix(reader)  # in order, while the bytes are still in the page cache
                if now - last >= SAVE_EVERY:
                    self.save()
                    last = time.monotonic()
            self.save()
            if self.errors:
                fallback = [e for e in self.errors if isinstance(e, FallBack)]
                raise fallback[0] if fallback else self.errors[0]
            if self.state.missing():  # every thread stopped early: cannot happen without an error
                raise TransferError("the segmented download ended with ranges missing", kind="closed")
            self.hash_prefix(reader)
        except BaseException:
            self.stop.set()
            for t in threads:
                t.join(5)
            self.save()
            raise
        finally:
            os.close(reader)
            os.close(self.fd)
            self.bar.close()
        state_path(self.dest).unlink(missing_ok=True)
        return Transfer(
            self.state.size,
            {a: h.hexdigest() for a, h in self.hashers.items()},
            resumed_from=self.resumed_from,
            segments=self.connections,
        )


def start(
    url: str,
    dest: Path,
    algorithms: list[str],
    label: str,
    quiet: bool,
    policy: Policy,
    response: Any,
    size: int,
    validator: Optional[str],
    requests_made: list[int],
) -> Transfer:
    """Download ``url`` (``size`` bytes) into ``dest`` in segments, the first from ``response``."""
    state = State(size, validator)
    _write_state(dest, state)  # before the file has its full size: never mistaken for complete
    try:
        with open(dest, "wb") as f:
            try:
                os.posix_fallocate(f.fileno(), 0, size)
            except (AttributeError, OSError) as e:
                if isinstance(e, OSError) and disk_error(e):
                    raise
                f.truncate(size)
    except OSError as e:
        discard(dest)
        if disk_error(e):
            raise StorageError(
                f"cannot make room for {dest} ({size} bytes): {e.strerror}; free some space"
            ) from None
        raise
    log.info("%s: downloading %d bytes, over up to %d connections", label, size, policy.segments)
    download = _Download(url, dest, algorithms, label, quiet, policy, state, requests_made, fresh=True)
    return download.run(response)


def resume(
    url: str,
    dest: Path,
    algorithms: list[str],
    label: str,
    quiet: bool,
    policy: Policy,
    validator: Optional[str],
    requests_made: list[int],
) -> Optional[Transfer]:
    """Continue the segmented download into ``dest`` from its state file (None if there is none).

    A state file that is unreadable, of another validator, or that does not
    match the partial file's size is discarded with the partial file.
    """
    path = state_path(dest)
    if not path.exists():
        return None
    state = read_state(dest)
    size = dest.stat().st_size if dest.exists() else -1
    if state is None or state.size != size or (validator and state.validator != validator):
        log.info("%s: discarding a segmented partial download that does not match its state", label)
        discard(dest)
        return None
    log.info(
        "%s: resuming after %d bytes (%d ranges missing)", label, state.done_bytes(), len(state.missing())
    )
    download = _Download(url, dest, algorithms, label, quiet, policy, state, requests_made)
    return download.run(None)

