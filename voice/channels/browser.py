"""Calls from the web widget's call button (and `python -m voice.local`), as a Rasa channel.

GET /webhooks/browser_voice/status  {"available": bool, "reason": str}
WS  /webhooks/browser_voice/stream  first a JSON text frame
      {"event": "start", "session_id": "...", "sample_rate": 16000}
    then binary frames of 16 kHz mono PCM16 little-endian, and JSON text frames
      {"event": "dtmf", "digit": "5"} or {"event": "stop"}; a malformed one is answered
      with an error event, and 20 in a row close the call.
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
from typing import Any, Dict, Optional, Text

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from voice.audio import BROWSER_RATE, AudioChunk
from voice.call import CallSession
from voice.channels.base import CallStart, Data, Malformed, Refused, VoiceChannel, send

log = logging.getLogger(__name__)
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
KEYS = set("0123456789*#")  # a phone keypad's


def parse_start(raw: Data) -> str:
    """The session id in the client's first frame; Refused (with the reason, for the
    client) when it is not a usable start message."""
    if not isinstance(raw, str):
        raise Refused("the first message must be a JSON start message, not audio")
    try:
        data = json.loads(raw)
    except ValueError:
        raise Refused("the start message is not valid JSON") from None
    if not isinstance(data, dict) or data.get("event") != "start":
        raise Refused('the first message must be {"event": "start", ...}')
    session_id = data.get("session_id")
    if not isinstance(session_id, str) or not SESSION_ID.match(session_id):
        raise Refused("session_id must be 8-64 letters, digits, '-' or '_'")
    if data.get("sample_rate", BROWSER_RATE) != BROWSER_RATE:
        raise Refused(
            f"audio must be {BROWSER_RATE} Hz mono PCM16, "
            f"not {str(data.get('sample_rate'))[:20]} Hz"
        )
    return session_id


class BrowserTransport:
    sample_rate = BROWSER_RATE

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self._leftover = b""  # a frame cut mid-sample keeps its odd byte for the next one

    async def receive(self, raw: Data, session: CallSession) -> None:
        if isinstance(raw, bytes):
            data, self._leftover = self._leftover + raw, b""
            if len(data) % 2:
                data, self._leftover = data[:-1], data[-1:]
            if data:
                await session.audio(AudioChunk(data, BROWSER_RATE))
            return
        try:
            event = json.loads(raw)
            kind = event["event"]
        except (ValueError, TypeError, KeyError):
            raise Malformed("not a JSON event") from None
        if kind == "stop":
            await session.end("caller_hung_up")
        elif kind == "dtmf":
            digit = event.get("digit")
            if not isinstance(digit, str) or digit not in KEYS:
                raise Malformed("a dtmf digit is one key: 0-9, * or #")
            await session.dtmf(digit)

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
    transport_name = "browser"

    @classmethod
    def name(cls) -> Text:
        return "browser_voice"

    def add_routes(self, bp: Blueprint) -> None:
        @bp.route("/status", methods=["GET"])
        async def status(request: Request) -> HTTPResponse:
            return response.json({"available": not self.unavailable, "reason": self.unavailable})

    def start(self, raw: Data, ws: Any) -> Optional[CallStart]:
        try:
            session_id = parse_start(raw)
        except Refused as refusal:
            log.warning("voice.browser.refused reason=%s", refusal)
            raise
        metadata = {"call": {"transport": self.transport_name, "can_transfer": False}}
        return CallStart(session_id, BrowserTransport(ws), metadata)

    def error_event(self, message: str) -> Optional[Data]:
        return json.dumps({"event": "error", "message": message})
