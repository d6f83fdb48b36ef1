"""Text to speech: the pure decisions (speakable, prosody) and real espeak-ng audio."""

from __future__ import annotations

import ctypes.util
import importlib.util
import shutil

import pytest

from voice.audio import dbfs
from voice.tts import Prosody, prosody_for, speakable


@pytest.mark.parametrize(
    "written,spoken",
    [
        ("Your order 1234567 is on its way.", "Your order 1 2 3 4 5 6 7 is on its way."),
        ("Order 10234567 shipped.", "Order 1 0 2 3 4 5 6 7 shipped."),
        ("Reference 123456.", "Reference 1 2 3 4 5 6."),
        ("That is 12345 items.", "That is 12345 items."),  # 5 digits: a quantity, not an order
        ("Call 0123456789 now.", "Call 0123456789 now."),  # 10 digits: not an order number
        ("The refund is €12.50.", "The refund is 12 euros 50."),
        ("The fee is €5.", "The fee is 5 euros."),
        ("It cost €7.00 in total", "It cost 7 euros in total"),
        ("A $3.99 charge", "A 3 dollars 99 charge"),
        ("Only £4.05 left", "Only 4 pounds 5 left"),
        ("Track it at https://track.example.com/abc?id=1.", "Track it at."),
        ("See www.example.com/help for details.", "See for details."),
        ("Order 2345678, see https://x.example/o/2345678 now", "Order 2 3 4 5 6 7 8, see now"),
        ("Shipped on 2026-11-25.", "Shipped on 2026-11-25."),
        ("Pi is 3.1415926", "Pi is 3.1415926"),  # decimals are not order numbers
    ],
)
def test_speakable(written, spoken):
    assert speakable(written) == spoken


@pytest.mark.parametrize(
    "emotion,intensity,expected",
    [
        ("neutral", 1.0, Prosody(1.0, 1.0, 1.0)),
        ("anger", 0.0, Prosody(1.0, 1.0, 1.0)),
        ("anger", 1.0, Prosody(0.8, 0.85, 0.8)),
        ("anger", 0.5, Prosody(0.9, 0.925, 0.9)),
        ("ANGER", 1.0, Prosody(0.8, 0.85, 0.8)),
        ("frustration", 1.0, Prosody(0.85, 0.9, 0.85)),
        ("sadness", 1.0, Prosody(0.85, 0.9, 0.85)),
        ("anxiety", 1.0, Prosody(0.85, 0.9, 0.85)),
        ("confusion", 1.0, Prosody(0.85, 1.0, 1.0)),
        ("joy", 1.0, Prosody(1.05, 1.05, 1.0)),
        ("anger", 7.0, Prosody(0.8, 0.85, 0.8)),  # intensity clamped
        ("anger", -1.0, Prosody(1.0, 1.0, 1.0)),
        ("boredom", 1.0, Prosody(1.0, 1.0, 1.0)),  # unknown: neutral
        ("", 1.0, Prosody(1.0, 1.0, 1.0)),
    ],
)
def test_prosody_for(emotion, intensity, expected):
    assert prosody_for(emotion, intensity) == expected


@pytest.mark.parametrize("emotion", ["anger", "frustration", "sadness", "anxiety"])
def test_more_upset_means_slower_lower_softer(emotion):
    mild, strong = prosody_for(emotion, 0.3), prosody_for(emotion, 0.9)
    assert strong.rate < mild.rate < 1.0
    assert strong.pitch < mild.pitch < 1.0
    assert strong.volume < mild.volume < 1.0


def _tts_missing_reason():
    if importlib.util.find_spec("pyttsx3") is None:
        return "pip package pyttsx3 not installed (pip install pyttsx3)"
    if not ctypes.util.find_library("espeak-ng") and not shutil.which("espeak-ng"):
        return (
            "apt package espeak-ng/libespeak-ng1 not installed "
            "(apt-get install espeak-ng libespeak-ng1)"
        )
    return None


needs_tts = pytest.mark.skipif(
    _tts_missing_reason() is not None, reason=_tts_missing_reason() or ""
)
SENTENCE = "Your refund of twelve euros is on its way."


@pytest.fixture(scope="module")
def tts_factory():
    from voice.pyttsx3_tts import Pyttsx3TextToSpeech

    return Pyttsx3TextToSpeech


@needs_tts
@pytest.mark.parametrize("rate", [8000, 16000])
def test_speech_is_audible_at_the_transport_rate(tts_factory, rate):
    chunk = tts_factory(sample_rate=rate).synthesize(SENTENCE)
    assert chunk.sample_rate == rate
    assert 1.0 < chunk.duration < 6.0
    assert dbfs(chunk) > -35  # speech, not silence


@needs_tts
def test_slower_prosody_gives_longer_audio(tts_factory):
    tts = tts_factory(sample_rate=16000)
    normal = tts.synthesize(SENTENCE, Prosody())
    slow = tts.synthesize(SENTENCE, Prosody(rate=0.7))
    fast = tts.synthesize(SENTENCE, Prosody(rate=1.3))
    assert slow.duration > normal.duration * 1.2
    assert fast.duration < normal.duration * 0.9
    # And back to normal: the engine must not keep the last prosody.
    again = tts_factory(sample_rate=16000).synthesize(SENTENCE)
    assert again.duration == pytest.approx(normal.duration, rel=0.05)


@needs_tts
def test_softer_prosody_is_quieter(tts_factory):
    tts = tts_factory(sample_rate=8000)
    assert dbfs(tts.synthesize(SENTENCE, Prosody(volume=0.4))) < dbfs(tts.synthesize(SENTENCE)) - 5


@needs_tts
def test_upset_caller_gets_slower_speech(tts_factory):
    tts = tts_factory(sample_rate=8000)
    calm = tts.synthesize(SENTENCE, prosody_for("neutral", 0.5))
    soothing = tts.synthesize(SENTENCE, prosody_for("anger", 1.0))
    assert soothing.duration > calm.duration * 1.1


def counting_renders(tts):
    """The texts `tts` renders with espeak-ng from now on (cache hits render nothing)."""
    rendered = []
    render = tts._render

    def counted(text, prosody):
        rendered.append(text)
        return render(text, prosody)

    tts._render = counted
    return rendered


@needs_tts
def test_cache_returns_identical_audio_without_resynthesis(tts_factory):
    tts = tts_factory(sample_rate=8000, cache_size=2)
    rendered = counting_renders(tts)
    first = tts.synthesize("Hello, this is Heard.")
    again = tts.synthesize("Hello, this is Heard.")
    assert again is first and rendered == ["Hello, this is Heard."]
    tts.synthesize("one")
    tts.synthesize("two")  # evicts the greeting (least recently used)
    evicted = tts.synthesize("Hello, this is Heard.")
    assert rendered == ["Hello, this is Heard.", "one", "two", "Hello, this is Heard."]
    assert evicted is not first
    # espeak-ng is not bit-exact between runs, which is one more reason to cache prompts.
    assert evicted.duration == pytest.approx(first.duration, rel=0.05)


@needs_tts
def test_same_text_different_prosody_is_not_a_cache_hit(tts_factory):
    tts = tts_factory(sample_rate=8000)
    rendered = counting_renders(tts)
    a = tts.synthesize("Thanks for waiting.")
    b = tts.synthesize("Thanks for waiting.", Prosody(rate=0.7))
    assert len(rendered) == 2 and b.duration > a.duration


def test_an_empty_render_is_retried(monkeypatch, tmp_path):
    """espeak-ng sometimes finishes an utterance with no audio; the wrapper renders again."""
    import threading

    import numpy as np

    from voice import pyttsx3_tts
    from voice.audio import AudioChunk, write_wav

    class FlakyEngine:
        lock = threading.Lock()
        renders = 0

        def apply(self, name, value):
            pass

        def render(self, text, path):
            FlakyEngine.renders += 1
            tone = np.sin(np.arange(22050) / 10) * 0.5 if FlakyEngine.renders > 1 else np.zeros(0)
            write_wav(path, AudioChunk.from_samples(tone, 22050))

    monkeypatch.setattr(pyttsx3_tts, "_shared_engine", lambda: FlakyEngine())
    chunk = pyttsx3_tts.Pyttsx3TextToSpeech(sample_rate=8000).synthesize("hello")
    assert FlakyEngine.renders == 2
    assert chunk.duration == pytest.approx(1.0, abs=0.01) and dbfs(chunk) > -10
