"""The console API, the widget's history and the pages, on the real Rasa server."""

from __future__ import annotations

import http.client
import json
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import text

from tests.web.web_client import Console, handoff_for, new_agent, signed_in
from web.sessions import token_hash

pytestmark = pytest.mark.slow

REFERENCE = "HO-ABCDEF"
TICKET = "TK-ABCDEF"
CONSOLE_CALLS = [
    ("GET", "/console/api/me"),
    ("POST", "/console/api/logout"),
    ("GET", "/console/api/queue"),
    ("POST", f"/console/api/handoffs/{REFERENCE}/take"),
    ("GET", f"/console/api/handoffs/{REFERENCE}/messages?after=0"),
    ("POST", f"/console/api/handoffs/{REFERENCE}/reply"),
    ("POST", f"/console/api/handoffs/{REFERENCE}/release"),
    ("GET", "/console/api/dashboard"),
    ("GET", "/console/api/tickets"),
    ("GET", "/console/api/ticket-choices"),
    ("GET", f"/console/api/tickets/{TICKET}"),
    ("GET", f"/console/api/tickets/{TICKET}/messages"),
    ("POST", f"/console/api/tickets/{TICKET}/close"),
    ("POST", f"/console/api/tickets/{TICKET}/reassign"),
    ("GET", "/console/api/no-such-call"),
]


@pytest.fixture
def url(live) -> str:
    return live.servers.rasa_url


@pytest.mark.parametrize("method, path", CONSOLE_CALLS)
def test_every_console_call_needs_sign_in(url, method, path):
    response = requests.request(method, url + path, json={"text": "hello"}, timeout=30)
    assert response.status_code == 401
    assert response.json() == {"error": "Please sign in."}


def test_sign_in_sets_a_strict_http_only_cookie(live, url):
    username, password = new_agent(live, "Sam Rivera")
    console = Console(url)
    response = console.login(username, password)
    assert response.status_code == 200
    assert response.json() == {"name": "Sam Rivera", "username": username}
    cookie = response.headers["Set-Cookie"]
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/console", "Max-Age=28800"):
        assert attribute in cookie
    assert console.get("/console/api/me").json() == {"name": "Sam Rivera", "username": username}
    token = console.http.cookies["heard_console"]
    with live.repo.engine.connect() as connection:
        hashes = connection.execute(text("select token_hash from console_sessions")).scalars().all()
    assert token_hash(token) in hashes and token not in hashes


@pytest.mark.parametrize(
    "body",
    [
        {"username": "nobody-here", "password": "whatever-it-is"},
        "wrong password",
    ],
)
def test_wrong_credentials(live, url, body):
    username, _ = new_agent(live)
    if body == "wrong password":
        body = {"username": username, "password": "not the password"}
    console = Console(url)
    response = console.post("/console/api/login", json=body)
    assert response.status_code == 401
    assert response.json() == {"error": "Wrong username or password."}
    assert "Set-Cookie" not in response.headers
    assert console.get("/console/api/me").status_code == 401


def test_repeated_wrong_passwords_are_slowed_down(live, url):
    username, password = new_agent(live)
    console = Console(url)
    for _ in range(5):
        wrong = console.post(
            "/console/api/login", json={"username": username, "password": "a guess, wrong"}
        )
        assert wrong.status_code == 401
    # Now even the right password waits: a guesser can't tell it was right.
    refused = console.post("/console/api/login", json={"username": username, "password": password})
    assert refused.status_code == 429
    assert refused.json()["error"].startswith("Too many failed sign-ins. Please try again in")
    assert console.get("/console/api/me").status_code == 401
    other, other_password = new_agent(live)  # colleagues are not locked out
    assert Console(url).login(other, other_password).status_code == 200


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": "username=sam&password=x"},
        {"data": "{not json", "headers": {"Content-Type": "application/json"}},
        {"json": ["sam", "pw"]},
        {"json": {"username": "sam"}},
        {"json": {"username": 7, "password": "long enough pw"}},
        {"json": {"username": "sam", "password": "x" * 201}},
    ],
)
def test_malformed_sign_in(url, kwargs):
    response = requests.post(url + "/console/api/login", timeout=30, **kwargs)
    assert response.status_code == 400
    assert response.json() == {"error": "Send your username and password as JSON."}


def test_sign_out_ends_the_session(live, url):
    console = signed_in(live)
    token = console.http.cookies["heard_console"]
    assert console.post("/console/api/logout").json() == {"ok": True}
    assert console.get("/console/api/me").status_code == 401
    # The old token is dead on the server, not only forgotten by the browser.
    replay = requests.get(url + "/console/api/me", cookies={"heard_console": token}, timeout=30)
    assert replay.status_code == 401


def test_an_expired_session_is_refused(live, url):
    console = signed_in(live)
    token = console.http.cookies["heard_console"]
    assert console.get("/console/api/queue").status_code == 200
    with live.repo.engine.begin() as connection:
        connection.execute(
            text("update console_sessions set expires_at = :past where token_hash = :hash"),
            {"past": datetime.utcnow() - timedelta(seconds=1), "hash": token_hash(token)},
        )
    response = console.get("/console/api/queue")
    assert response.status_code == 401 and response.json() == {"error": "Please sign in."}


def test_calls_from_another_origin_are_refused(live, url):
    console = signed_in(live)
    response = console.get("/console/api/queue", headers={"Origin": "http://evil.example"})
    assert response.status_code == 403 and "error" in response.json()
    same = console.get("/console/api/queue", headers={"Origin": url})
    assert same.status_code == 200


@pytest.mark.parametrize(
    "method, path, body, status, message",
    [
        ("POST", "/console/api/handoffs/HO-ZZZZZZ/take", None, 404, "No handoff"),
        ("POST", "/console/api/handoffs/..%2F..%2Fetc/take", None, 404, ""),
        ("GET", "/console/api/handoffs/HO-ZZZZZZ/messages", None, 404, "No handoff"),
        ("POST", "/console/api/handoffs/HO-ZZZZZZ/reply", {"text": "hi"}, 404, "No handoff"),
        ("POST", "/console/api/handoffs/HO-ZZZZZZ/reply", {"text": "   "}, 400, "Write a message"),
        (
            "POST",
            "/console/api/handoffs/HO-ZZZZZZ/reply",
            {"text": "x" * 2001},
            400,
            "at most 2000",
        ),
        ("POST", "/console/api/handoffs/HO-ZZZZZZ/reply", {"words": "hi"}, 400, "Write a message"),
        ("POST", "/console/api/handoffs/HO-ZZZZZZ/release", None, 404, "No handoff"),
        ("GET", "/console/api/dashboard?from=last-week", None, 400, "'from' must be a date"),
        ("GET", "/console/api/dashboard?from=2026-11-05&to=2026-11-01", None, 400, "not be after"),
        ("GET", "/console/api/dashboard?channel=%3Cscript%3E", None, 400, "'channel' must be"),
        ("GET", "/console/api/no-such-call", None, 404, "no such console call"),
    ],
)
def test_bad_requests_get_polite_json_errors(live, method, path, body, status, message):
    console = signed_in(live)
    response = console.http.request(method, live.servers.rasa_url + path, json=body, timeout=30)
    assert response.status_code == status
    assert message in response.json()["error"]
    assert "Traceback" not in response.text


def test_dashboard_answers_signed_in(live):
    figures = signed_in(live).get("/console/api/dashboard").json()
    assert set(figures) >= {
        "conversations_per_day",
        "containment_rate",
        "escalation_rate_by_reason",
        "average_rating",
        "ratings_count",
        "emotion_start_vs_end",
        "angry_intents",
        "channels",
    }
    assert [row["emotion"] for row in figures["emotion_start_vs_end"]] == [
        "anger",
        "frustration",
        "sadness",
        "anxiety",
        "confusion",
        "joy",
        "neutral",
    ]


LINE = {"sender", "text", "time", "agent", "buttons"}  # heard.contract's transcript line


@pytest.mark.parametrize("conversation_id", [str(uuid.uuid4()), uuid.uuid4().hex])
def test_history_of_an_unknown_conversation(url, conversation_id):
    unknown = requests.get(f"{url}/widget/history/{conversation_id}", timeout=30)
    assert unknown.status_code == 200 and unknown.json() == {"messages": [], "agent": None}


@pytest.mark.parametrize(
    "conversation_id",
    [
        "..%2F..%2Fcredentials.yml",
        "two%20words",
        "a" * 129,
        "x..y",
        "-leading",
        "%00",
        "rest-client:7.chat",
        "user1",  # other channels' ids: guessable, never a widget's
    ],
)
def test_history_refuses_what_is_no_widget_session_id(url, conversation_id):
    response = raw_get(url, f"/widget/history/{conversation_id}")
    assert response.status == 400, conversation_id
    assert json.loads(response.body) == {"error": "That is not a chat session id."}


def test_the_console_opens_a_rest_conversation(live, url):
    chat = live.conversation()  # a REST sender such as "test-1a2b3c4d": not a UUID
    assert any("ticket number" in reply for reply in chat.say("I want to talk to a human"))
    reference = handoff_for(live, chat.sender).reference
    console = signed_in(live, "Sam Rivera")
    listed = console.get("/console/api/queue").json()["handoffs"]
    stored = next(h for h in listed if h["reference"] == reference)
    assert stored["conversation_id"] == chat.sender and stored["channel"] == "rest"
    assert set(stored["transcript"][0]) == LINE
    assert (stored["transcript"][0]["sender"], stored["transcript"][0]["text"]) == (
        "customer",
        "I want to talk to a human",
    )
    assert isinstance(stored["transcript"][0]["time"], float)

    assert console.post(f"/console/api/handoffs/{reference}/take").status_code == 200
    reply = console.post(f"/console/api/handoffs/{reference}/reply", json={"text": "Sam here."})
    assert reply.status_code == 200
    said = reply.json()["message"]
    assert said == {
        "sender": "agent",
        "text": "Sam here.",
        "agent": "Sam Rivera",
        "buttons": [],
        "time": said["time"],
    }
    assert isinstance(said["time"], float)
    lines = console.get(f"/console/api/handoffs/{reference}/messages").json()["messages"]
    assert all(set(line) == LINE for line in lines)
    assert lines[0]["text"] == "I want to talk to a human" and lines[-1]["text"] == "Sam here."
    assert [line["time"] for line in lines] == sorted(line["time"] for line in lines)

    # A REST sender may be guessable: its history is the console's, never a widget's.
    assert requests.get(f"{url}/widget/history/{chat.sender}", timeout=30).status_code == 400
    assert console.post(f"/console/api/handoffs/{reference}/release").status_code == 200


def raw_get(url: str, path: str) -> http.client.HTTPResponse:
    """GET with the path exactly as written (no client-side '..' clean-up)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def test_root_redirects_to_the_shop(url):
    response = raw_get(url, "/")
    assert response.status == 302 and response.getheader("Location") == "/shop/"


@pytest.mark.parametrize(
    "path, content_type",
    [
        ("/shop/", "text/html"),
        ("/console/", "text/html"),
        ("/console/common.js", "text/javascript"),
        ("/widget/heard-widget.js", "text/javascript"),
        ("/widget/heard-widget.css", "text/css"),
        ("/vendor/socket.io.min.js", "text/javascript"),
    ],
)
def test_pages_are_served_with_their_types(url, path, content_type):
    response = raw_get(url, path)
    assert response.status == 200
    assert response.getheader("Content-Type").startswith(content_type)
    assert response.getheader("X-Content-Type-Options") == "nosniff"


def test_console_pages_forbid_inline_scripts_and_framing(url):
    response = raw_get(url, "/console/")
    policy = response.getheader("Content-Security-Policy")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.getheader("X-Frame-Options") == "DENY"
    api = requests.get(url + "/console/api/me", timeout=30)
    assert api.headers["X-Frame-Options"] == "DENY" and api.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "path",
    [
        "/widget/../../credentials.yml",
        "/widget/%2e%2e/%2e%2e/credentials.yml",
        "/widget/..%2f..%2fcredentials.yml",
        "/vendor/../../../etc/passwd",
        "/console/..%2F..%2Fpages_channel.py",
        "/shop/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
        "/widget/.%2e/static_files.py",
        "/widget/no-such-file.js",
        "/console/api",
    ],
)
def test_paths_outside_the_static_folders_are_refused(url, path):
    response = raw_get(url, path)
    assert response.status in (401, 404), path
    assert b"[project]" not in response.body and b"import" not in response.body
    assert b"root:" not in response.body
