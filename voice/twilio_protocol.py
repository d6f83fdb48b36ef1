"""Twilio Media Streams as plain data: parse inbound messages, build outbound ones, TwiML.

Pure codec, no sockets: the websocket transport hands each text message to `parse_message`
and sends what `media_messages` / `mark_message` / `clear_message` return. `stream_token`
ties a stream to the signed /incoming request that announced it.
Protocol reference: https://www.twilio.com/docs/voice/media-streams/websocket-messages
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Union

from twilio.twiml.voice_response import VoiceResponse

from voice.audio import TELEPHONY_RATE, AudioChunk, chunk_from_mulaw, chunk_to_mulaw

MULAW_ENCODING = "audio/x-mulaw"
FRAME_MS = 20
FRAME_BYTES = TELEPHONY_RATE * FRAME_MS // 1000  # 160 mu-law bytes = 20 ms at 8 kHz
DTMF_DIGITS = set("0123456789*#ABCD")
# Twilio's ids, strictly: a CallSid becomes the conversation id (and a file name for the
# scripted recogniser), so nothing else may get that far.
CALL_SID = re.compile(r"CA[0-9a-f]{32}")
STREAM_SID = re.compile(r"MZ[0-9a-f]{32}")
UNSUPPORTED_DATA, POLICY_VIOLATION = 1003, 1008  # websocket close codes
STREAM_TOKEN = re.compile(r"([0-9]{1,12})\.([0-9a-f]{64})")  # expiry (unix time) . HMAC
STREAM_TOKEN_TTL = 300  # seconds; Twilio opens the stream as soon as /incoming answers
SHOWN = 40  # characters of a peer's value an error quotes: enough to see, too few to flood


class ProtocolError(ValueError):
    """An inbound message that is not valid Twilio Media Streams protocol."""


class BadStart(ProtocolError):
    """A 'start' message the stream can't work with: end the call with `code`
    (UNSUPPORTED_DATA for another codec, POLICY_VIOLATION for ids that are not Twilio's)."""

    def __init__(self, message: str, code: int = UNSUPPORTED_DATA):
        super().__init__(message)
        self.code = code


def _shown(value: Any) -> str:
    """A value from the peer as an error quotes it: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= SHOWN else text[:SHOWN] + "..."


def is_call_sid(value: Any) -> bool:
    return isinstance(value, str) and CALL_SID.fullmatch(value) is not None


@dataclass(frozen=True)
class Connected:
    protocol: str
    version: str


@dataclass(frozen=True)
class Start:
    stream_sid: str
    call_sid: str
    account_sid: str = ""
    tracks: tuple = ()
    custom_parameters: Dict[str, str] = field(default_factory=dict)
    encoding: str = MULAW_ENCODING
    sample_rate: int = TELEPHONY_RATE
    channels: int = 1


@dataclass(frozen=True)
class Media:
    stream_sid: str
    audio: AudioChunk  # PCM16 at 8 kHz
    track: str = "inbound"
    chunk: int = 0
    timestamp_ms: int = 0


@dataclass(frozen=True)
class Dtmf:
    stream_sid: str
    digit: str


@dataclass(frozen=True)
class Mark:
    stream_sid: str
    name: str


@dataclass(frozen=True)
class Stop:
    stream_sid: str
    call_sid: str = ""


Message = Union[Connected, Start, Media, Dtmf, Mark, Stop]


def _obj(parent: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = parent.get(key)
    if not isinstance(value, dict):
        raise ProtocolError(f"{where}: missing or non-object field '{key}'")
    return value


def _str(parent: Mapping[str, Any], key: str, where: str) -> str:
    value = parent.get(key)
    if not isinstance(value, str) or not value:
        raise ProtocolError(f"{where}: missing or non-string field '{key}'")
    return value


def _sid(parent: Mapping[str, Any], key: str, where: str, pattern: re.Pattern) -> str:
    value = parent.get(key)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        # Not echoed: the value comes from the peer and the error is logged.
        raise ProtocolError(f"{where}: field '{key}' is missing or not a Twilio sid")
    return value


def _int(parent: Mapping[str, Any], key: str, where: str, default: Optional[int] = None) -> int:
    value = parent.get(key, default)
    if value is None:
        raise ProtocolError(f"{where}: missing field '{key}'")
    try:
        # Twilio sends chunk/timestamp/sequenceNumber as strings of digits.
        if isinstance(value, bool) or not str(value).strip().lstrip("-").isdigit():
            raise ValueError
        return int(value)
    except ValueError:
        shown = _shown(value)
        raise ProtocolError(f"{where}: field '{key}' is not an integer: {shown}") from None


def _parse_start(data: Mapping[str, Any]) -> Start:
    start = _obj(data, "start", "start")
    fmt = _obj(start, "mediaFormat", "start")
    encoding = _str(fmt, "encoding", "start.mediaFormat")
    rate = _int(fmt, "sampleRate", "start.mediaFormat")
    channels = _int(fmt, "channels", "start.mediaFormat", default=1)
    if encoding != MULAW_ENCODING:
        raise ProtocolError(
            f"start: unsupported encoding {_shown(encoding)}, expected {MULAW_ENCODING!r}"
        )
    if rate != TELEPHONY_RATE:
        raise ProtocolError(f"start: unsupported sample rate {rate}, expected {TELEPHONY_RATE}")
    if channels != 1:
        raise ProtocolError(f"start: unsupported channel count {channels}, expected 1")
    params = start.get("customParameters") or {}
    if not isinstance(params, dict):
        raise ProtocolError("start: 'customParameters' is not an object")
    tracks = start.get("tracks") or []
    if not isinstance(tracks, list):
        raise ProtocolError("start: 'tracks' is not a list")
    try:
        stream_sid = _sid(data if "streamSid" in data else start, "streamSid", "start", STREAM_SID)
        call_sid = _sid(start, "callSid", "start.start", CALL_SID)
    except ProtocolError as e:
        raise BadStart(str(e), POLICY_VIOLATION) from None
    return Start(
        stream_sid=stream_sid,
        call_sid=call_sid,
        account_sid=str(start.get("accountSid", "")),
        tracks=tuple(str(t) for t in tracks),
        custom_parameters={str(k): str(v) for k, v in params.items()},
        encoding=encoding,
        sample_rate=rate,
        channels=channels,
    )


def parse_message(text: Union[str, bytes]) -> Message:
    """One websocket text message from Twilio -> a dataclass, or ProtocolError."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as e:
        raise ProtocolError(f"malformed JSON: {e}") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"message is not a JSON object: {type(data).__name__}")
    event = data.get("event")
    if not isinstance(event, str):
        raise ProtocolError("message has no 'event' field")

    if event == "connected":
        return Connected(str(data.get("protocol", "")), str(data.get("version", "")))

    if event == "start":
        try:
            return _parse_start(data)
        except BadStart:
            raise
        except ProtocolError as e:
            raise BadStart(str(e)) from None

    if event == "media":
        sid = _sid(data, "streamSid", "media", STREAM_SID)
        media = _obj(data, "media", "media")
        payload = _str(media, "payload", "media.media")
        try:
            raw = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as e:
            raise ProtocolError(f"media: payload is not valid base64: {e}") from None
        return Media(
            stream_sid=sid,
            audio=chunk_from_mulaw(raw, TELEPHONY_RATE),
            track=str(media.get("track", "inbound")),
            chunk=_int(media, "chunk", "media.media", default=0),
            timestamp_ms=_int(media, "timestamp", "media.media", default=0),
        )

    if event == "dtmf":
        sid = _sid(data, "streamSid", "dtmf", STREAM_SID)
        digit = _str(_obj(data, "dtmf", "dtmf"), "digit", "dtmf.dtmf")
        if digit not in DTMF_DIGITS:
            raise ProtocolError(f"dtmf: not a DTMF digit: {_shown(digit)}")
        return Dtmf(sid, digit)

    if event == "mark":
        sid = _sid(data, "streamSid", "mark", STREAM_SID)
        return Mark(sid, _str(_obj(data, "mark", "mark"), "name", "mark.mark"))

    if event == "stop":
        sid = _sid(data, "streamSid", "stop", STREAM_SID)
        stop = data.get("stop") or {}
        if not isinstance(stop, dict):
            raise ProtocolError("stop: 'stop' is not an object")
        return Stop(sid, str(stop.get("callSid", "")))

    raise ProtocolError(f"unknown event {_shown(event)}")


# Outbound ------------------------------------------------------------------------------


def media_messages(stream_sid: str, audio: AudioChunk, frame_ms: int = FRAME_MS) -> List[str]:
    """Audio at any rate -> outbound `media` messages of 8 kHz mu-law, one per frame.

    The last frame may be shorter than `frame_ms`.
    """
    if not stream_sid:
        raise ValueError("stream_sid is required")
    mulaw = chunk_to_mulaw(audio)
    step = TELEPHONY_RATE * frame_ms // 1000
    return [
        json.dumps(
            {
                "event": "media",
                "streamSid": stream_sid,
                "media": {"payload": base64.b64encode(mulaw[i : i + step]).decode("ascii")},
            }
        )
        for i in range(0, len(mulaw), step)
    ]


def mark_message(stream_sid: str, name: str) -> str:
    return json.dumps({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}})


def clear_message(stream_sid: str) -> str:
    return json.dumps({"event": "clear", "streamSid": stream_sid})


# TwiML (built and escaped by Twilio's library), signatures, stream tokens --------------


def connect_stream_twiml(
    ws_url: str, parameters: Optional[Mapping[str, str]] = None, action_url: Optional[str] = None
) -> str:
    """TwiML answering a call by streaming it to `ws_url` (wss://...), with custom parameters.

    With `action_url`, Twilio asks that URL what to do once the stream ends (hang up, or
    dial a colleague for a transfer) instead of ending the call.
    """
    twiml = VoiceResponse()
    stream = twiml.connect(action=action_url or None).stream(url=ws_url)
    for name, value in (parameters or {}).items():
        stream.parameter(name=str(name), value=str(value))
    return str(twiml)


def dial_twiml(number: str) -> str:
    twiml = VoiceResponse()
    twiml.dial(number)
    return str(twiml)


def say_and_hang_up_twiml(text: str = "") -> str:
    twiml = VoiceResponse()
    if text:
        twiml.say(text)
    twiml.hangup()
    return str(twiml)


def stream_token(key: bytes, call_sid: str, now: float, ttl: float = STREAM_TOKEN_TTL) -> str:
    """The <Stream> parameter that lets the stream for `call_sid` start until `ttl` seconds
    from `now`: only /incoming hands it out, so no state is shared between replicas."""
    expires = int(now + ttl)
    return f"{expires}.{_token_mac(key, call_sid, expires)}"


def stream_token_problem(key: bytes, call_sid: str, token: Optional[str], now: float) -> str:
    """ "" when `token` is `stream_token(key, call_sid, ...)` and still valid, else why not."""
    found = STREAM_TOKEN.fullmatch(token or "")
    if found is None:
        return "malformed_token" if token else "no_token"
    expires = int(found[1])
    if not hmac.compare_digest(found[2], _token_mac(key, call_sid, expires)):
        return "invalid_token"  # forged, or issued for another call
    return "expired_token" if expires < now else ""


def _token_mac(key: bytes, call_sid: str, expires: int) -> str:
    # The purpose is part of the message, so the MAC can't be mistaken for another use of key.
    message = f"heard twilio stream|{call_sid}|{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def valid_signature(auth_token: str, url: str, params: Mapping[str, Any], signature: str) -> bool:
    """Checks Twilio's X-Twilio-Signature header for a webhook request."""
    from twilio.request_validator import RequestValidator

    if not auth_token or not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, dict(params), signature))
