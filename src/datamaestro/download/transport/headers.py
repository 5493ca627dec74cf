"""A deadline on the status line and headers of a response.

The read timeout bounds the wait for each byte, and the stall rule the pace of
the body; neither sees a server that trickles its headers (a byte every few
seconds: ``requests`` returns nothing until they are complete). The
connections of the shared session (``transport.session``) give up on a
response whose headers are not complete within one and a half read timeouts
of the request (a server that answers at all sends them at once; the half
leaves a server that sends nothing to the read timeout, and its message), or
within the policy's ``header_timeout`` when it sets one (a hedged mirror):
they shut their socket down, and the try fails with ``HeadersTooSlow`` among
its causes.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Optional, TypeVar

from requests.adapters import HTTPAdapter
from urllib3 import ProxyManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

#: how many read timeouts the whole status line and headers may take
HEADER_READ_TIMEOUTS = 1.5

E = TypeVar("E", bound=BaseException)

#: the headers' deadline asked for by the requests of each thread (``within``)
_asked = threading.local()


@contextmanager
def within(seconds: Optional[float]) -> Iterator[None]:
    """The requests this thread makes in the block have ``seconds`` for their headers
    (None: ``HEADER_READ_TIMEOUTS`` read timeouts)."""
    previous = getattr(_asked, "seconds", None)
    _asked.seconds = seconds
    try:
        yield
    finally:
        _asked.seconds = previous


class HeadersTooSlow(OSError):
    """The response headers were not complete within their deadline (``seconds``)."""

    def __init__(self, seconds: float):
        super().__init__(f"no complete response headers within {seconds:g} s")
        self.seconds = seconds


class Deadline:
    """A timer that shuts ``sock`` down unless ``over`` is called first."""

    def __init__(self, sock: socket.socket, seconds: float):
        self.sock = sock
        self.lock = threading.Lock()
        self.done = False
        self.fired = False
        self.timer = threading.Timer(seconds, self.give_up)
        self.timer.daemon = True
        self.timer.start()

    def give_up(self) -> None:
        """Shut the socket down: the blocked read returns, and the try fails."""
        with self.lock:  # not once the headers are read: the socket now carries the body
            if self.done:
                return
            self.fired = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def over(self) -> bool:
        """Whether the deadline fired; from now on it cannot."""
        self.timer.cancel()
        with self.lock:
            self.done = True
            return self.fired


class HeaderDeadline:
    """Mixed into a urllib3 connection class: ``getresponse`` within the headers' deadline."""

    sock: Any
    timeout: Any

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        seconds = getattr(_asked, "seconds", None) or header_seconds(self.timeout)
        if not seconds:
            return super().getresponse(*args, **kwargs)  # type: ignore[misc]
        deadline = Deadline(self.sock, seconds)
        try:
            response = super().getresponse(*args, **kwargs)  # type: ignore[misc]
        except Exception as e:
            if deadline.over():
                raise HeadersTooSlow(seconds) from e
            raise
        if deadline.over():  # the headers "ended" when the socket was shut down: a cut response
            response.close()
            raise HeadersTooSlow(seconds)
        return response


def header_seconds(read_timeout: Any) -> Optional[float]:
    """The deadline of the headers of a request made with ``read_timeout`` (None: none)."""
    if isinstance(read_timeout, (int, float)):
        return read_timeout * HEADER_READ_TIMEOUTS
    return None


class Connection(HeaderDeadline, HTTPConnection):
    """An HTTP connection that keeps the headers' deadline."""


class SecureConnection(HeaderDeadline, HTTPSConnection):
    """An HTTPS connection that keeps the headers' deadline."""


class Pool(HTTPConnectionPool):
    """HTTP connections that keep the headers' deadline."""

    ConnectionCls = Connection


class SecurePool(HTTPSConnectionPool):
    """HTTPS connections that keep the headers' deadline."""

    ConnectionCls = SecureConnection


POOLS = {"http": Pool, "https": SecurePool}


class Adapter(HTTPAdapter):
    """A ``requests`` adapter whose connections keep the headers' deadline, direct or through
    an HTTP proxy (a SOCKS proxy's have their own classes)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        if type(manager) is ProxyManager:
            manager.pool_classes_by_scheme = POOLS
        return manager


def too_slow(error: BaseException) -> Optional[HeadersTooSlow]:
    """The ``HeadersTooSlow`` among the causes of a ``requests``/urllib3 error, if any."""
    return cause(error, HeadersTooSlow)


def cause(error: BaseException, kind: type[E]) -> Optional[E]:
    """The first exception of type ``kind`` among the causes of ``error`` (itself included), if any."""
    seen: set[int] = set()
    todo: list[Any] = [error]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, kind):
            return item
        todo += [*item.args, item.__cause__, item.__context__, getattr(item, "reason", None)]
    return None
