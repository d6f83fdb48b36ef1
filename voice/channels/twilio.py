"""Phone calls through Twilio Media Streams, as a Rasa input channel.

POST /webhooks/twilio_voice/incoming  the number's "A call comes in" webhook: TwiML that
                                      streams the call to the websocket below
WS   /webhooks/twilio_voice/stream    Twilio's Media Streams protocol (8 kHz mu-law)
POST /webhooks/twilio_voice/after     asked by Twilio when the stream ends: dial the
                                      colleague for a transfer, or hang up
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from voice import twilio_protocol as tp
from voice.audio import TELEPHONY_RATE, AudioChunk
from voice.call import CallSession
from voice.channels.base import GONE, VoiceChannel, send
from voice.rasa_dialogue import pick_prompt

log = logging.getLogger(__name__)
MAX_BAD_MESSAGES = 20  # in a row: after that the peer isn't speaking Twilio's protocol


class TwilioTransport:
    sample_rate = TELEPHONY_RATE

    def __init__(self, ws: Any, stream_sid: str, call_sid: str, channel: "TwilioMediaStreamsInput"):
        self.ws = ws
        self.stream_sid = stream_sid
        self.call_sid = call_sid
        self.channel = channel

    async def play(self, audio: AudioChunk, mark: str) -> None:
        for message in tp.media_messages(self.stream_sid, audio):
            await send(self.ws, message)
        await send(self.ws, tp.mark_message(self.stream_sid, mark))

    async def clear(self) -> None:
        await send(self.ws, tp.clear_message(self.stream_sid))

    async def notify(self, event: Dict[str, Any]) -> None:
        return None  # a phone has no screen

    async def hang_up(self, reason: str) -> None:
        # Closing the stream ends <Connect>; Twilio then asks /after, which hangs up.
        await self.ws.close()

    async def transfer(self, handoff: Dict[str, Any]) -> bool:
        number = self.channel.transfer_number
        if not number:
            return False
        self.channel.transfers[self.call_sid] = number
        log.info("voice.twilio.transfer call=%s reference=%s", self.call_sid,
                 handoff.get("reference"))
        await self.ws.close()
        return True


class TwilioMediaStreamsInput(VoiceChannel):
    """Extra options: auth_token (checks X-Twilio-Signature when set), public_url (the
    https address Twilio uses, when behind a proxy or tunnel), transfer_number (E.164
    number a caller is transferred to when Heard hands over)."""

    def __init__(self, auth_token: Optional[str] = None, public_url: Optional[str] = None,
                 transfer_number: Optional[str] = None, **options: Any) -> None:
        super().__init__(**options)
        self.auth_token = auth_token or None
        self.public_url = (public_url or "").rstrip("/") or None
        self.transfer_number = transfer_number or None
        self.transfers: Dict[str, str] = {}  # call sid -> number, read once by /after

    @classmethod
    def name(cls) -> Text:
        return "twilio_voice"

    def _base(self, request: Request) -> str:
        return self.public_url or f"{request.scheme}://{request.host}"

    def _authentic(self, request: Request) -> bool:
        if not self.auth_token:
            return True
        url = self._base(request) + request.path + (f"?{request.query_string}"
                                                    if request.query_string else "")
        params = {k: v[0] for k, v in (request.form or {}).items()}
        return tp.valid_signature(self.auth_token, url, params,
                                  request.headers.get("X-Twilio-Signature", ""))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("twilio_voice_webhook", __name__)
        prefix = f"/webhooks/{self.name()}"

        @bp.route("/", methods=["GET"])
        async def health(request: Request):
            return response.json({"status": "ok", "available": not self.unavailable})

        @bp.route("/incoming", methods=["POST"])
        async def incoming(request: Request):
            if not self._authentic(request):
                return response.text("invalid signature", status=403)
            if self.unavailable:
                responses = request.app.ctx.agent.domain.responses
                text = pick_prompt(responses.get("utter_voice_unavailable", []), 0) or ""
                return response.text(tp.say_and_hang_up_twiml(text), content_type="text/xml")
            base = self._base(request)
            ws_url = base.replace("https://", "wss://").replace("http://", "ws://")
            caller = (request.form or {}).get("From", "")
            twiml = tp.connect_stream_twiml(f"{ws_url}{prefix}/stream", {"caller": caller},
                                            action_url=f"{base}{prefix}/after")
            return response.text(twiml, content_type="text/xml")

        @bp.route("/after", methods=["POST"])
        async def after(request: Request):
            if not self._authentic(request):
                return response.text("invalid signature", status=403)
            number = self.transfers.pop((request.form or {}).get("CallSid", ""), None)
            twiml = tp.dial_twiml(number) if number else tp.say_and_hang_up_twiml()
            return response.text(twiml, content_type="text/xml")

        @bp.websocket("/stream")
        async def stream(request: Request, ws: Any):
            await self._serve(request, ws, on_new_message)

        return bp

    async def _serve(self, request: Request, ws: Any,
                     on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        session: Optional[CallSession] = None
        bad = 0
        try:
            while session is None or not session.closed:
                try:
                    message = tp.parse_message(await ws.recv())
                    bad = 0
                except tp.BadStart as exc:
                    log.warning("voice.twilio.bad_start error=%s", exc)
                    await ws.close(1003, str(exc)[:120])
                    break
                except tp.ProtocolError as exc:
                    bad += 1
                    log.warning("voice.twilio.bad_message error=%s", exc)
                    if bad >= MAX_BAD_MESSAGES:
                        await ws.close(1008, "not Twilio Media Streams protocol")
                        break
                    continue
                if isinstance(message, tp.Start) and session is None:
                    session = self._start(request, ws, message, on_new_message)
                    await session.start()
                elif session is None:
                    continue  # 'connected', or media before 'start': nothing to attach it to
                elif isinstance(message, tp.Media) and message.track != "outbound":
                    await session.audio(message.audio)
                elif isinstance(message, tp.Dtmf):
                    await session.dtmf(message.digit)
                elif isinstance(message, tp.Mark):
                    session.played(message.name)
                elif isinstance(message, tp.Stop):
                    await session.end("caller_hung_up")
        except GONE:
            pass
        finally:
            if session is not None:
                await session.end("caller_hung_up")

    def _start(self, request: Request, ws: Any, start: tp.Start,
               on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> CallSession:
        transport = TwilioTransport(ws, start.stream_sid, start.call_sid, self)
        caller = start.custom_parameters.get("caller", "")
        metadata = {"call": {"transport": "twilio", "call_sid": start.call_sid,
                             "caller": caller, "can_transfer": bool(self.transfer_number)}}
        log.info("voice.twilio.start call=%s", start.call_sid)
        return self.session(request, on_new_message, start.call_sid, transport, metadata)
