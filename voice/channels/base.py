"""What every voice transport shares: its options in credentials.yml, the recogniser and
the synthesiser it uses, and running one call from connect to hang-up."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic.exceptions import WebsocketClosed
from websockets.exceptions import ConnectionClosed

from heard import settings
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


async def send(ws: Any, data: Any) -> None:
    try:
        await ws.send(data)
    except CLOSED as exc:
        raise TransportClosed(str(exc)) from None


def default_model_path() -> Path:
    name = OFFICIAL_SMALL_EN_URL.rsplit("/", 1)[-1].removesuffix(".zip")
    return settings.read(ENV_VAR) or DEFAULT_DEST / name


class VoiceChannel(InputChannel):
    """Options (all optional):

    stt: vosk (default) or scripted (the stand-in that reads `<scripted_dir>/<call>.txt`)
    vosk_model: model folder (default: $VOSK_MODEL_PATH or models/vosk/<small English>)
    voice: a pyttsx3 voice id; call: {trailing_silence, reprompt_after, max_reprompts,
    max_call_seconds, dtmf_timeout, preroll}
    """

    def __init__(self, stt: str = "vosk", vosk_model: Optional[str] = None,
                 scripted_dir: Optional[str] = None, voice: Optional[str] = None,
                 call: Optional[Dict[str, Any]] = None) -> None:
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
        return (f"no Vosk model at {self.model_path}; run `python -m voice.models download` "
                f"or set {ENV_VAR}")

    def recogniser(self, call_id: str) -> SpeechToText:
        if self.stt_kind == "scripted":
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

    def session(self, request: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                call_id: str, transport: Transport, metadata: Dict[str, Any]) -> CallSession:
        dialogue = RasaDialogue(request.app.ctx.agent, on_new_message, call_id)
        return CallSession(call_id, transport, dialogue, self.recogniser(call_id),
                           self.synthesiser(transport.sample_rate), self.config,
                           metadata=metadata, features=CallerVoice())
