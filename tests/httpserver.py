"""A real HTTP server on 127.0.0.1 serving in-memory files, with a request log and faults.

Files are served with ``Content-Length`` and honour single ``Range: bytes=N-[M]``
requests (206), like real static servers. ``faults[path]`` (a ``Fault``) makes
a path misbehave in the ways real servers do; every body sent is recorded in
``sent`` as (path, Range header, bytes actually written). ``rate`` caps the
speed of every connection (bytes per second), as many dataset hosts do.
``blackhole()`` gives an address on 127.0.0.1 where connecting never completes.
"""

from __future__ import annotations

import itertools
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional
from urllib.parse import urlsplit


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
    #: the reason phrase of the status line (e.g. with terminal escape codes)
    reason: Optional[str] = None
    #: answer Range requests with 200 and the whole file, while announcing Accept-Ranges: bytes
    range_200: bool = False
    #: answer Range requests with 206 and a Content-Range that starts this many bytes off
    range_shift: int = 0
    #: send this ETag instead of ``etag`` with 206 answers (the file "changed" mid-download)
    range_etag: Optional[str] = None
    #: most bytes per second on each connection of this path (None: ``FileServer.rate``)
    rate: Optional[float] = None
    #: send the status line, then header bytes one at a time this many seconds apart, never ending them
    header_pause: float = 0.0
    #: answer 200 without Content-Length and send bytes until the client goes away (never ending)
    endless: bool = False
    #: add one header line of this many bytes to the answer
    header_bytes: int = 0
    #: add this many header lines to the answer
    header_count: int = 0
    #: answer a Range with 206 whatever its If-Range says (a server that changed the file)
    ignore_if_range: bool = False


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
        #: most bytes per second on each connection (None: as fast as possible)
        self.rate: Optional[float] = None
        #: set when the server stops: long waits (``Fault.delay``) end
        self.stopping = threading.Event()
        #: body requests being answered right now, and the most at once
        self.active = 0
        self.most_active = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                self.answer(body=False)

            def do_GET(self) -> None:
                self.answer(body=True)

            def trickle_headers(self, pause: float) -> None:
                self.close_connection = True
                try:
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                    for k in itertools.count():
                        for byte in f"X-Slow-{k}: a\r\n".encode():
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            if server.stopping.wait(pause):
                                return
                except OSError:  # the client gave up
                    pass

            def send_endlessly(self) -> None:
                self.close_connection = True
                self.send_response(200)
                self.send_header("Connection", "close")
                self.end_headers()
                piece, written = b"\0" * 65536, 0
                with server.lock:
                    server.active += 1
                try:
                    while not server.stopping.is_set():
                        self.wfile.write(piece)
                        written += len(piece)
                except OSError:  # the client gave up
                    pass
                with server.lock:
                    server.active -= 1
                    server.sent.append((urlsplit(self.path).path, None, written))

            def extra_headers(self, fault: Fault) -> None:
                if fault.header_bytes:
                    self.send_header("X-Big", "a" * fault.header_bytes)
                for k in range(fault.header_count):
                    self.send_header(f"X-Many-{k}", "a")

            def answer(self, body: bool) -> None:
                path = urlsplit(self.path).path  # (absolute when asked as a proxy: http://host/path)
                rng = self.headers.get("Range")
                with server.lock:
                    server.log.append((self.command, path, rng))
                    number = server.answered.get(path, 0)
                    server.answered[path] = number + 1
                if server.hook and server.hook(self, path):
                    return
                fault = server.faults.get(path, Fault())
                if fault.delay:
                    server.stopping.wait(fault.delay)
                    if server.stopping.is_set():
                        return
                if fault.header_pause:
                    self.trickle_headers(fault.header_pause)
                    return
                if fault.endless:
                    self.send_endlessly()
                    return
                if number < len(fault.errors):
                    self.send_response(fault.errors[number], fault.reason)
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
                stale = stale and not fault.ignore_if_range
                ranged = match and not fault.ignore_range and not stale and not fault.range_200
                if ranged:
                    start = int(match.group(1))
                    end = min(end, int(match.group(2)) + 1) if match.group(2) else end
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206, fault.reason)
                    shown = start + fault.range_shift
                    self.send_header("Content-Range", f"bytes {shown}-{end - 1}/{len(data)}")
                else:
                    self.send_response(200, fault.reason)
                    self.send_header("Accept-Ranges", "none" if fault.ignore_range else "bytes")
                self.send_header("Content-Length", str(end - start))
                etag = fault.range_etag if ranged and fault.range_etag else fault.etag
                if etag is not None:
                    self.send_header("ETag", etag)
                self.send_header("Content-Type", "application/octet-stream")
                self.extra_headers(fault)
                self.end_headers()
                if not body:
                    return
                payload = memoryview(data)[start:end]
                limit = len(payload) - fault.short_by
                dropped = fault.drop_after is not None and (
                    fault.drop_times is None or number - len(fault.errors) < fault.drop_times
                )
                if dropped:
                    limit = min(limit, fault.drop_after)
                written = 0
                rate = fault.rate or server.rate
                with server.lock:
                    server.active += 1
                    server.most_active = max(server.most_active, server.active)
                try:
                    step = fault.trickle or (max(1, int(rate / 20)) if rate else 1 << 20)
                    began = time.monotonic()
                    while written < limit and not server.stopping.is_set():
                        piece = payload[written : min(limit, written + step)]
                        self.wfile.write(piece)
                        self.wfile.flush()
                        written += len(piece)
                        if fault.pause and written < limit:
                            server.stopping.wait(fault.pause)
                        if rate:  # keep to the rate: sleep until this many bytes are due
                            ahead = began + written / rate - time.monotonic()
                            if ahead > 0:
                                time.sleep(ahead)
                except OSError:  # the client went away
                    pass
                with server.lock:
                    server.active -= 1
                    server.sent.append((path, rng, written))
                if written < len(payload):
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that went away (closed mid-body, reset) is not the server's error

        self.httpd = Server(("127.0.0.1", 0), Handler)
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
        """How many body bytes were sent for ``path`` in all (once the answers in progress are recorded)."""
        deadline = time.monotonic() + 5
        while self.active and time.monotonic() < deadline:  # a client may finish before its handler records
            time.sleep(0.01)
        return sum(n for p, _, n in self.sent if p == path)

    def start(self) -> FileServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class Blackhole:
    """An address on 127.0.0.1 where TCP connections never complete (a full listen backlog).

    The kernel drops new SYNs for a listening socket whose accept queue is
    full and that nobody accepts from, so a client's connect hangs until its
    own timeout, exactly as for a firewalled or vanished host.
    """

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.fillers = []
        for _ in range(4):  # fill the accept queue
            filler = socket.socket()
            filler.setblocking(False)
            try:
                filler.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            self.fillers.append(filler)
        time.sleep(0.1)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def close(self) -> None:
        for filler in self.fillers:
            filler.close()
        self.sock.close()
