"""A stand-in recogniser that "hears" pre-written lines, one per utterance.

There is no English Vosk model in some environments (offline CI, a developer without the
download). The stand-in keeps everything else real - the audio path, end-of-turn and
barge-in detection, the dialogue, synthesis - and only replaces what was said: the n-th
utterance of a call is the n-th line of `<folder>/<call id>.txt`. An utterance in which no
audio arrived yields nothing, as a real recogniser would.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import List, Optional, Sequence

from voice.audio import AudioChunk
from voice.stt import Transcript

log = logging.getLogger(__name__)
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,120}$")


class ScriptedSpeechToText:
    def __init__(self, lines: Sequence[str]):
        self._lines: List[str] = [line.strip() for line in lines]
        self.heard = 0  # utterances consumed

    @classmethod
    def for_call(cls, folder: Path, call_id: str) -> "ScriptedSpeechToText":
        path = Path(folder) / f"{call_id}.txt"
        if not _SAFE_ID.match(call_id) or not path.is_file():
            log.warning("voice.stt.scripted_missing call=%s", call_id)
            return cls([])
        return cls(path.read_text(encoding="utf-8").splitlines())

    def start(self, sample_rate: int, grammar: Optional[Sequence[str]] = None) -> "_Stream":
        return _Stream(self)

    def _next(self) -> str:
        line = self._lines[self.heard] if self.heard < len(self._lines) else ""
        self.heard += 1
        return line


class _Stream:
    def __init__(self, owner: ScriptedSpeechToText):
        self._owner = owner
        self._samples = 0

    def accept(self, chunk: AudioChunk) -> None:
        self._samples += len(chunk.pcm) // 2

    def finish(self) -> Transcript:
        if not self._samples:
            return Transcript("", 0.0)
        text = self._owner._next()
        return Transcript(text, 1.0 if text else 0.0)
