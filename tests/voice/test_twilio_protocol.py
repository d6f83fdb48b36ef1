"""Twilio Media Streams codec: inbound parsing, outbound frames, TwiML, signatures,
stream tokens."""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from tests.voice.twiml import verbs
from voice.audio import AudioChunk, mulaw_encode, read_wav, resample
from voice.twilio_protocol import (
    POLICY_VIOLATION,
    STREAM_TOKEN_TTL,
    UNSUPPORTED_DATA,
    BadStart,
    Connected,
    Dtmf,
    Mark,
    Media,
    ProtocolError,
    Start,
    Stop,
    clear_message,
    connect_stream_twiml,
    dial_twiml,
    mark_message,
    media_messages,
    parse_message,
    say_and_hang_up_twiml,
    stream_token,
    stream_token_problem,
    valid_signature,
)

SID = "MZ18ad3ab5a668481ce02b83e7395059f0"
CALL = "CA0123456789abcdef0123456789abcdef"


def start_msg(**fmt):
    media_format = {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}
    media_format.update(fmt)
    return {
        "event": "start",
        "sequenceNumber": "1",
        "start": {
            "accountSid": "AC123",
            "streamSid": SID,
            "callSid": CALL,
            "tracks": ["inbound"],
            "mediaFormat": media_format,
            "customParameters": {"caller": "+15551234567", "lang": "en"},
        },
        "streamSid": SID,
    }


def media_msg(payload: str, **extra):
    media = {"track": "inbound", "chunk": "2", "timestamp": "40", "payload": payload}
    media.update(extra)
    return {"event": "media", "sequenceNumber": "3", "media": media, "streamSid": SID}


def test_parse_connected_and_start():
    c = parse_message(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
    assert c == Connected("Call", "1.0.0")
    s = parse_message(json.dumps(start_msg()))
    assert isinstance(s, Start)
    assert (s.stream_sid, s.call_sid, s.account_sid) == (SID, CALL, "AC123")
    assert s.custom_parameters == {"caller": "+15551234567", "lang": "en"}
    assert (s.encoding, s.sample_rate, s.channels, s.tracks) == (
        "audio/x-mulaw",
        8000,
        1,
        ("inbound",),
    )


def test_parse_media_dtmf_mark_stop():
    pcm = (np.arange(160) * 200 - 16000).astype("<i2").tobytes()
    payload = base64.b64encode(mulaw_encode(pcm)).decode()
    m = parse_message(json.dumps(media_msg(payload)))
    assert isinstance(m, Media)
    assert m.stream_sid == SID and m.chunk == 2 and m.timestamp_ms == 40 and m.track == "inbound"
    assert m.audio.sample_rate == 8000 and len(m.audio.samples) == 160
    assert np.max(np.abs(m.audio.samples.astype(int) - np.frombuffer(pcm, "<i2"))) <= 16000 * 0.04
    d = parse_message(
        json.dumps(
            {"event": "dtmf", "streamSid": SID, "dtmf": {"track": "inbound_track", "digit": "7"}}
        )
    )
    assert d == Dtmf(SID, "7")
    mk = parse_message(json.dumps({"event": "mark", "streamSid": SID, "mark": {"name": "reply-3"}}))
    assert mk == Mark(SID, "reply-3")
    st = parse_message(
        json.dumps(
            {"event": "stop", "streamSid": SID, "stop": {"accountSid": "AC1", "callSid": CALL}}
        )
    )
    assert st == Stop(SID, CALL)
    assert parse_message(json.dumps({"event": "stop", "streamSid": SID}).encode()) == Stop(SID, "")


def test_media_round_trip_on_a_real_recording(shared_audio):
    """PCM -> outbound media frames -> parsed as inbound media -> PCM within mu-law error."""
    original = read_wav(shared_audio / "fsdd" / "4_jackson_0.wav")
    messages = media_messages(SID, original)
    assert len(messages) == -(-len(original.samples) // 160)
    audio = b""
    for i, text in enumerate(messages):
        out = json.loads(text)
        assert out["event"] == "media" and out["streamSid"] == SID
        assert set(out) == {"event", "streamSid", "media"}
        raw = base64.b64decode(out["media"]["payload"])
        if i < len(messages) - 1:
            assert len(raw) == 160  # 20 ms frames
        inbound = parse_message(json.dumps(media_msg(out["media"]["payload"], chunk=str(i + 1))))
        assert isinstance(inbound, Media) and inbound.chunk == i + 1
        audio += inbound.audio.pcm
    got = np.frombuffer(audio, "<i2").astype(np.int64)
    want = original.samples.astype(np.int64)
    assert len(got) == len(want)
    # mu-law keeps about 3.5 % relative error (plus a small step near zero)
    assert np.all(np.abs(got - want) <= np.abs(want) * 0.035 + 40)
    snr = 10 * np.log10(np.sum(want**2) / np.sum((got - want) ** 2))
    assert snr > 30


def test_outbound_media_resamples_to_8k():
    t = np.arange(16000) / 16000
    tone = AudioChunk.from_samples(0.5 * np.sin(2 * np.pi * 440 * t), 16000)  # 1 s at 16 kHz
    messages = media_messages(SID, tone)
    assert len(messages) == 50  # 1 s = 50 frames of 20 ms at 8 kHz
    audio = b"".join(
        parse_message(json.dumps(media_msg(json.loads(m)["media"]["payload"]))).audio.pcm
        for m in messages
    )
    got = np.frombuffer(audio, "<i2").astype(float)
    want = resample(tone, 8000).samples.astype(float)
    assert len(got) == 8000
    assert np.max(np.abs(got - want)) < 0.035 * 16384 + 40


def test_mark_and_clear_messages():
    assert json.loads(mark_message(SID, "reply-1")) == {
        "event": "mark",
        "streamSid": SID,
        "mark": {"name": "reply-1"},
    }
    assert json.loads(clear_message(SID)) == {"event": "clear", "streamSid": SID}


GOOD_PAYLOAD = base64.b64encode(b"\xff" * 160).decode()

MALFORMED = {
    "not json": ("{event: media", "malformed JSON"),
    "truncated json": ('{"event": "media", "streamSid": "MZ1", "media": {"payl', "malformed JSON"),
    "json array": ("[1, 2]", "not a JSON object"),
    "no event": (json.dumps({"streamSid": SID}), "no 'event'"),
    "unknown event": (json.dumps({"event": "dance", "streamSid": SID}), "unknown event 'dance'"),
    "start without start": (json.dumps({"event": "start", "streamSid": SID}), "'start'"),
    "start without mediaFormat": (
        json.dumps({"event": "start", "streamSid": SID, "start": {"callSid": CALL}}),
        "'mediaFormat'",
    ),
    "start without callSid": (
        json.dumps(
            {
                **start_msg(),
                "start": {k: v for k, v in start_msg()["start"].items() if k != "callSid"},
            }
        ),
        "'callSid'",
    ),
    "start without streamSid": (
        json.dumps(
            {
                "event": "start",
                "start": {k: v for k, v in start_msg()["start"].items() if k != "streamSid"},
            }
        ),
        "'streamSid'",
    ),
    "wrong codec": (
        json.dumps(start_msg(encoding="audio/l16")),
        "unsupported encoding 'audio/l16'",
    ),
    "a long codec, quoted short": (
        json.dumps(start_msg(encoding="x" * 5000)),
        f"unsupported encoding '{'x' * 39}..., expected",
    ),
    "wrong sample rate": (json.dumps(start_msg(sampleRate=16000)), "unsupported sample rate 16000"),
    "sample rate not a number": (
        json.dumps(start_msg(sampleRate="fast")),
        "'sampleRate' is not an integer",
    ),
    "stereo": (json.dumps(start_msg(channels=2)), "unsupported channel count 2"),
    "media without payload": (
        json.dumps({"event": "media", "streamSid": SID, "media": {"track": "inbound"}}),
        "'payload'",
    ),
    "media without media": (json.dumps({"event": "media", "streamSid": SID}), "'media'"),
    "media without streamSid": (
        json.dumps({"event": "media", "media": {"payload": GOOD_PAYLOAD}}),
        "'streamSid'",
    ),
    "bad base64": (json.dumps(media_msg("!!!not base64!!!")), "not valid base64"),
    "truncated base64": (json.dumps(media_msg(GOOD_PAYLOAD[:-3])), "not valid base64"),
    "bad chunk number": (
        json.dumps(media_msg(GOOD_PAYLOAD, chunk="x1")),
        "'chunk' is not an integer",
    ),
    "dtmf without digit": (json.dumps({"event": "dtmf", "streamSid": SID, "dtmf": {}}), "'digit'"),
    "dtmf bad digit": (
        json.dumps({"event": "dtmf", "streamSid": SID, "dtmf": {"digit": "12"}}),
        "not a DTMF digit",
    ),
    "mark without name": (json.dumps({"event": "mark", "streamSid": SID, "mark": {}}), "'name'"),
    "mark without streamSid": (json.dumps({"event": "mark", "mark": {"name": "x"}}), "'streamSid'"),
    "streamSid not Twilio's": (
        json.dumps({**media_msg(GOOD_PAYLOAD), "streamSid": "MZ1"}),
        "'streamSid' is missing or not a Twilio sid",
    ),
    "binary garbage": (b"\xff\xfe\x00garbage", "malformed JSON"),
}


@pytest.mark.parametrize("text,message", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_messages_raise_protocol_error(text, message):
    with pytest.raises(ProtocolError) as info:
        parse_message(text)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_twiml_escapes_url_and_parameters():
    url = "wss://heard.example.com/twilio/stream?a=1&b=\"two\"&c='3'<x>"
    params = {"caller": 'O\'Brien & "Sons"', "note": "<tag>&amp;"}
    twiml = connect_stream_twiml(url, params)
    assert '&b="two"' not in twiml  # raw & and quotes would break the attribute
    root = ET.fromstring(twiml.encode())
    assert root.tag == "Response"
    connect = root.find("Connect")
    stream = connect.find("Stream")
    assert stream.get("url") == url
    got = {p.get("name"): p.get("value") for p in stream.findall("Parameter")}
    assert got == params
    assert [c.tag for c in root] == ["Connect"] and [c.tag for c in connect] == ["Stream"]


def test_twiml_without_parameters():
    root = ET.fromstring(connect_stream_twiml("wss://h.example/s"))
    stream = root.find("./Connect/Stream")
    assert stream.get("url") == "wss://h.example/s" and list(stream) == []


def test_twiml_asks_the_action_url_once_the_stream_ends():
    root = ET.fromstring(connect_stream_twiml("wss://h.example/s", action_url="https://h/after"))
    assert root.find("Connect").get("action") == "https://h/after"
    assert ET.fromstring(connect_stream_twiml("wss://h.example/s")).find("Connect").attrib == {}


def test_twiml_dials_a_number_or_says_goodbye_and_hangs_up():
    assert verbs(dial_twiml("+15550199")) == [("Dial", "+15550199")]
    assert verbs(say_and_hang_up_twiml('Sorry <Ann> & "Bo"')) == [
        ("Say", 'Sorry <Ann> & "Bo"'),
        ("Hangup", ""),
    ]
    assert verbs(say_and_hang_up_twiml()) == [("Hangup", "")]


def test_signature_validation():
    from twilio.request_validator import RequestValidator

    token = "12345abcdef"
    url = "https://heard.example.com/twilio/voice?x=1"
    params = {
        "CallSid": CALL,
        "From": "+15551234567",
        "To": "+15557654321",
        "CallStatus": "ringing",
    }
    signature = RequestValidator(token).compute_signature(url, params)
    assert valid_signature(token, url, params, signature)
    assert not valid_signature(token, url, {**params, "From": "+15550000000"}, signature)
    assert not valid_signature(token, url + "&y=2", params, signature)
    assert not valid_signature("other-token", url, params, signature)
    assert not valid_signature(token, url, params, "")


@pytest.mark.parametrize(
    "call_sid", ["../../etc/passwd", "CA123", CALL.upper(), CALL + "\n", CALL + "0", 42]
)
def test_a_start_whose_call_sid_is_not_twilios_is_a_policy_violation(call_sid):
    message = start_msg()
    message["start"]["callSid"] = call_sid
    with pytest.raises(BadStart) as info:
        parse_message(json.dumps(message))
    assert info.value.code == POLICY_VIOLATION and "'callSid'" in str(info.value)
    assert str(call_sid) not in str(info.value)  # the peer's text never reaches the log


def test_a_start_in_another_codec_is_unsupported_data():
    with pytest.raises(BadStart) as info:
        parse_message(json.dumps(start_msg(encoding="audio/l16")))
    assert info.value.code == UNSUPPORTED_DATA


def test_a_stream_token_holds_for_its_call_until_it_expires():
    key, now = b"k" * 32, 1_800_000_000.0
    token = stream_token(key, CALL, now)
    assert stream_token_problem(key, CALL, token, now) == ""
    assert stream_token_problem(key, CALL, token, now + STREAM_TOKEN_TTL) == ""
    assert stream_token_problem(key, CALL, token, now + STREAM_TOKEN_TTL + 1) == "expired_token"
    other = "CA" + "f" * 32
    assert stream_token_problem(key, other, token, now) == "invalid_token"
    assert stream_token_problem(b"x" * 32, CALL, token, now) == "invalid_token"
    expires, mac = token.split(".")
    later = f"{int(expires) + 3600}.{mac}"  # a longer life is not the token's
    assert stream_token_problem(key, CALL, later, now) == "invalid_token"


@pytest.mark.parametrize(
    "token, problem",
    [
        (None, "no_token"),
        ("", "no_token"),
        ("abc", "malformed_token"),
        ("1800000300." + "A" * 64, "malformed_token"),
        ("٣" * 10 + "." + "a" * 64, "malformed_token"),
        ("1800000300." + "é" * 64, "malformed_token"),
        ("1800000300." + "a" * 64, "invalid_token"),
    ],
)
def test_missing_and_malformed_stream_tokens_are_named(token, problem):
    assert stream_token_problem(b"k" * 32, CALL, token, 1_800_000_000.0) == problem
