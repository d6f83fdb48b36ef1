"""The speech-to-text boundary: what any recogniser (Vosk, a test stand-in) must offer."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Optional, Protocol, Sequence, Tuple

from voice.audio import AudioChunk


@dataclass(frozen=True)
class Word:
    word: str
    start: float  # seconds from the start of the stream
    end: float
    conf: float  # 0..1


@dataclass(frozen=True)
class Transcript:
    text: str
    confidence: float  # mean word confidence; 0.0 when nothing was heard
    words: Tuple[Word, ...] = ()


class SttStream(Protocol):
    def accept(self, chunk: AudioChunk) -> None:
        """Feed audio as it arrives; decoding it now leaves little for `finish`."""

    def finish(self) -> Transcript:
        """Flush and return everything heard in the stream."""


class SpeechToText(Protocol):
    def start(self, sample_rate: int, grammar: Optional[Sequence[str]] = None) -> SttStream:
        """A new stream for one caller turn; `grammar` lists expected phrases (a hint)."""


class AsyncSttStream:
    """Runs a blocking stream's decoding in a worker thread so the event loop stays free.

    Calls are serialised with a lock because recognisers are not thread-safe per stream.
    """

    def __init__(self, stream: SttStream):
        self._stream = stream
        self._lock = asyncio.Lock()

    async def accept(self, chunk: AudioChunk) -> None:
        async with self._lock:
            await asyncio.to_thread(self._stream.accept, chunk)

    async def finish(self) -> Transcript:
        async with self._lock:
            return await asyncio.to_thread(self._stream.finish)


async def start_async(
    stt: SpeechToText, sample_rate: int, grammar: Optional[Sequence[str]] = None
) -> AsyncSttStream:
    # Creating a recogniser can load a model (seconds), so it is off the loop too.
    stream = await asyncio.to_thread(stt.start, sample_rate, grammar)
    return AsyncSttStream(stream)
