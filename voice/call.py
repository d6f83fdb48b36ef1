"""One call, whatever carries it: audio in, caller turns to the dialogue, speech out.

The transport (Twilio websocket, browser websocket) only moves audio and messages; this
module decides when the caller has finished, when they interrupt, when to reprompt and
when the call ends. Blocking work (recognition, synthesis) runs in worker threads. Time
(silences, keypad pauses, the call's length) is read from a `Clock`, so tests can run it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Deque, Dict, List, Mapping, Optional, Protocol, Tuple

from voice import spoken
from voice.audio import AudioChunk
from voice.stt import AsyncSttStream, SpeechToText, Transcript, start_async
from voice.tts import TextToSpeech, prosody_for, speakable
from voice.vad import BargeIn, SpeechStarted, TurnDetector, TurnEnded

log = logging.getLogger(__name__)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


class TransportClosed(ConnectionError):
    """The caller's side is gone (hung up, network lost): nothing more can be sent."""


class ConfigError(ValueError):
    """A voice option in credentials.yml that can't work."""


@dataclass(frozen=True)
class CallConfig:
    trailing_silence: float = 0.6  # seconds of quiet that end the caller's turn
    reprompt_after: float = 8.0  # seconds of caller silence before Heard asks again
    max_reprompts: int = 2  # silences in a row before Heard says goodbye
    max_call_seconds: float = 1200.0
    dtmf_timeout: float = 3.0  # keypad digits are sent after this pause (or on '#')
    preroll: float = 0.3  # audio kept from before speech was detected, for the recogniser
    max_utterance_seconds: float = 30.0  # endless noise is cut into turns, never hoarded

    @classmethod
    def from_options(cls, options: Optional[Mapping[str, Any]]) -> "CallConfig":
        options = dict(options or {})
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise ConfigError(f"unknown voice option(s) {unknown}; known: {sorted(known)}")
        values: Dict[str, Any] = {}
        for name, value in options.items():
            kind = int if name == "max_reprompts" else float
            try:
                values[name] = kind(value)
            except (TypeError, ValueError):
                raise ConfigError(f"voice option {name} must be a number, not {value!r}") from None
            zero_ok = name in ("max_reprompts", "preroll")
            if values[name] < 0 or (values[name] == 0 and not zero_ok):
                need = "0 or more" if zero_ok else "positive"
                raise ConfigError(f"voice option {name} must be {need}, not {value!r}")
        return cls(**values)


@dataclass
class BotTurn:
    """What Heard says in one turn, and what the call should do next."""

    texts: List[str] = field(default_factory=list)
    emotion: str = "neutral"  # the caller's, for the voice Heard answers in
    intensity: float = 0.0
    expect: Optional[str] = None  # "digits", "yes_no", "email": a hint for recognition
    handoff: Optional[Dict[str, Any]] = None  # the handoff action's signal
    end_call: bool = False


class Dialogue(Protocol):
    async def turn(self, text: str, metadata: Dict[str, Any]) -> BotTurn:
        """The caller said `text`; what does Heard answer?"""

    def prompt(self, name: str) -> str:
        """A fixed voice prompt from the domain (greeting, reprompt, goodbye...)."""


class Clock(Protocol):
    """Where a call's time comes from: silences, pauses and playback are measured on it."""

    def time(self) -> float:
        """Seconds on a clock that never goes back."""

    async def sleep(self, seconds: float) -> None:
        """Returns once `seconds` have passed on this clock."""


class LoopClock:
    """The running event loop's clock: a call's time unless a test brings its own."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()

    def time(self) -> float:
        return self._loop.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


# (the caller's audio, what was recognised) -> voice metadata for the emotion, or None
Features = Callable[[AudioChunk, Transcript], Optional[Dict[str, Any]]]


class Transport(Protocol):
    sample_rate: int  # of the audio it sends and receives

    async def play(self, audio: AudioChunk, mark: str) -> None:
        """Queue audio for the caller; `mark` names the point right after it."""

    async def clear(self) -> None:
        """Drop whatever audio the caller has not heard yet."""

    async def notify(self, event: Dict[str, Any]) -> None:
        """Status for screens (state, transcript, bot text); phones ignore it."""

    async def hang_up(self, reason: str) -> None:
        """End the call."""

    async def transfer(self, handoff: Dict[str, Any]) -> bool:
        """Hand the call to a person; False when this transport can't."""


def sentences(text: str) -> List[str]:
    """Speech is synthesised sentence by sentence, so the first one plays sooner."""
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


class CallSession:
    def __init__(
        self,
        call_id: str,
        transport: Transport,
        dialogue: Dialogue,
        stt: SpeechToText,
        tts: TextToSpeech,
        config: CallConfig = CallConfig(),
        metadata: Optional[Dict[str, Any]] = None,
        features: Optional[Features] = None,
        clock: Optional[Clock] = None,
    ):
        self.call_id = call_id
        self.transport = transport
        self.dialogue = dialogue
        self.stt = stt
        self.tts = tts
        self.config = config
        self.metadata = dict(metadata or {})  # sent with every turn (caller number, ...)
        self.features = features
        self.clock: Clock = clock or LoopClock()
        self.detector = TurnDetector(trailing_silence=config.trailing_silence)
        self.expect: Optional[str] = None
        self.closed = False
        self.end_reason = ""
        self.timings: List[Dict[str, float]] = []  # per turn, seconds; read by the benchmark
        self._started = self.clock.time()
        self._speaking_until = 0.0
        self._last_mark = ""
        self._marks = 0
        self._generation = 0  # bumped by barge-in: stale speech stops being sent
        self._preroll: Deque[AudioChunk] = deque()
        self._in_utterance = False
        self._utterance: List[AudioChunk] = []
        self._utterance_start = 0.0
        self._quiet_since = self._started
        self._silences = 0
        self._busy = False
        self._digits = ""
        self._last_digit_at = 0.0
        self._limit_reached = False
        self._stt_queue: "asyncio.Queue[Tuple]" = asyncio.Queue()
        self._turns: "asyncio.Queue[Tuple]" = asyncio.Queue()
        self._tasks: List[asyncio.Task] = []

    # --- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        """Greets the caller and starts listening."""
        log.info("voice.call.started call=%s", self.call_id)
        self._tasks = [
            asyncio.create_task(self._recognise()),
            asyncio.create_task(self._converse()),
            asyncio.create_task(self._watch()),
        ]
        await self._turns.put(("prompt", "utter_voice_greeting"))

    async def end(self, reason: str) -> None:
        """The call is over (caller hung up, transport closed, or Heard ended it)."""
        if self.closed:
            return
        self.closed = True
        self.end_reason = reason
        log.info(
            "voice.call.ended call=%s reason=%s seconds=%.1f",
            self.call_id,
            reason,
            self.clock.time() - self._started,
        )
        current = asyncio.current_task()
        others = [t for t in self._tasks if t is not current]
        for task in others:
            task.cancel()
        # The transport may be cancelling us too (a closed socket): cleanup still finishes.
        await asyncio.shield(asyncio.gather(*others, return_exceptions=True))

    # --- what the transport reports ----------------------------------------------------
    @property
    def bot_speaking(self) -> bool:
        return self.clock.time() < self._speaking_until

    def played(self, mark: str) -> None:
        """The caller has heard everything up to `mark` (Twilio echoes marks)."""
        if mark == self._last_mark:
            self._speaking_until = min(self._speaking_until, self.clock.time())

    async def audio(self, chunk: AudioChunk) -> None:
        if self.closed:
            return
        if chunk.sample_rate != self.transport.sample_rate:
            raise ValueError(
                f"expected {self.transport.sample_rate} Hz audio, got {chunk.sample_rate} Hz"
            )
        speaking = self.bot_speaking
        if speaking != self.detector.bot_speaking:
            self.detector.set_bot_speaking(speaking)
        events = self.detector.feed(chunk)
        if self._in_utterance:
            self._utterance.append(chunk)
            await self._stt_queue.put(("audio", chunk))
            if self.detector.time - self._utterance_start > self.config.max_utterance_seconds:
                events.append(
                    TurnEnded(self._utterance_start, self.detector.time, self.detector.time)
                )
        else:
            self._preroll.append(chunk)
            while sum(c.duration for c in self._preroll) > self.config.preroll + chunk.duration:
                self._preroll.popleft()
        for event in events:
            if isinstance(event, BargeIn):
                await self._barge_in(event)
            elif isinstance(event, SpeechStarted) and not self._in_utterance:
                self._in_utterance = True
                self._utterance_start = event.time
                self._utterance = list(self._preroll)
                self._preroll.clear()
                await self._stt_queue.put(("start", spoken.GRAMMARS.get(self.expect or "")))
                for early in self._utterance:
                    await self._stt_queue.put(("audio", early))
                await self.transport.notify({"event": "state", "state": "listening"})
            elif isinstance(event, TurnEnded) and self._in_utterance:
                self._in_utterance = False
                decided = self.clock.time()
                waited = event.detected_at - event.last_voiced  # stream seconds spent confirming
                audio = AudioChunk(b"".join(c.pcm for c in self._utterance), chunk.sample_rate)
                self._utterance = []
                self._quiet_since = decided
                await self._stt_queue.put(("end", decided, waited, audio))

    async def dtmf(self, digit: str) -> None:
        """Keypad digits collect until '#', a pause, or eight digits (the longest order);
        '*' starts again, as phone menus teach callers."""
        if self.closed:
            return
        if digit == "#":
            await self._flush_digits()
            return
        if digit == "*":
            self._digits = ""
            return
        if digit.isdigit():
            self._digits += digit
            self._last_digit_at = self.clock.time()
            if len(self._digits) >= 8:
                await self._flush_digits()

    async def _flush_digits(self) -> None:
        digits, self._digits = self._digits, ""
        if digits:
            await self._turns.put(("text", digits, {"dtmf": True}, None))

    # --- barge-in ----------------------------------------------------------------------
    async def _barge_in(self, event: BargeIn) -> None:
        if not self.bot_speaking:
            return
        self._generation += 1
        self._speaking_until = 0.0
        self.detector.set_bot_speaking(False)
        await self.transport.clear()
        log.info(
            "voice.call.barge_in call=%s detected_after=%.3f",
            self.call_id,
            event.detected_at - event.time,
        )

    # --- workers -----------------------------------------------------------------------
    async def _recognise(self) -> None:
        """Feeds each utterance to the recogniser as it arrives, so little is left at its end."""
        stream: Optional[AsyncSttStream] = None
        while True:
            item = await self._stt_queue.get()
            kind = item[0]
            if kind == "start":
                stream = await start_async(self.stt, self.transport.sample_rate, item[1])
            elif kind == "audio" and stream is not None:
                await stream.accept(item[1])
            elif kind == "end" and stream is not None:
                _, decided, waited, audio = item
                transcript = await stream.finish()
                stream = None
                timing = {"end_of_turn_wait": waited, "recognition": self.clock.time() - decided}
                await self._turns.put(("speech", transcript, audio, (decided, timing)))

    async def _converse(self) -> None:
        """Takes turns one at a time, in order: the dialogue sees one caller message at a time.
        Returns once a turn has ended the call (goodbye, transfer, time limit)."""
        while not self.closed:
            item = await self._turns.get()
            self._busy = True
            try:
                await self._take(item)
            except asyncio.CancelledError:
                raise
            except TransportClosed:
                await self.end("caller_hung_up")
                return
            except Exception:  # one bad turn must not drop the call
                log.exception("voice.call.turn_failed call=%s", self.call_id)
                await self._say_prompt("utter_voice_trouble")
            finally:
                self._busy = False
                self._quiet_since = max(self._quiet_since, self.clock.time())

    async def _take(self, item: Tuple) -> None:
        kind = item[0]
        if kind == "prompt":
            await self._say_prompt(item[1])
        elif kind == "hang_up":
            await self._say_prompt(item[1])
            await self._finish_call(item[2])
        elif kind == "speech":
            _, transcript, audio, (decided, timing) = item
            await self._heard(transcript, audio, decided, timing)
        elif kind == "text":
            _, text, extra, _ = item
            await self._reply(text, {**extra}, None, None)

    async def _heard(
        self, transcript: Transcript, audio: AudioChunk, decided: float, timing: Dict[str, float]
    ) -> None:
        text = spoken.normalise(transcript.text, self.expect)
        log.info(
            "voice.stt.final call=%s chars=%d confidence=%.2f",
            self.call_id,
            len(text),
            transcript.confidence,
        )
        if not text:
            await self._say_prompt("utter_voice_not_heard")
            return
        self._silences = 0
        await self.transport.notify({"event": "transcript", "text": text})
        extra: Dict[str, Any] = {"stt_confidence": round(transcript.confidence, 3)}
        if self.features is not None:
            voice = await asyncio.to_thread(self.features, audio, transcript)
            if voice:
                extra["voice"] = voice
        await self._reply(text, extra, decided, timing)

    async def _reply(
        self,
        text: str,
        extra: Dict[str, Any],
        decided: Optional[float],
        timing: Optional[Dict[str, float]],
    ) -> None:
        await self.transport.notify({"event": "state", "state": "thinking"})
        before = self.clock.time()
        turn = await self.dialogue.turn(text, {**self.metadata, **extra})
        after = self.clock.time()
        first_audio = await self._speak(turn)
        if timing is not None and decided is not None:
            timing.update(
                dialogue=after - before,
                synthesis_to_first_audio=(first_audio or after) - after,
                decision_to_first_audio=(first_audio or after) - decided,
            )
            self.timings.append(timing)
            log.info(
                "voice.turn.timing call=%s %s",
                self.call_id,
                " ".join(f"{k}={v * 1000:.0f}ms" for k, v in timing.items()),
            )
        await self._after(turn)

    async def _after(self, turn: BotTurn) -> None:
        if turn.handoff and turn.handoff.get("step") == "transfer":
            await self._until_heard()
            if await self.transport.transfer(turn.handoff):
                await self.end("transferred")
                return
            await self._say_prompt("utter_voice_transfer_failed")
        if turn.end_call:
            await self._finish_call("goodbye")

    async def _finish_call(self, reason: str) -> None:
        await self._until_heard()
        await self.transport.hang_up(reason)
        await self.end(reason)

    async def _until_heard(self) -> None:
        """Waits while the caller is still hearing Heard (a hang-up would cut it off)."""
        while self.bot_speaking and not self.closed:
            await self.clock.sleep(0.05)

    async def _say_prompt(self, name: str) -> None:
        text = self.dialogue.prompt(name)
        if text:
            await self._speak(BotTurn(texts=[text]))

    async def _speak(self, turn: BotTurn) -> Optional[float]:
        """Synthesises and sends each sentence as soon as it is ready; returns when the
        first audio went out (clock time), or None if nothing was said."""
        self.expect = turn.expect
        generation = self._generation
        prosody = prosody_for(turn.emotion, turn.intensity)
        first: Optional[float] = None
        for text in turn.texts:
            await self.transport.notify({"event": "bot", "text": text})
            for sentence in sentences(speakable(text)):
                audio = await asyncio.to_thread(self.tts.synthesize, sentence, prosody)
                if generation != self._generation or self.closed:
                    return first  # the caller interrupted: the rest is not wanted
                self._marks += 1
                self._last_mark = f"{self.call_id}-{self._marks}"
                await self.transport.play(audio, self._last_mark)
                now = self.clock.time()
                first = first or now
                if not self.bot_speaking:
                    self.detector.set_bot_speaking(True)
                self._speaking_until = max(self._speaking_until, now) + audio.duration
        if first is not None:
            await self.transport.notify({"event": "state", "state": "speaking"})
        return first

    async def _watch(self) -> None:
        """Silence, keypad pauses and the call's length, checked ten times a second."""
        while True:
            await self.clock.sleep(0.1)
            now = self.clock.time()
            if self._digits and now - self._last_digit_at >= self.config.dtmf_timeout:
                await self._flush_digits()
            if not self._limit_reached and now - self._started >= self.config.max_call_seconds:
                self._limit_reached = True
                await self._turns.put(("hang_up", "utter_voice_time_limit", "time_limit"))
            idle = not (
                self._busy
                or self.bot_speaking
                or self._in_utterance
                or self._digits
                or not self._turns.empty()
                or not self._stt_queue.empty()
            )
            quiet_for = now - max(self._quiet_since, self._speaking_until)
            if idle and quiet_for >= self.config.reprompt_after:
                self._silences += 1
                self._quiet_since = now
                if self._silences > self.config.max_reprompts:
                    await self._turns.put(("hang_up", "utter_voice_goodbye_silence", "silence"))
                else:
                    await self._turns.put(("prompt", "utter_voice_reprompt"))
