"""Phone calls through Twilio Media Streams, as a Rasa input channel.

POST /webhooks/twilio_voice/incoming  the number's "A call comes in" webhook: TwiML that
                                      streams the call to the websocket below
WS   /webhooks/twilio_voice/stream    Twilio's Media Streams protocol (8 kHz mu-law)
POST /webhooks/twilio_voice/after     asked by Twilio when the stream ends: dial the
                                      colleague for a transfer, or hang up

Closed unless configured: without `auth_token` every webhook is refused (403) and every
stream closed, except with `insecure_dev_mode: true` (local tests). A stream is accepted
only with the token /incoming put in its TwiML for that CallSid (`tp.stream_token`).

A transfer is asked for on the stream and carried out by /after, which behind a load
balancer may reach another replica: with REDIS_URL set the pending transfers are kept in
Redis (`RedisTransfers`), else in the process (`MemoryTransfers`).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import Any, Callable, Dict, Optional, Text, Tuple, Union

from redis.exceptions import RedisError
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from heard import redis_client
from heard.contract import PHONE_TRANSPORT
from rasa_seam.app import agent_of
from voice import twilio_protocol as tp
from voice.audio import TELEPHONY_RATE, AudioChunk
from voice.call import CallSession, ConfigError
from voice.channels.base import CallStart, Data, Malformed, Refused, VoiceChannel, send
from voice.rasa_dialogue import pick_prompt

log = logging.getLogger(__name__)
TRANSFER_TTL_SECONDS = 15 * 60  # Twilio asks /after as soon as the stream closes


class MemoryTransfers:
    """Pending transfers (call sid -> number) in this process, each read once."""

    def __init__(
        self, ttl: float = TRANSFER_TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl, self.clock = ttl, clock
        self._numbers: Dict[str, Tuple[str, float]] = {}

    def put(self, call_sid: str, number: str) -> None:
        now = self.clock()
        for sid, (_, expires) in list(self._numbers.items()):  # calls /after never reached
            if expires <= now:
                self._numbers.pop(sid, None)
        self._numbers[call_sid] = (number, now + self.ttl)

    def take(self, call_sid: str) -> Optional[str]:
        number, expires = self._numbers.pop(call_sid, (None, 0.0))
        return number if number is not None and expires > self.clock() else None


class RedisTransfers:
    """Pending transfers in Redis, for every replica: a key per call that expires after
    `ttl`, read and deleted at once (GETDEL, Redis 6.2+) so only one /after dials it."""

    def __init__(
        self,
        client: Any,
        ttl: float = TRANSFER_TTL_SECONDS,
        namespace: str = "heard:twilio-transfer:",
    ) -> None:
        self.client, self.ttl, self.namespace = client, ttl, namespace

    def put(self, call_sid: str, number: str) -> None:
        self.client.set(self.namespace + call_sid, number, px=max(1, int(self.ttl * 1000)))

    def take(self, call_sid: str) -> Optional[str]:
        number = self.client.getdel(self.namespace + call_sid)
        return number.decode() if number is not None else None


Transfers = Union[MemoryTransfers, RedisTransfers]


def transfers_for(url: Optional[str]) -> Transfers:
    """Shared through Redis when a URL is given (REDIS_URL), else in the process."""
    return RedisTransfers(redis_client.client(url)) if url else MemoryTransfers()


def parse(raw: Data) -> tp.Message:
    """One Media Streams message; a bad 'start' ends the stream, other bad messages are
    skipped (the codec's errors as the channel's)."""
    try:
        return tp.parse_message(raw)
    except tp.BadStart as exc:
        log.warning("voice.twilio.bad_start error=%s", exc)
        raise Refused(str(exc), exc.code) from None
    except tp.ProtocolError as exc:
        raise Malformed(str(exc)) from None


class TwilioTransport:
    sample_rate = TELEPHONY_RATE

    def __init__(
        self, ws: Any, stream_sid: str, call_sid: str, channel: "TwilioMediaStreamsInput"
    ) -> None:
        self.ws = ws
        self.stream_sid = stream_sid
        self.call_sid = call_sid
        self.channel = channel

    async def receive(self, raw: Data, session: CallSession) -> None:
        message = parse(raw)
        if isinstance(message, tp.Media) and message.track != "outbound":
            await session.audio(message.audio)
        elif isinstance(message, tp.Dtmf):
            await session.dtmf(message.digit)
        elif isinstance(message, tp.Mark):
            session.played(message.name)
        elif isinstance(message, tp.Stop):
            await session.end("caller_hung_up")

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
        try:
            await asyncio.to_thread(self.channel.transfers.put, self.call_sid, number)
        except RedisError as error:  # the caller hears that the transfer failed
            log.error(
                "voice.twilio.transfer_not_stored call=%s error=%s",
                self.call_sid,
                type(error).__name__,
            )
            return False
        log.info(
            "voice.twilio.transfer call=%s reference=%s", self.call_sid, handoff.get("reference")
        )
        await self.ws.close()
        return True


class TwilioMediaStreamsInput(VoiceChannel):
    """Extra options: auth_token (checks X-Twilio-Signature; without it the channel is
    closed), insecure_dev_mode (true: accept unsigned requests, for local tests only),
    stream_secret (signs the stream tokens; default auth_token, or in insecure_dev_mode a
    random one per process), public_url (the https address Twilio uses, when behind a proxy
    or tunnel), transfer_number (E.164 number a caller is transferred to on handover)."""

    transport_name = PHONE_TRANSPORT

    def __init__(
        self,
        auth_token: Optional[str] = None,
        insecure_dev_mode: bool = False,
        stream_secret: Optional[str] = None,
        public_url: Optional[str] = None,
        transfer_number: Optional[str] = None,
        **options: Any,
    ) -> None:
        if not isinstance(insecure_dev_mode, bool):  # "false" in quotes would be true
            raise ConfigError(f"{self.name()}: insecure_dev_mode must be true or false")
        if auth_token and insecure_dev_mode:
            raise ConfigError(f"{self.name()}: set auth_token or insecure_dev_mode, not both")
        super().__init__(**options)
        self.auth_token = auth_token or None
        self.insecure_dev_mode = insecure_dev_mode
        self.open = bool(self.auth_token) or insecure_dev_mode
        secret = stream_secret or self.auth_token
        self.stream_key = secret.encode() if secret else secrets.token_bytes(32)
        self.public_url = (public_url or "").rstrip("/") or None
        self.transfer_number = transfer_number or None
        self.transfers = transfers_for(redis_client.redis_url())  # read once by /after
        if insecure_dev_mode:
            log.warning(
                "voice.twilio INSECURE: insecure_dev_mode is on, so anyone who can "
                "reach this server can start phone calls; for local tests only"
            )
        elif not self.open:
            log.warning(
                "voice.twilio closed: no auth_token in credentials.yml, so Twilio's "
                "webhooks and streams are refused; to open the phone channel set "
                'auth_token: "${TWILIO_AUTH_TOKEN}" (or insecure_dev_mode: true '
                "for local tests)"
            )

    @classmethod
    def name(cls) -> Text:
        return "twilio_voice"

    def _base(self, request: Request) -> str:
        return self.public_url or f"{request.scheme}://{request.host}"

    def _authentic(self, request: Request) -> bool:
        if not self.auth_token:
            return self.insecure_dev_mode
        url = (
            self._base(request)
            + request.path
            + (f"?{request.query_string}" if request.query_string else "")
        )
        params = {k: v[0] for k, v in (request.form or {}).items()}
        return tp.valid_signature(
            self.auth_token, url, params, request.headers.get("X-Twilio-Signature", "")
        )

    def _refusal(self, request: Request) -> Optional[HTTPResponse]:
        """The answer to a webhook request that is not Twilio's about a real call, or None.
        Logged without its content: the form holds the caller's number."""
        if not self.open:
            reason, status, body = "closed", 403, "phone channel closed"
        elif not self._authentic(request):
            reason, status, body = "bad_signature", 403, "invalid signature"
        elif not tp.is_call_sid((request.form or {}).get("CallSid")):
            reason, status, body = "bad_call_sid", 400, "invalid CallSid"
        else:
            return None
        log.warning("voice.twilio.refused path=%s reason=%s", request.path, reason)
        return response.text(body, status=status)

    async def incoming(self, request: Request) -> HTTPResponse:
        refused = self._refusal(request)
        if refused:
            return refused
        if self.unavailable:
            responses = agent_of(request.app).domain.responses
            text = pick_prompt(responses.get("utter_voice_unavailable", []), 0) or ""
            return response.text(tp.say_and_hang_up_twiml(text), content_type="text/xml")
        base, prefix = self._base(request), f"/webhooks/{self.name()}"
        ws_url = base.replace("https://", "wss://").replace("http://", "ws://")
        form = request.form
        token = tp.stream_token(self.stream_key, form.get("CallSid"), time.time())
        twiml = tp.connect_stream_twiml(
            f"{ws_url}{prefix}/stream",
            {"caller": form.get("From", ""), "token": token},
            action_url=f"{base}{prefix}/after",
        )
        return response.text(twiml, content_type="text/xml")

    async def after(self, request: Request) -> HTTPResponse:
        refused = self._refusal(request)
        if refused:
            return refused
        call_sid = request.form.get("CallSid")
        try:
            number = await asyncio.to_thread(self.transfers.take, call_sid)
        except RedisError as error:  # Twilio still gets TwiML: the goodbye
            log.error(
                "voice.twilio.transfer_not_read call=%s error=%s", call_sid, type(error).__name__
            )
            number = None
        twiml = tp.dial_twiml(number) if number else tp.say_and_hang_up_twiml()
        return response.text(twiml, content_type="text/xml")

    def _stream_refusal(self, start: tp.Start) -> str:
        """Why a stream may not start ("" when it may): it must bring the token /incoming
        issued for its CallSid, so only calls Twilio announced become conversations."""
        if not self.open:
            return "closed"
        return tp.stream_token_problem(
            self.stream_key, start.call_sid, start.custom_parameters.get("token"), time.time()
        )

    def add_routes(self, bp: Blueprint) -> None:
        # Functions, not bound methods: Sanic marks each handler with its blueprint's name.
        @bp.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok", "available": not self.unavailable})

        @bp.route("/incoming", methods=["POST"])
        async def incoming(request: Request) -> HTTPResponse:
            return await self.incoming(request)

        @bp.route("/after", methods=["POST"])
        async def after(request: Request) -> HTTPResponse:
            return await self.after(request)

    def start(self, raw: Data, ws: Any) -> Optional[CallStart]:
        message = parse(raw)
        if not isinstance(message, tp.Start):
            return None  # 'connected', or media before 'start': nothing to attach it to
        refusal = self._stream_refusal(message)
        if refusal:
            log.warning("voice.twilio.stream_refused call=%s reason=%s", message.call_sid, refusal)
            raise Refused("stream refused", tp.POLICY_VIOLATION)
        log.info("voice.twilio.start call=%s", message.call_sid)
        caller = message.custom_parameters.get("caller", "")
        metadata = {
            "call": {
                "transport": self.transport_name,
                "call_sid": message.call_sid,
                "caller": caller,
                "can_transfer": bool(self.transfer_number),
            }
        }
        return CallStart(
            message.call_sid,
            TwilioTransport(ws, message.stream_sid, message.call_sid, self),
            metadata,
        )
