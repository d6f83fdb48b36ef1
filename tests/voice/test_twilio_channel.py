"""The Twilio channel's options, its check of Twilio's request signatures, and who may
start a call: the webhooks and the stream handler are called directly, without servers."""

import asyncio
import base64
import json
import logging
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import pytest
from rasa.shared.utils.io import read_config_file
from sanic.request import RequestParameters
from twilio.request_validator import RequestValidator
from websockets.exceptions import ConnectionClosedOK

from tests.voice.twiml import verbs
from voice import twilio_protocol as tp
from voice.audio import mulaw_decode
from voice.call import ConfigError
from voice.channels.base import INTERNAL_ERROR, MAX_BAD_MESSAGES, POLICY_VIOLATION
from voice.channels.twilio import TwilioMediaStreamsInput

TOKEN = "12345678901234567890123456789012"
CALL_SID = "CA0123456789abcdef0123456789abcdef"
STREAM_SID = "MZ18ad3ab5a668481ce02b83e7395059f0"
CALLER = "+15550123"
FORM = {"CallSid": CALL_SID, "From": CALLER, "To": "+15550100"}
INCOMING = "/webhooks/twilio_voice/incoming"
AFTER = "/webhooks/twilio_voice/after"
SHIPPED = Path(__file__).resolve().parents[2] / "credentials.yml"


def channel(**options):
    return TwilioMediaStreamsInput.from_credentials(
        {"stt": "scripted", "scripted_dir": "/tmp", **options}
    )


def shipped_channel():
    section = read_config_file(str(SHIPPED))["voice.channels.twilio.TwilioMediaStreamsInput"]
    return TwilioMediaStreamsInput.from_credentials(section)


def request(signature: str = "", form=FORM, path=INCOMING):
    # No `app`: a handler that reached the agent (or a conversation) would fail.
    return SimpleNamespace(
        scheme="http",
        host="internal:5005",
        path=path,
        query_string="",
        form=RequestParameters({k: [v] for k, v in form.items()}),
        headers={"X-Twilio-Signature": signature},
    )


def signed(url: str, form=FORM) -> str:
    return RequestValidator(TOKEN).compute_signature(url, form)


def signed_request(form=FORM, path=INCOMING):
    return request(signed(f"http://internal:5005{path}", form), form, path)


def post(twilio, handler: str, req):
    return asyncio.run(asyncio.wait_for(getattr(twilio, handler)(req), 5))


def stream_parameters(twiml: bytes) -> dict:
    stream = ET.fromstring(twiml).find("./Connect/Stream")
    return {p.get("name"): p.get("value") for p in stream.findall("Parameter")}


# Signatures -----------------------------------------------------------------------------


def test_a_request_signed_by_twilio_for_the_public_url_is_accepted():
    twilio = channel(auth_token=TOKEN, public_url="https://heard.example.com/")
    url = "https://heard.example.com/webhooks/twilio_voice/incoming"
    assert twilio._authentic(request(signed(url)))


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "bm90IGEgc2lnbmF0dXJl",
        signed("https://elsewhere.example.com/webhooks/twilio_voice/incoming"),
    ],
)
def test_missing_forged_or_misdirected_signatures_are_refused(signature):
    twilio = channel(auth_token=TOKEN, public_url="https://heard.example.com")
    assert not twilio._authentic(request(signature))


def test_changed_parameters_break_the_signature():
    twilio = channel(auth_token=TOKEN, public_url="https://heard.example.com")
    url = "https://heard.example.com/webhooks/twilio_voice/incoming"
    assert not twilio._authentic(request(signed(url), form={**FORM, "From": "+15559999"}))


def test_without_a_token_only_insecure_dev_mode_skips_the_check():
    assert not channel()._authentic(request(""))
    assert channel(insecure_dev_mode=True)._authentic(request(""))


# Webhooks -------------------------------------------------------------------------------


def test_the_shipped_configuration_refuses_forged_webhooks_and_says_so(caplog):
    caplog.set_level(logging.WARNING, logger="voice.channels.twilio")
    twilio = shipped_channel()
    startup = [r for r in caplog.records if r.name == "voice.channels.twilio"]
    assert len(startup) == 1 and "closed" in startup[0].getMessage()
    assert "auth_token" in startup[0].getMessage()
    caplog.clear()
    forged = [request(), request("bm90IGEgc2lnbmF0dXJl"), request(path=AFTER)]
    for req in forged:
        handler = "after" if req.path == AFTER else "incoming"
        answer = post(twilio, handler, req)
        assert answer.status == 403 and len(answer.body) < 40
    twilio.transfers.put(CALL_SID, "+15550199")  # a transfer forged /after must not reveal
    assert post(twilio, "after", request(path=AFTER)).status == 403
    assert twilio.transfers.take(CALL_SID) == "+15550199"  # nor use up
    refused = [r.getMessage() for r in caplog.records]
    assert len(refused) == len(forged) + 1
    assert all("voice.twilio.refused" in line and "reason=closed" in line for line in refused)
    assert CALLER not in caplog.text and CALL_SID not in caplog.text


def test_a_signed_incoming_call_gets_a_stream_with_a_token_for_its_call():
    twilio = channel(auth_token=TOKEN)
    answer = post(twilio, "incoming", signed_request())
    assert answer.status == 200
    params = stream_parameters(answer.body)
    assert params["caller"] == CALLER
    assert tp.stream_token_problem(twilio.stream_key, CALL_SID, params["token"], time.time()) == ""


def test_a_forged_signature_is_refused_when_a_token_is_set(caplog):
    twilio = channel(auth_token=TOKEN)
    answer = post(twilio, "incoming", request("bm90IGEgc2lnbmF0dXJl"))
    assert answer.status == 403
    assert "reason=bad_signature" in caplog.text and CALLER not in caplog.text


def test_insecure_dev_mode_accepts_unsigned_calls_and_warns_loudly(caplog):
    caplog.set_level(logging.WARNING, logger="voice.channels.twilio")
    twilio = channel(insecure_dev_mode=True)
    assert "INSECURE" in caplog.text
    assert post(twilio, "incoming", request()).status == 200
    assert verbs(post(twilio, "after", request(path=AFTER)).body) == [("Hangup", "")]


@pytest.mark.parametrize(
    "call_sid",
    [
        "CA123",
        "../../etc/passwd",
        f"CA{'0' * 31}g",
        "CA" + CALL_SID[2:].upper(),
        CALL_SID + "\n",
        "",
    ],
)
@pytest.mark.parametrize("path", [INCOMING, AFTER])
def test_signed_requests_about_something_that_is_not_a_call_sid_are_refused(call_sid, path):
    twilio = channel(auth_token=TOKEN)
    handler = "after" if path == AFTER else "incoming"
    answer = post(twilio, handler, signed_request({**FORM, "CallSid": call_sid}, path))
    assert answer.status == 400


@pytest.mark.parametrize(
    "options, message",
    [
        ({"stt": "whisper"}, "stt must be one of"),
        ({"stt": "scripted", "scripted_dir": None}, "needs scripted_dir"),
        ({"call": {"max_reprompts": -1}}, "must be 0 or more"),
        ({"trasnfer_number": "+1555"}, "unexpected keyword"),
        ({"insecure_dev_mode": "false"}, "must be true or false"),
        ({"insecure_dev_mode": True, "auth_token": TOKEN}, "not both"),
    ],
)
def test_bad_options_stop_the_server_with_a_reason(options, message):
    with pytest.raises(ConfigError, match=message):
        TwilioMediaStreamsInput.from_credentials(
            {"stt": "scripted", "scripted_dir": "/tmp", **options}
        )


def test_without_a_speech_model_voice_is_off_with_the_reason(tmp_path):
    off = TwilioMediaStreamsInput.from_credentials({"vosk_model": str(tmp_path / "none")})
    assert "no Vosk model" in off.unavailable and "VOSK_MODEL_PATH" in off.unavailable


# The stream -----------------------------------------------------------------------------


class Socket:
    """The server's end of a Media Streams websocket, receiving `messages` (dicts as JSON,
    strings as they are)."""

    def __init__(self, *messages):
        self.inbox = [m if isinstance(m, str) else json.dumps(m) for m in messages]
        self.closed_with = None
        self.reason = ""

    async def recv(self) -> str:
        if not self.inbox:
            raise ConnectionClosedOK(None, None)
        return self.inbox.pop(0)

    async def send(self, data) -> None:
        pass

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed_with, self.reason = code, reason


class Session:
    """A call as the stream handler sees it: what it was told, and how it ended."""

    def __init__(self):
        self.closed = False
        self.heard = []
        self.ended = None

    async def start(self) -> None:
        pass

    async def audio(self, chunk) -> None:
        self.heard.append(("audio", chunk.pcm))

    async def dtmf(self, digit: str) -> None:
        self.heard.append(("dtmf", digit))

    def played(self, mark: str) -> None:
        self.heard.append(("played", mark))

    async def end(self, reason: str) -> None:
        if not self.closed:
            self.closed, self.ended = True, reason


def start(call_sid: str, parameters: dict) -> dict:
    return {
        "event": "start",
        "streamSid": STREAM_SID,
        "start": {
            "streamSid": STREAM_SID,
            "callSid": call_sid,
            "customParameters": parameters,
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        },
    }


CONNECTED = {"event": "connected", "protocol": "Call", "version": "1.0.0"}
STOP = {"event": "stop", "streamSid": STREAM_SID}


def serve(twilio, *messages, session=None):
    """Runs the stream handler on `messages`; returns the socket and the conversations it
    started (each with the session standing in for it)."""
    started = []

    def start_session(request, on_message, call_id, transport, metadata):
        started.append((call_id, metadata["call"]["caller"], session or Session()))
        return started[-1][2]

    twilio.session = start_session
    ws = Socket(*messages)
    asyncio.run(asyncio.wait_for(twilio._serve(None, ws, None), 5))
    return ws, started


def stream(twilio, start_message: dict):
    """Runs the stream handler on connected, `start_message`, stop; returns the socket and
    the conversations it started."""
    ws, started = serve(twilio, CONNECTED, start_message, STOP)
    return ws, [(call_id, caller) for call_id, caller, _ in started]


def issued(twilio, call_sid: str = CALL_SID) -> dict:
    form = {**FORM, "CallSid": call_sid}
    return stream_parameters(post(twilio, "incoming", signed_request(form)).body)


def test_a_stream_announced_by_a_signed_incoming_call_starts_the_conversation():
    twilio = channel(auth_token=TOKEN)
    ws, started = stream(twilio, start(CALL_SID, issued(twilio)))
    assert started == [(CALL_SID, CALLER)] and ws.closed_with is None


def test_a_stream_works_in_insecure_dev_mode():
    twilio = channel(insecure_dev_mode=True)
    parameters = stream_parameters(post(twilio, "incoming", request()).body)
    assert stream(twilio, start(CALL_SID, parameters))[1] == [(CALL_SID, CALLER)]


OTHER_CALL = "CAffffffffffffffffffffffffffffffff"


@pytest.mark.parametrize(
    "case", ["unissued", "etc_passwd", "expired", "other_call", "forged", "not_ascii"]
)
def test_a_stream_nobody_announced_is_closed_and_starts_nothing(case, caplog):
    twilio = channel(auth_token=TOKEN)
    expired = tp.stream_token(twilio.stream_key, CALL_SID, time.time() - tp.STREAM_TOKEN_TTL - 1)
    call_sid, parameters = {
        "unissued": (CALL_SID, {"caller": CALLER}),
        "etc_passwd": ("../../etc/passwd", {"caller": CALLER, **issued(twilio)}),
        "expired": (CALL_SID, {"caller": CALLER, "token": expired}),
        "other_call": (CALL_SID, issued(twilio, OTHER_CALL)),
        "forged": (CALL_SID, {"caller": CALLER, "token": f"{int(time.time()) + 60}.{'a' * 64}"}),
        "not_ascii": (CALL_SID, {"caller": CALLER, "token": "٣" * 10 + "." + "é" * 64}),
    }[case]
    ws, started = stream(twilio, start(call_sid, parameters))
    assert started == [] and ws.closed_with == tp.POLICY_VIOLATION
    assert "voice.twilio.stream_refused" in caplog.text or "voice.twilio.bad_start" in caplog.text


def test_the_shipped_configuration_refuses_every_stream():
    twilio = shipped_channel()
    token = tp.stream_token(twilio.stream_key, CALL_SID, time.time())
    ws, started = stream(twilio, start(CALL_SID, {"caller": CALLER, "token": token}))
    assert started == [] and ws.closed_with == tp.POLICY_VIOLATION


def media(payload: bytes, track: str = "inbound") -> dict:
    return {
        "event": "media",
        "streamSid": STREAM_SID,
        "media": {"track": track, "payload": base64.b64encode(payload).decode()},
    }


def test_the_calls_messages_reach_its_session_in_order():
    twilio = channel(insecure_dev_mode=True)
    start_message = start(CALL_SID, issued(twilio))
    ws, started = serve(
        twilio,
        CONNECTED,
        media(b"\x00" * 160),
        start_message,
        media(b"\x01" * 160),
        media(b"\x02" * 160, track="outbound"),
        {"event": "dtmf", "streamSid": STREAM_SID, "dtmf": {"digit": "5"}},
        {"event": "mark", "streamSid": STREAM_SID, "mark": {"name": "m1"}},
        STOP,
        media(b"\x03" * 160),
    )
    session = started[0][2]
    # Media before 'start' has no call yet; Heard's own track is not the caller's.
    assert session.heard == [
        ("audio", mulaw_decode(b"\x01" * 160)),
        ("dtmf", "5"),
        ("played", "m1"),
    ]
    assert session.ended == "caller_hung_up" and ws.closed_with is None


def test_malformed_messages_are_skipped_until_too_many_come_in_a_row(caplog):
    twilio = channel(insecure_dev_mode=True)
    junk = ["{not json"] * (MAX_BAD_MESSAGES - 1)
    ws, started = serve(
        twilio,
        CONNECTED,
        *junk,
        start(CALL_SID, issued(twilio)),
        *junk,
        media(b"\x01" * 160),
        *junk,
        STOP,
    )
    session = started[0][2]
    assert len(session.heard) == 1 and session.ended == "caller_hung_up"
    assert ws.closed_with is None
    assert caplog.text.count("voice.twilio.bad_message") == 3 * len(junk)

    ws, started = serve(
        twilio,
        CONNECTED,
        start(CALL_SID, issued(twilio)),
        *["[1, 2]"] * MAX_BAD_MESSAGES,
        media(b"\x01" * 160),
    )
    assert ws.closed_with == tp.POLICY_VIOLATION and ws.reason == "too many malformed messages"
    assert started[0][2].heard == [] and started[0][2].ended == "caller_hung_up"


def test_a_start_in_another_codec_is_closed_with_the_reason_and_starts_nothing():
    twilio = channel(insecure_dev_mode=True)
    message = start(CALL_SID, issued(twilio))
    message["start"]["mediaFormat"]["encoding"] = "audio/" + "é" * 200  # a long reason
    ws, started = serve(twilio, CONNECTED, message, STOP)
    assert started == [] and ws.closed_with == tp.UNSUPPORTED_DATA
    assert ws.reason.startswith("start: unsupported encoding")
    assert len(ws.reason.encode()) <= 123  # what a close frame can carry


def test_without_a_speech_model_streams_are_closed_with_the_reason(tmp_path):
    off = TwilioMediaStreamsInput.from_credentials(
        {"vosk_model": str(tmp_path / "none"), "insecure_dev_mode": True}
    )
    token = tp.stream_token(off.stream_key, CALL_SID, time.time())  # /incoming says no
    ws, started = serve(off, CONNECTED, start(CALL_SID, {"caller": CALLER, "token": token}), STOP)
    assert started == [] and ws.closed_with == tp.UNSUPPORTED_DATA
    assert ws.reason.startswith("voice is off: no Vosk model")


class Broken(Session):
    async def audio(self, chunk) -> None:
        raise RuntimeError("a bug")


def test_a_failing_call_is_ended_and_closed_without_details(caplog):
    twilio = channel(insecure_dev_mode=True)
    ws, started = serve(
        twilio, CONNECTED, start(CALL_SID, issued(twilio)), media(b"\x01" * 160), session=Broken()
    )
    assert started[0][2].ended == "caller_hung_up"
    assert (ws.closed_with, ws.reason) == (INTERNAL_ERROR, "internal error")
    assert "voice.twilio.failed" in caplog.text and "a bug" in caplog.text


class Silent(Socket):
    """A peer that sends `messages` and then nothing, without going away."""

    async def recv(self) -> str:
        if not self.inbox:
            await asyncio.sleep(3600)
        return self.inbox.pop(0)


def test_a_stream_that_connects_but_never_starts_is_closed_in_time():
    twilio = channel(auth_token=TOKEN)
    twilio.start_seconds = 0.2
    twilio.session = lambda *args: pytest.fail("a call started")
    ws = Silent(CONNECTED)
    asyncio.run(asyncio.wait_for(twilio._serve(None, ws, None), 5))
    assert ws.closed_with == POLICY_VIOLATION
    assert ws.reason == "no call started within 0.2 s"
