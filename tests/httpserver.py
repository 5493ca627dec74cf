"""A real HTTP server on 127.0.0.1 serving in-memory files, with a request log."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Optional


class FileServer:
    """Serves ``files`` (URL path -> bytes); ``log`` records (method, path, Range header)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.log: list[tuple[str, str, Optional[str]]] = []
        #: optional hook(handler, path) -> True when it answered the request itself
        self.hook: Optional[Callable[[BaseHTTPRequestHandler, str], bool]] = None
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
                server.log.append((self.command, path, self.headers.get("Range")))
                if server.hook and server.hook(self, path):
                    return
                data = server.files.get(path)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                if body:
                    self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

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

    def start(self) -> "FileServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
