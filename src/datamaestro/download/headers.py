"""A deadline on the status line and headers of a response.

The read timeout bounds the wait for each byte, and the stall rule the pace of
the body; neither sees a server that trickles its headers (a byte every few
seconds: ``requests`` returns nothing until they are complete). The
connections of ``datamaestro.download.http``'s session give up on a response
whose headers are not complete within one and a half read timeouts of the
request (a server that answers at all sends them at once; the half leaves a
server that sends nothing to the read timeout, and its message): they shut
their socket down, and the try fails with ``HeadersTooSlow`` among its causes.
"""

from __future__ import annotations

import socket
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

#: how many read timeouts the whole status line and headers may take
HEADER_READ_TIMEOUTS = 1.5


class HeadersTooSlow(OSError):
    """The response headers were not complete within their deadline (``seconds``)."""

    def __init__(self, seconds: float):
        super().__init__(f"no complete response headers within {seconds:g} s")
        self.seconds = seconds


class HeaderDeadline:
    """Mixed into a urllib3 connection class: ``getresponse`` within the headers' deadline."""

    sock: Any
    timeout: Any

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        seconds = self.timeout * HEADER_READ_TIMEOUTS if isinstance(self.timeout, (int, float)) else None
        if not seconds:
            return super().getresponse(*args, **kwargs)  # type: ignore[misc]
        sock = self.sock
        lock = threading.Lock()
        state = {"done": False, "fired": False}

        def give_up() -> None:
            with lock:  # not once getresponse is over: its socket now carries the body
                if state["done"]:
                    return
                state["fired"] = True
            try:
                sock.shutdown(socket.SHUT_RDWR)  # the blocked read returns: the try fails
            except OSError:
                pass

        def over() -> bool:
            """Whether the deadline fired; from now on it cannot."""
            timer.cancel()
            with lock:
                state["done"] = True
                return state["fired"]

        timer = threading.Timer(seconds, give_up)
        timer.daemon = True
        timer.start()
        try:
            response = super().getresponse(*args, **kwargs)  # type: ignore[misc]
        except Exception as e:
            if over():
                raise HeadersTooSlow(seconds) from e
            raise
        if over():  # the headers "ended" when the socket was shut down: a cut response
            response.close()
            raise HeadersTooSlow(seconds)
        return response


def adapter(**options: Any) -> Any:
    """A ``requests`` adapter (``options`` as ``HTTPAdapter``'s) whose connections keep the
    headers' deadline, direct or through an HTTP proxy (a SOCKS proxy's have their own classes)."""
    from requests.adapters import HTTPAdapter
    from urllib3 import ProxyManager
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class Connection(HeaderDeadline, HTTPConnection):
        pass

    class SecureConnection(HeaderDeadline, HTTPSConnection):
        pass

    class Pool(HTTPConnectionPool):
        ConnectionCls = Connection

    class SecurePool(HTTPSConnectionPool):
        ConnectionCls = SecureConnection

    pools = {"http": Pool, "https": SecurePool}

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **kwargs)
            if type(manager) is ProxyManager:
                manager.pool_classes_by_scheme = pools
            return manager

    return Adapter(**options)


def too_slow(error: BaseException) -> HeadersTooSlow | None:
    """The ``HeadersTooSlow`` among the causes of a ``requests``/urllib3 error, if any."""
    seen: set[int] = set()
    todo: list[Any] = [error]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, HeadersTooSlow):
            return item
        todo += [*item.args, item.__cause__, item.__context__, getattr(item, "reason", None)]
    return None
