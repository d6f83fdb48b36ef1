"""A counting reverse proxy between the Rasa server and the action server: how many action
calls each user turn makes, and how many bytes each call sends (the tracker travels with
every call, so its size follows the conversation's length)."""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import List, Optional, Sequence

# Not passed on: they describe one connection, and the body is forwarded de-chunked.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "proxy-connection",
    "upgrade",
    "content-length",
}


class CountingProxy:
    """Forwards every request to `upstream_port` on localhost; records the body size of each
    POST to /webhook under the current turn (`begin_turn`). The turns are played one at a
    time, so a call belongs to the turn that was begun last."""

    def __init__(self, upstream_port: int, timeout: float = 60.0):
        self.turns: List[List[int]] = []  # per turn: the body size of each action call
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as aiohttp expects

            def _forward(self) -> None:
                body = self._body()
                if self.command == "POST" and self.path.split("?")[0] == "/webhook":
                    proxy._record(len(body))
                upstream = http.client.HTTPConnection("localhost", upstream_port, timeout=timeout)
                try:
                    upstream.request(
                        self.command,
                        self.path,
                        body,
                        {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP},
                    )
                    response = upstream.getresponse()
                    payload = response.read()
                    self.send_response(response.status, response.reason)
                    for key, value in response.getheaders():
                        if key.lower() not in HOP_BY_HOP:
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                finally:
                    upstream.close()

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []  # aiohttp chunks a compressed request
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()  # the CRLF after each chunk
                        if size == 0:
                            return b"".join(chunks)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            do_GET = do_POST = _forward

            def log_message(self, *args) -> None:
                pass  # one line per call would drown the bench's output

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]

    def begin_turn(self) -> None:
        with self._lock:
            self.turns.append([])

    def _record(self, size: int) -> None:
        with self._lock:
            if self.turns:  # a call before any turn (none expected) belongs to none
                self.turns[-1].append(size)

    def __enter__(self) -> "CountingProxy":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def calls_per_turn(turns: Sequence[Sequence[int]]) -> Optional[float]:
    return sum(map(len, turns)) / len(turns) if turns else None


def call_sizes(turns: Sequence[Sequence[int]], end: int, width: int = 10) -> List[int]:
    """The body sizes of the calls of turns end-width+1..end."""
    return [size for calls in turns[max(0, end - width) : end] for size in calls]
