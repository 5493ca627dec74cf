"""Short leases in a store, so that one machine of a cluster downloads a file while the others wait.

A lease is an object created exclusively (``Store.create``) holding who took
it and a heartbeat counter, rewritten every third of the lease time while the
work goes on. Another machine waits while the lease changes; one that sees the
same content for a whole lease time (its holder died or lost the network)
takes it over. Expiry is judged on the waiter's own monotonic clock, so clocks
of different machines never need to agree.
"""

from __future__ import annotations

import json
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Optional

from datamaestro.errors import ConfigError, StoreError
from datamaestro.log import log
from datamaestro.store.backend import Store

#: seconds without a heartbeat after which a lease is taken over (DATAMAESTRO_STORE_LEASE)
LEASE_SECONDS = 60.0
POLL_FIRST, POLL_MAX = 0.1, 1.0


def lease_seconds() -> float:
    """The lease time: ``DATAMAESTRO_STORE_LEASE`` seconds, else 60."""
    value = os.environ.get("DATAMAESTRO_STORE_LEASE")
    if not value:
        return LEASE_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if seconds <= 0:
        raise ConfigError(f"DATAMAESTRO_STORE_LEASE={value!r}: expected a positive number of seconds")
    return seconds


class Lease:
    """The lease ``relative`` in ``store``, as one machine sees it."""

    def __init__(self, store: Store, relative: str, seconds: float):
        self.store = store
        self.relative = relative
        self.seconds = seconds
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._beats = 0
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def _content(self) -> bytes:
        return json.dumps({"holder": self.holder, "beat": self._beats}).encode()

    def take(self) -> bool:
        """Create the lease (True when this machine now holds it), then keep it alive."""
        if not self.store.create(self.relative, self._content()):
            return False
        self._thread = threading.Thread(target=self._heartbeat, daemon=True)
        self._thread.start()
        return True

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            self._beats += 1
            try:
                self.store.write(self.relative, self._content())
            except StoreError as e:  # the next beat may get through; waiters take over otherwise
                log.warning("%s", e)

    def release(self) -> None:
        """Stop the heartbeat and delete the lease."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            self.store.delete(self.relative)
        except StoreError as e:  # it expires by itself
            log.warning("%s", e)

    def current(self) -> Optional[bytes]:
        """The lease's content as stored now (None when nobody holds it)."""
        return self.store.read(self.relative, 4096)


@contextmanager
def hold(store: Store, relative: str, ready: Callable[[], bool], what: str) -> Iterator[bool]:
    """Hold the lease ``relative``, or wait until ``ready()`` says the work was done by its holder.

    Yields True while holding the lease (it is released on exit), False when
    the work is ready without it.
    """
    lease = Lease(store, relative, lease_seconds())
    seen: Optional[bytes] = None
    since = time.monotonic()
    pause = POLL_FIRST
    told = False
    while True:
        if ready():
            yield False
            return
        if lease.take():
            break
        content = lease.current()
        if content != seen:
            seen, since = content, time.monotonic()
        elif content is not None and time.monotonic() - since > lease.seconds:
            log.warning(
                "%s: the lease %s was not renewed for %g s: taking it over",
                what, store.where(relative), lease.seconds,
            )
            store.delete(relative)
            continue
        if not told and content is not None:
            log.info("%s: another machine is fetching it for the store %s; waiting", what, store.url)
            told = True
        time.sleep(pause * random.uniform(0.5, 1.5))
        pause = min(POLL_MAX, pause * 1.5)
    try:
        yield True
    finally:
        lease.release()
