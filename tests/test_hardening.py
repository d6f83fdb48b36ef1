"""Hostile input against the real servers: no message stalls Heard or another customer,
no conversation leaks into another, bad requests get a clear 4xx, and nothing changes."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
import requests

from heard.limits import DEFAULT_MAX_MESSAGE_CHARS
from tests.live import snapshot

pytestmark = pytest.mark.slow

TOO_LONG = "send me the main point"  # in both variations of utter_message_too_long
MEGABYTE = 1_000_000
# Shapes that made the old e-mail pattern backtrack, and other pathological runs.
SHAPES = {
    "word run": "a",
    "at signs": "a@",
    "dots": "a.",
    "spaces": "a ",
    "digits": "1",
    "template": "{% raw %}",
    "emoji": "😡",
}


def webhook(live, body, timeout: float = 30.0, **kwargs) -> requests.Response:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return requests.post(
        f"{live.servers.rasa_url}/webhooks/rest/webhook", data=data, timeout=timeout, **kwargs
    )


def events(live, sender: str) -> list:
    response = requests.get(live.servers.api_url(f"/conversations/{sender}/tracker"), timeout=30)
    return response.json()["events"]


class Bystander:
    """Another customer saying "hi" once a second meanwhile: the slowest answer counts."""

    def __init__(self, live):
        self.live, self.latencies = live, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        sender = f"bystander-{uuid.uuid4().hex[:8]}"
        while not self._stop.is_set():
            started = time.monotonic()
            reply = webhook(self.live, {"sender": sender, "message": "hi"})
            assert reply.status_code == 200 and reply.json()
            self.latencies.append(time.monotonic() - started)
            self._stop.wait(0.5)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=60)


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_a_megabyte_message_is_refused_at_once_while_others_are_answered(live, shape):
    before = snapshot(live.repo)
    sender = f"test-{uuid.uuid4().hex[:8]}"
    text = (shape * (MEGABYTE // len(shape) + 1))[:MEGABYTE]
    with Bystander(live) as bystander:
        time.sleep(0.3)
        started = time.monotonic()
        reply = webhook(live, {"sender": sender, "message": text})
        elapsed = time.monotonic() - started
        time.sleep(1.0)
    assert reply.status_code == 413
    assert elapsed < 1.0
    assert bystander.latencies and max(bystander.latencies) < 2.0
    assert snapshot(live.repo) == before


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_a_long_message_under_the_body_limit_is_answered_politely_and_not_stored(live, shape):
    before = snapshot(live.repo)
    chat = live.conversation()
    chat.say("where is my order 2345678?")
    stored = len(events(live, chat.sender))
    length = 2 * DEFAULT_MAX_MESSAGE_CHARS  # an emoji is 12 bytes in JSON: under 64 KiB
    started = time.monotonic()
    replies = chat.say((shape * (length // len(shape) + 1))[:length])
    assert time.monotonic() - started < 1.0
    assert len(replies) == 1 and TOO_LONG in replies[0]
    assert len(events(live, chat.sender)) == stored  # nothing parsed, nothing stored
    assert any("Jane" in r for r in chat.say("jane.doe@example.com"))  # carries on
    assert snapshot(live.repo) == before


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_a_message_at_the_limit_is_parsed_quickly(live, shape):
    text = (shape * DEFAULT_MAX_MESSAGE_CHARS)[:DEFAULT_MAX_MESSAGE_CHARS]
    started = time.monotonic()
    replies = live.conversation().say(text)
    assert time.monotonic() - started < 2.0
    assert replies and not any(TOO_LONG in r for r in replies)


def test_the_parse_api_reads_at_most_the_limit(live):
    parsed = live.parse("where is my order? " + "a" * 50_000)
    assert len(parsed["text"]) == DEFAULT_MAX_MESSAGE_CHARS


@pytest.mark.parametrize(
    "body, problem",
    [
        (b"", "JSON"),
        (b"not json", "JSON"),
        (b"\xff\xfe\x00", "JSON"),
        ([], "JSON object"),
        ("a string", "JSON object"),
        (42, "JSON object"),
        (None, "JSON object"),
        ({"message": "hi"}, "sender"),
        ({"sender": "", "message": "hi"}, "sender"),
        ({"sender": 42, "message": "hi"}, "sender"),
        ({"sender": "../../etc/passwd", "message": "hi"}, "sender"),
        ({"sender": "x" * 200, "message": "hi"}, "sender"),
        ({"sender": "ok-id", "message": 42}, "message"),
        ({"sender": "ok-id", "message": ["hi"]}, "message"),
        ({"sender": "ok-id", "message": None}, "message"),
        ({"sender": "ok-id"}, "message"),
        ({"sender": "ok-id", "message": "hi", "message_id": {"a": 1}}, "message_id"),
    ],
    ids=repr,
)
def test_malformed_requests_get_a_clear_400(live, body, problem):
    before = snapshot(live.repo)
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    reply = webhook(live, data, headers={"Content-Type": "application/json"})
    assert reply.status_code == 400
    assert problem in reply.json()["error"]
    assert snapshot(live.repo) == before


def test_anonymous_clients_never_share_a_conversation(live):
    """Rasa's REST channel put every message without a sender into 'default'."""
    first = webhook(live, {"message": "where is my order 2345678?"})
    second = webhook(live, {"message": "jane.doe@example.com"})
    assert first.status_code == second.status_code == 400
    response = requests.get(live.servers.api_url("/conversations/default/tracker"), timeout=30)
    assert not [e for e in response.json()["events"] if e["event"] == "user"]


def test_client_metadata_cannot_make_a_chat_a_phone_call(live):
    chat = live.conversation()
    reply = webhook(
        live,
        {
            "sender": chat.sender,
            "message": "hi",
            "input_channel": "voice",
            "metadata": {"call": {"transport": "twilio", "caller": "+15550100"}},
        },
    )
    assert reply.status_code == 200
    (user,) = [e for e in events(live, chat.sender) if e["event"] == "user"]
    assert user["input_channel"] == "rest" and "call" not in user.get("metadata", {})


def test_a_retried_message_is_processed_once(live):
    before = snapshot(live.repo)
    sender = f"test-{uuid.uuid4().hex[:8]}"
    message = {"sender": sender, "message": "where is my order 2345678?", "message_id": "m-1"}
    first, retry = webhook(live, message).json(), webhook(live, message).json()
    assert first and [m.get("text") for m in retry] == [m.get("text") for m in first]
    assert [e["text"] for e in events(live, sender) if e["event"] == "user"] == [message["message"]]
    assert snapshot(live.repo) == before


def test_log_lines_hold_no_email_addresses_or_order_numbers(live):
    chat = live.conversation()
    chat.say("where is my order 9012345?")
    chat.say("mei.chen@example.org")
    webhook(live, {"sender": chat.sender, "message": "mei.chen@example.org " * 3_000})
    logs = "".join(p.read_text(errors="replace") for p in live.servers.log_dir.glob("*.log"))
    assert "mei.chen@example.org" not in logs and "9012345" not in logs
    assert max(len(line) for line in logs.splitlines()) < 5_000


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("GET", "/no/such/page", 404),
        ("GET", "/webhooks/rest/webhook", 405),
        ("PUT", "/webhooks/rest/webhook", 405),
    ],
)
def test_errors_are_json_even_for_browsers(live, method, path, status):
    reply = requests.request(
        method, f"{live.servers.rasa_url}{path}", timeout=30, headers={"Accept": "text/html"}
    )
    assert reply.status_code == status
    assert reply.headers["Content-Type"].startswith("application/json")
    assert "Traceback" not in reply.text


def test_client_mistakes_leave_no_traceback_in_the_logs(live):
    for body in (b"", b"[1, 2]", b'{"sender": "x", "message": 7}', b"\xff" * 70_000):
        webhook(live, body)
    rasa_log = (live.servers.log_dir / "rasa.log").read_text(errors="replace")
    assert "web.rest.refused" in rasa_log and "Traceback" not in rasa_log


@pytest.mark.parametrize(
    "body", [b"not json", b"[1, 2]", b'{"text": 5}', b"{}", b"\xff\xfe"], ids=repr
)
def test_the_parse_api_refuses_malformed_bodies_with_400(live, body):
    reply = requests.post(live.servers.api_url("/model/parse"), data=body, timeout=30)
    assert reply.status_code == 400 and "text" in reply.json()["message"]


def test_lone_surrogates_are_read_not_crashed_on(live):
    """A valid JSON escape for half a character crashed spaCy's tokenizer (500)."""
    body = b'{"sender": "test-surrogate", "message": "where is my order \\udc80?"}'
    reply = webhook(live, body)
    assert reply.status_code == 200 and reply.json()
    parsed = requests.post(
        live.servers.api_url("/model/parse"), timeout=30, data=b'{"text": "hello \\ud83d"}'
    )
    assert parsed.status_code == 200 and parsed.json()["text"] == "hello \ufffd"
