"""Vosk (Kaldi) speech to text: streaming, word timings, per-turn grammar hints."""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple, Union

from voice.audio import AudioChunk, StreamResampler
from voice.stt import Transcript, Word

log = logging.getLogger(__name__)

DEFAULT_MODEL_RATE = 16000  # Kaldi's default when mfcc.conf names no --sample-frequency


class ModelNotFound(FileNotFoundError):
    pass


def model_sample_rate(model_dir: Path) -> int:
    """The rate the acoustic model was trained on, read from its feature config."""
    for conf in (model_dir / "conf" / "mfcc.conf", model_dir / "mfcc.conf"):
        if conf.is_file():
            for line in conf.read_text().splitlines():
                if line.strip().startswith("--sample-frequency="):
                    return int(float(line.split("=", 1)[1]))
    return DEFAULT_MODEL_RATE


def supports_grammar(model_dir: Path) -> bool:
    """Run-time grammars need a lookahead graph (HCLr.fst + Gr.fst), as small models ship.

    Big models come with a static HCLG.fst, where Vosk ignores a grammar.
    """
    return any(
        (d / "HCLr.fst").is_file() and (d / "Gr.fst").is_file()
        for d in (model_dir / "graph", model_dir)
    )


@functools.lru_cache(maxsize=2)
def _load_model(model_dir: str) -> Any:
    # Cached so every stream (and every VoskSpeechToText on the same path) shares one
    # model: small models take ~50-300 MB and a second or two to load.
    import vosk

    vosk.SetLogLevel(-1)  # Kaldi's own logging goes to stderr unstructured
    return vosk.Model(model_dir)


class VoskSpeechToText:
    """`SpeechToText` over a Vosk model directory; the model loads on construction."""

    def __init__(self, model_path: Union[str, Path]):
        path = Path(model_path).expanduser()
        if not (path / "am").is_dir() and not (path / "final.mdl").is_file():
            raise ModelNotFound(
                f"no Vosk model at {path} (expected a folder with am/ and conf/); "
                "run `python -m voice.models download` or set VOSK_MODEL_PATH"
            )
        self.path = path.resolve()
        self.sample_rate = model_sample_rate(self.path)
        self.grammar_supported = supports_grammar(self.path)
        self.model = _load_model(str(self.path))

    def start(self, sample_rate: int, grammar: Optional[Sequence[str]] = None) -> "VoskStream":
        return VoskStream(self, sample_rate, self._usable_grammar(grammar))

    def _usable_grammar(self, grammar: Optional[Sequence[str]]) -> Optional[Tuple[str, ...]]:
        """Keeps only phrases the model can say; None means decode freely.

        Vosk drops unknown words with a warning, and a grammar left empty would make the
        recogniser deaf, so a hint that doesn't fit degrades to free decoding.
        """
        if not grammar:
            return None
        if not self.grammar_supported:
            log.info("voice.stt.grammar_ignored reason=model_has_static_graph")
            return None
        known = tuple(
            phrase
            for phrase in grammar
            if phrase.split()
            and all(self.model.vosk_model_find_word(w) >= 0 for w in phrase.split())
        )
        if not known:
            log.info("voice.stt.grammar_ignored reason=no_word_in_vocabulary")
            return None
        # "[unk]" lets out-of-grammar speech come out as unknown instead of a forced match.
        if self.model.vosk_model_find_word("[unk]") >= 0:
            known += ("[unk]",)
        return known


class VoskStream:
    """One recogniser per caller turn. Not thread-safe; wrap in AsyncSttStream for asyncio."""

    def __init__(self, stt: VoskSpeechToText, sample_rate: int, grammar: Optional[Tuple[str, ...]]):
        import vosk

        self.input_rate = sample_rate
        self.model_rate = stt.sample_rate
        self.grammar = grammar  # what was actually applied, for logs and tests
        if grammar:
            # ensure_ascii=False: Vosk looks words up byte for byte, "\uXXXX" never matches.
            phrases = json.dumps(list(grammar), ensure_ascii=False)
            self._rec = vosk.KaldiRecognizer(stt.model, self.model_rate, phrases)
        else:
            self._rec = vosk.KaldiRecognizer(stt.model, self.model_rate)
        self._rec.SetWords(True)
        # One resampler for the whole turn: resampling each 20 ms frame on its own would
        # put a click at every frame's edges.
        self._resampler = StreamResampler(sample_rate, self.model_rate)
        self._segments: List[dict] = []
        self._finished = False

    def accept(self, chunk: AudioChunk) -> None:
        if self._finished:
            raise RuntimeError("stream already finished")
        if chunk.sample_rate != self.input_rate:
            raise ValueError(
                f"stream expects {self.input_rate} Hz audio, got {chunk.sample_rate} Hz"
            )
        self._decode(self._resampler.feed(chunk).pcm)

    def _decode(self, pcm: bytes) -> None:
        # AcceptWaveform is True when Vosk ended an utterance at a pause: its result must be
        # taken now, or the words before the pause are lost (FinalResult has only the rest).
        if pcm and self._rec.AcceptWaveform(pcm):
            self._segments.append(json.loads(self._rec.Result()))

    def finish(self) -> Transcript:
        if not self._finished:
            self._decode(self._resampler.flush().pcm)  # the audio the filter held back
            self._segments.append(json.loads(self._rec.FinalResult()))
            self._finished = True
        words = tuple(
            Word(w["word"], float(w["start"]), float(w["end"]), float(w.get("conf", 1.0)))
            for seg in self._segments
            for w in seg.get("result", ())
        )
        text = " ".join(s["text"] for s in self._segments if s.get("text"))
        confidence = sum(w.conf for w in words) / len(words) if words else 0.0
        return Transcript(text, confidence, words)
