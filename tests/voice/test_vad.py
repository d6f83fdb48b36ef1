"""VAD, end-of-turn and barge-in on real recordings (FSDD, 8 kHz), read in place."""

from __future__ import annotations

from pathlib import Path
from typing import List

import numpy as np
import pytest

from voice.audio import AudioChunk, read_wav
from voice.vad import BargeIn, EnergyVad, SpeechStarted, TurnDetector, TurnEnded

RATE = 8000
SPEAKERS = ["george", "jackson", "lucas", "nicolas", "theo", "yweweler"]
# "one" and "eight" start with a vowel, so the true onset is unambiguous (fricative onsets
# such as "six" or "zero" start well below the loud part and any threshold is arbitrary).
CLEAN_ONSET = [f"{d}_{s}_{i}.wav" for d in (1, 8) for s in SPEAKERS for i in range(5)]


def clip(shared_audio: Path, name: str) -> np.ndarray:
    c = read_wav(shared_audio / "fsdd" / name)
    assert c.sample_rate == RATE
    return c.samples.astype(np.float64)


def noise(seconds: float, dbfs: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 32768 * 10 ** (dbfs / 20), int(seconds * RATE))


def voiced(seconds: float, dbfs: float, f0: float = 180.0) -> np.ndarray:
    """A vowel-like sound: a fundamental and its harmonics (a peaky spectrum, like speech)."""
    t = np.arange(int(seconds * RATE)) / RATE
    wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
    return wave / np.sqrt(np.mean(wave**2)) * 32768 * 10 ** (dbfs / 20)


def pad(speech: np.ndarray, lead: float, tail: float, noise_dbfs=None) -> np.ndarray:
    if noise_dbfs is None:
        return np.concatenate([np.zeros(int(lead * RATE)), speech, np.zeros(int(tail * RATE))])
    return np.concatenate([noise(lead, noise_dbfs, 1), speech, noise(tail, noise_dbfs, 2)])


def chunk(x: np.ndarray) -> AudioChunk:
    return AudioChunk.from_samples(np.rint(x).astype(np.int64), RATE)


def true_onset(x: np.ndarray) -> float:
    """First 10 ms window within 20 dB of the clip's loudest 10 ms window."""
    w = RATE // 100
    windows = [x[i : i + w] for i in range(0, len(x) - w + 1, w)]
    rms = np.array([np.sqrt(np.mean(window**2)) for window in windows]) + 1e-9
    db = 20 * np.log10(rms)
    return int(np.argmax(db >= db.max() - 20)) * w / RATE


def run(x: np.ndarray, detector: TurnDetector, chunk_ms: int = 20) -> List:
    """Stream like a transport does: 20 ms chunks (Twilio's frame size)."""
    n = RATE * chunk_ms // 1000
    events = []
    for i in range(0, len(x), n):
        events += detector.feed(chunk(x[i : i + n]))
    return events


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


@pytest.mark.parametrize("noise_dbfs", [None, -60.0], ids=["silence", "noise"])
@pytest.mark.parametrize("name", CLEAN_ONSET)
def test_speech_started_near_true_onset(shared_audio, name, noise_dbfs):
    speech = clip(shared_audio, name)
    lead = 0.5
    events = run(pad(speech, lead, 1.0, noise_dbfs), TurnDetector())
    started = of(events, SpeechStarted)
    assert len(started) == 1, events
    assert abs(started[0].time - (lead + true_onset(speech))) <= 0.06
    assert started[0].detected_at - started[0].time <= 0.06 + 1e-9  # confirmed within 3 frames
    assert len(of(events, TurnEnded)) == 1


@pytest.mark.parametrize("noise_dbfs", [None, -60.0], ids=["silence", "noise"])
def test_every_clip_is_one_turn(shared_audio, noise_dbfs):
    names = sorted(p.name for p in (shared_audio / "fsdd").glob("*.wav"))
    assert len(names) == 300
    for name in names:
        speech = clip(shared_audio, name)
        events = run(pad(speech, 0.5, 1.0, noise_dbfs), TurnDetector())
        kinds = [type(e) for e in events]
        assert kinds == [SpeechStarted, TurnEnded], (name, events)
        start, end = events
        # speech is found inside the clip, not in the padding
        assert 0.5 - 0.02 <= start.time < 0.5 + len(speech) / RATE, name
        assert end.last_voiced <= 0.5 + len(speech) / RATE + 0.02, name


@pytest.mark.parametrize("trailing", [0.3, 0.6, 1.0])
def test_turn_ends_only_after_the_trailing_silence(shared_audio, trailing):
    speech = clip(shared_audio, "8_jackson_0.wav")
    detector = TurnDetector(trailing_silence=trailing)
    x = pad(speech, 0.5, 2.0)
    n = RATE // 50
    ended = None
    for i in range(0, len(x), n):
        evs = of(detector.feed(chunk(x[i : i + n])), TurnEnded)
        now = (i + n) / RATE
        if evs:
            ended = (evs[0], now)
            break
        assert detector.time == pytest.approx(now)
    assert ended is not None
    event, now = ended
    assert event.detected_at == pytest.approx(now)
    silence = event.detected_at - event.last_voiced
    assert trailing - 1e-9 <= silence < trailing + 0.02 + 1e-9
    # the last voiced frame is at the end of the recording's speech, not in the padding
    assert 0.5 + 0.1 < event.last_voiced <= 0.5 + len(speech) / RATE + 0.02


def test_default_trailing_silence_is_600_ms(shared_audio):
    speech = clip(shared_audio, "1_george_0.wav")
    ev = of(run(pad(speech, 0.3, 1.0), TurnDetector()), TurnEnded)[0]
    assert ev.detected_at - ev.last_voiced == pytest.approx(0.6, abs=1e-6)


def test_short_pause_inside_speech_does_not_end_the_turn(shared_audio):
    a, b = clip(shared_audio, "1_lucas_0.wav"), clip(shared_audio, "8_lucas_0.wav")
    x = np.concatenate([np.zeros(4000), a, np.zeros(int(0.4 * RATE)), b, np.zeros(8000)])
    events = run(x, TurnDetector(trailing_silence=0.6))
    assert [type(e) for e in events] == [SpeechStarted, TurnEnded]
    assert events[1].last_voiced > 0.5 + len(a) / RATE + 0.4  # ends after the second word
    events = run(x, TurnDetector(trailing_silence=0.3))
    assert [type(e) for e in events] == [SpeechStarted, TurnEnded, SpeechStarted, TurnEnded]


def test_chunk_size_does_not_change_events(shared_audio):
    x = pad(clip(shared_audio, "9_nicolas_1.wav"), 0.4, 1.0, -60.0)
    a = run(x, TurnDetector(), chunk_ms=20)
    b = run(x, TurnDetector(), chunk_ms=7)
    c = TurnDetector().feed(chunk(x))
    assert a == b == c and len(a) == 2


def test_no_events_on_silence():
    detector = TurnDetector()
    assert run(np.zeros(10 * RATE), detector) == []
    assert not detector.in_turn


@pytest.mark.parametrize("level", [-70.0, -60.0, -40.0])
def test_no_events_on_ten_seconds_of_steady_noise(level):
    # -40 dBFS is louder than the quiet speakers in FSDD: only the adaptive floor keeps it out.
    detector = TurnDetector()
    detector.set_bot_speaking(True)
    assert run(noise(10.0, level, seed=7), detector) == []
    assert detector.vad.floor == pytest.approx(level, abs=2.0)


def test_speech_is_found_after_loud_noise(shared_audio):
    """The floor adapts to the noise, and speech on top of it is still heard."""
    speech = clip(shared_audio, "8_george_0.wav")
    bg = noise(3.0 + len(speech) / RATE, -45.0, seed=3)
    bg[int(2.0 * RATE) : int(2.0 * RATE) + len(speech)] += speech
    events = run(bg, TurnDetector())
    assert [type(e) for e in events] == [SpeechStarted, TurnEnded]
    assert abs(events[0].time - (2.0 + true_onset(speech))) <= 0.06


def test_hangover_keeps_frames_voiced_after_speech():
    vad = EnergyVad()
    loud = AudioChunk.from_samples(voiced(0.02, -20.0), RATE)
    quiet = AudioChunk(bytes(320), RATE)
    frames = [vad.classify(f) for f in [quiet, loud] + [quiet] * 6]
    assert [f.speech for f in frames] == [False, True] + [False] * 6
    assert [f.voiced for f in frames] == [False, True, True, True, True, True, False, False]


def test_loud_hiss_after_silence_is_never_speech():
    """White noise has a flat spectrum: however loud, and before the floor adapts, it is
    not speech (a line that starts hissing must not become a caller's turn)."""
    x = np.concatenate([np.zeros(RATE), noise(5.0, -15.0, seed=9)])
    assert run(x, TurnDetector()) == []


def test_single_click_is_not_speech():
    x = np.zeros(RATE)
    x[4000:4160] = noise(0.02, -10.0, 4)  # one 20 ms burst
    assert run(x, TurnDetector()) == []


class TestBargeIn:
    def frames_of_speech(self, shared_audio, n_frames: int) -> np.ndarray:
        speech = clip(shared_audio, "8_jackson_1.wav")
        onset = int(true_onset(speech) * RATE)
        return speech[onset + 160 : onset + 160 + 160 * n_frames]  # loud part only

    def test_barge_in_after_three_voiced_frames(self, shared_audio):
        d = TurnDetector()
        run(noise(1.0, -65.0), d)  # the caller line while the bot talks (no echo)
        d.set_bot_speaking(True)
        s = self.frames_of_speech(shared_audio, 3)
        got = [d.feed(chunk(s[i * 160 : (i + 1) * 160])) for i in range(3)]
        assert not of(got[0], BargeIn) and not of(got[1], BargeIn)
        barge = of(got[2], BargeIn)
        assert len(barge) == 1
        assert barge[0].time == pytest.approx(1.0)
        assert barge[0].detected_at == pytest.approx(1.06)
        # reported once per bot utterance
        assert not of(run(self.frames_of_speech(shared_audio, 10), d), BargeIn)

    def test_no_barge_in_after_one_voiced_frame(self, shared_audio):
        d = TurnDetector()
        d.set_bot_speaking(True)
        x = np.concatenate([np.zeros(RATE), self.frames_of_speech(shared_audio, 1), np.zeros(RATE)])
        assert run(x, d) == []

    def test_no_barge_in_when_bot_is_silent(self, shared_audio):
        d = TurnDetector()
        x = np.concatenate([np.zeros(RATE), self.frames_of_speech(shared_audio, 5), np.zeros(RATE)])
        kinds = [type(e) for e in run(x, d)]
        assert BargeIn not in kinds and SpeechStarted in kinds

    def test_barge_in_frames_is_configurable(self, shared_audio):
        d = TurnDetector(barge_in_frames=1)
        d.set_bot_speaking(True)
        assert of(d.feed(chunk(self.frames_of_speech(shared_audio, 1))), BargeIn)
        d = TurnDetector(barge_in_frames=5)
        d.set_bot_speaking(True)
        assert not of(run(self.frames_of_speech(shared_audio, 4), d), BargeIn)

    def test_barge_in_again_on_next_bot_utterance(self, shared_audio):
        d = TurnDetector()
        s = self.frames_of_speech(shared_audio, 4)
        d.set_bot_speaking(True)
        assert of(run(s, d), BargeIn)
        run(np.zeros(RATE), d)
        d.set_bot_speaking(True)
        assert of(run(s, d), BargeIn)


def test_rejects_rate_change():
    d = TurnDetector()
    d.feed(AudioChunk(bytes(320), 8000))
    with pytest.raises(ValueError, match="sample rate"):
        d.feed(AudioChunk(bytes(640), 16000))
