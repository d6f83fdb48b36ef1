"""`make bench`: turn latency (sequential, and by position in long conversations),
action-server calls and bytes per turn, throughput under concurrent conversations, parse
latency, cold start and memory; then the targets, each with its verdict.

Starts the real servers on their own ports and a scratch database, replays conversations
over REST, and prints two tables. Figures belong in the README's performance section.
`--quick` shortens every phase: a check that it all runs, not figures to quote.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Optional

from bench.action_counter import CountingProxy, call_sizes, calls_per_turn
from bench.conversation_play import Effects, effects
from bench.conversation_play import rows as shop_rows
from bench.long_conversation import (
    chatty_script,
    play,
    slope_per_100_turns,
    window_ends,
    window_p50,
)
from bench.report import Target, percentile, print_table, print_targets
from bot.servers import Servers
from bot.training import ensure_trained
from store.repository import Repository

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
RAMBLING = (
    "hi there so i ordered a birthday present for my nephew almost two weeks ago "
    "and the website said it would come in 3 to 5 days but nothing has arrived and "
    "his party is on saturday, i have checked the tracking page every day and it "
    "still says label created, could you please tell me what is going on because i "
    "am starting to panic a bit and i really need it before the weekend"
)

FULL = {"turns": 400, "conversations": 3, "rounds": 8, "parses": 300, "flows_per_thread": 4}
QUICK = {"turns": 60, "conversations": 1, "rounds": 2, "parses": 50, "flows_per_thread": 1}
KB = 1000  # bytes


def post(url: str, payload: dict) -> list:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
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


def millis(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.0f} ms"


def turns_label(end: int) -> str:
    return f"turns {max(1, end - 9)}-{end}"


def by_position(
    servers: Servers, args: argparse.Namespace, stop_at: float, rows: Dict[str, str]
) -> dict:
    """Long conversations one after another, each a new customer: latency by turn."""
    repo = Repository.from_url(servers.database_url)
    before = shop_rows(repo)
    conversations = [
        play(servers.rasa_url, chatty_script(args.turns, seed), stop_at)
        for seed in range(args.conversations)
    ]
    reached = max(map(len, conversations), default=0)
    name = f"long conversations ({args.conversations} x {args.turns} turns, sequential)"
    rows[name] = f"{reached} turns reached"
    firsts = [c[0] for c in conversations if c and c[0] is not None]
    rows[f"  turn 1 latency, p50 over {len(firsts)} conversation(s)"] = millis(
        statistics.median(firsts) if firsts else None
    )
    windows = {end: window_p50(conversations, end) for end in window_ends(reached)}
    for end, p50 in windows.items():
        rows[f"  p50 over {turns_label(end)} of every conversation (10 turns each)"] = millis(p50)
    slope = slope_per_100_turns(conversations)
    rows["  latency slope, least squares over all turns"] = (
        "n/a" if slope is None else f"{slope:+.0f} ms per 100 turns"
    )
    changed = effects(before, shop_rows(repo))
    rows["  shop changes made by them (expected: none)"] = (
        "none" if changed == Effects() else str(changed)
    )
    return {
        "first": windows.get(10),
        "last": windows.get(reached),
        "reached": reached,
        "played": [t for c in conversations for t in c],
    }


def throughput(
    rasa_url: str, concurrency: int, flows_per_thread: int, stop_at: float, rows: Dict[str, str]
) -> dict:
    jobs = [FLOWS[i % len(FLOWS)] for i in range(concurrency * flows_per_thread)]
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        played = [t for flow in pool.map(lambda f: play(rasa_url, f, stop_at), jobs) for t in flow]
    elapsed = time.perf_counter() - start
    times = [t for t in played if t is not None]
    figures = {
        "rate": len(times) / elapsed,
        "played": played,
        "p95": percentile(times, 0.95) if times else None,
    }
    rows[f"throughput, {concurrency} concurrent conversations ({len(times)} turns)"] = (
        f"{figures['rate']:.1f} turns/s"
    )
    rows[f"  turn latency p50 / p95 / p99 at {concurrency} concurrent"] = " / ".join(
        millis(percentile(times, q) if times else None) for q in (0.5, 0.95, 0.99)
    )
    return figures


def point_rasa_at(servers: Servers, port: int) -> None:
    """Restarts the Rasa server with its action endpoint on `port` instead."""
    text = servers.endpoints.read_text()
    url = f"http://localhost:{servers.action_port}/webhook"
    if url not in text:
        raise RuntimeError(f"no {url} in {servers.endpoints} to point elsewhere")
    servers.endpoints.write_text(text.replace(url, f"http://localhost:{port}/webhook"))
    servers.restart("rasa")
    servers.wait_until_ready()


def action_calls(servers: Servers, turns: int, stop_at: float, rows: Dict[str, str]) -> dict:
    """Action-server calls and their bytes per user turn, through a counting proxy: a phase
    of its own, so the proxy's cost is in no latency figure."""
    with CountingProxy(servers.action_port) as proxy:
        point_rasa_at(servers, proxy.port)
        played = [
            t
            for flow in FLOWS
            for t in play(servers.rasa_url, flow, stop_at, before_turn=proxy.begin_turn)
        ]
        flows = list(proxy.turns)
        played += play(
            servers.rasa_url, chatty_script(turns, 0), stop_at, before_turn=proxy.begin_turn
        )
        long = proxy.turns[len(flows) :]
    per_turn = calls_per_turn(flows)
    rows[f"action calls per user turn, FLOWS ({len(flows)} turns)"] = (
        "n/a" if per_turn is None else f"{per_turn:.2f}"
    )
    per_turn_long = calls_per_turn(long)
    rows[f"action calls per user turn, a {len(long)}-turn conversation"] = (
        "n/a" if per_turn_long is None else f"{per_turn_long:.2f}"
    )
    largest = None
    for end in window_ends(len(long)):
        sizes = call_sizes(long, end)
        largest = max(sizes) / KB if sizes else None
        rows[f"  action-call bytes at {turns_label(end)}: per call mean / max, per turn"] = (
            f"{statistics.mean(sizes) / KB:.1f} / {largest:.1f} KB, "
            f"{sum(sizes) / KB / min(end, 10):.1f} KB"
            if sizes
            else "n/a"
        )
    return {"per_turn": per_turn, "largest": largest, "reached": len(long), "played": played}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, help="this model, not the trained current one")
    parser.add_argument("--quick", action="store_true", help=f"defaults {QUICK}, not {FULL}")
    parser.add_argument("--turns", type=int, help="turns of each long conversation")
    parser.add_argument("--conversations", type=int, help="long conversations for latency")
    parser.add_argument("--rounds", type=int, help="sequential passes over FLOWS")
    parser.add_argument("--parses", type=int)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[20, 50])
    parser.add_argument("--flows-per-thread", type=int)
    parser.add_argument(
        "--max-minutes",
        type=float,
        default=45,
        help="no turn starts after this; unplayed figures read n/a",
    )
    args = parser.parse_args()
    for name, value in (QUICK if args.quick else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)

    model = args.model or ensure_trained()
    stop_at = time.monotonic() + args.max_minutes * 60
    folder = Path(tempfile.mkdtemp(prefix="heard-bench-"))
    servers = Servers.in_folder(model, folder)
    started = time.perf_counter()
    servers.start()
    played: List[Optional[float]] = []  # every turn; None: no reply
    loads: Dict[int, dict] = {}
    try:
        servers.wait_until_ready()
        cold_start = time.perf_counter() - started
        rows: Dict[str, str] = {
            "cold start (both servers ready)": f"{cold_start:.1f} s",
            "load average (1 min) when ready": f"{os.getloadavg()[0]:.2f}",
        }

        for flow in FLOWS:  # warm-up: first calls load lazily built parts
            play(servers.rasa_url, flow, stop_at)

        turns = [
            t
            for _ in range(args.rounds)
            for flow in FLOWS
            for t in play(servers.rasa_url, flow, stop_at)
        ]
        played += turns
        turns = [t for t in turns if t is not None]
        rows[f"REST turn latency p50 (sequential, FLOWS, {len(turns)} turns)"] = millis(
            statistics.median(turns) if turns else None
        )
        rows[f"REST turn latency p95 (sequential, FLOWS, {len(turns)} turns)"] = millis(
            percentile(turns, 0.95) if turns else None
        )

        parses = []
        texts = [text for flow in FLOWS for text in flow] + [RAMBLING]
        for i in range(args.parses):
            start = time.perf_counter()
            post(servers.api_url("/model/parse"), {"text": texts[i % len(texts)]})
            parses.append((time.perf_counter() - start) * 1000)
        rows["parse latency p50"] = f"{statistics.median(parses):.0f} ms"
        rows["parse latency p95"] = f"{percentile(parses, 0.95):.0f} ms"

        position = by_position(servers, args, stop_at, rows)
        played += position["played"]
        for concurrency in args.concurrency:
            loads[concurrency] = throughput(
                servers.rasa_url, concurrency, args.flows_per_thread, stop_at, rows
            )
            played += loads[concurrency]["played"]

        rasa, actions = servers.by_name["rasa"], servers.by_name["actions"]
        rows["memory: Rasa server"] = f"{rss_mb(rasa.pid):.0f} MB"
        rows["memory: action server"] = f"{rss_mb(actions.pid):.0f} MB"

        calls = action_calls(servers, args.turns, stop_at, rows)
        played += calls["played"]
        rows["turns without a reply (timeout or HTTP error), all phases"] = (
            f"{played.count(None)} of {len(played)}"
        )
        if time.monotonic() > stop_at:
            rows["stopped early"] = f"the {args.max_minutes:g}-minute limit was reached"
    finally:
        servers.stop()

    print_table(rows)
    first, last = position["first"], position["last"]
    busiest = loads.get(50, {})
    print_targets(
        [
            Target(
                f"p50 at {turns_label(position['reached'])} within 20 % of turns 1-10",
                last,
                None if first is None else 1.2 * first,
                "ms",
            ),
            Target(f"p50 at {turns_label(position['reached'])}, sequential", last, 60, "ms"),
            Target("action calls per user turn, FLOWS", calls["per_turn"], 1.0, "calls", 2),
            Target(
                f"largest action call at {turns_label(calls['reached'])}",
                calls["largest"],
                100,
                "KB",
                1,
            ),
            Target(
                "throughput, 50 concurrent conversations",
                busiest.get("rate"),
                40,
                "turns/s",
                1,
                at_least=True,
            ),
            Target("turn latency p95, 50 concurrent conversations", busiest.get("p95"), 1500, "ms"),
        ]
    )


if __name__ == "__main__":
    main()
