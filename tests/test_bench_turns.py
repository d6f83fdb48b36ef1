"""`make bench`'s own arithmetic and its counting proxy, without the servers."""

from __future__ import annotations

import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.action_counter import CountingProxy, call_sizes, calls_per_turn
from bench.long_conversation import (
    EPISODES,
    chatty_script,
    slope_per_100_turns,
    window_ends,
    window_p50,
)
from bench.report import Target


def test_window_p50_reads_the_window_of_every_conversation_that_got_that_far():
    first = [float(t) for t in range(1, 21)]  # turn n took n ms
    second = [float(t) + 100 for t in range(1, 21)]
    short = [1000.0] * 5  # never reached turn 10: not in the window
    assert window_p50([first, second, short], 10) == pytest.approx((10 + 101) / 2)
    assert window_p50([first, second, short], 20) == pytest.approx((20 + 111) / 2)
    assert window_p50([first, [None] * 20], 10) == pytest.approx(5.5)  # no reply: skipped
    assert window_p50([short], 10) is None


def test_slope_is_ms_per_100_turns_over_every_turn():
    steady = [50 + 0.3 * t for t in range(1, 401)]
    assert slope_per_100_turns([steady, [s + 10 for s in steady]]) == pytest.approx(30)
    assert slope_per_100_turns([[40.0]]) is None


def test_windows_end_at_10_100_400_and_the_last_turn():
    assert window_ends(400) == [10, 100, 400]
    assert window_ends(60) == [10, 60]
    assert window_ends(0) == []


def test_chatty_script_is_as_long_as_asked_and_the_same_for_a_seed():
    script = chatty_script(400, seed=1)
    assert len(script) == 400 and script == chatty_script(400, seed=1)
    assert script != chatty_script(400, seed=2)
    assert set(script) == {line for episode in EPISODES for line in episode}


def test_target_verdicts():
    assert Target("latency", 55, 60, "ms").verdict() == "met"
    assert Target("latency", 75, 60, "ms").verdict() == "MISSED by 15 ms"
    assert Target("rate", 42.0, 40, "turns/s", 1, at_least=True).verdict() == "met"
    assert (
        Target("rate", 31.5, 40, "turns/s", 1, at_least=True).verdict() == "MISSED by 8.5 turns/s"
    )
    assert Target("latency", None, 60, "ms").verdict() == "not measured"
    assert Target("ratio", 70, None, "ms").verdict() == "not measured"
    assert Target("calls", 3.13, 1, "calls", 2).row() == (
        "3.13 calls (target <= 1.00 calls): MISSED by 2.13 calls"
    )


def test_calls_and_sizes_per_turn():
    turns = [[100, 200], [], [300], [400, 500, 600]]
    assert calls_per_turn(turns) == 1.5
    assert calls_per_turn([]) is None
    assert call_sizes(turns, 4, width=2) == [300, 400, 500, 600]
    assert call_sizes(turns, 1) == [100, 200]


@pytest.fixture
def action_server():
    """A stand-in action server: answers every request with what it received."""

    class Echo(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self._answer(
                {
                    "path": self.path,
                    "size": len(body),
                    "encoding": self.headers.get("Content-Encoding"),
                }
            )

        def do_GET(self):
            self._answer({"path": self.path})

        def _answer(self, payload):
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _request(port, method, path, body=None, headers=None, chunked=False):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, path, body, headers or {}, encode_chunked=chunked)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_proxy_forwards_everything_and_counts_webhook_posts_per_turn(action_server):
    with CountingProxy(action_server, timeout=5) as proxy:
        _request(proxy.port, "POST", "/webhook", b"x" * 10)  # before any turn: not counted
        proxy.begin_turn()
        assert _request(proxy.port, "POST", "/webhook", b"x" * 1500) == (
            200,
            {"path": "/webhook", "size": 1500, "encoding": None},
        )
        assert _request(proxy.port, "GET", "/health") == (200, {"path": "/health"})
        proxy.begin_turn()
        proxy.begin_turn()
        _request(proxy.port, "POST", "/webhook", b"y" * 70)
        # A compressed request comes chunked: counted as sent, passed on whole.
        status, echoed = _request(
            proxy.port,
            "POST",
            "/webhook",
            iter([b"z" * 40, b"z" * 2]),
            {"Content-Encoding": "deflate"},
            chunked=True,
        )
        assert (status, echoed["size"], echoed["encoding"]) == (200, 42, "deflate")
    assert proxy.turns == [[1500], [], [70, 42]]
