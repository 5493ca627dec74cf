"""A real HTTP server on 127.0.0.1 serving in-memory files, with a request log and faults.

Files are served with ``Content-Length`` and honour single ``Range: bytes=N-[M]``
requests (206), like real static servers. ``faults[path]`` (a ``Fault``) makes
a path misbehave in the ways real servers do; every body sent is recorded in
``sent`` as (path, Range header, bytes actually written).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional


@dataclass
class Fault:
    """How one path misbehaves (fields combine; all requests unless said otherwise)."""

    #: answer these statuses first, one per request (e.g. [500, 503] then the file)
    errors: list[int] = field(default_factory=list)
    #: Retry-After header sent with those error answers
    retry_after: Optional[str] = None
    #: close the connection after sending this many body bytes...
    drop_after: Optional[int] = None
    #: ...on this many responses only (None: every response)
    drop_times: Optional[int] = None
    #: answer 200 with the whole file even to Range requests
    ignore_range: bool = False
    #: announce the full Content-Length but send this many bytes fewer, then close
    short_by: int = 0
    #: serve these bytes instead of the file (wrong content)
    body: Optional[bytes] = None
    #: seconds to wait before answering at all
    delay: float = 0.0
    #: send the body in pieces of this many bytes...
    trickle: Optional[int] = None
    #: ...sleeping this long between pieces
    pause: float = 0.0
    #: send this ETag; a Range whose If-Range differs gets the whole file (200)
    etag: Optional[str] = None


class FileServer:
    """Serves ``files`` (URL path -> bytes); ``log`` records (method, path, Range header)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.log: list[tuple[str, str, Optional[str]]] = []
        #: optional hook(handler, path) -> True when it answered the request itself
        self.hook: Optional[Callable[[BaseHTTPRequestHandler, str], bool]] = None
        #: path -> Fault
        self.faults: dict[str, Fault] = {}
        #: (path, Range header, body bytes written) for each GET answered with a body
        self.sent: list[tuple[str, Optional[str], int]] = []
        self.lock = threading.Lock()
        self.answered: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                self.answer(body=False)

            def do_GET(self) -> None:
                self.answer(body=True)

            def answer(self, body: bool) -> None:
                path = self.path.split("?")[0]
                rng = self.headers.get("Range")
                with server.lock:
                    server.log.append((self.command, path, rng))
                    number = server.answered.get(path, 0)
                    server.answered[path] = number + 1
                if server.hook and server.hook(self, path):
                    return
                fault = server.faults.get(path, Fault())
                if fault.delay:
                    time.sleep(fault.delay)
                if number < len(fault.errors):
                    self.send_response(fault.errors[number])
                    if fault.retry_after is not None:
                        self.send_header("Retry-After", fault.retry_after)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = server.files.get(path)
                if data is None:
                    self.send_error(404)
                    return
                if fault.body is not None:
                    data = fault.body
                start, end = 0, len(data)
                match = re.fullmatch(r"bytes=(\d+)-(\d*)", rng or "")
                if_range = self.headers.get("If-Range")
                stale = fault.etag is not None and if_range is not None and if_range != fault.etag
                if match and not fault.ignore_range and not stale:
                    start = int(match.group(1))
                    end = min(end, int(match.group(2)) + 1) if match.group(2) else end
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
                else:
                    self.send_response(200)
                    self.send_header("Accept-Ranges", "none" if fault.ignore_range else "bytes")
                self.send_header("Content-Length", str(end - start))
                if fault.etag is not None:
                    self.send_header("ETag", fault.etag)
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                if not body:
                    return
                payload = data[start:end]
                limit = len(payload) - fault.short_by
                dropped = fault.drop_after is not None and (
                    fault.drop_times is None or number - len(fault.errors) < fault.drop_times
                )
                if dropped:
                    limit = min(limit, fault.drop_after)
                written = 0
                try:
                    step = fault.trickle or len(payload) or 1
                    while written < limit:
                        piece = payload[written : min(limit, written + step)]
                        self.wfile.write(piece)
                        self.wfile.flush()
                        written += len(piece)
                        if fault.pause and written < limit:
                            time.sleep(fault.pause)
                except OSError:  # the client went away
                    pass
                with server.lock:
                    server.sent.append((path, rng, written))
                if written < len(payload):
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base(self) -> str:
        """The server's root URL, ending with a slash."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def url(self, path: str) -> str:
        return self.base + path.lstrip("/")

    def gets(self, path: str) -> int:
        """How many GET requests asked for ``path``."""
        return sum(1 for method, p, _ in self.log if method == "GET" and p == path)

    def bytes_sent(self, path: str) -> int:
        """How many body bytes were sent for ``path`` in all."""
        return sum(n for p, _, n in self.sent if p == path)

    def start(self) -> FileServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
