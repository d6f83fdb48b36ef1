"""`make bench-limits`: what hostile messages cost the real servers (the hardening targets).

Starts its own servers and scratch database. For each pathological shape it sends a 1 MB
message (refused with 413, or the connection closed while it is still being sent) and a
4,000-character one (answered with the request for the main point) while another customer
says "hi" every 200 ms, and then 100 messages of exactly the maximum length (parsed in
full) to see whether the Rasa server's memory comes back. Prints a table; the README's
performance section quotes it.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, List, Tuple

from bench.report import percentile, print_table
from bench.turns import rss_mb
from bot.servers import Servers
from bot.training import ensure_trained
from heard.limits import DEFAULT_MAX_MESSAGE_CHARS

SHAPES = {
    "word run": "a",
    "at signs": "a@",
    "dots": "a.",
    "spaces": "a ",
    "template": "{% raw %}",
    "emoji": "😡",
    "words": "refund my order ",
}


def send(url: str, sender: str, text: str) -> Tuple[int, float]:
    """(status, seconds) of one REST message."""
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            status = response.status
            response.read()
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError:  # the server closes the socket after refusing a large body
        status = -1
    return status, time.perf_counter() - started


def sized(shape: str, length: int) -> str:
    return (shape * (length // len(shape) + 1))[:length]


def with_bystander(url: str, action) -> Tuple[object, List[float]]:
    """Runs `action()` while another customer says "hi" every 200 ms."""
    latencies: List[float] = []
    stop = threading.Event()

    def bystander():
        sender = f"bystander-{uuid.uuid4().hex[:8]}"
        while not stop.is_set():
            latencies.append(send(url, sender, "hi")[1])
            stop.wait(0.2)

    thread = threading.Thread(target=bystander, daemon=True)
    thread.start()
    time.sleep(0.5)
    try:
        result = action()
        time.sleep(0.5)
    finally:
        stop.set()
        thread.join(timeout=120)
    return result, latencies


def main() -> None:
    servers = Servers.in_folder(ensure_trained(), Path(tempfile.mkdtemp(prefix="heard-bench-")))
    servers.start()
    try:
        servers.wait_until_ready()
        url = f"{servers.rasa_url}/webhooks/rest/webhook"
        rasa_pid = servers.processes[-1].pid
        for _ in range(5):  # warm up: first parses load lazily
            send(url, f"warm-{uuid.uuid4().hex[:6]}", "where is my order 2345678?")
        rows: Dict[str, str] = {}
        for name, shape in SHAPES.items():
            # 4,000 characters: over the message limit, under the body limit in any encoding
            for label, length in (
                ("1 MB", 1_000_000),
                ("4,000 characters", 2 * DEFAULT_MAX_MESSAGE_CHARS),
            ):
                (status, seconds), hi = with_bystander(
                    url,
                    lambda shape=shape, length=length: send(
                        url, f"bench-{uuid.uuid4().hex[:8]}", sized(shape, length)
                    ),
                )
                rows[f"{name}, {label}: status / time / concurrent hi p50, max"] = (
                    f"{status if status > 0 else 'closed'} / {seconds * 1000:.0f} ms / "
                    f"{percentile(hi, 0.5) * 1000:.0f}, {max(hi) * 1000:.0f} ms"
                )
        before = rss_mb(rasa_pid)
        times = []
        for i in range(100):
            shape = list(SHAPES.values())[i % len(SHAPES)]
            times.append(
                send(url, f"bench-{uuid.uuid4().hex[:8]}", sized(shape, DEFAULT_MAX_MESSAGE_CHARS))[
                    1
                ]
            )
        after = rss_mb(rasa_pid)
        rows["100 messages of the maximum length: p50 / max turn"] = (
            f"{percentile(times, 0.5) * 1000:.0f} / {max(times) * 1000:.0f} ms"
        )
        rows["Rasa server memory before / after them"] = (
            f"{before:.0f} / {after:.0f} MB ({after - before:+.0f} MB)"
        )
        print_table(rows)
    finally:
        servers.stop()


if __name__ == "__main__":
    main()
