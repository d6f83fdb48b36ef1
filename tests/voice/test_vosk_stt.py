"""The real Vosk decoder on a real model (Korean, from PyPI): mechanics, not words."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import threading

import pytest

from voice.audio import AudioChunk, chunk_from_mulaw, chunk_to_mulaw, read_wav
from voice.stt import Transcript, start_async

vosk_missing = importlib.util.find_spec("vosk") is None
pytestmark = pytest.mark.skipif(
    vosk_missing, reason="pip package vosk not installed (pip install vosk==0.3.45)"
)

if not vosk_missing:
    from voice.vosk_stt import ModelNotFound, VoskSpeechToText, supports_grammar

KOREAN_WORDS = ["하나", "둘", "원", "제로"]  # in the Korean model's vocabulary


@pytest.fixture(scope="session")
def digits_16k(shared_audio):
    return read_wav(shared_audio / "speech" / "vosk_digits_10001-90210-01803.wav")


def frames(chunk: AudioChunk, ms: int = 100):
    step = chunk.sample_rate * ms // 1000 * 2
    for i in range(0, len(chunk.pcm), step):
        yield AudioChunk(chunk.pcm[i : i + step], chunk.sample_rate)


def stream_all(stt, chunk: AudioChunk, grammar=None):
    stream = stt.start(chunk.sample_rate, grammar)
    for frame in frames(chunk):
        stream.accept(frame)
    return stream, stream.finish()


def assert_well_formed(transcript: Transcript, duration: float):
    assert transcript.words, "a real recording must produce words"
    assert transcript.text == " ".join(w.word for w in transcript.words)
    assert 0.0 < transcript.confidence <= 1.0
    previous_end = 0.0
    for w in transcript.words:
        assert 0.0 <= w.start < w.end <= duration + 0.05
        assert w.start >= previous_end - 0.01  # words come in time order
        assert 0.0 <= w.conf <= 1.0
        previous_end = w.end


def test_loads_the_model_once_and_reads_its_rate(korean_stt):
    assert korean_stt.sample_rate == 16000
    assert korean_stt.grammar_supported  # small models ship HCLr.fst + Gr.fst
    again = VoskSpeechToText(korean_stt.path)
    assert again.model is korean_stt.model  # shared, not loaded twice


def test_streams_16k_speech_keeping_every_utterance_with_timings(korean_stt, digits_16k):
    _, transcript = stream_all(korean_stt, digits_16k)
    assert_well_formed(transcript, digits_16k.duration)
    # The speaker pauses between the three digit groups and Vosk ends an utterance at each
    # pause: the words of all three are kept, not only those after the last pause.
    third = digits_16k.duration / 3
    assert {int(w.start // third) for w in transcript.words} == {0, 1, 2}
    assert transcript.words[0].start > 0.3  # the clip starts with silence
    assert transcript.words[-1].end > digits_16k.duration / 2


def test_streams_8k_telephony_audio_resampled_for_the_model(korean_stt, shared_audio):
    digits = [read_wav(p) for p in sorted((shared_audio / "fsdd").glob("*_jackson_0.wav"))[:4]]
    silence = AudioChunk(b"\x00\x00" * 4000, 8000)  # 0.5 s between digits
    call = AudioChunk(b"".join(d.pcm + silence.pcm for d in digits), 8000)
    stream, transcript = stream_all(korean_stt, call)
    assert stream.input_rate == 8000 and stream.model_rate == 16000
    assert_well_formed(transcript, call.duration)


def test_mulaw_phone_line_round_trip_still_decodes(korean_stt, digits_16k):
    phone = chunk_from_mulaw(chunk_to_mulaw(digits_16k))  # what Twilio would deliver
    _, transcript = stream_all(korean_stt, phone)
    assert_well_formed(transcript, phone.duration)


def test_grammar_restricts_output_to_the_hint(korean_stt, digits_16k):
    stream, transcript = stream_all(korean_stt, digits_16k, grammar=KOREAN_WORDS)
    assert stream.grammar is not None and set(KOREAN_WORDS) <= set(stream.grammar)
    assert transcript.words
    assert {w.word for w in transcript.words} <= set(stream.grammar)


def test_grammar_outside_the_vocabulary_degrades_to_free_decoding(korean_stt, digits_16k, caplog):
    caplog.set_level("INFO", logger="voice.vosk_stt")
    stream, transcript = stream_all(korean_stt, digits_16k, grammar=["one", "two", "yes please"])
    assert stream.grammar is None
    assert "voice.stt.grammar_ignored" in caplog.text
    assert_well_formed(transcript, digits_16k.duration)  # not deafened by an empty grammar


def test_grammar_keeps_only_known_phrases(korean_stt):
    stream = korean_stt.start(16000, ["하나", "nine", "둘 원", "둘 nine"])
    assert stream.grammar == ("하나", "둘 원")


def test_silence_gives_an_empty_transcript(korean_stt):
    stream = korean_stt.start(8000)
    for _ in range(20):
        stream.accept(AudioChunk(b"\x00\x00" * 800, 8000))
    assert stream.finish() == Transcript("", 0.0, ())


def test_wrong_rate_and_use_after_finish_are_errors(korean_stt):
    stream = korean_stt.start(8000)
    with pytest.raises(ValueError, match="8000 Hz"):
        stream.accept(AudioChunk(b"\x00\x00" * 160, 16000))
    stream.finish()
    with pytest.raises(RuntimeError):
        stream.accept(AudioChunk(b"\x00\x00" * 160, 8000))


def test_static_graph_models_do_not_support_grammars(tmp_path):
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "HCLG.fst").write_bytes(b"")
    assert not supports_grammar(tmp_path)
    (tmp_path / "graph" / "HCLr.fst").write_bytes(b"")
    (tmp_path / "graph" / "Gr.fst").write_bytes(b"")
    assert supports_grammar(tmp_path)


def test_missing_model_path_is_a_clear_error(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelNotFound) as info:
        VoskSpeechToText(missing)
    assert str(missing) in str(info.value) and "VOSK_MODEL_PATH" in str(info.value)


class ThreadSpy:
    """Wraps the real Vosk stt and records which threads its calls ran on."""

    def __init__(self, stt):
        self.stt = stt
        self.threads = set()

    def start(self, sample_rate, grammar=None):
        self.threads.add(threading.get_ident())
        inner = self.stt.start(sample_rate, grammar)
        spy = self

        class Stream:
            def accept(self, chunk):
                spy.threads.add(threading.get_ident())
                return inner.accept(chunk)

            def finish(self):
                spy.threads.add(threading.get_ident())
                return inner.finish()

        return Stream()


def test_async_decoding_runs_off_the_event_loop(korean_stt, digits_16k):
    spy = ThreadSpy(korean_stt)

    async def run():
        loop_thread = threading.get_ident()
        stream = await start_async(spy, 16000)
        for frame in frames(digits_16k):
            await stream.accept(frame)
        return loop_thread, await stream.finish()

    loop_thread, transcript = asyncio.run(run())
    assert spy.threads and loop_thread not in spy.threads
    assert transcript.words


def test_loop_keeps_ticking_while_a_stream_decodes(korean_stt, digits_16k):
    async def run():
        ticks = 0
        done = asyncio.Event()

        async def ticker():
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0)

        tick_task = asyncio.create_task(ticker())
        stream = await start_async(korean_stt, 16000)
        # One big chunk: about a second of decoding in a single call.
        await stream.accept(digits_16k)
        await stream.finish()
        done.set()
        await tick_task
        return ticks

    # Blocking decoding would let the ticker run only a handful of times.
    assert asyncio.run(run()) > 1000


ENGLISH = os.environ.get("VOSK_MODEL_PATH")
needs_english = pytest.mark.skipif(
    not ENGLISH,
    reason="needs an English Vosk model: set VOSK_MODEL_PATH (python -m voice.models download)",
)


@pytest.fixture(scope="module")
def english_stt():
    return VoskSpeechToText(ENGLISH)


@needs_english
def test_english_model_recognises_the_digits(english_stt, digits_16k):
    _, transcript = stream_all(english_stt, digits_16k)
    words = transcript.text.split()
    assert words.count("zero") + words.count("oh") >= 4
    assert "nine" in words and "eight" in words


@needs_english
def test_english_digit_grammar_on_telephony_audio(english_stt, shared_audio):
    digits = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    clip = read_wav(shared_audio / "fsdd" / "7_jackson_0.wav")
    padded = AudioChunk(b"\x00\x00" * 2000 + clip.pcm + b"\x00\x00" * 4000, 8000)
    _, transcript = stream_all(english_stt, padded, grammar=digits)
    assert transcript.text == "seven"
