"""Calls from the web widget's call button (and `python -m voice.local`), as a Rasa channel.

GET /webhooks/browser_voice/status  {"available": bool, "reason": str}
WS  /webhooks/browser_voice/stream  first a JSON text frame
      {"event": "start", "session_id": "...", "sample_rate": 16000}
    then binary frames of 16 kHz mono PCM16 little-endian, and JSON text frames
      {"event": "dtmf", "digit": "5"} or {"event": "stop"}.
    The server sends binary PCM16 frames to play and JSON text frames:
      {"event": "state", "state": "listening"|"thinking"|"speaking"}, {"event": "transcript",
      "text"}, {"event": "bot", "text"}, {"event": "clear"}, {"event": "hangup", "reason"},
      {"event": "error", "message"}.
The session id is the widget's chat session, so a call continues the same conversation.
"""
from __future__ import annotations

import json
import logging
import re
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Tuple

from rasa.core.channels.channel import UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from voice.audio import BROWSER_RATE, AudioChunk
from voice.call import CallSession
from voice.channels.base import GONE, VoiceChannel, send

log = logging.getLogger(__name__)
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_BAD_MESSAGES = 20


class BadStart(ValueError):
    """The first frame isn't a usable start message; the text says why, for the client."""


def parse_start(raw: Any) -> Tuple[str, int]:
    """(session id, sample rate) from the client's first frame."""
    if not isinstance(raw, str):
        raise BadStart("the first message must be a JSON start message, not audio")
    try:
        data = json.loads(raw)
    except ValueError:
        raise BadStart("the start message is not valid JSON") from None
    if not isinstance(data, dict) or data.get("event") != "start":
        raise BadStart('the first message must be {"event": "start", ...}')
    session_id = data.get("session_id")
    if not isinstance(session_id, str) or not SESSION_ID.match(session_id):
        raise BadStart("session_id must be 8-64 letters, digits, '-' or '_'")
    if data.get("sample_rate", BROWSER_RATE) != BROWSER_RATE:
        raise BadStart(f"audio must be {BROWSER_RATE} Hz mono PCM16, "
                       f"not {data.get('sample_rate')!r} Hz")
    return session_id, BROWSER_RATE


class BrowserTransport:
    sample_rate = BROWSER_RATE

    def __init__(self, ws: Any):
        self.ws = ws

    async def play(self, audio: AudioChunk, mark: str) -> None:
        await send(self.ws, audio.pcm)

    async def clear(self) -> None:
        await self.notify({"event": "clear"})

    async def notify(self, event: Dict[str, Any]) -> None:
        await send(self.ws, json.dumps(event))

    async def hang_up(self, reason: str) -> None:
        await self.notify({"event": "hangup", "reason": reason})
        await self.ws.close()

    async def transfer(self, handoff: Dict[str, Any]) -> bool:
        return False  # the colleague joins the chat instead (the agent console)


class BrowserVoiceInput(VoiceChannel):
    @classmethod
    def name(cls) -> Text:
        return "browser_voice"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("browser_voice_webhook", __name__)

        @bp.route("/status", methods=["GET"])
        async def status(request: Request):
            return response.json({"available": not self.unavailable,
                                  "reason": self.unavailable})

        @bp.websocket("/stream")
        async def stream(request: Request, ws: Any):
            await self._serve(request, ws, on_new_message)

        return bp

    async def _serve(self, request: Request, ws: Any,
                     on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        session: Optional[CallSession] = None
        try:
            if self.unavailable:
                await _refuse(ws, f"voice is off: {self.unavailable}")
                return
            try:
                session_id, _ = parse_start(await ws.recv())
            except BadStart as exc:
                await _refuse(ws, str(exc))
                return
            metadata = {"call": {"transport": "browser", "can_transfer": False}}
            session = self.session(request, on_new_message, session_id, BrowserTransport(ws),
                                   metadata)
            await session.start()
            await self._listen(ws, session)
        except GONE:
            pass
        finally:
            if session is not None:
                await session.end("caller_hung_up")

    async def _listen(self, ws: Any, session: CallSession) -> None:
        leftover = b""  # a frame cut mid-sample keeps its odd byte for the next one
        bad = 0
        while not session.closed:
            raw = await ws.recv()
            if isinstance(raw, bytes):
                data, leftover = leftover + raw, b""
                if len(data) % 2:
                    data, leftover = data[:-1], data[-1:]
                if data:
                    await session.audio(AudioChunk(data, BROWSER_RATE))
                continue
            try:
                event = json.loads(raw)
                kind = event["event"]
            except (ValueError, TypeError, KeyError):
                bad += 1
                await send(ws, json.dumps({"event": "error", "message": "not a JSON event"}))
                if bad >= MAX_BAD_MESSAGES:
                    await ws.close(1008, "too many malformed messages")
                    return
                continue
            if kind == "stop":
                return
            if kind == "dtmf" and isinstance(event.get("digit"), str):
                await session.dtmf(event["digit"])


async def _refuse(ws: Any, message: str) -> None:
    log.warning("voice.browser.refused reason=%s", message)
    await send(ws, json.dumps({"event": "error", "message": message}))
    await ws.close(1003, message[:120])
