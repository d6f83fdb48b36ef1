"""`make bench`: turn latency, throughput, parse latency, cold start and memory.

Starts the real servers on their own ports and a scratch database, replays whole flows
over REST, and prints a table. Figures belong in the README's performance section.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List

from bench.report import percentile, print_table
from bot.servers import Servers
from bot.training import ensure_trained

# Whole flows with the action server and the database in the loop. Each conversation
# uses its own order so repeated runs stay meaningful (read-only flows, cancel declined).
FLOWS: List[List[str]] = [
    ["hi", "where is my order 2345678?", "jane.doe@example.com", "no, that's all", "5"],
    ["I want to cancel order 6789012", "omar.haddad@example.com", "no, keep it"],
    ["my refund for 9012345 hasn't arrived", "mei.chen@example.org", "ok thanks"],
    ["what is your refund policy?", "which payment methods do you take?"],
    ["THIS IS RIDICULOUS, order 4567890 is late again", "omar.haddad@example.com"],
]

# A long message, as a worried customer writes it: the encoder's cost grows with length.
RAMBLING = ("hi there so i ordered a birthday present for my nephew almost two weeks ago "
            "and the website said it would come in 3 to 5 days but nothing has arrived and "
            "his party is on saturday, i have checked the tracking page every day and it "
            "still says label created, could you please tell me what is going on because i "
            "am starting to panic a bit and i really need it before the weekend")


def post(url: str, payload: dict) -> list:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def play(rasa_url: str, flow: List[str]) -> List[float]:
    sender = f"bench-{uuid.uuid4().hex[:10]}"
    times = []
    for text in flow:
        start = time.perf_counter()
        post(f"{rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": text})
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=8, help="sequential passes over FLOWS")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--parses", type=int, default=300)
    args = parser.parse_args()

    model = ensure_trained()
    folder = Path(tempfile.mkdtemp(prefix="heard-bench-"))
    servers = Servers.in_folder(model, folder)
    started = time.perf_counter()
    servers.start()
    try:
        servers.wait_until_ready()
        cold_start = time.perf_counter() - started
        rows: Dict[str, str] = {"cold start (both servers ready)": f"{cold_start:.1f} s"}

        for flow in FLOWS:  # warm-up: first calls load lazily built parts
            play(servers.rasa_url, flow)

        turns: List[float] = []
        for _ in range(args.rounds):
            for flow in FLOWS:
                turns += play(servers.rasa_url, flow)
        rows["REST turn latency p50 (sequential)"] = f"{statistics.median(turns):.0f} ms"
        rows["REST turn latency p95 (sequential)"] = f"{percentile(turns, 0.95):.0f} ms"

        parses = []
        texts = [text for flow in FLOWS for text in flow] + [RAMBLING]
        for i in range(args.parses):
            start = time.perf_counter()
            post(servers.api_url("/model/parse"), {"text": texts[i % len(texts)]})
            parses.append((time.perf_counter() - start) * 1000)
        rows["parse latency p50"] = f"{statistics.median(parses):.0f} ms"
        rows["parse latency p95"] = f"{percentile(parses, 0.95):.0f} ms"

        jobs = [FLOWS[i % len(FLOWS)] for i in range(args.concurrency * 4)]
        lock, concurrent = threading.Lock(), []

        def run(flow):
            times = play(servers.rasa_url, flow)
            with lock:
                concurrent.extend(times)

        start = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(run, jobs))
        elapsed = time.perf_counter() - start
        rows[f"throughput, {args.concurrency} concurrent conversations"] = (
            f"{len(concurrent) / elapsed:.1f} turns/s")
        rows["turn latency p50 / p95 under that load"] = (
            f"{statistics.median(concurrent):.0f} / {percentile(concurrent, 0.95):.0f} ms")
        rasa, actions = servers.processes[1], servers.processes[0]
        rows["memory: Rasa server"] = f"{rss_mb(rasa.pid):.0f} MB"
        rows["memory: action server"] = f"{rss_mb(actions.pid):.0f} MB"
        rows["turns measured (sequential / concurrent)"] = f"{len(turns)} / {len(concurrent)}"
    finally:
        servers.stop()

    print_table(rows)


if __name__ == "__main__":
    main()
