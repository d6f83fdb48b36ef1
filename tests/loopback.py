"""A web server on 127.0.0.1 standing in for a download's source: it serves bytes, and can
announce another length, announce none, or stall after the headers."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Optional, Set

STALL_LIMIT = 30  # seconds a stalled answer waits at most, should a test never release it


class LoopbackServer:
    """Use as a context manager: it serves while inside, and releases stalls when done."""

    def __init__(self) -> None:
        self.routes: Dict[str, bytes] = {}
        self.requests: List[str] = []
        self.lengths: Dict[str, Optional[int]] = {}  # path -> Content-Length sent (None: none)
        self.stalls: Set[str] = set()
        self.released = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                body = server.routes.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                length = server.lengths.get(self.path, len(body))
                if length is not None:
                    self.send_header("Content-Length", str(length))
                self.end_headers()
                self.wfile.flush()
                if self.path in server.stalls:
                    server.released.wait(STALL_LIMIT)
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> "LoopbackServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"

    def serve(self, name: str, body: bytes) -> str:
        self.routes[f"/{name}"] = body
        return self.url(name)
