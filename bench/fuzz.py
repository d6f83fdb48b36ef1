"""`make fuzz`: thousands of malformed inputs against Heard's real servers.

Starts its own servers (scratch databases, free ports, loopback only) and sends seeded
random bad input to every surface that takes input from outside: the REST webhook, Rasa's
`/model/parse`, the agent console's API, the Twilio webhooks and socket.io. Meanwhile a
second client says "hi" on its own conversation every second. Prints, per surface and
kind of input, the answers seen, and exits 1 on any 5xx, silent `200 []` from the REST
webhook, request left unanswered, shop database change, or a server that stops answering.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import random
import select
import string
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ContextManager, Dict, List, Optional, Tuple
from urllib.parse import quote, urlencode, urlsplit

import aiohttp
import socketio  # python-socketio, installed with Rasa

from bench.report import percentile
from bot.servers import Servers
from store import models as m
from store.repository import Repository

TABLES = (
    m.Customer,
    m.Order,
    m.Refund,
    m.Ticket,
    m.Handoff,
    m.AccountAction,
    m.Voucher,
    m.OutboundEmail,
    m.NewsletterSubscription,
    m.Feedback,
    m.Payment,
)


def snapshot(repo: Repository) -> Dict[str, int]:
    """Row counts of the shop database: no input from outside may change them on its own."""
    return {table.__tablename__: repo.count(table) for table in TABLES}


# --- generated input ----------------------------------------------------------------------


@dataclass
class Probe:
    """One bad input: an HTTP request, or a socket.io event (`event`, `data`, sent in the
    widget session `session` when there is one)."""

    surface: str
    kind: str
    path: str = ""
    body: bytes = b""
    headers: Dict[str, str] = field(default_factory=dict)
    method: str = "POST"
    event: str = ""
    data: Any = None
    session: str = ""

    @property
    def huge(self) -> bool:
        return len(self.body) >= 1_000_000 or len(str(self.data)) >= 1_000_000


WORD = string.ascii_letters + string.digits + "_"
SPACES = " \t\n\r\x0b\x0c\u00a0\u1680\u2003\u2028\u2029\u202f\u3000\u200b\ufeff"
UNICODE = [
    "é",
    "ß",
    "中",
    "文",
    "😡",
    "🤬",
    "👍🏽",
    "\u202e",
    "\u200d",
    "\u0301",
    "\ufeff",
    "\ufffd",
    "👨\u200d👩",
    "مرحبا",
    "नमस्ते",
    "\U0010ffff",
    "\ud800",
    "\udc80",
]
CONTROL = [chr(c) for c in [*range(32), 127, *range(0x80, 0xA0)]]
TEMPLATE = [
    ("{{ ", " }}"),
    ("{% raw %}", "{% endraw %}"),
    ("${", "}"),
    ("{", "}"),
    ("[", "](order_number)"),
    ("<%= ", " %>"),
    ("{%", "%}"),
]
# Not contact_human_agent and the like: asking for a person lawfully creates a handoff.
INTENTS = [
    "greet",
    "affirm",
    "deny",
    "track_order",
    "cancel_order",
    "get_refund",
    "inform",
    "out_of_scope",
    "nlu_fallback",
    "no_such_intent",
    "",
    "/",
    "greet/greet",
]


def length(rng: random.Random) -> int:
    """Short, about the 2,000-character limit, or far over it."""
    return rng.choice([rng.randint(1, 200), rng.randint(1_990, 2_010), rng.randint(2_000, 100_000)])


def nested_template(rng: random.Random, n: int) -> str:
    opens, closes, size = [], [], 0
    while size < n:
        opening, closing = rng.choice(TEMPLATE)
        opens.append(opening)
        closes.append(closing)
        size += len(opening) + len(closing)
    return "".join(opens) + "7*7" + "".join(reversed(closes))


def intent_shortcut(rng: random.Random, n: int) -> str:
    intent = "/" + rng.choice(INTENTS)
    depth = max(1, n // 6)
    # Unknown order numbers and addresses only: a real one could lawfully change data.
    return intent + rng.choice(
        [
            "",
            f'{{"order_number": "{rng.randint(0, 10**12)}", "email": "x@example.invalid"}}',
            f'{{"order_number": "{"9" * n}"}}',
            '{"a":' * depth + "1" + "}" * depth,
            "{" * depth,
            f"@{rng.choice(['0.5', 'nan', '-1', '1e309', 'x'])}",
            '{"entity": ' + json.dumps(rng.choice(UNICODE) * n) + "}",
        ]
    )


# Pathological message texts, each given a random generator and a length.
SHAPES: Dict[str, Callable[[random.Random, int], str]] = {
    "word run": lambda rng, n: rng.choice(["a" * n, "1" * n, "".join(rng.choices(WORD, k=n))]),
    "a@ repeated": lambda rng, n: ("a@" * n)[:n],
    "a. repeated": lambda rng, n: ("a." * n)[:n],
    "whitespace": lambda rng, n: "".join(rng.choices(SPACES, k=n)),
    "unicode": lambda rng, n: "".join(rng.choices(UNICODE, k=n)),
    "control characters": lambda rng, n: "".join(rng.choices(CONTROL + ["hi "], k=n)),
    "template syntax": nested_template,
    "/intent shortcut": intent_shortcut,
}
NOT_STRINGS = [42, 1.5, -1, [], ["hi"], {}, {"text": "hi"}, None, True]
NOT_JSON = [
    b"hello",
    b"{",
    b'{"sender": "x", "message": ',
    b"sender=me&message=hi",
    b"\x00" * 16,
    b"[1, 2,",
    b"{'sender': 'x'}",
    b"NaN",
    b'{"a": 1}{"b": 2}',
]
NOT_OBJECTS = [[], ["hi"], "hi", 42, 3.5, None, True]
BAD_UTF8 = [
    b"\xff",
    b"\xc3\x28",
    b"\xe2\x82",
    b"\xed\xa0\x80",
    b"\xf8\x88\x80\x80\x80",
    b"\xc0\xaf",
    b"\x80",
]
OTHER_TYPES = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/xml",
    "multipart/form-data; boundary=x",
    "application/json; charset=utf-16",
    "",
]


Bodies = Dict[str, Callable[[], Tuple[bytes, Dict[str, str]]]]  # kind -> body, headers


def as_json(value: Any, content_type: str = "application/json") -> Tuple[bytes, Dict[str, str]]:
    return json.dumps(value).encode(), {"Content-Type": content_type}


def huge_body(rng: random.Random, key: str) -> bytes:
    size = rng.randint(1_000_000, 2_000_000)
    return rng.choice(
        [
            json.dumps({"sender": "fuzz-huge", key: "a" * size}).encode(),
            bytes(rng.getrandbits(8) for _ in range(1024)) * (size // 1024),
        ]
    )


def text_bodies(rng: random.Random, key: str, extra: Dict[str, Any]) -> Bodies:
    """Body builders shared by the REST webhook (`message`) and `/model/parse` (`text`)."""
    bodies = {
        "empty body": lambda: (b"", {"Content-Type": "application/json"}),
        "not JSON": lambda: (rng.choice(NOT_JSON), {"Content-Type": "application/json"}),
        "JSON not an object": lambda: as_json(rng.choice(NOT_OBJECTS)),
        f"{key} missing": lambda: as_json(extra),
        f"{key} not a string": lambda: as_json({**extra, key: rng.choice(NOT_STRINGS)}),
        "wrong Content-Type": lambda: as_json({**extra, key: "hi"}, rng.choice(OTHER_TYPES)),
        "huge body (1-2 MB)": lambda: (huge_body(rng, key), {"Content-Type": "application/json"}),
        "invalid UTF-8": lambda: (
            json.dumps({**extra, key: "hi "}).encode()[:-2] + rng.choice(BAD_UTF8) + b'"}',
            {"Content-Type": "application/json"},
        ),
    }
    for shape, make in SHAPES.items():
        bodies[f"{key}: {shape}"] = lambda make=make: as_json(
            {**extra, key: make(rng, length(rng))}
        )
    return bodies


def rest_probes(rng: random.Random, sender: str) -> Bodies:
    bodies = text_bodies(rng, "message", {"sender": sender})
    bodies.update(
        {
            "sender missing": lambda: as_json({"message": "hi"}),
            "sender empty": lambda: as_json({"sender": "", "message": "hi"}),
            "sender not a string": lambda: as_json(
                {"sender": rng.choice(NOT_STRINGS), "message": "hi"}
            ),
            "sender over-long": lambda: as_json(
                {"sender": "s" * rng.randint(1_000, 50_000), "message": "hi"}
            ),
            "extra fields": lambda: as_json(
                {
                    "sender": sender,
                    "message": "hi",
                    rng.choice(
                        [
                            "metadata",
                            "input_channel",
                            "message_id",
                            "__proto__",
                            "text",
                            "sender_id",
                        ]
                    ): rng.choice([*NOT_STRINGS, "voice", "x" * 5_000, {"a": [{"b": None}] * 500}]),
                }
            ),
        }
    )
    return bodies


def console_probe(rng: random.Random) -> Tuple[str, str, str, bytes, Dict[str, str]]:
    """(kind, method, path, body, headers) for the agent console, signed out."""
    junk = quote(
        rng.choice(
            [
                "HO-ABC234",
                "..",
                "../../etc/passwd",
                "%00",
                "x" * 3_000,
                "中文",
                "HO-" + "A" * 200,
                "' OR 1=1 --",
                "",
            ]
        ),
        safe="",
    )
    login = "/console/api/login"
    kind = rng.choice(
        [
            "login: malformed JSON",
            "login: fields missing or not strings",
            "login: fields over-long",
            "login: wrong Content-Type",
            "login: wrong password",
            "signed out",
            "signed out, forged cookie",
            "another Origin",
            "widget history: bad session id",
        ]
    )
    if kind == "login: malformed JSON":
        return (
            kind,
            "POST",
            login,
            rng.choice(NOT_JSON + [b""]),
            {"Content-Type": "application/json"},
        )
    if kind == "login: fields missing or not strings":
        body = rng.choice(
            [
                {},
                {"username": "fuzz"},
                {"password": "x" * 12},
                {"username": rng.choice(NOT_STRINGS), "password": "x" * 12},
                {"username": "fuzz", "password": rng.choice(NOT_STRINGS)},
            ]
        )
        return (kind, "POST", login, *as_json(body))
    if kind == "login: fields over-long":
        return (
            kind,
            "POST",
            login,
            *as_json(
                {
                    "username": "u" * rng.randint(41, 100_000),
                    "password": "p" * rng.randint(201, 100_000),
                }
            ),
        )
    if kind == "login: wrong Content-Type":
        return (
            kind,
            "POST",
            login,
            *as_json({"username": "fuzz", "password": "x" * 12}, rng.choice(OTHER_TYPES)),
        )
    if kind == "login: wrong password":  # 401, then 429 once the username is throttled
        return (
            kind,
            "POST",
            login,
            *as_json({"username": f"fuzz-{rng.randint(0, 3)}", "password": "wrong password"}),
        )
    if kind == "widget history: bad session id":
        return kind, "GET", f"/widget/history/{junk}", b"", {}
    method, path = rng.choice(
        [
            ("GET", "/console/api/me"),
            ("GET", "/console/api/queue"),
            ("POST", "/console/api/logout"),
            ("GET", f"/console/api/dashboard?from={junk}&to=2026-13-45&channel={junk}"),
            ("POST", f"/console/api/handoffs/{junk}/take"),
            ("GET", f"/console/api/handoffs/{junk}/messages?after=nan"),
            ("POST", f"/console/api/handoffs/{junk}/release"),
            ("GET", f"/console/api/{junk}"),
            ("DELETE", "/console/api/queue"),
        ]
    )
    body, headers = as_json({"text": "x" * rng.randint(0, 3_000)})
    if kind == "signed out, forged cookie":
        headers["Cookie"] = f"heard_console={rng.choice(['', 'x', 'a' * 500, uuid.uuid4().hex])}"
    if kind == "another Origin":
        headers["Origin"] = rng.choice(["https://evil.example", "null", "http://localhost:1"])
    return kind, method, path, body, headers


def twilio_probe(rng: random.Random) -> Tuple[str, str, bytes, Dict[str, str]]:
    """(kind, path, body, headers): a form post that does not come from Twilio."""
    endpoint = rng.choice(["incoming", "after"])
    form = {
        "CallSid": f"CA{uuid.UUID(int=rng.getrandbits(128)).hex}",
        "From": f"+1555{rng.randint(0, 10**7):07d}",
        "AccountSid": "AC" + "0" * 32,
    }
    kind = rng.choice(["forged form", "forged signature", "junk form", "not a form"])
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    body = urlencode(form).encode()
    if kind == "forged signature":
        headers["X-Twilio-Signature"] = rng.choice(["", "x", "bm90IGEgc2lnbmF0dXJl", "=" * 300])
    elif kind == "junk form":
        body = rng.choice(
            [
                b"%zz=%",
                b"&&&==",
                b"CallSid=" + b"A" * 70_000,
                urlencode(
                    {rng.choice(UNICODE): rng.choice(CONTROL) * 50}, errors="surrogatepass"
                ).encode(),
            ]
        )
    elif kind == "not a form":
        body, _ = as_json(form)
    return f"{endpoint}: {kind}", f"/webhooks/twilio_voice/{endpoint}", body, headers


def socket_probe(rng: random.Random) -> Probe:
    session = str(uuid.UUID(int=rng.getrandbits(128)))
    kind = rng.choice(
        [
            "session_request: bad id",
            "user_uttered: not a dict",
            "user_uttered: message not a string",
            "user_uttered: bad session id",
            "user_uttered: huge message",
        ]
    )
    if kind == "session_request: bad id":
        data = rng.choice(
            [
                None,
                "x",
                42,
                [],
                {},
                {"session_id": None},
                {"session_id": 42},
                {"session_id": "not-a-uuid"},
                {"session_id": "x" * 5_000},
                {"session_id": "../../etc"},
                {"session_id": f" {session} "},
            ]
        )
        return Probe("socket.io", kind, event="session_request", data=data)
    data = {
        "user_uttered: not a dict": lambda: rng.choice(["hi", 42, None, [], ["hi"], True]),
        "user_uttered: message not a string": lambda: {
            "message": rng.choice(NOT_STRINGS),
            "session_id": session,
        },
        "user_uttered: bad session id": lambda: {
            "message": "hi",
            "session_id": rng.choice([None, 42, "x", session[:-1], "a" * 10_000]),
        },
        "user_uttered: huge message": lambda: {
            "message": "a"
            * rng.choice([rng.randint(2_001, 60_000), rng.randint(70_000, 1_500_000)]),
            "session_id": session,
        },
    }[kind]()
    return Probe("socket.io", kind, event="user_uttered", data=data, session=session)


def generate(count: int, seed: int, parse_path: str) -> List[Probe]:
    """`count` bad inputs, the same ones for the same seed, in a shuffled order."""
    rng = random.Random(seed)
    surfaces = (
        ["REST webhook"] * 50
        + ["/model/parse"] * 15
        + ["console API"] * 12
        + ["Twilio webhooks"] * 8
        + ["socket.io"] * 15
    )
    probes = []
    for i in range(count):
        surface = rng.choice(surfaces)
        if surface == "REST webhook":
            bodies = rest_probes(rng, f"fuzz-{seed}-{i}")
            kind = rng.choice(sorted(bodies))
            body, headers = bodies[kind]()
            probes.append(Probe(surface, kind, "/webhooks/rest/webhook", body, headers))
        elif surface == "/model/parse":
            bodies = text_bodies(rng, "text", {})
            kind = rng.choice(sorted(bodies))
            body, headers = bodies[kind]()
            probes.append(Probe(surface, kind, parse_path, body, headers))
        elif surface == "console API":
            kind, method, path, body, headers = console_probe(rng)
            probes.append(Probe(surface, kind, path, body, headers, method))
        elif surface == "Twilio webhooks":
            probes.append(Probe(surface, *twilio_probe(rng)))
        else:
            probes.append(socket_probe(rng))
    rng.shuffle(probes)
    return probes


# --- sending ------------------------------------------------------------------------------


def send(port: int, probe: Probe, timeout: float) -> Tuple[str, bytes]:
    """The status of the answer (or "no answer: why") and its body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.putrequest(probe.method, probe.path, skip_accept_encoding=True)
        for name, value in probe.headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(probe.body)))
        connection.endheaders()
        try:
            for start in range(0, len(probe.body), 65_536):
                if select.select([connection.sock], [], [], 0)[0]:
                    break  # answered early (413): a real client stops sending too
                connection.sock.sendall(probe.body[start : start + 65_536])
        except OSError:
            pass  # the server closed early; its answer may be waiting
        response = connection.getresponse()
        return str(response.status), response.read()
    except (OSError, http.client.HTTPException) as error:
        return f"no answer: {type(error).__name__}", b""
    finally:
        connection.close()


async def emit(url: str, probe: Probe, quiet: float) -> str:
    """The first event the server sent after `probe`'s ("disconnect" when it closed the
    connection), "none" within `quiet` seconds, or "no answer: why"."""
    events: asyncio.Queue = asyncio.Queue()
    async with aiohttp.ClientSession() as http:  # closed here, whatever the client did
        client = socketio.AsyncClient(reconnection=False, http_session=http)
        client.on("*", lambda event, *_: events.put_nowait(event))
        client.on("disconnect", lambda *_: events.put_nowait("disconnect"))
        try:
            # Long-polling: engineio's websocket client needs a newer aiohttp than Rasa
            # pins; the server's socket.io handlers are the same either way.
            await client.connect(url, transports=["polling"], wait_timeout=10)
        except Exception as error:  # socketio raises its own ConnectionError types
            return f"no answer: {type(error).__name__}"
        try:
            if probe.session:  # the widget asks for its session first
                await client.emit("session_request", {"session_id": probe.session})
                try:
                    await asyncio.wait_for(events.get(), 10)
                except asyncio.TimeoutError:
                    return "no answer: no session_confirm"
            await client.emit(probe.event, probe.data)
            try:
                return await asyncio.wait_for(events.get(), quiet)
            except asyncio.TimeoutError:
                return "none"
        finally:
            # Not client.disconnect(): it waits out the pending long-poll (about 30 s).
            await client.eio.disconnect(abort=True)


def ignore_lost_connections(loop: asyncio.AbstractEventLoop, context: Dict[str, Any]) -> None:
    """The server cutting off an oversized upload is an answer we measure, not news."""
    if not isinstance(context.get("exception"), ConnectionError):
        loop.default_exception_handler(context)


async def emit_all(
    url: str,
    probes: List[Probe],
    quiet: float,
    deadline: float,
    handling: Callable[[Probe], ContextManager],
    parallel: int = 16,
) -> List[Tuple[Probe, str]]:
    asyncio.get_running_loop().set_exception_handler(ignore_lost_connections)
    gate = asyncio.Semaphore(parallel)  # mostly waiting out `quiet`: many at once

    async def one(probe: Probe) -> Optional[Tuple[Probe, str]]:
        async with gate:
            if time.monotonic() > deadline:
                return None
            with handling(probe):
                return probe, await emit(url, probe, quiet)

    results = await asyncio.gather(*map(one, probes))
    return [result for result in results if result is not None]


class Greeter(threading.Thread):
    """Says "hi" on its own REST conversation every second, timing each answer."""

    def __init__(self, port: int, huge_in_flight: Callable[[], bool]):
        super().__init__(daemon=True)
        self.port, self.huge_in_flight = port, huge_in_flight
        self.latencies: List[float] = []
        self.during_huge: List[float] = []
        self.failed = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        hi = Probe(
            "",
            "",
            "/webhooks/rest/webhook",
            *as_json({"sender": f"fuzz-hi-{uuid.uuid4().hex[:8]}", "message": "hi"}),
        )
        while not self.stopped.is_set():
            huge, started = self.huge_in_flight(), time.perf_counter()
            status, body = send(self.port, hi, timeout=30)
            elapsed = (time.perf_counter() - started) * 1000
            if status != "200" or body.strip() in (b"", b"[]"):
                self.failed += 1
            (self.during_huge if huge else self.latencies).append(elapsed)
            self.stopped.wait(max(0.0, 1.0 - elapsed / 1000))


# --- the run and its report ---------------------------------------------------------------


@dataclass
class Row:
    count: int = 0
    statuses: Counter = field(default_factory=Counter)
    server_errors: int = 0
    silent: int = 0
    unanswered: int = 0


@dataclass
class Report:
    rows: Dict[Tuple[str, str], Row]
    before: Dict[str, int]
    after: Dict[str, int]
    greeter: Greeter
    still_answers: bool
    sent: int
    planned: int

    def problems(self) -> List[str]:
        rows = self.rows.values()
        found = [
            f"{total} {what}"
            for total, what in [
                (sum(r.server_errors for r in rows), "answers with a 5xx status"),
                (
                    sum(
                        r.silent
                        for (surface, _), r in self.rows.items()
                        if surface == "REST webhook"
                    ),
                    "silent 200 [] answers from the REST webhook",
                ),
                (sum(r.unanswered for r in rows), "inputs that got no answer (reset or timeout)"),
                (self.greeter.failed, '"hi" turns that failed during the fuzz'),
            ]
            if total
        ]
        if self.before != self.after:
            found.append(f"the shop database changed: {self.before} -> {self.after}")
        if not self.still_answers:
            found.append('socket.io no longer answers "hi" after the fuzz')
        if self.sent < self.planned:
            found.append(f"stopped at the time limit after {self.sent} of {self.planned} inputs")
        return found

    def table(self) -> str:
        header = ("surface", "kind", "n", "statuses seen", "5xx", "silent", "no answer")
        lines = [header] + [
            (
                surface,
                kind,
                str(r.count),
                " ".join(f"{s}({n})" for s, n in sorted(r.statuses.items())),
                str(r.server_errors),
                str(r.silent),
                str(r.unanswered),
            )
            for (surface, kind), r in sorted(self.rows.items())
        ]
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        text = [
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip()
            for line in lines
        ]
        text.insert(1, "  ".join("-" * width for width in widths))
        latencies = self.greeter.latencies + self.greeter.during_huge
        during = self.greeter.during_huge
        text += [
            "",
            f"inputs sent: {self.sent} of {self.planned}",
            'socket.io "silent": no event within the wait (malformed events are dropped by '
            "design, web/API.md); statuses are the first event the server sent",
            "shop database rows: "
            + ("unchanged " if self.before == self.after else "CHANGED ")
            + ", ".join(f"{t} {self.before[t]}->{self.after[t]}" for t in self.before),
            f'"hi" client: {len(latencies)} turns, {self.greeter.failed} failed'
            + (
                f", p50 {percentile(latencies, 0.5):.0f} ms, max {max(latencies):.0f} ms"
                if latencies
                else ""
            )
            + (
                f"; while a 1 MB+ input was in flight ({len(during)}): max {max(during):.0f} ms "
                f"(target < 500 ms)"
                if during
                else "; never overlapped a 1 MB+ input"
            ),
            f'socket.io answers "hi" after the fuzz: {"yes" if self.still_answers else "NO"}',
        ]
        return "\n".join(text)


def fuzz(
    servers: Servers,
    repo: Repository,
    count: int = 2_000,
    seed: int = 1,
    workers: int = 4,
    seconds: float = 900.0,
    timeout: float = 30.0,
    quiet: float = 2.0,
) -> Report:
    """Sends `count` generated bad inputs to running `servers` and measures the answers."""
    loopback = f"http://127.0.0.1:{servers.rasa_port}"
    parse = urlsplit(servers.api_url("/model/parse"))
    probes = generate(count, seed, f"{parse.path}?{parse.query}")
    deadline = time.monotonic() + seconds
    rows: Dict[Tuple[str, str], Row] = defaultdict(Row)
    lock = threading.Lock()

    def record(probe: Probe, status: str, body: bytes = b"") -> None:
        with lock:
            row = rows[probe.surface, probe.kind]
            row.count += 1
            row.statuses[status] += 1
            row.server_errors += status.startswith("5")
            row.silent += status == "none" or (status == "200" and body.strip() == b"[]")
            row.unanswered += status.startswith("no answer")

    huge_in_flight = 0  # 1 MB+ inputs being sent or handled right now

    @contextmanager
    def handling(probe: Probe):
        nonlocal huge_in_flight
        with lock:
            huge_in_flight += probe.huge
        try:
            yield
        finally:
            with lock:
                huge_in_flight -= probe.huge

    def one(probe: Probe) -> None:
        if time.monotonic() <= deadline:
            with handling(probe):
                record(probe, *send(servers.rasa_port, probe, timeout))

    before = snapshot(repo)
    greeter = Greeter(servers.rasa_port, lambda: huge_in_flight > 0)
    greeter.start()
    try:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(one, [p for p in probes if not p.event]))
        for probe, outcome in asyncio.run(
            emit_all(loopback, [p for p in probes if p.event], quiet, deadline, handling)
        ):
            record(probe, outcome)
        session = str(uuid.uuid4())
        hello = Probe(
            "socket.io",
            "hi",
            event="user_uttered",
            session=session,
            data={"message": "hi", "session_id": session},
        )
        still_answers = asyncio.run(emit(loopback, hello, 30)) == "bot_uttered"
    finally:
        greeter.stopped.set()
        greeter.join(timeout=35)
    return Report(
        dict(rows),
        before,
        snapshot(repo),
        greeter,
        still_answers,
        sum(r.count for r in rows.values()),
        count,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=2_000, help="how many bad inputs")
    parser.add_argument("--seed", type=int, default=1, help="the same seed, the same inputs")
    parser.add_argument("--seconds", type=float, default=900, help="time limit for the inputs")
    args = parser.parse_args()

    from bot.training import ensure_trained

    servers = Servers.in_folder(ensure_trained(), Path(tempfile.mkdtemp(prefix="heard-fuzz-")))
    servers.start()
    try:
        servers.wait_until_ready()
        report = fuzz(
            servers,
            Repository.from_url(servers.database_url),
            args.count,
            args.seed,
            seconds=args.seconds,
        )
    finally:
        servers.stop()
    print(report.table())
    problems = report.problems()
    for problem in problems:
        print(f"FAIL: {problem}")
    print(f"\nlogs: {servers.log_dir}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
