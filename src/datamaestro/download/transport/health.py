"""Mirror memory: hosts that failed to connect or timed out are tried last, or not at all.

A mirror is a scheme, host and port (``https://example.org:443``). When a
download from it fails on a connection error, a timeout or a host name that
does not resolve, it is remembered as dead:

- for the rest of the process, it is tried after every other URL
  (``order``);
- for ``REMEMBER`` seconds (120), it is not tried at all (``skip`` says why)
  if the failure happened during this run: in this process, or in another
  process since this one started (e.g. while it waited on the dataset's lock).
  Processes that share the data folder learn it through a small JSON file,
  so that eight jobs waiting on one dataset's lock do not each spend the
  whole timeout budget on the same dead host; a run started after the
  failure only tries that mirror last, so a fixed network is noticed at once.

A success forgets the failure. The file holds ``{"<mirror>": {"at": <unix
time>, "reason": "<text>"}}``; it is written atomically and ignored when
unreadable, corrupt or odd (it is data from disk, not trusted): it is read
without following a link, never from a FIFO or device, at most ``MAX_FILE``
bytes (``paths.read_inside``). A lost
update between two processes only costs a try.

Use, from the loop over a resource's URLs::

    from datamaestro.download.transport import TransferError, fetch, for_data_folder

    memory = for_data_folder(datadir)   # locks/mirrors.json; one object per folder
    for url in memory.order(urls):
        try:
            fetch(url, ..., health=memory)
        except TransferError as e:             # e.g. "skipped: http://host:80 failed 3 s ago (...)"
            ...                                # next URL

Given ``health``, ``fetch`` raises ``TransferError`` at once for a URL that
``skip`` says not to try, records ``failed(url, reason)`` when it gives up
on a URL after connection errors, timeouts or a name that does not resolve, and ``succeeded(url)`` when a
download completes. Other transports may call ``skip``, ``failed`` and
``succeeded`` themselves.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlsplit

from datamaestro.errors import UnsafePathError
from datamaestro.log import log
from datamaestro.paths import printable, read_inside
from datamaestro.storage import atomic_file, ignored

#: the shared file, in the data folder's ``locks`` folder
FILE_NAME = "mirrors.json"
#: seconds a failure is shared with other processes, and skipped
REMEMBER = 120.0
#: the shared file is ignored when larger than this (bytes)
MAX_FILE = 1 << 16
#: at most this many mirrors are kept in the shared file
MAX_ENTRIES = 200
#: a failure recorded further in the future than this (seconds) comes from a machine whose clock
#: is wrong: it is ignored (closer ones count as now)
MAX_SKEW = 30.0


def mirror(url: str) -> str:
    """The mirror a URL belongs to: ``scheme://host:port`` (default ports made explicit)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = {"http": 80, "https": 443, "ftp": 21}.get(parts.scheme)
    host = (parts.hostname or "").lower()
    return f"{parts.scheme}://{host}:{port}" if port else f"{parts.scheme}://{host}"


class MirrorHealth:
    """Which mirrors failed recently; shared through ``path`` (a JSON file) when given."""

    def __init__(
        self,
        path: Optional[Path] = None,
        remember: float = REMEMBER,
        started: Optional[float] = None,
        root: Optional[Path] = None,
    ):
        self.path = path
        #: the folder the shared file must stay inside (the data folder; None: its own folder)
        self.root = root
        self.remember = remember
        #: failures are skipped only if recorded after this (Unix time): the start of the process
        self.started = process_start() if started is None else started
        self._lock = threading.Lock()
        #: mirror -> (time, reason) of failures seen in this process
        self._dead: dict[str, tuple[float, str]] = {}

    def order(self, urls: list[str]) -> list[str]:
        """``urls`` with those of known-dead mirrors moved last (otherwise in the same order)."""
        dead = self._known()
        return sorted(urls, key=lambda u: mirror(u) in dead)

    def skip(self, url: str) -> Optional[str]:
        """Why not to try ``url`` now (its mirror failed moments ago), or None to try it."""
        known = self._known().get(mirror(url))
        if known is None:
            return None
        at, reason = known
        age = time.time() - at
        if at < self.started or age > self.remember:
            return None
        return f"skipped: {mirror(url)} failed {age:.0f} s ago ({reason})"

    def dead(self, url: str) -> bool:
        """Whether ``url``'s mirror is known to have failed (in this process, or lately elsewhere)."""
        return mirror(url) in self._known()

    def failed(self, url: str, reason: str) -> None:
        """Remember that ``url``'s mirror failed to connect or timed out (``reason`` says how)."""
        key, now = mirror(url), time.time()
        reason = printable(reason, 200)
        with self._lock:
            self._dead[key] = (now, reason)
        log.debug("mirror %s marked dead: %s", key, reason)
        self._update(lambda entries: entries.__setitem__(key, {"at": now, "reason": reason}))

    def succeeded(self, url: str) -> None:
        """Forget any failure of ``url``'s mirror."""
        key = mirror(url)
        with self._lock:
            known = self._dead.pop(key, None)
        if known is not None or key in self._read():
            self._update(lambda entries: entries.pop(key, None))

    def _known(self) -> dict[str, tuple[float, str]]:
        """Dead mirrors: this process's, and those of the shared file still remembered."""
        with self._lock:
            known = dict(self._dead)
        now = time.time()
        for key, (at, reason) in self._read().items():
            if at > now + MAX_SKEW:
                continue
            at = min(at, now)
            if now - at <= self.remember and at > known.get(key, (-math.inf, ""))[0]:
                known[key] = (at, reason)
        return known

    def _read(self) -> dict[str, tuple[float, str]]:
        """The shared file's valid entries ({} when absent, unreadable or corrupt)."""
        if self.path is None:
            return {}
        try:
            content = json.loads(read_inside(self.root or self.path.parent, self.path, MAX_FILE) or b"{}")
        except UnsafePathError as e:  # a link, a FIFO, a device, a huge file: planted, never followed
            ignored(e, "the shared mirror memory is ignored")
            return {}
        except (OSError, ValueError):
            return {}
        if not isinstance(content, dict):
            return {}
        entries = {}
        for key, entry in content.items():
            if not isinstance(key, str) or not isinstance(entry, dict):
                continue
            at, reason = entry.get("at"), entry.get("reason")
            if isinstance(at, (int, float)) and not isinstance(at, bool) and math.isfinite(at):
                if isinstance(reason, str):
                    entries[printable(key, 200)] = (float(at), printable(reason, 200))
        return entries

    def _update(self, change: Callable[[dict[str, Any]], object]) -> None:
        """Apply ``change(entries)`` to the shared file (read, change, write atomically)."""
        if self.path is None:
            return
        now = time.time()
        entries: dict[str, Any] = {
            key: {"at": at, "reason": reason}
            for key, (at, reason) in self._read().items()
            if -MAX_SKEW <= now - at <= self.remember  # (a wrong clock's failures are dropped)
        }
        change(entries)
        newest = sorted(entries.items(), key=lambda kv: -kv[1]["at"])[:MAX_ENTRIES]
        try:
            with atomic_file(self.path, self.root) as f:
                f.write(json.dumps(dict(newest)).encode("utf-8"))
        except Exception as e:  # a hint only: never fail a download over it
            log.debug("cannot write %s: %s", self.path, e)


def process_start() -> float:
    """When this process started (Unix time): from /proc on Linux, else when this module was loaded.

    Failures recorded by other processes after this moment happened during
    this run, e.g. while it waited on a dataset's lock.
    """
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])  # field 22: start time in clock ticks
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])  # to the hundredth (the boot time is whole seconds)
        return time.time() - (uptime - ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return _LOADED


_LOADED = time.time()
_shared: dict[Optional[Path], MirrorHealth] = {}
_shared_lock = threading.Lock()


def shared(path: Optional[Path] = None, root: Optional[Path] = None) -> MirrorHealth:
    """The process's mirror memory for the shared file ``path`` inside ``root`` (one object per path)."""
    with _shared_lock:
        if path not in _shared:
            _shared[path] = MirrorHealth(path, root=root)
        return _shared[path]


def for_data_folder(root: Path) -> MirrorHealth:
    """The mirror memory shared by the processes using the data folder ``root``."""
    return shared(root / "locks" / FILE_NAME, root)
