"""What every voice channel shares: its options in credentials.yml, the recogniser and the
synthesiser it uses, its websocket (`/stream`) and the life of a call on it, from the start
message to the end.

A transport (one small module per provider, like `twilio.py`) adds only its wire format:
`start` reads the messages that come before the call, `receive` (on the `WireTransport` it
returns) those of the call, the transport's `play`/`clear`/... write Heard's side, and
`add_routes` adds its webhooks. Counting malformed messages, refusals and ending the call
whatever happens to the connection are done here, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional, Protocol, Text, Union

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint
from sanic.exceptions import WebsocketClosed
from sanic.request import Request
from websockets.exceptions import ConnectionClosed

from heard import settings
from rasa_seam.app import agent_of
from voice.call import CallConfig, CallSession, ConfigError, Transport, TransportClosed
from voice.models import DEFAULT_DEST, ENV_VAR, OFFICIAL_SMALL_EN_URL
from voice.prosody import CallerVoice
from voice.rasa_dialogue import RasaDialogue
from voice.stt import SpeechToText
from voice.tts import TextToSpeech

log = logging.getLogger(__name__)
RECOGNISERS = ("vosk", "scripted")
CLOSED = (ConnectionClosed, WebsocketClosed)  # what a websocket raises once the peer is gone
GONE = CLOSED + (TransportClosed,)
UNSUPPORTED_DATA, POLICY_VIOLATION, INTERNAL_ERROR = 1003, 1008, 1011  # close codes
MAX_CLOSE_REASON = 123  # bytes of UTF-8: a close frame holds 125, the code takes 2
MAX_BAD_MESSAGES = 20  # in a row: after that the peer isn't speaking the transport's protocol

Data = Union[str, bytes]  # one websocket message
OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class Refused(Exception):
    """The connection may not become, or stay, a call: it is closed with `code` and the
    message as the reason, which the peer reads (so it names no secrets)."""

    def __init__(self, message: str, code: int = UNSUPPORTED_DATA) -> None:
        super().__init__(message)
        self.code = code


class Malformed(ValueError):
    """A message the transport can't read: skipped, logged and counted; the message is
    logged and may be shown to the peer, so it quotes little of what the peer sent."""


class WireTransport(Transport, Protocol):
    async def receive(self, raw: Data, session: CallSession) -> None:
        """Reads one message of the call and tells `session` what it says (audio, a key,
        a mark played, the caller hung up); raises Malformed, or Refused to end the call."""


@dataclass(frozen=True)
class CallStart:
    """What a transport's start message says: whose call it is and how to reach them."""

    call_id: str  # the conversation id
    transport: WireTransport
    metadata: Dict[str, Any]  # sent with every caller turn, as `metadata["call"]`


async def _before(deadline: float, received: Awaitable[Data]) -> Data:
    """`received`, or asyncio.TimeoutError once the loop's clock passes `deadline`."""
    left = deadline - asyncio.get_running_loop().time()
    return await asyncio.wait_for(received, max(left, 0.0))


async def send(ws: Any, data: Any) -> None:
    try:
        await ws.send(data)
    except CLOSED as exc:
        raise TransportClosed(str(exc)) from None


def close_reason(text: str) -> str:
    """`text` cut to what a close frame holds, never mid-character."""
    return text.encode()[:MAX_CLOSE_REASON].decode(errors="ignore")


def default_model_path() -> Path:
    name = OFFICIAL_SMALL_EN_URL.rsplit("/", 1)[-1].removesuffix(".zip")
    return settings.read(ENV_VAR) or DEFAULT_DEST / name


class VoiceChannel(InputChannel):
    """A transport's Rasa input channel; subclasses set `transport_name` and implement
    `start` (and `add_routes`, `error_event` when their protocol has them).

    Options (all optional):

    stt: vosk (default) or scripted (the stand-in that reads `<scripted_dir>/<call>.txt`)
    vosk_model: model folder (default: $VOSK_MODEL_PATH or models/vosk/<small English>)
    voice: a pyttsx3 voice id; call: {trailing_silence, reprompt_after, max_reprompts,
    max_call_seconds, dtmf_timeout, preroll}
    """

    transport_name: str  # in log lines (voice.<name>.*) and in the call's metadata
    # A peer that never starts a call doesn't keep a connection: its start must come in time.
    start_seconds: float = 10.0

    def __init__(
        self,
        stt: str = "vosk",
        vosk_model: Optional[str] = None,
        scripted_dir: Optional[str] = None,
        voice: Optional[str] = None,
        call: Optional[Dict[str, Any]] = None,
    ) -> None:
        if stt not in RECOGNISERS:
            raise ConfigError(f"{self.name()}: stt must be one of {RECOGNISERS}, not {stt!r}")
        if stt == "scripted" and not scripted_dir:
            raise ConfigError(f"{self.name()}: stt 'scripted' needs scripted_dir")
        self.config = CallConfig.from_options(call)
        self.stt_kind = stt
        self.scripted_dir = Path(scripted_dir) if scripted_dir else None
        self.model_path = Path(vosk_model) if vosk_model else default_model_path()
        self.voice = voice
        self._vosk: Optional[SpeechToText] = None
        self._tts: Dict[int, TextToSpeech] = {}
        self.unavailable = self._why_unavailable()
        if self.unavailable:
            log.warning("voice off (%s): %s; text chat still runs", self.name(), self.unavailable)

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        try:
            return cls(**(credentials or {}))
        except TypeError as exc:  # an option this channel doesn't have
            raise ConfigError(f"{cls.name()}: {exc}") from None

    def _why_unavailable(self) -> str:
        if self.stt_kind == "scripted" or (self.model_path / "am").is_dir():
            return ""
        return (
            f"no Vosk model at {self.model_path}; run `python -m voice.models download` "
            f"or set {ENV_VAR}"
        )

    def recogniser(self, call_id: str) -> SpeechToText:
        if self.stt_kind == "scripted" and self.scripted_dir is not None:  # checked at start
            from voice.scripted_stt import ScriptedSpeechToText

            return ScriptedSpeechToText.for_call(self.scripted_dir, call_id)
        if self._vosk is None:
            from voice.vosk_stt import VoskSpeechToText

            self._vosk = VoskSpeechToText(self.model_path)
        return self._vosk

    def synthesiser(self, sample_rate: int) -> TextToSpeech:
        """One per rate, shared by all calls, so fixed prompts come from its cache."""
        if sample_rate not in self._tts:
            from voice.pyttsx3_tts import Pyttsx3TextToSpeech

            self._tts[sample_rate] = Pyttsx3TextToSpeech(sample_rate=sample_rate, voice=self.voice)
        return self._tts[sample_rate]

    def session(
        self,
        request: Any,
        on_new_message: OnNewMessage,
        call_id: str,
        transport: Transport,
        metadata: Dict[str, Any],
    ) -> CallSession:
        dialogue = RasaDialogue(agent_of(request.app), on_new_message, call_id)
        return CallSession(
            call_id,
            transport,
            dialogue,
            self.recogniser(call_id),
            self.synthesiser(transport.sample_rate),
            self.config,
            metadata=metadata,
            features=CallerVoice(),
        )

    # --- what a transport implements ---------------------------------------------------
    def start(self, raw: Data, ws: Any) -> Optional[CallStart]:
        """Reads a message that came before the call: the call it starts, or None to wait
        for the next message; raises Malformed, or Refused when it may not start."""
        raise NotImplementedError

    def add_routes(self, bp: Blueprint) -> None:
        """The transport's HTTP routes besides `/stream` (webhooks, status)."""

    def error_event(self, message: str) -> Optional[Data]:
        """The message that tells the peer about an error, or None when the protocol has
        none (Twilio's): the close reason is all the peer gets."""
        return None

    # --- the websocket -----------------------------------------------------------------
    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        bp = Blueprint(f"{self.name()}_webhook", __name__)
        self.add_routes(bp)

        @bp.websocket("/stream")
        async def stream(request: Request, ws: Any) -> None:
            await self._serve(request, ws, on_new_message)

        return bp

    async def _serve(self, request: Any, ws: Any, on_new_message: OnNewMessage) -> None:
        """One connection: refused, or a call from its start message until the call ends
        itself, the caller hangs up or goes away, or the peer breaks the protocol."""
        session: Optional[CallSession] = None
        call: Optional[CallStart] = None
        bad = 0  # malformed messages in a row
        try:
            deadline = asyncio.get_running_loop().time() + self.start_seconds
            while call is None:
                try:
                    call = self.start(await _before(deadline, ws.recv()), ws)
                    bad = 0
                except Malformed as error:
                    bad = await self._skip(ws, error, bad)
                except asyncio.TimeoutError:
                    log.warning("voice.%s.refused reason=no_start", self.transport_name)
                    raise Refused(
                        f"no call started within {self.start_seconds:g} s", POLICY_VIOLATION
                    ) from None
            if self.unavailable:  # said only to a peer the transport let start a call
                log.warning("voice.%s.refused reason=voice_off", self.transport_name)
                raise Refused(f"voice is off: {self.unavailable}")
            session = self.session(
                request, on_new_message, call.call_id, call.transport, call.metadata
            )
            await session.start()
            while not session.closed:
                try:
                    await call.transport.receive(await ws.recv(), session)
                    bad = 0
                except Malformed as error:
                    bad = await self._skip(ws, error, bad)
        except Refused as refusal:
            await self._close(ws, refusal)
        except GONE:
            pass
        except Exception:  # a bug: the call still ends, and the peer learns no more
            log.exception("voice.%s.failed", self.transport_name)
            await self._close(ws, Refused("internal error", INTERNAL_ERROR))
        finally:
            if session is not None:
                await session.end("caller_hung_up")

    async def _skip(self, ws: Any, error: Malformed, bad: int) -> int:
        """Passes over a malformed message (the count in a row is now `bad + 1`), or ends
        the connection when there have been too many."""
        log.warning("voice.%s.bad_message error=%s", self.transport_name, error)
        if bad + 1 >= MAX_BAD_MESSAGES:
            raise Refused("too many malformed messages", POLICY_VIOLATION)
        reply = self.error_event(str(error))
        if reply is not None:
            await send(ws, reply)
        return bad + 1

    async def _close(self, ws: Any, refusal: Refused) -> None:
        with contextlib.suppress(*GONE):
            reply = self.error_event(str(refusal))
            if reply is not None:
                await send(ws, reply)
            await ws.close(refusal.code, close_reason(str(refusal)))
