"""A caller on a simulated Twilio line: does what Twilio does for an incoming call, so the
phone path can be tested and measured without a Twilio account (tests, `make bench-voice`):
POST /incoming (signed with the auth token, when the server has one), then open the
websocket named in the TwiML's <Stream> and speak Media Streams with its parameters."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Tuple

from twilio.request_validator import RequestValidator
from websockets.exceptions import ConnectionClosed
from websockets.legacy.client import WebSocketClientProtocol
from websockets.legacy.client import connect as open_websocket

from voice import twilio_protocol as tp
from voice.audio import TELEPHONY_RATE, AudioChunk, chunk_from_mulaw, chunk_to_mulaw, resample

FRAME_SECONDS = 0.02
WEBHOOKS = "/webhooks/twilio_voice"


def twilio_post(
    url: str, form: Mapping[str, str], auth_token: Optional[str] = None, timeout: float = 10.0
) -> str:
    """POSTs a webhook form as Twilio does (X-Twilio-Signature with `auth_token`); returns
    the body. Refusals raise urllib.error.HTTPError."""
    headers = {}
    if auth_token:
        headers["X-Twilio-Signature"] = RequestValidator(auth_token).compute_signature(url, form)
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(form).encode(), headers=headers
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read().decode()


def silence(seconds: float, rate: int = TELEPHONY_RATE) -> AudioChunk:
    return AudioChunk(b"\x00\x00" * int(rate * seconds), rate)


@dataclass
class Heard:
    """What came back from Heard: audio, marks and clears, with arrival times."""

    pcm: bytearray = field(default_factory=bytearray)
    first_audio_at: Optional[float] = None
    marks: List[str] = field(default_factory=list)
    clears: List[float] = field(default_factory=list)

    @property
    def audio(self) -> AudioChunk:
        return AudioChunk(bytes(self.pcm), TELEPHONY_RATE)


class PhoneCall:
    """A call to the Heard server at `server_url` (http://host:port). `auth_token`: sign
    the webhooks as Twilio does (leave it out for a server in insecure_dev_mode).
    `echo_marks`: acknowledge marks at once, as if playback were instant (flow tests);
    otherwise they are acknowledged after the audio's real duration, as a phone would."""

    def __init__(
        self,
        server_url: str,
        auth_token: Optional[str] = None,
        call_sid: Optional[str] = None,
        caller: str = "+15550100",
        echo_marks: bool = True,
    ):
        self.server_url = server_url.rstrip("/")
        self.auth_token = auth_token
        self.call_sid = call_sid or f"CA{uuid.uuid4().hex}"
        self.stream_sid = f"MZ{uuid.uuid4().hex}"
        self.caller = caller
        self.echo_marks = echo_marks
        self.heard = Heard()
        self.closed = asyncio.Event()
        self.close_code: Optional[int] = None  # the server's, once the stream is closed
        self._ws: Optional[WebSocketClientProtocol] = None
        self._reader: Optional[asyncio.Task] = None
        self._sequence = 0
        self._played_until = 0.0
        self._changed = asyncio.Event()

    async def __aenter__(self) -> "PhoneCall":
        await self.connect(*await self.dial())
        return self

    async def dial(self) -> Tuple[str, Dict[str, str]]:
        """The call comes in: POST /incoming; returns the <Stream>'s URL and parameters."""
        form = {
            "CallSid": self.call_sid,
            "AccountSid": "AC0",
            "From": self.caller,
            "To": "+15550111",
            "CallStatus": "ringing",
            "Direction": "inbound",
        }
        twiml = await asyncio.to_thread(
            twilio_post, f"{self.server_url}{WEBHOOKS}/incoming", form, self.auth_token
        )
        stream = ET.fromstring(twiml).find("./Connect/Stream")
        if stream is None:
            raise RuntimeError(f"Heard did not answer with a stream: {twiml}")
        url = stream.get("url")
        if not url:
            raise RuntimeError(f"Heard's <Stream> has no url: {twiml}")
        return url, {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}

    async def connect(self, stream_url: str, parameters: Mapping[str, str]) -> None:
        """Opens the stream and sends 'start' with `parameters` (the TwiML's, as Twilio)."""
        self._ws = await open_websocket(stream_url, max_size=None)
        await self._send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        await self._send(
            {
                "event": "start",
                "sequenceNumber": "1",
                "streamSid": self.stream_sid,
                "start": {
                    "streamSid": self.stream_sid,
                    "callSid": self.call_sid,
                    "accountSid": "AC0",
                    "tracks": ["inbound"],
                    "customParameters": dict(parameters),
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                },
            }
        )
        self._reader = asyncio.create_task(self._read(self._ws))

    async def __aexit__(self, *exc) -> None:
        await self.hang_up()

    async def _send(self, message: dict) -> None:
        if self._ws is None:
            raise RuntimeError("the call is not connected: dial() and connect() first")
        self._sequence += 1
        await self._ws.send(json.dumps({**message, "sequenceNumber": str(self._sequence)}))

    async def _read(self, ws: WebSocketClientProtocol) -> None:
        try:
            async for raw in ws:
                message = json.loads(raw)
                now = time.monotonic()
                kind = message.get("event")
                if kind == "media":
                    pcm = chunk_from_mulaw(base64.b64decode(message["media"]["payload"])).pcm
                    self.heard.pcm += pcm
                    self.heard.first_audio_at = self.heard.first_audio_at or now
                    seconds = len(pcm) / 2 / TELEPHONY_RATE
                    self._played_until = max(self._played_until, now) + seconds
                elif kind == "mark":
                    name = message["mark"]["name"]
                    self.heard.marks.append(name)
                    delay = 0.0 if self.echo_marks else max(0.0, self._played_until - now)
                    asyncio.get_running_loop().call_later(delay, self._ack_soon, name)
                elif kind == "clear":
                    self.heard.clears.append(now)
                    self._played_until = now
                self._changed.set()
        except ConnectionClosed:
            pass
        finally:
            self.close_code = ws.close_code
            self.closed.set()
            self._changed.set()

    def _ack_soon(self, name: str) -> None:
        asyncio.ensure_future(self._ack(name))

    async def _ack(self, name: str) -> None:
        if not self.closed.is_set():
            with contextlib.suppress(ConnectionClosed):
                await self._send(
                    {"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}}
                )

    async def send_audio(self, audio: AudioChunk, realtime: bool = False) -> List[float]:
        """Streams audio in 20 ms media messages; returns each frame's send time."""
        mulaw = chunk_to_mulaw(resample(audio, TELEPHONY_RATE))
        sent: List[float] = []
        start = time.monotonic()
        for i in range(0, len(mulaw), tp.FRAME_BYTES):
            if realtime:
                await asyncio.sleep(max(0.0, start + len(sent) * FRAME_SECONDS - time.monotonic()))
            sent.append(time.monotonic())
            await self._send(
                {
                    "event": "media",
                    "streamSid": self.stream_sid,
                    "media": {
                        "track": "inbound",
                        "chunk": str(len(sent)),
                        "timestamp": str(i // 8),
                        "payload": base64.b64encode(mulaw[i : i + tp.FRAME_BYTES]).decode(),
                    },
                }
            )
        return sent

    async def say(self, audio: AudioChunk, trailing: float = 1.0, realtime: bool = False) -> None:
        await self.send_audio(audio, realtime)
        await self.send_audio(silence(trailing), realtime)

    async def press(self, digits: str) -> None:
        for digit in digits:
            await self._send(
                {
                    "event": "dtmf",
                    "streamSid": self.stream_sid,
                    "dtmf": {"track": "inbound_track", "digit": digit},
                }
            )

    async def reply(self, quiet: float = 0.6, timeout: float = 30.0) -> Heard:
        """Waits for Heard's next answer: audio followed by `quiet` seconds of nothing new;
        returns what arrived since the last call and starts a new collection."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.closed.is_set():
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), quiet)
            except asyncio.TimeoutError:
                if self.heard.marks:
                    break
        got, self.heard = self.heard, Heard()
        return got

    async def hang_up(self) -> None:
        if self._ws is not None and not self.closed.is_set():
            try:
                await self._send(
                    {
                        "event": "stop",
                        "streamSid": self.stream_sid,
                        "stop": {"accountSid": "AC0", "callSid": self.call_sid},
                    }
                )
                await self._ws.close()
            except ConnectionClosed:
                pass
        if self._reader is not None:
            await asyncio.wait_for(self._reader, 5)
