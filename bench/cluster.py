"""`make bench-cluster`: load and faults against a cluster of its own (bot/cluster.py).

Starts PostgreSQL, Redis, nginx, 2 action servers and 2 Rasa replicas in a scratch folder
on free loopback ports, then:
1. reference: each flow once, calmly, for the replies every later copy must get;
2. throughput of one replica (direct) and of two (through nginx), same flows and clients;
3. the fault run: conversations through nginx, double-sends (one message, one id, to both
   replicas at once) and simultaneous turns (two messages of one conversation at once),
   while one Rasa replica and then one action server are killed with SIGKILL (the
   supervisor starts them again) and Redis is restarted;
4. a rolling restart of both replicas under load.
Then it reads the tracker store: a message acknowledged but not stored is lost, one stored
twice is duplicated, and a turn whose replies differ from the reference is wrong. A client
retries a failed turn with the same message id, as the widget does; each failed attempt is
a customer-visible error. Every loop is bounded in count and time; traffic stays on
loopback. `--quick` is the short version CI runs (tests/test_cluster.py).
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import os
import secrets
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import sqlalchemy as sa

from bench.report import Target, percentile, print_table, print_targets
from bench.turns import FLOWS
from bot.cluster import Cluster
from bot.servers import free_port
from bot.supervisor import supervise
from bot.topology import TRACKER_DB, Topology
from rasa_seam.tracker_events import EVENTS

TOGETHER = ("what is your refund policy?", "which payment methods do you take?")
ATTEMPTS = 5  # per turn, the client's retries included
REQUEST_TIMEOUT = 60.0
FULL = {"seconds": 60, "turns": 10_000, "clients": 20, "rolling_clients": 10}
QUICK = {"seconds": 10, "turns": 600, "clients": 8, "rolling_clients": 4}
_ids = itertools.count()


@dataclass
class Turn:
    sender: str
    message_id: str
    text: str
    started: float
    seconds: Optional[float] = None  # None: never answered
    errors: List[Tuple[float, str]] = field(default_factory=list)  # (when, what)
    replies: List[str] = field(default_factory=list)
    copies: List[List[str]] = field(default_factory=list)  # a double-send's two answers


@dataclass
class Conversation:
    kind: str  # "flow", "double" or "together"
    flow: int  # index in FLOWS (-1 for "together")
    sender: str
    turns: List[Turn] = field(default_factory=list)


def post(url: str, sender: str, text: str, message_id: str) -> List[str]:
    """One attempt; the reply's texts, or an exception saying what went wrong."""
    body = json.dumps({"sender": sender, "message": text, "message_id": message_id}).encode()
    request = urllib.request.Request(
        f"{url}/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
        messages = json.load(response)
    if any(isinstance(m.get("custom"), dict) and m["custom"].get("heard_error") for m in messages):
        raise RuntimeError("heard_error")  # Heard's apology: it could not answer
    return [m.get("text", "") for m in messages]


def _failure(error: Exception) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code}"
    if isinstance(error, urllib.error.URLError):
        return "refused" if isinstance(error.reason, ConnectionRefusedError) else "network"
    return type(error).__name__ if not isinstance(error, RuntimeError) else str(error)


def _send(urls: List[str], sender: str, text: str, message_id: str) -> List[object]:
    """One attempt at each url, all at once: each one's reply texts or its exception."""
    results: List[object] = [None] * len(urls)

    def send(i: int) -> None:
        try:
            results[i] = post(urls[i], sender, text, message_id)
        except Exception as error:  # every failure is counted
            results[i] = error

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(urls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(REQUEST_TIMEOUT + 5)
    return results


def turn(first: List[str], retry: str, sender: str, text: str, deadline: float) -> Turn:
    """One customer message until it is answered: to every url in `first` at once (two
    for a double-send), then after each failed attempt to `retry`, with the same id. An
    attempt that got no answer at all is an error the customer sees."""
    record = Turn(sender, f"m{next(_ids)}-{secrets.token_hex(3)}", text, time.monotonic())
    targets = first
    for _ in range(ATTEMPTS):
        results = _send(targets, sender, text, record.message_id)
        answers = [r for r in results if isinstance(r, list)]
        if answers:
            record.seconds = time.monotonic() - record.started
            record.replies, record.copies = answers[0], answers
            return record
        record.errors.append((time.monotonic(), _failure(results[0])))
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
        targets = [retry]
    return record


def play(conversation: Conversation, first: List[str], retry: str, deadline: float) -> Conversation:
    if conversation.kind == "together":  # two messages at once, to any replica
        with ThreadPoolExecutor(2) as pool:
            conversation.turns = list(
                pool.map(
                    lambda text: turn(first, retry, conversation.sender, text, deadline), TOGETHER
                )
            )
        return conversation
    for text in FLOWS[conversation.flow]:
        done = turn(first, retry, conversation.sender, text, deadline)
        conversation.turns.append(done)
        if done.seconds is None:
            break  # a customer who got no answer after every retry gives up
    return conversation


class Load:
    """Clients playing conversations until a number of turns or a time is reached."""

    def __init__(self, make: Callable[[int], Tuple[Conversation, List[str]]], retry: str):
        self.make, self.retry = make, retry
        self.conversations: List[Conversation] = []
        self.turns = 0
        self._lock = threading.Lock()
        self._count = itertools.count()

    def run(self, clients: int, stop: Callable[[], bool], deadline: float) -> float:
        started = time.monotonic()

        def client() -> None:
            while not stop() and time.monotonic() < deadline:
                conversation, urls = self.make(next(self._count))
                play(conversation, urls, self.retry, deadline)
                with self._lock:
                    self.conversations.append(conversation)
                    self.turns += len(conversation.turns)

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(1.0, deadline - time.monotonic() + REQUEST_TIMEOUT * ATTEMPTS))
        return time.monotonic() - started

    def all_turns(self) -> List[Turn]:
        return [t for c in self.conversations for t in c.turns]


def stored(
    engine: sa.engine.Engine, senders: List[str]
) -> Dict[str, List[Tuple[str, List[str], List[str]]]]:
    """Per conversation, each stored customer message (its id) with the responses after it,
    and what else happened (its intent, the actions and slots), to explain a wrong one."""
    found: Dict[str, List[Tuple[str, List[str], List[str]]]] = {}
    for start in range(0, len(senders), 500):
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(EVENTS.c.sender_id, EVENTS.c.type_name, EVENTS.c.data)
                .where(
                    EVENTS.c.sender_id.in_(senders[start : start + 500]),
                    EVENTS.c.type_name.in_(("user", "bot", "action", "slot")),
                )
                .order_by(EVENTS.c.id)
            ).fetchall()
        for sender, kind, data in rows:
            event = json.loads(data)
            turns = found.setdefault(sender, [])
            if kind == "user":
                parsed = event.get("parse_data") or {}
                turns.append(
                    (
                        parsed.get("message_id") or event.get("message_id"),
                        [],
                        [(parsed.get("intent") or {}).get("name") or "?"],
                    )
                )
            elif turns and kind == "bot":
                turns[-1][1].append((event.get("metadata") or {}).get("utter_action") or "text")
            elif turns:
                turns[-1][2].append(
                    event.get("name")
                    if kind == "action"
                    else f"{event.get('name')}={event.get('value')}"
                )
    return found


@dataclass
class Verdict:
    lost: int = 0
    duplicated: int = 0
    wrong: int = 0
    unanswered: int = 0
    examples: List[str] = field(default_factory=list)

    def note(self, what: str) -> None:
        if len(self.examples) < 5:
            self.examples.append(what)


def check(
    conversations: List[Conversation],
    reference: Dict[str, List[List[str]]],
    engine: sa.engine.Engine,
) -> Verdict:
    """Lost, duplicated and wrong turns, from the tracker store."""
    verdict = Verdict()
    store = stored(engine, [c.sender for c in conversations])
    for conversation in conversations:
        kept = store.get(conversation.sender, [])
        ids = [message_id for message_id, _, _ in kept]
        names = {message_id: responses for message_id, responses, _ in kept}
        steps = {message_id: what for message_id, _, what in kept}
        for index, done in enumerate(conversation.turns):
            count = ids.count(done.message_id)
            if done.seconds is None:
                verdict.unanswered += 1
                verdict.duplicated += max(0, count - 1)
                continue
            if count == 0:
                verdict.lost += 1
                verdict.note(f"lost: {conversation.sender} {done.text!r}")
                continue
            verdict.duplicated += count - 1
            if conversation.kind == "together":
                expected = reference.get(f"together:{done.text}", [])
                right = names[done.message_id] in expected
            else:
                right = names[done.message_id] == reference[f"flow:{conversation.flow}"][index]
                right = right and all(copy == done.copies[0] for copy in done.copies)
            if not right:
                verdict.wrong += 1
                verdict.note(
                    f"wrong: {conversation.sender} {done.text[:20]!r} -> "
                    f"{names[done.message_id]} (errors {done.errors}; "
                    f"{steps[done.message_id]}; before: "
                    f"{steps.get(ids[ids.index(done.message_id) - 1]) if index else ''})"
                )
    return verdict


def references(url: str, engine: sa.engine.Engine, deadline: float) -> Dict[str, List]:
    """What each flow's turns answer, played with nothing else going on: twice, and the
    second is the reference, since the first may open a case that every later copy of the
    flow then finds open (one open case per problem)."""
    for i in range(len(FLOWS)):
        play(Conversation("flow", i, f"ref-first-{i}"), [url], url, deadline)
    calm = [Conversation("flow", i, f"ref-flow-{i}") for i in range(len(FLOWS))]
    for conversation in calm:
        play(conversation, [url], url, deadline)
    pairs = []
    for order in (TOGETHER, TOGETHER[::-1]):  # the two messages in either order
        sender = f"ref-together-{len(pairs)}"
        pairs.append(sender)
        for text in order:
            turn([url], url, sender, text, deadline)
    store = stored(engine, [c.sender for c in calm] + pairs)
    result: Dict[str, List] = {f"flow:{c.flow}": [r for _, r, _ in store[c.sender]] for c in calm}
    for text in TOGETHER:
        result[f"together:{text}"] = []
    for sender, order in zip(pairs, (TOGETHER, TOGETHER[::-1])):
        for text, (_, responses, _) in zip(order, store[sender]):
            result[f"together:{text}"].append(responses)
    if any(len(result[f"flow:{c.flow}"]) != len(FLOWS[c.flow]) for c in calm):
        raise RuntimeError("the reference conversations were not all stored")
    return result


def mix(cluster: Cluster, prefix: str) -> Callable[[int], Tuple[Conversation, List[str]]]:
    """70 % flows through nginx, 15 % double-sends to both replicas, 15 % simultaneous."""
    topology = cluster.topology
    direct = [topology.rasa_url(i) for i in range(topology.replicas)]

    def make(n: int) -> Tuple[Conversation, List[str]]:
        sender = f"{prefix}-{n}"
        if n % 20 in (3, 10, 17):
            return Conversation("double", n % len(FLOWS), sender), direct
        if n % 20 in (6, 13, 19):
            return Conversation("together", -1, sender), [topology.public_url]
        return Conversation("flow", n % len(FLOWS), sender), [topology.public_url]

    return make


@dataclass
class Window:
    name: str
    start: float
    end: float = 0.0


def errors_in(turns: List[Turn], window: Window) -> Tuple[int, int, int]:
    """(turns begun in the window, customer-visible errors, refused requests) in it."""
    begun = sum(window.start <= t.started <= window.end for t in turns)
    errors = [what for t in turns for when, what in t.errors if window.start <= when <= window.end]
    refused = sum(what in ("refused", "HTTP 502", "HTTP 503", "HTTP 504") for what in errors)
    return begun, len(errors), refused


def faults(
    cluster: Cluster, load: Load, total: int, windows: List[Window], deadline: float
) -> None:
    """At 20 %, 40 % and 60 % of the turns: kill -9 of an action server, a Redis restart,
    kill -9 of a Rasa replica; each window lasts until the victim is ready again."""
    plan = [
        (0.20, "kill -9 actions-1", lambda: cluster.kill("actions-1"), "actions-1"),
        (0.40, "Redis restart", cluster.restart_redis, None),
        (0.60, "kill -9 rasa-1", lambda: cluster.kill("rasa-1"), "rasa-1"),
    ]
    for share, name, act, victim in plan:
        while load.turns < share * total and time.monotonic() < deadline:
            time.sleep(0.2)
        window = Window(name, time.monotonic())
        act()
        time.sleep(2)  # the supervisor's first restart comes after 1 s
        if victim:
            cluster.wait_ready(victim, timeout=max(10.0, deadline - time.monotonic()))
        window.end = time.monotonic() + 2
        windows.append(window)


def throughput(
    cluster: Cluster, urls: List[str], prefix: str, clients: int, seconds: float
) -> Tuple[float, List[Turn]]:
    load = Load(lambda n: (Conversation("flow", n % len(FLOWS), f"{prefix}-{n}"), urls), urls[0])
    stop_at = time.monotonic() + seconds
    elapsed = load.run(clients, lambda: time.monotonic() > stop_at, stop_at + 120)
    turns = [t for t in load.all_turns() if t.seconds is not None]
    return len(turns) / elapsed, turns


COMPONENTS = {
    "Rasa replicas": "bot.rasa_main",
    "action servers": "-m\0actions",
    "PostgreSQL": "postgres",
    "Redis": "redis-server",
    "nginx": "nginx",
}


def cpu_seconds() -> Dict[str, float]:
    """CPU time so far of every process of each component on this machine (from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    totals = dict.fromkeys(COMPONENTS, 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended meanwhile
        for name, mark in COMPONENTS.items():
            if mark in command:
                totals[name] += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
                break
    return totals


def millis(turns: List[Turn], q: float) -> str:
    times = [t.seconds for t in turns if t.seconds is not None]
    return f"{percentile(times, q) * 1000:.0f} ms" if times else "n/a"


def run(
    cluster: Cluster, sizes: Dict[str, int], rows: Dict[str, str], throughput_phase: bool = True
) -> Dict[str, object]:
    """Every phase against a started cluster; fills `rows`, returns the figures."""
    topology = cluster.topology
    engine = sa.create_engine(f"postgresql://heard@127.0.0.1:{topology.postgres_port}/{TRACKER_DB}")
    deadline = time.monotonic() + 3600
    stopped = threading.Event()
    supervisor = threading.Thread(
        target=supervise,
        args=(cluster.servers, stopped),
        kwargs={"log": lambda line: None},
        daemon=True,
    )
    supervisor.start()
    try:
        reference = references(topology.public_url, engine, deadline)
        figures: Dict[str, object] = {}
        if throughput_phase:
            one, one_turns = throughput(
                cluster, [topology.rasa_url(0)], "one", sizes["clients"], sizes["seconds"]
            )
            before = cpu_seconds()
            two, two_turns = throughput(
                cluster, [topology.public_url], "two", sizes["clients"], sizes["seconds"]
            )
            spent = {k: v - before[k] for k, v in cpu_seconds().items()}
            cores = os.cpu_count() or 1
            figures.update(one=one, two=two)
            rows[f"1 replica, direct, {sizes['clients']} clients"] = (
                f"{one:.1f} turns/s ({one / cores:.1f} per core), p50/p95/p99 "
                f"{millis(one_turns, 0.5)} / {millis(one_turns, 0.95)} / {millis(one_turns, 0.99)}"
            )
            rows[f"2 replicas through nginx, {sizes['clients']} clients"] = (
                f"{two:.1f} turns/s ({two / cores:.1f} per core), p50/p95/p99 "
                f"{millis(two_turns, 0.5)} / {millis(two_turns, 0.95)} / {millis(two_turns, 0.99)}"
            )
            rows["  CPU per turn at 2 replicas"] = ", ".join(
                f"{name} {1000 * seconds / max(1, len(two_turns)):.1f} ms"
                for name, seconds in spent.items()
            )

        load, windows = Load(mix(cluster, "fault"), topology.public_url), []
        injector = threading.Thread(
            target=faults, args=(cluster, load, sizes["turns"], windows, deadline)
        )
        injector.start()
        elapsed = load.run(sizes["clients"], lambda: load.turns >= sizes["turns"], deadline)
        injector.join(timeout=600)
        turns = load.all_turns()
        verdict = check(load.conversations, reference, engine)
        answered = [t for t in turns if t.seconds is not None]
        errors = sum(len(t.errors) for t in turns)
        rows[f"fault run: turns ({len(load.conversations)} conversations)"] = (
            f"{len(turns)} in {elapsed:.0f} s, {len(answered) / elapsed:.1f} turns/s"
        )
        rows["  latency p50 / p95 / p99"] = " / ".join(millis(turns, q) for q in (0.5, 0.95, 0.99))
        rows["  lost / duplicated events"] = f"{verdict.lost} / {verdict.duplicated}"
        rows["  wrong replies"] = str(verdict.wrong)
        rows["  never answered (after 5 tries)"] = str(verdict.unanswered)
        rows["  customer-visible errors (attempts)"] = (
            f"{errors} ({errors / max(1, len(turns)):.2%} of turns)"
        )
        kinds = collections.Counter(what for t in turns for _, what in t.errors)
        rows["  fault run's errors by kind"] = (
            ", ".join(f"{k}: {n}" for k, n in kinds.items()) or "none"
        )
        for example in verdict.examples:
            rows[f"    {example}"] = ""
        worst = 0.0
        refused_total = 0
        for window in windows:
            begun, failed, refused = errors_in(turns, window)
            refused_total += refused
            if window.name.startswith("kill -9 rasa"):
                worst = max(worst, failed / max(1, begun))
            rows[f"  {window.name}: {window.end - window.start:.0f} s"] = (
                f"{begun} turns begun, {failed} errors, {refused} refused"
            )

        rolling = Load(mix(cluster, "rolling"), topology.public_url)
        done = threading.Event()
        window = Window("rolling restart", time.monotonic())
        restarter = threading.Thread(target=lambda: (cluster.rolling_restart(), done.set()))
        restarter.start()
        rolling.run(sizes["rolling_clients"], done.is_set, deadline)
        restarter.join(timeout=600)
        window.end = time.monotonic()
        rolling_turns = rolling.all_turns()
        begun, failed, refused = errors_in(rolling_turns, window)
        rolling_verdict = check(rolling.conversations, reference, engine)
        rows[f"rolling restart: {window.end - window.start:.0f} s"] = (
            f"{begun} turns, {failed} errors, {refused} refused; lost/duplicated/wrong "
            f"{rolling_verdict.lost}/{rolling_verdict.duplicated}/{rolling_verdict.wrong}"
        )
        kinds = collections.Counter(what for t in rolling_turns for _, what in t.errors)
        rows["  rolling restart's errors by kind"] = (
            ", ".join(f"{k}: {n}" for k, n in kinds.items()) or "none"
        )
        figures.update(
            turns=len(turns),
            verdict=verdict,
            rolling=rolling_verdict,
            refused=refused_total + refused,
            worst=worst,
            rolling_failed=failed / max(1, begun),
        )
        return figures
    finally:
        stopped.set()
        supervisor.join(timeout=10)
        engine.dispose()


def targets(figures: Dict[str, object], turns_wanted: int) -> List[Target]:
    verdict, rolling = figures["verdict"], figures["rolling"]
    found = [
        Target(
            f"fault run covers >= {turns_wanted} turns",
            figures["turns"],
            turns_wanted,
            "turns",
            at_least=True,
        ),
        Target(
            "lost + duplicated events",
            verdict.lost + verdict.duplicated + rolling.lost + rolling.duplicated,
            0,
            "events",
        ),
        Target("wrong replies", verdict.wrong + rolling.wrong, 0, "replies"),
        Target("refused requests (kills, rolling restart)", figures["refused"], 0, "requests"),
        Target("errors in a replica's failover window", 100 * figures["worst"], 1, "%", 2),
        Target("errors during the rolling restart", 100 * figures["rolling_failed"], 1, "%", 2),
    ]
    if "two" in figures:
        found.append(
            Target(
                "2 replicas' throughput vs 1 replica",
                figures["two"],
                figures["one"],
                "turns/s",
                1,
                at_least=True,
            )
        )
    return found


def topology_in(folder: Path, model: Path) -> Topology:
    return Topology(
        folder=folder,
        model=model,
        api_token=secrets.token_urlsafe(24),
        public_port=free_port(),
        actions_port=free_port(),
        rasa_ports=[free_port(), free_port()],
        action_ports=[free_port(), free_port()],
        postgres_port=free_port(),
        redis_port=free_port(),
    )


def main() -> None:
    from bot.training import ensure_trained

    parser = argparse.ArgumentParser(
        prog="python -m bench.cluster",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="the short version (CI)")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="heard-cluster-") as folder:
        cluster = Cluster(topology_in(Path(folder), ensure_trained()), log=lambda line: None)
        print("starting the cluster ...", flush=True)
        cluster.start()
        try:
            rows: Dict[str, str] = {}
            figures = run(cluster, sizes, rows)
        finally:
            cluster.stop()
    print_table(rows)
    print_targets(targets(figures, sizes["turns"]))


if __name__ == "__main__":
    main()
