"""The browser channel's stream handler, called directly without servers: what reaches a
call, what the client is told, and when the connection is closed."""

import asyncio
import json

import pytest
from websockets.exceptions import ConnectionClosedOK

from voice.channels.base import MAX_BAD_MESSAGES, POLICY_VIOLATION, UNSUPPORTED_DATA
from voice.channels.browser import BrowserVoiceInput

SESSION_ID = "widget-0123456789"
START = json.dumps({"event": "start", "session_id": SESSION_ID, "sample_rate": 16000})


class Socket:
    """The server's end of the widget's websocket, receiving `frames` as they are."""

    def __init__(self, *frames):
        self.inbox = list(frames)
        self.sent = []
        self.closed_with = None
        self.reason = ""

    async def recv(self):
        if not self.inbox:
            raise ConnectionClosedOK(None, None)
        return self.inbox.pop(0)

    async def send(self, data) -> None:
        self.sent.append(data)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed_with, self.reason = code, reason

    def errors(self) -> list:
        return [
            json.loads(m)["message"]
            for m in self.sent
            if isinstance(m, str) and json.loads(m)["event"] == "error"
        ]


class Session:
    def __init__(self):
        self.closed = False
        self.heard = []
        self.ended = None

    async def start(self) -> None:
        pass

    async def audio(self, chunk) -> None:
        self.heard.append(("audio", chunk.pcm, chunk.sample_rate))

    async def dtmf(self, digit: str) -> None:
        self.heard.append(("dtmf", digit))

    async def end(self, reason: str) -> None:
        if not self.closed:
            self.closed, self.ended = True, reason


def serve(*frames, **options):
    """Runs the stream handler on `frames`; returns the socket and the calls it started
    (conversation id, metadata, session)."""
    browser = BrowserVoiceInput.from_credentials(
        {"stt": "scripted", "scripted_dir": "/tmp", **options}
    )
    started = []

    def start_session(request, on_message, call_id, transport, metadata):
        started.append((call_id, metadata, Session()))
        return started[-1][2]

    browser.session = start_session
    ws = Socket(*frames)
    asyncio.run(asyncio.wait_for(browser._serve(None, ws, None), 5))
    return ws, started


def test_audio_and_keys_reach_the_call_and_a_frame_cut_mid_sample_is_joined():
    ws, started = serve(
        START,
        b"\x01",
        b"\x02\x03",
        b"\x04",
        json.dumps({"event": "dtmf", "digit": "5"}),
        json.dumps({"event": "future"}),  # unknown events: a newer client
        json.dumps({"event": "stop"}),
        b"\x05\x06",
    )
    ((call_id, metadata, session),) = started
    assert call_id == SESSION_ID
    assert metadata == {"call": {"transport": "browser", "can_transfer": False}}
    assert session.heard == [
        ("audio", b"\x01\x02", 16000),
        ("audio", b"\x03\x04", 16000),
        ("dtmf", "5"),
    ]
    assert session.ended == "caller_hung_up" and ws.errors() == []


@pytest.mark.parametrize("digit", ["55", "٣", "", None, ["5"], {"d": 5}])
def test_a_dtmf_event_that_is_not_one_key_is_answered_with_an_error(digit):
    ws, started = serve(START, json.dumps({"event": "dtmf", "digit": digit}))
    assert started[0][2].heard == []
    assert ws.errors() == ["a dtmf digit is one key: 0-9, * or #"]
    assert ws.closed_with is None


def test_malformed_events_get_an_error_each_until_too_many_come_in_a_row():
    junk = ["{not json", "[1, 2]", '"text"', json.dumps({"no": "event"})]
    ws, started = serve(START, *junk * 4, b"\x01\x02", *junk * 4)
    assert ws.errors() == ["not a JSON event"] * 32 and ws.closed_with is None
    assert len(started[0][2].heard) == 1

    ws, started = serve(START, *["{not json"] * MAX_BAD_MESSAGES, b"\x01\x02")
    assert ws.errors()[-1] == "too many malformed messages"
    assert ws.closed_with == POLICY_VIOLATION and started[0][2].heard == []
    assert started[0][2].ended == "caller_hung_up"


@pytest.mark.parametrize(
    "first, message",
    [
        (b"\x00\x01" * 100, "must be a JSON start message"),
        ("{not json", "not valid JSON"),
        (
            json.dumps({"event": "start", "session_id": "../../etc", "sample_rate": 16000}),
            "session_id must be",
        ),
        (
            json.dumps({"event": "start", "session_id": SESSION_ID, "sample_rate": "4" * 5000}),
            "must be 16000 Hz",
        ),
    ],
)
def test_a_bad_start_is_refused_with_the_reason_and_starts_nothing(first, message, caplog):
    ws, started = serve(first, START)
    assert started == [] and ws.closed_with == UNSUPPORTED_DATA
    assert len(ws.errors()) == 1 and message in ws.errors()[0] and message in ws.reason
    assert len(ws.errors()[0]) < 100  # the client's value is not echoed at length
    assert "voice.browser.refused" in caplog.text


def test_without_a_speech_model_a_call_is_refused_with_the_reason(tmp_path):
    ws, started = serve(START, stt="vosk", vosk_model=str(tmp_path / "none"))
    assert started == [] and ws.closed_with == UNSUPPORTED_DATA
    assert ws.errors()[0].startswith("voice is off: no Vosk model")


class Silent(Socket):
    """A peer that connects, sends `frames` and then nothing, without going away."""

    async def recv(self):
        if not self.inbox:
            await asyncio.sleep(3600)
        return self.inbox.pop(0)


def test_a_peer_that_never_starts_a_call_is_closed_in_time():
    browser = BrowserVoiceInput.from_credentials({"stt": "scripted", "scripted_dir": "/tmp"})
    browser.start_seconds = 0.2
    browser.session = lambda *args: pytest.fail("a call started")
    ws = Silent()
    asyncio.run(asyncio.wait_for(browser._serve(None, ws, None), 5))
    assert ws.closed_with == POLICY_VIOLATION
    assert ws.errors() == ["no call started within 0.2 s"]


def test_a_start_in_time_is_not_cut_short_by_the_start_limit():
    browser = BrowserVoiceInput.from_credentials({"stt": "scripted", "scripted_dir": "/tmp"})
    browser.start_seconds = 0.5
    sessions = []
    browser.session = lambda *args: sessions.append(Session()) or sessions[-1]
    ws = Silent(START)

    async def call_then_hang_up():
        serving = asyncio.ensure_future(browser._serve(None, ws, None))
        await asyncio.sleep(1.0)  # well past the start limit, the call still goes on
        assert not serving.done() and ws.closed_with is None
        sessions[0].closed = True
        serving.cancel()

    asyncio.run(asyncio.wait_for(call_then_hang_up(), 5))
    assert len(sessions) == 1
