"""A caller on a simulated Twilio line: speaks the Media Streams protocol to Heard's
websocket the way Twilio does, so the phone path can be tested and measured without a
Twilio account (tests, `make bench-voice`)."""
from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import List, Optional

import websockets

from voice import twilio_protocol as tp
from voice.audio import TELEPHONY_RATE, AudioChunk, chunk_from_mulaw, chunk_to_mulaw, resample

FRAME_SECONDS = 0.02


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
    """`echo_marks`: acknowledge marks at once, as if playback were instant (flow tests);
    otherwise they are acknowledged after the audio's real duration, as a phone would."""

    def __init__(self, url: str, call_sid: Optional[str] = None, caller: str = "+15550100",
                 echo_marks: bool = True):
        self.url = url
        self.call_sid = call_sid or f"CA{uuid.uuid4().hex}"
        self.stream_sid = f"MZ{uuid.uuid4().hex}"
        self.caller = caller
        self.echo_marks = echo_marks
        self.heard = Heard()
        self.closed = asyncio.Event()
        self._ws = None
        self._reader: Optional[asyncio.Task] = None
        self._sequence = 0
        self._played_until = 0.0
        self._changed = asyncio.Event()

    async def __aenter__(self) -> "PhoneCall":
        self._ws = await websockets.connect(self.url, max_size=None)
        await self._send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        await self._send({"event": "start", "sequenceNumber": "1", "streamSid": self.stream_sid,
                          "start": {"streamSid": self.stream_sid, "callSid": self.call_sid,
                                    "accountSid": "AC0", "tracks": ["inbound"],
                                    "customParameters": {"caller": self.caller},
                                    "mediaFormat": {"encoding": "audio/x-mulaw",
                                                    "sampleRate": 8000, "channels": 1}}})
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc) -> None:
        await self.hang_up()

    async def _send(self, message: dict) -> None:
        self._sequence += 1
        await self._ws.send(json.dumps({**message, "sequenceNumber": str(self._sequence)}))

    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                message = json.loads(raw)
                now = time.monotonic()
                kind = message.get("event")
                if kind == "media":
                    pcm = chunk_from_mulaw(base64.b64decode(message["media"]["payload"])).pcm
                    self.heard.pcm += pcm
                    self.heard.first_audio_at = self.heard.first_audio_at or now
                    self._played_until = max(self._played_until, now) + len(pcm) / 2 / TELEPHONY_RATE
                elif kind == "mark":
                    name = message["mark"]["name"]
                    self.heard.marks.append(name)
                    delay = 0.0 if self.echo_marks else max(0.0, self._played_until - now)
                    asyncio.get_running_loop().call_later(
                        delay, lambda n=name: asyncio.ensure_future(self._ack(n)))
                elif kind == "clear":
                    self.heard.clears.append(now)
                    self._played_until = now
                self._changed.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed.set()
            self._changed.set()

    async def _ack(self, name: str) -> None:
        if not self.closed.is_set():
            try:
                await self._send({"event": "mark", "streamSid": self.stream_sid,
                                  "mark": {"name": name}})
            except websockets.ConnectionClosed:
                pass

    async def send_audio(self, audio: AudioChunk, realtime: bool = False) -> List[float]:
        """Streams audio in 20 ms media messages; returns each frame's send time."""
        mulaw = chunk_to_mulaw(resample(audio, TELEPHONY_RATE))
        sent = []
        start = time.monotonic()
        for i in range(0, len(mulaw), tp.FRAME_BYTES):
            if realtime:
                await asyncio.sleep(max(0.0, start + len(sent) * FRAME_SECONDS - time.monotonic()))
            sent.append(time.monotonic())
            await self._send({"event": "media", "streamSid": self.stream_sid,
                              "media": {"track": "inbound", "chunk": str(len(sent)),
                                        "timestamp": str(i // 8),
                                        "payload": base64.b64encode(
                                            mulaw[i:i + tp.FRAME_BYTES]).decode()}})
        return sent

    async def say(self, audio: AudioChunk, trailing: float = 1.0, realtime: bool = False) -> None:
        await self.send_audio(audio, realtime)
        await self.send_audio(silence(trailing), realtime)

    async def press(self, digits: str) -> None:
        for digit in digits:
            await self._send({"event": "dtmf", "streamSid": self.stream_sid,
                              "dtmf": {"track": "inbound_track", "digit": digit}})

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
                await self._send({"event": "stop", "streamSid": self.stream_sid,
                                  "stop": {"accountSid": "AC0", "callSid": self.call_sid}})
                await self._ws.close()
            except websockets.ConnectionClosed:
                pass
        if self._reader is not None:
            await asyncio.wait_for(self._reader, 5)
