"""The cluster's nginx configuration (bot/topology.py), run by the real nginx in front of
two stand-in replicas: one breaks off every request, as a replica killed mid-turn does."""

from __future__ import annotations

import http.server
import json
import re
import shutil
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from bot.servers import free_port
from bot.topology import nginx_conf
from tests.waiting import eventually

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class Replica(http.server.ThreadingHTTPServer):
    """Records the headers of each request; `breaks` closes the connection unanswered."""

    def __init__(self, breaks: bool):
        self.breaks, self.seen = breaks, []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.seen.append(dict(self.headers))
                if server.breaks:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                body = json.dumps([{"text": "ok"}]).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def nginx(tmp_path):
    if not Path(NGINX).exists():
        pytest.skip("nginx not installed (apt-get install nginx; .ci/run installs it)")
    broken, healthy = Replica(breaks=True), Replica(breaks=False)
    public = free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        nginx_conf(
            str(tmp_path),
            str(tmp_path / "error.log"),
            f"127.0.0.1:{public}",
            f"127.0.0.1:{free_port()}",
            [broken.address, healthy.address],
            [healthy.address],
        )
    )
    process = subprocess.Popen(
        [NGINX, "-p", str(tmp_path), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{public}/webhooks/rest/webhook"
    try:
        assert eventually(lambda: _listening(public), timeout=10), "nginx did not listen in 10 s"
        yield url, broken, healthy
    finally:
        process.terminate()
        process.wait(timeout=10)
        broken.shutdown()
        healthy.shutdown()


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def post(url: str) -> int:
    request = urllib.request.Request(
        url, data=b'{"sender": "a", "message": "hi"}', headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_a_chat_message_a_replica_broke_off_is_sent_to_the_other_with_its_request_id(nginx):
    url, broken, healthy = nginx
    statuses = []
    for _ in range(6):
        statuses.append(post(url))
        time.sleep(0.1)
    assert statuses == [200] * 6
    assert broken.seen, "nginx never tried the broken replica"
    retried = {h["X-Request-Id"] for h in broken.seen}
    answered = [h["X-Request-Id"] for h in healthy.seen]
    assert retried <= set(answered)  # the retry carries the first attempt's id
    assert len(answered) == len(set(answered)) == 6
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id) for request_id in answered)
    assert {h["Host"] for h in healthy.seen} == {url.split("/")[2]}
