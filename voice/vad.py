"""Voice-activity and end-of-turn detection over `AudioChunk`s: pure, frame-based, no I/O.

`EnergyVad` classifies 20 ms frames by loudness (dBFS) against an adaptive noise floor,
with a hangover. `TurnDetector` buffers chunks of any length into frames and reports
`SpeechStarted`, `TurnEnded` and `BargeIn` events. All times are seconds of audio fed
so far (stream time), never wall-clock time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Union

import numpy as np

from voice.audio import AudioChunk, dbfs

FRAME_MS = 20
_MIN_DB = -100.0  # digital silence (-inf dBFS) is clamped to this for arithmetic


@dataclass(frozen=True)
class VadConfig:
    frame_ms: int = FRAME_MS
    margin_db: float = 10.0  # a voiced frame is this far above the noise floor ...
    min_speech_dbfs: float = -55.0  # ... and at least this loud
    initial_floor_max_dbfs: float = -45.0  # cap on the floor guessed from the first frame
    floor_min_dbfs: float = -90.0
    floor_up: float = 0.05  # per unvoiced frame: floor += floor_up * (level - floor)
    floor_up_in_speech: float = 0.002  # much slower while voiced (absorbs steady loud noise)
    floor_down: float = 0.5  # per frame when the level is under the floor
    hangover_frames: int = 4  # frames kept "voiced" after the last loud frame (80 ms)
    # Hiss and white noise have a flat spectrum (flatness ~0.56); voiced speech is peaky
    # (under 0.3 in 99% of loud FSDD frames). Flat frames are never speech, however loud.
    max_flatness: float = 0.4


@dataclass(frozen=True)
class VadFrame:
    start: float  # seconds
    end: float
    level_dbfs: float
    floor_dbfs: float
    speech: bool  # this frame itself is loud enough
    voiced: bool  # speech, or within the hangover after speech


def spectral_flatness(frame: AudioChunk) -> float:
    """Geometric over arithmetic mean of the power spectrum: 0 for a tone, ~0.56 for noise."""
    samples = frame.samples.astype(np.float64)
    power = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2 + 1e-10
    return float(np.exp(np.mean(np.log(power))) / np.mean(power))


class EnergyVad:
    """Energy VAD with an adaptive noise floor and hangover. Feed it whole frames."""

    def __init__(self, config: Optional[VadConfig] = None):
        self.config = config or VadConfig()
        self.floor: Optional[float] = None
        self._hang = 0

    def classify(self, frame: AudioChunk, start: float = 0.0) -> VadFrame:
        c = self.config
        level = max(dbfs(frame), _MIN_DB)
        if self.floor is None:
            self.floor = max(min(level, c.initial_floor_max_dbfs), c.floor_min_dbfs)
        floor = self.floor
        speech = (
            level >= floor + c.margin_db
            and level >= c.min_speech_dbfs
            and spectral_flatness(frame) <= c.max_flatness
        )
        if speech:
            self._hang = c.hangover_frames
            voiced = True
        elif self._hang > 0:
            self._hang -= 1
            voiced = True
        else:
            voiced = False
        # Update the floor after deciding, so a frame never hides itself.
        if level < floor:
            floor += c.floor_down * (level - floor)
        else:
            floor += (c.floor_up_in_speech if voiced else c.floor_up) * (level - floor)
        self.floor = max(floor, c.floor_min_dbfs)
        return VadFrame(start, start + frame.duration, level, self.floor, speech, voiced)


@dataclass(frozen=True)
class SpeechStarted:
    time: float  # start of the first voiced frame of the utterance
    detected_at: float  # stream time when it was confirmed


@dataclass(frozen=True)
class TurnEnded:
    speech_started: float
    last_voiced: float  # end of the last voiced (loud) frame: the end of the caller's speech
    detected_at: float  # last_voiced + trailing silence (rounded up to a frame)


@dataclass(frozen=True)
class BargeIn:
    time: float  # start of the first voiced frame of the interruption
    detected_at: float


Event = Union[SpeechStarted, TurnEnded, BargeIn]


class TurnDetector:
    """Turns a stream of audio into speech_started / turn_ended / barge_in events.

    - speech_started: after `min_speech_frames` consecutive loud frames (default 3 =
      60 ms, so a click is not speech); the event carries the first frame's time.
    - turn_ended: once `trailing_silence` seconds have passed with no loud frame since the
      last one; carries the end of the last loud frame.
    - barge_in: while `bot_speaking` is set, after `barge_in_frames` consecutive loud
      frames (default 3 = 60 ms); reported once per `set_bot_speaking(True)`.
    """

    def __init__(
        self,
        trailing_silence: float = 0.6,
        barge_in_frames: int = 3,
        min_speech_frames: int = 3,
        vad: Optional[EnergyVad] = None,
    ):
        if trailing_silence <= 0:
            raise ValueError("trailing_silence must be positive")
        if barge_in_frames < 1 or min_speech_frames < 1:
            raise ValueError("frame counts must be at least 1")
        self.trailing_silence = trailing_silence
        self.barge_in_frames = barge_in_frames
        self.min_speech_frames = min_speech_frames
        self.vad = vad or EnergyVad()
        self.bot_speaking = False
        self._barged = False
        self._rate: Optional[int] = None
        self._buf = b""
        self._samples = 0  # samples consumed into frames
        self._run = 0  # consecutive loud frames
        self._run_start = 0.0
        self._in_turn = False
        self._turn_start = 0.0
        self._last_voiced = 0.0

    @property
    def in_turn(self) -> bool:
        return self._in_turn

    @property
    def time(self) -> float:
        return self._samples / self._rate if self._rate else 0.0

    def set_bot_speaking(self, speaking: bool) -> None:
        self.bot_speaking = speaking
        if speaking:
            self._barged = False

    def feed(self, chunk: AudioChunk) -> List[Event]:
        """Audio of any length; returns the events of the whole frames it completed."""
        if self._rate is None:
            self._rate = chunk.sample_rate
        elif chunk.sample_rate != self._rate:
            raise ValueError(f"sample rate changed from {self._rate} to {chunk.sample_rate}")
        frame_bytes = 2 * self._rate * self.vad.config.frame_ms // 1000
        self._buf += chunk.pcm
        events: List[Event] = []
        while len(self._buf) >= frame_bytes:
            frame, self._buf = self._buf[:frame_bytes], self._buf[frame_bytes:]
            events.extend(self.feed_frame(AudioChunk(frame, self._rate)))
        return events

    def feed_frame(self, frame: AudioChunk) -> List[Event]:
        if self._rate is None:
            self._rate = frame.sample_rate
        start = self.time
        v = self.vad.classify(frame, start)
        self._samples += len(frame.pcm) // 2
        now = self.time
        events: List[Event] = []
        if v.speech:
            if self._run == 0:
                self._run_start = start
            self._run += 1
            if self._in_turn:
                self._last_voiced = now
            elif self._run >= self.min_speech_frames:
                self._in_turn = True
                self._turn_start = self._run_start
                self._last_voiced = now
                events.append(SpeechStarted(self._run_start, now))
            if self.bot_speaking and not self._barged and self._run >= self.barge_in_frames:
                self._barged = True
                events.append(BargeIn(self._run_start, now))
        else:
            self._run = 0
            if self._in_turn and now - self._last_voiced >= self.trailing_silence - 1e-9:
                self._in_turn = False
                events.append(TurnEnded(self._turn_start, self._last_voiced, now))
        return events
