"""Voice features and arousal: synthetic tones, espeak-ng speech, the shared recordings."""

from __future__ import annotations

import collections
import json
import math
import shutil
import subprocess

import numpy as np
import pytest

from voice.audio import AudioChunk, chunk_from_mulaw, chunk_to_mulaw, read_wav, resample
from voice.prosody import (
    Baseline,
    VoiceArousal,
    VoiceFeatures,
    arousal,
    features,
    syllables,
)
from voice.stt import Word

TEXT = "I have been waiting for my refund for two weeks and nobody answers"


def semitones(a: float, b: float) -> float:
    return 12 * math.log2(a / b)


def tone(f0: float, rate: int, seconds: float = 1.0, harmonics: bool = False) -> AudioChunk:
    t = np.arange(int(rate * seconds)) / rate
    if harmonics:  # a telephone-band voice: harmonics 2..7, no fundamental
        wave = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(2, 8)) * 0.2
    else:
        wave = 0.3 * np.sin(2 * np.pi * f0 * t)
    return AudioChunk.from_samples(wave, rate)


def scaled(chunk: AudioChunk, gain: float) -> AudioChunk:
    samples = np.rint(chunk.samples * gain).astype(np.int64)
    return AudioChunk.from_samples(samples, chunk.sample_rate)


def telephone(chunk: AudioChunk) -> AudioChunk:
    """What a phone call delivers: 8 kHz, through G.711 mu-law and back."""
    return chunk_from_mulaw(chunk_to_mulaw(chunk))


@pytest.fixture(scope="session")
def speak(tmp_path_factory):
    """espeak-ng speech at 16 kHz, one render per argument list."""
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng not installed (Debian package espeak-ng)")
    folder = tmp_path_factory.mktemp("espeak")
    cache = {}

    def render(*args: str, text: str = TEXT) -> AudioChunk:
        key = (args, text)
        if key not in cache:
            path = folder / f"{len(cache)}.wav"
            subprocess.run(["espeak-ng", *args, "-w", str(path), text], check=True)
            cache[key] = resample(read_wav(path), 16000)
        return cache[key]

    return render


# --- pitch ------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [8000, 16000])
@pytest.mark.parametrize("f0", [65.0, 110.0, 180.0, 260.0, 390.0])
@pytest.mark.parametrize("harmonics", [False, True])
def test_pitch_of_tones(rate, f0, harmonics):
    found = features(tone(f0, rate, harmonics=harmonics))
    assert abs(semitones(found.pitch_hz, f0)) < 0.1
    assert found.pitch_spread_st < 0.1


def test_pitch_follows_a_glide():
    rate = 16000
    t = np.arange(2 * rate) / rate
    f0 = 100 + 50 * t  # 100 -> 200 Hz over two seconds, median 150
    wave = 0.3 * np.sin(2 * np.pi * np.cumsum(f0) / rate)
    found = features(AudioChunk.from_samples(wave, rate))
    assert abs(semitones(found.pitch_hz, 150)) < 0.3
    assert 5 < found.pitch_spread_st < 7  # quartiles 125 and 175 Hz: 5.8 semitones


def test_espeak_pitch_setting_is_heard(speak):
    low, high = features(speak("-p", "20")), features(speak("-p", "80"))
    assert 60 < low.pitch_hz < high.pitch_hz < 250
    assert semitones(high.pitch_hz, low.pitch_hz) > 5


@pytest.mark.parametrize("pitch", ["20", "50", "80"])
def test_telephone_audio_gives_the_same_features(speak, pitch):
    wide = speak("-p", pitch)
    wide_f, phone_f = features(wide), features(telephone(wide))
    assert abs(semitones(phone_f.pitch_hz, wide_f.pitch_hz)) < 0.5
    assert abs(phone_f.loudness_db - wide_f.loudness_db) < 1.0
    assert phone_f.rate == pytest.approx(wide_f.rate, rel=0.15)


# --- loudness and rate -------------------------------------------------------------------


@pytest.mark.parametrize("gain", [0.25, 0.5, 2.0])
def test_loudness_follows_the_gain_and_nothing_else_changes(speak, gain):
    base = speak()
    before, after = features(base), features(scaled(base, gain))
    assert after.loudness_db - before.loudness_db == pytest.approx(20 * math.log10(gain), abs=0.5)
    assert abs(semitones(after.pitch_hz, before.pitch_hz)) < 0.2
    assert after.rate == pytest.approx(before.rate, rel=0.1)


def test_faster_speech_has_a_higher_rate(speak):
    slow, fast = features(speak("-s", "120")), features(speak("-s", "220"))
    assert slow.rate > 2.0 and fast.rate < 9.0
    assert fast.rate > 1.3 * slow.rate
    assert slow.rate_source == fast.rate_source == "audio"


def test_pauses_do_not_count_as_speaking_time(speak):
    once = speak()
    gap = np.zeros(once.sample_rate, dtype=np.int64)  # one second of silence
    twice = AudioChunk.from_samples(np.concatenate([once.samples, gap, once.samples]), 16000)
    a, b = features(once), features(twice)
    assert b.speech_s == pytest.approx(2 * a.speech_s, rel=0.05)
    assert b.rate == pytest.approx(a.rate, rel=0.1)
    assert b.loudness_db == pytest.approx(a.loudness_db, abs=0.3)


def test_background_noise_before_speech_changes_little(speak):
    speech = speak()
    rng = np.random.default_rng(1)
    hiss = rng.normal(0, 0.003, speech.sample_rate + len(speech.samples))  # about -50 dBFS
    lead = np.zeros(speech.sample_rate)  # one second of hiss alone before the speech
    noisy = AudioChunk.from_samples(
        np.concatenate([lead, speech.samples / 32768]) + hiss, speech.sample_rate
    )
    clean, found = features(speech), features(noisy)
    assert abs(semitones(found.pitch_hz, clean.pitch_hz)) < 0.5
    assert found.loudness_db == pytest.approx(clean.loudness_db, abs=1.0)
    assert found.speech_s == pytest.approx(clean.speech_s, rel=0.15)


@pytest.mark.parametrize(
    "word, count",
    [
        ("refund", 2),
        ("nobody", 3),
        ("waiting", 2),
        ("have", 1),
        ("answers", 2),
        ("table", 2),
        ("free", 1),
        ("a", 1),
        ("rhythm", 1),
        ("zero", 2),
        ("eight", 1),
        ("seven", 2),
    ],
)
def test_syllables(word, count):
    assert syllables(word) == count


def test_rate_from_stt_word_timings(speak):
    speech = speak()
    slow = [Word(w, i * 0.5, i * 0.5 + 0.4, 1.0) for i, w in enumerate(TEXT.split())]
    fast = [Word(w.word, w.start / 2, w.end / 2, 1.0) for w in slow]
    found_slow, found_fast = features(speech, slow), features(speech, fast)
    assert found_slow.rate_source == "words"
    assert found_slow.rate == pytest.approx(18 / (13 * 0.4))  # 18 syllables in 13 x 0.4 s
    assert found_fast.rate == pytest.approx(2 * found_slow.rate)
    # Too little speech for a rate: the rest is still measured.
    short = features(speech, [Word("yes", 0.0, 0.3, 1.0)])
    assert short.rate is None and short.pitch_hz > 0


# --- silence, noise, odd input -----------------------------------------------------------


def _noise(kind: str, rate: int) -> AudioChunk:
    rng = np.random.default_rng(7)
    white = rng.standard_normal(2 * rate)
    wave = np.cumsum(white) if kind == "brown" else white
    wave = wave - wave.mean()
    return AudioChunk.from_samples(0.3 * wave / np.abs(wave).max(), rate)


@pytest.mark.parametrize("rate", [8000, 16000])
@pytest.mark.parametrize(
    "make",
    [
        lambda rate: AudioChunk(b"", rate),
        lambda rate: AudioChunk(b"\x00\x00" * (rate // 100), rate),  # 10 ms
        lambda rate: AudioChunk(b"\x00\x00" * (rate * 2), rate),  # two seconds of digital silence
        lambda rate: AudioChunk.from_samples(np.full(rate, 0.5), rate),  # DC
        lambda rate: _noise("white", rate),
        lambda rate: _noise("brown", rate),
        lambda rate: tone(200.0, rate, seconds=0.05),  # a 50 ms beep: too short to judge
    ],
    ids=["empty", "10ms", "silence", "dc", "white-noise", "brown-noise", "50ms-tone"],
)
def test_no_features_without_voiced_speech(rate, make):
    assert features(make(rate)) is None


@pytest.mark.parametrize("rate", [11025, 22050, 44100])
def test_other_sample_rates_work(rate):
    assert abs(semitones(features(tone(150.0, rate)).pitch_hz, 150.0)) < 0.1


def test_clipped_shouting_still_measures(speak):
    clipped = features(scaled(speak(), 20.0))  # +26 dB: hard clipping
    assert clipped.loudness_db > -6 and 60 < clipped.pitch_hz < 250


# --- baseline and arousal ----------------------------------------------------------------


def voice(loudness=-26.0, pitch=165.0, rate=4.5) -> VoiceFeatures:
    return VoiceFeatures(loudness, pitch, 1.0, rate, "audio", 2.0, 1.5)


def test_the_population_default_is_as_usual():
    usual = arousal(voice(), Baseline())
    assert usual.score == pytest.approx(0.5) and usual.cues == ()


def test_louder_higher_faster_is_more_aroused():
    base = Baseline()
    for _ in range(3):
        base = base.observe(voice())
    scores = [
        arousal(voice(-26 + 3 * k, 165 * 2 ** (k / 12), 4.5 * (1 + 0.1 * k)), base).score
        for k in range(5)
    ]
    assert scores == sorted(scores) and scores[0] == pytest.approx(0.5, abs=0.01)
    shouting = arousal(voice(-14, 165 * 2 ** (4 / 12), 6.0), base)
    assert shouting.score > 0.85 and shouting.cues == ("loud", "high_pitch", "fast")
    calm = arousal(voice(-34, 165 * 2 ** (-2 / 12), 3.5), base)
    assert calm.score < 0.35 and "quiet" in calm.cues


def test_a_naturally_loud_caller_becomes_the_norm():
    loud = voice(loudness=-13.0)
    first = arousal(loud, Baseline())
    assert "loud" in first.cues
    base = Baseline()
    for _ in range(4):
        base = base.observe(loud)
    later = arousal(loud, base)
    assert "loud" not in later.cues and abs(later.score - 0.5) < abs(first.score - 0.5) / 3
    assert base.loudness.mean == pytest.approx(-13.0, abs=1.5)  # the prior weighs half a turn
    # ... and shouting louder still stands out against their own level.
    assert "loud" in arousal(voice(loudness=-5.0), base).cues


def test_aroused_utterances_teach_the_baseline_less():
    shout = voice(loudness=-10.0)
    calm_update = Baseline().observe(shout)
    aroused_update = Baseline().observe(shout, VoiceArousal(0.95, ("loud",)))
    assert Baseline().loudness.mean < aroused_update.loudness.mean < calm_update.loudness.mean


def test_a_missing_rate_is_neither_learned_nor_judged():
    base = Baseline().observe(voice(rate=None))
    assert base.rate == Baseline().rate and base.loudness != Baseline().loudness
    assert arousal(voice(rate=None), Baseline()).score == pytest.approx(0.5)
    assert Baseline().observe(None) == Baseline()


def test_espeak_angry_versus_calm(speak):
    """A caller learned from calm turns, then loud, high and fast."""
    calm_texts = [
        "where is my order",
        "I ordered a lamp last week",
        "can you check the delivery date please",
    ]
    base = Baseline()
    for text in calm_texts:
        calm = features(telephone(scaled(speak("-s", "140", "-p", "40", text=text), 0.5)))
        base = base.observe(calm, arousal(calm, base))
    calm = features(telephone(scaled(speak("-s", "140", "-p", "40"), 0.5)))
    angry = features(telephone(scaled(speak("-s", "220", "-p", "80"), 1.5)))
    calm_a, angry_a = arousal(calm, base), arousal(angry, base)
    assert angry_a.score > 0.8 > 0.6 > calm_a.score
    assert set(angry_a.cues) >= {"loud", "high_pitch", "fast"}
    assert not {"loud", "high_pitch", "fast"} & set(calm_a.cues)
    # Even against the population defaults, the angry version is the more aroused.
    assert arousal(angry, Baseline()).score > arousal(calm, Baseline()).score


def test_metadata_contract():
    found = voice(rate=None)
    meta = VoiceArousal(0.8123, ("loud", "high_pitch")).as_metadata(found)
    assert meta == {
        "voice": {
            "loudness_db": -26.0,
            "pitch_hz": 165.0,
            "rate": None,
            "arousal": 0.812,
            "cues": ["loud", "high_pitch"],
        }
    }
    assert json.loads(json.dumps(meta)) == meta


# --- the shared recordings ---------------------------------------------------------------


def test_fsdd_speakers_have_stable_pitch(shared_audio):
    clips = sorted((shared_audio / "fsdd").glob("*.wav"))
    assert len(clips) >= 100
    pitches = collections.defaultdict(list)
    for clip in clips:
        found = features(read_wav(clip))  # 8 kHz telephone-band single digits
        if found:
            pitches[clip.stem.split("_")[1]].append(found.pitch_hz)
    measured = sum(map(len, pitches.values()))
    assert measured >= 0.9 * len(clips)  # a few "six"es are nearly all fricative
    medians = {speaker: float(np.median(p)) for speaker, p in pitches.items()}
    assert all(80 < m < 200 for m in medians.values())  # six men
    off = [abs(semitones(p, medians[s])) for s, ps in pitches.items() for p in ps]
    assert np.mean(np.array(off) < 3) > 0.8
    assert np.mean(np.array(off) > 6) < 0.05  # octave-style errors are rare
    # george speaks clearly higher than lucas, nicolas and yweweler.
    assert all(
        semitones(medians["george"], medians[s]) > 3 for s in ("lucas", "nicolas", "yweweler")
    )


def test_fsdd_through_the_telephone_codec(shared_audio):
    diffs = []
    for clip in sorted((shared_audio / "fsdd").glob("*_[0-1].wav")):
        original = read_wav(clip)
        a, b = features(original), features(telephone(resample(original, 16000)))
        if a and b:
            diffs.append(
                (abs(semitones(a.pitch_hz, b.pitch_hz)), abs(a.loudness_db - b.loudness_db))
            )
    pitch, loud = np.array(diffs).T
    assert len(diffs) > 100 and np.mean(pitch < 0.5) > 0.95 and np.median(loud) < 0.2


def test_vosk_clip_at_16k_and_over_the_phone(shared_audio):
    wide = read_wav(shared_audio / "speech" / "vosk_digits_10001-90210-01803.wav")
    a, b = features(wide), features(telephone(wide))
    assert 70 < a.pitch_hz < 200
    assert abs(semitones(a.pitch_hz, b.pitch_hz)) < 0.5
    assert abs(a.loudness_db - b.loudness_db) < 1.0
    # Read digits with pauses between the groups: pauses are not speaking time.
    assert a.speech_s < 0.6 * wide.duration
    assert 2.5 < a.rate < 7.0 and b.rate == pytest.approx(a.rate, rel=0.15)


def test_jfk_over_the_phone(shared_audio, tmp_path):
    if not shutil.which("sox"):
        pytest.skip("sox not installed (Debian package sox): needed to read FLAC")
    wav = tmp_path / "jfk.wav"
    subprocess.run(
        [
            "sox",
            str(shared_audio / "speech" / "jfk_ask_not.flac"),
            "-b",
            "16",
            str(wav),
            "remix",
            "-",
        ],
        check=True,
    )
    wide = read_wav(wav)  # 44.1 kHz
    a, b = features(wide), features(telephone(wide))
    assert 100 < a.pitch_hz < 350 and abs(semitones(a.pitch_hz, b.pitch_hz)) < 0.5
    assert 2.0 < a.rate < 7.0 and b.rate == pytest.approx(a.rate, rel=0.15)
    assert abs(a.loudness_db - b.loudness_db) < 1.0
