"""pyttsx3 text to speech (espeak-ng on Linux), rendered to memory instead of a speaker."""

from __future__ import annotations

import contextlib
import functools
import io
import tempfile
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Tuple

from voice.audio import AudioChunk, read_wav, resample
from voice.tts import NEUTRAL, Prosody

ESPEAK_DEFAULT_RATE = 175  # words per minute
ESPEAK_DEFAULT_PITCH = 50  # 0..100


class TtsUnavailable(RuntimeError):
    pass


class _Engine:
    """The one pyttsx3 engine of the process (pyttsx3.init returns a shared instance and
    espeak-ng's state is global), with a lock so only one synthesis runs at a time."""

    def __init__(self) -> None:
        try:
            import pyttsx3

            self.engine = pyttsx3.init()
        except Exception as exc:  # ImportError, OSError (libespeak missing), RuntimeError
            raise TtsUnavailable(
                f"pyttsx3/espeak-ng not usable ({exc}); install espeak-ng and libespeak-ng1"
            ) from exc
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.engine.connect("finished-utterance", lambda name, completed: self.done.set())
        # pyttsx3 2.99 queues property changes until the first run; one throwaway run
        # puts the driver in its idle state, where setProperty applies immediately.
        with tempfile.TemporaryDirectory() as tmp:
            self.render(".", Path(tmp) / "warmup.wav")

    def render(self, text: str, path: Path) -> None:
        self.done.clear()
        # The espeak driver print()s "Audio saved to ..." on every file.
        with contextlib.redirect_stdout(io.StringIO()):
            self.engine.save_to_file(text, str(path))
            self.engine.runAndWait()
        # runAndWait can return before espeak's callback wrote the file: wait for it.
        if not self.done.wait(30):
            raise TtsUnavailable("espeak-ng did not finish synthesising within 30 s")

    def apply(self, name: str, value: Any) -> None:
        # espeak-ng can drop a parameter change sent while it is settling; re-send until
        # it reads back, or fail loudly rather than speak with the wrong prosody.
        for _ in range(100):
            if self.engine.getProperty(name) == value:
                return
            self.engine.setProperty(name, value)
            time.sleep(0.002)
        raise TtsUnavailable(f"espeak-ng did not accept {name}={value}")


@functools.lru_cache(maxsize=1)
def _shared_engine() -> _Engine:
    return _Engine()


class Pyttsx3TextToSpeech:
    """`TextToSpeech` producing PCM16 at `sample_rate` (8000 for phone, 16000 for browser).

    Results are kept in a small LRU cache: greetings, reprompts and goodbyes repeat on
    every call and synthesising them again would add latency to each turn.
    """

    def __init__(self, sample_rate: int = 16000, voice: str | None = None, cache_size: int = 64):
        self.sample_rate = sample_rate
        self.voice = voice
        self.cache_size = cache_size
        self._cache: "OrderedDict[Tuple[str, Prosody], AudioChunk]" = OrderedDict()
        self._cache_lock = threading.Lock()

    def synthesize(self, text: str, prosody: Prosody = NEUTRAL) -> AudioChunk:
        key = (text, prosody)
        with self._cache_lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        chunk = resample(self._render(text, prosody), self.sample_rate)
        with self._cache_lock:
            self._cache[key] = chunk
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return chunk

    def _render(self, text: str, prosody: Prosody) -> AudioChunk:
        shared = _shared_engine()
        with shared.lock, tempfile.TemporaryDirectory(prefix="heard-tts-") as tmp:
            if self.voice:
                shared.engine.setProperty("voice", self.voice)
            shared.apply("rate", max(40, round(ESPEAK_DEFAULT_RATE * prosody.rate)))
            shared.apply("pitch", min(100, max(0, round(ESPEAK_DEFAULT_PITCH * prosody.pitch))))
            shared.apply("volume", round(min(1.0, max(0.0, prosody.volume)), 2))
            # About 1 run in 30, the espeak driver reports the utterance finished before
            # any audio arrived, so the file is empty. Render again; it is cheap (~10 ms).
            for attempt in range(3):
                path = Path(tmp) / f"speech-{attempt}.wav"
                shared.render(text, path)
                chunk = read_wav(path)
                if chunk.pcm or not any(ch.isalnum() for ch in text):
                    break
            return chunk
