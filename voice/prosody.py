"""Emotion from the voice: loudness, pitch and speaking rate of one caller utterance.

`features(chunk, words)` measures an utterance (None when it holds no voiced speech),
`Baseline` learns what is usual for this caller, and `arousal(features, baseline)` says how
far above (or below) their usual the caller is: a score from 0 (calm) through 0.5 (as
usual) to 1 (shouting, high and fast) with named cues. Pure numpy (and voice.audio's
resampler), no I/O.

Pitch is YIN (de Cheveigné & Kawahara 2002): the cumulative-mean-normalised difference
function of 40 ms frames every 10 ms, 60-400 Hz, computed with FFTs a batch of frames at
a time.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from voice.audio import TELEPHONY_RATE, AudioChunk, resample
from voice.stt import Transcript, Word

ANALYSIS_RATE = TELEPHONY_RATE  # 60-400 Hz pitch and the vowel band need no more
FRAME_S = 0.040  # YIN integration window
HOP_S = 0.010
F0_MIN, F0_MAX = 60.0, 400.0
YIN_THRESHOLD = 0.15  # first dip of the normalised difference under this is the period
VOICING_MAX = 0.45  # a frame whose best dip is above this is aperiodic (noise, fricative)
SPEECH_RANGE_DB = 30.0  # frames this far under the loudest one are background
MIN_LEVEL_DBFS = -60.0  # and anything quieter than this is silence, whatever the peak
MIN_VOICED_RUN = 3  # frames: shorter periodic blips are noise, not voice
MIN_VOICED_S = 0.08  # less voiced speech than this: no features
PAUSE_S = 0.25  # silent gaps at least this long are pauses, not part of speaking time
MIN_RATE_S = 0.6  # speaking time needed before a rate means anything
NUCLEUS_DIP_DB = 2.0  # a syllable nucleus is a voiced peak with this dip before it
NUCLEUS_BAND_HZ = (300.0, 2500.0)  # vowel formant region: fricatives don't make peaks
BLOCK_FRAMES = 32  # frames per FFT batch: small arrays stay in cache (256 was 2x slower)


@dataclass(frozen=True)
class VoiceFeatures:
    loudness_db: float  # dBFS of the voiced frames' mean power, telephone band (0-4 kHz)
    pitch_hz: float  # median F0 of voiced frames
    pitch_spread_st: float  # interquartile range of F0, semitones
    rate: Optional[float]  # syllables per second of speaking time; None if too short
    rate_source: str  # "audio" (energy peaks) or "words" (STT word timings)
    speech_s: float  # speaking time: voiced frames and the short gaps between them
    voiced_s: float  # periodic (voiced) frames


def _runs(mask: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Start indexes and lengths of the runs of True in a boolean vector."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return starts, ends - starts


def _without_short_runs(mask: np.ndarray, min_len: int) -> np.ndarray:
    starts, lengths = _runs(mask)
    keep = np.zeros(len(mask) + 1, dtype=np.int32)
    long_ = lengths >= min_len
    np.add.at(keep, starts[long_], 1)
    np.add.at(keep, starts[long_] + lengths[long_], -1)
    return np.cumsum(keep[:-1]) > 0


def _yin(
    frames: np.ndarray,
    energy: np.ndarray,
    starts: np.ndarray,
    window: int,
    lag_min: int,
    lag_max: int,
    nfft: int,
    band: Tuple[int, int],
) -> Tuple[np.ndarray, ...]:
    """Per frame: period in samples (fractional), its normalised dip, window power and
    vowel-band power. `frames` (a strided view) start at `starts` and hold window + lag_max
    samples; `energy` is the running sum of x**2 from 0.
    """
    # Explicit zero padding: numpy's rfft(a, n) pads far more slowly than it transforms.
    seg = np.zeros((len(frames), nfft))
    seg[:, : frames.shape[1]] = frames
    spectrum = np.fft.rfft(seg)
    seg[:, window:] = 0.0
    head = np.fft.rfft(seg)
    cross = np.fft.irfft(np.conj(head) * spectrum, nfft)[:, : lag_max + 1]
    lags = np.arange(lag_max + 1)
    at = starts[:, None] + lags
    shifted = energy[at + window] - energy[at]  # energy of the window moved by each lag
    diff = np.maximum(shifted[:, :1] + shifted - 2 * cross, 0.0)
    cmnd = np.ones_like(diff)
    cmnd[:, 1:] = diff[:, 1:] * lags[1:] / np.maximum(np.cumsum(diff[:, 1:], axis=1), 1e-12)

    search = cmnd[:, lag_min:]
    below = search < YIN_THRESHOLD
    dipped = below.any(axis=1)
    first = np.where(dipped, below.argmax(axis=1), search.argmin(axis=1))
    # From the first dip under the threshold down to its bottom: the first lag where d' rises.
    rising = np.concatenate(
        (search[:, 1:] >= search[:, :-1], np.ones((len(search), 1), dtype=bool)), axis=1
    )
    after = rising & (np.arange(search.shape[1]) >= first[:, None])
    best = np.where(dipped, after.argmax(axis=1), first) + lag_min
    rows = np.arange(len(frames))
    # Parabolic interpolation around the dip for a sub-sample period.
    inner = np.clip(best, 1, lag_max - 1)
    a, b, c = cmnd[rows, inner - 1], cmnd[rows, inner], cmnd[rows, inner + 1]
    curve = a - 2 * b + c
    offset = np.where(curve > 0, 0.5 * (a - c) / np.where(curve > 0, curve, 1.0), 0.0)
    band_power = (np.abs(head[:, band[0] : band[1]]) ** 2).sum(axis=1)
    return (
        inner + np.clip(offset, -1.0, 1.0),
        cmnd[rows, best],
        shifted[:, 0] / window,
        band_power,
    )


def _analyse(chunk: AudioChunk) -> Optional[Dict[str, np.ndarray]]:
    """Per-frame power, smoothed vowel-band level, F0 and voicing; None if too short.

    Wider-band audio is analysed in the telephone band (8 kHz): half the work at 16 kHz,
    and a caller measures the same on the phone as in the browser.
    """
    if chunk.sample_rate > ANALYSIS_RATE:
        chunk = resample(chunk, ANALYSIS_RATE)
    rate = chunk.sample_rate
    window = int(round(FRAME_S * rate))
    hop = int(round(HOP_S * rate))
    lag_min, lag_max = int(rate / F0_MAX), int(math.ceil(rate / F0_MIN))
    x = chunk.samples.astype(np.float64) / 32768.0
    if len(x) < window:
        return None
    # Zeros after the end, so the last windows get frames too (the lags reach past them).
    x = np.concatenate((x - x.mean(), np.zeros(lag_max)))
    energy = np.concatenate(([0.0], np.cumsum(x * x)))
    nfft = 1 << int(math.ceil(math.log2(window + lag_max)))
    low, high = NUCLEUS_BAND_HZ
    band = (int(round(low * nfft / rate)), int(round(high * nfft / rate)))
    frames = np.lib.stride_tricks.sliding_window_view(x, window + lag_max)[::hop]
    starts = np.arange(len(frames)) * hop
    parts = [
        _yin(
            frames[i : i + BLOCK_FRAMES],
            energy,
            starts[i : i + BLOCK_FRAMES],
            window,
            lag_min,
            lag_max,
            nfft,
            band,
        )
        for i in range(0, len(frames), BLOCK_FRAMES)
    ]
    period, dip, power, band_power = (np.concatenate(p) for p in zip(*parts))
    level = 10 * np.log10(np.maximum(power, 1e-12))
    loud = (level >= level.max() - SPEECH_RANGE_DB) & (level >= MIN_LEVEL_DBFS)
    voiced = _without_short_runs(loud & (dip < VOICING_MAX), MIN_VOICED_RUN)
    return {
        "power": power,
        "voiced": voiced,
        "f0": rate / period,
        "band_db": _smooth_db(band_power),
    }


def _smooth_db(power: np.ndarray) -> np.ndarray:
    """Level contour in dB over 30 ms, so one vowel's ripple is not two peaks."""
    return np.convolve(10 * np.log10(np.maximum(power, 1e-12)), np.ones(3) / 3, mode="same")


def _speaking_frames(voiced: np.ndarray) -> int:
    """Voiced frames plus the gaps between them shorter than a pause (consonants).

    Built on voicing rather than level, so steady background noise never counts.
    """
    starts, lengths = _runs(~voiced)
    inner = (starts > 0) & (starts + lengths < len(voiced))
    gaps = lengths[inner & (lengths < int(round(PAUSE_S / HOP_S)))]
    return int(voiced.sum() + gaps.sum())


def _nuclei(band_db: np.ndarray, voiced: np.ndarray) -> int:
    """Syllable nuclei: voiced peaks of the vowel-band level, each after a dip of 2 dB."""
    inner = band_db[1:-1]
    peak = (inner > band_db[:-2]) & (inner >= band_db[2:]) & voiced[1:-1]
    kept: List[int] = []
    for p in np.flatnonzero(peak) + 1:
        last = kept[-1] if kept else None
        dip = None if last is None else min(band_db[last], band_db[p]) - band_db[last:p].min()
        if dip is None or dip >= NUCLEUS_DIP_DB:
            kept.append(p)
        elif band_db[p] > band_db[last]:  # the same syllable: keep its top
            kept[-1] = p
    return len(kept)


def syllables(word: str) -> int:
    """English syllables by vowel groups, a silent final e dropped; at least one."""
    w = word.lower()
    count = len(re.findall(r"[aeiouy]+", w))
    if count > 1 and w.endswith("e") and not w.endswith(("le", "ee")):
        count -= 1
    return max(1, count)


def _word_rate(words: Sequence[Word]) -> Optional[float]:
    spoken = sum(max(0.0, w.end - w.start) for w in words)
    if spoken < MIN_RATE_S:
        return None
    return sum(syllables(w.word) for w in words) / spoken


def features(chunk: AudioChunk, words: Optional[Sequence[Word]] = None) -> Optional[VoiceFeatures]:
    """An utterance's voice features; None for silence, noise or audio too short to tell.

    With STT `words` (with timings) the rate comes from them, in the same unit
    (syllables per second of speaking time), else from the audio's syllable nuclei.
    """
    frames = _analyse(chunk)
    if frames is None:
        return None
    voiced = frames["voiced"]
    if voiced.sum() * HOP_S < MIN_VOICED_S:
        return None
    semitones = 12 * np.log2(frames["f0"][voiced])
    q1, median, q3 = np.percentile(semitones, [25, 50, 75])
    speech_s = _speaking_frames(voiced) * HOP_S
    if words:
        rate, source = _word_rate(words), "words"
    else:
        nuclei = _nuclei(frames["band_db"], voiced) if speech_s >= MIN_RATE_S else 0
        rate, source = (nuclei / speech_s if nuclei else None), "audio"
    return VoiceFeatures(
        loudness_db=float(10 * np.log10(frames["power"][voiced].mean())),
        pitch_hz=float(2 ** (median / 12)),
        pitch_spread_st=float(q3 - q1),
        rate=None if rate is None else float(rate),
        rate_source=source,
        speech_s=speech_s,
        voiced_s=float(voiced.sum() * HOP_S),
    )


# --- Arousal against the caller's own baseline -------------------------------------------
# Each measure is compared in a log domain (dB, semitones, ln of the rate) as a z-like
# distance: (value - baseline) / scale. Before a caller has history the scale is the wider
# population one (people differ more from each other than from themselves).
MEASURES = ("loudness", "pitch", "rate")
POPULATION = {
    "loudness": -26.0,  # dBFS: ITU-T P.56 nominal active speech level on a line
    "pitch": 12 * math.log2(165.0),  # between typical men (~120) and women (~210)
    "rate": math.log(4.5),
}  # syllables per second of conversational English
SCALE = {
    "loudness": (6.0, 10.0),  # (this caller's, population's): 6 dB ~ raised voice
    "pitch": (3.0, 8.0),  # semitones; 8 spans most voices, men to women
    "rate": (0.25, 0.4),
}  # ln ratio: 0.25 ~ 28 % faster
WEIGHT = {"loudness": 0.5, "pitch": 0.3, "rate": 0.2}  # shouting is mostly loudness
CUE = {
    "loudness": ("quiet", "loud"),
    "pitch": ("low_pitch", "high_pitch"),
    "rate": ("slow", "fast"),
}
CUE_AT = 1.0  # |distance| from which a measure is named as a cue
MAX_DISTANCE = 3.0  # one wild measure (a mistracked pitch) can't decide alone
GAIN = 1.5  # logistic slope: all three measures one scale up -> 0.82
PRIOR = 0.5  # the population default counts as this many utterances
MEMORY = 8.0  # utterances remembered; older ones fade, so a baseline follows slow drift


def _measures(f: VoiceFeatures) -> Dict[str, Optional[float]]:
    return {
        "loudness": f.loudness_db,
        "pitch": 12 * math.log2(f.pitch_hz),
        "rate": math.log(f.rate) if f.rate else None,
    }


@dataclass(frozen=True)
class Stat:
    mean: float
    evidence: float = 0.0  # utterances' worth of this caller's data (at most MEMORY)

    def scale(self, name: str) -> float:
        own, population = SCALE[name]
        return own + (population - own) * PRIOR / (PRIOR + self.evidence)

    def observe(self, value: float, weight: float) -> "Stat":
        evidence = min(self.evidence + weight, MEMORY)
        return Stat(self.mean + weight * (value - self.mean) / (PRIOR + evidence), evidence)


@dataclass(frozen=True)
class Baseline:
    """What is usual for one caller; immutable: `observe` returns the updated baseline."""

    loudness: Stat = Stat(POPULATION["loudness"])
    pitch: Stat = Stat(POPULATION["pitch"])
    rate: Stat = Stat(POPULATION["rate"])

    def observe(
        self, features: Optional[VoiceFeatures], aroused: Optional["VoiceArousal"] = None
    ) -> "Baseline":
        """Learn from an utterance. Aroused ones teach less (down to a fifth), so a caller
        who keeps shouting doesn't become the new normal within a few turns."""
        if features is None:
            return self
        weight = 1.0 if aroused is None else min(1.0, max(0.2, 2 * (1 - aroused.score)))
        values = _measures(features)
        return Baseline(
            **{
                name: getattr(self, name)
                if values[name] is None
                else getattr(self, name).observe(values[name], weight)
                for name in MEASURES
            }
        )


@dataclass(frozen=True)
class VoiceArousal:
    score: float  # 0 calm, 0.5 as usual for this caller, 1 shouting high and fast
    cues: Tuple[str, ...]  # e.g. ("loud", "high_pitch", "fast")

    def as_metadata(self, features: VoiceFeatures) -> dict:
        """The UserMessage metadata the voice channel sends Rasa with the transcript."""
        return {
            "voice": {
                "loudness_db": round(features.loudness_db, 1),
                "pitch_hz": round(features.pitch_hz, 1),
                "rate": None if features.rate is None else round(features.rate, 2),
                "arousal": round(self.score, 3),
                "cues": list(self.cues),
            }
        }


def arousal(features: VoiceFeatures, baseline: Baseline) -> VoiceArousal:
    """How aroused this utterance sounds compared with the caller's baseline."""
    distances = {}
    for name, value in _measures(features).items():
        if value is not None:
            stat = getattr(baseline, name)
            distance = (value - stat.mean) / stat.scale(name)
            distances[name] = max(-MAX_DISTANCE, min(MAX_DISTANCE, distance))
    combined = sum(WEIGHT[name] * d for name, d in distances.items())
    cues = tuple(CUE[name][d > 0] for name, d in distances.items() if abs(d) >= CUE_AT)
    return VoiceArousal(1 / (1 + math.exp(-GAIN * combined)), cues)


class CallerVoice:
    """One caller over a call: each utterance is measured against their own voice so far.

    Called by the call session (in a worker thread) with the utterance's audio and
    transcript; returns the `voice` metadata for the NLU, or None when there was too little
    speech to measure.
    """

    def __init__(self) -> None:
        self.baseline = Baseline()

    def __call__(self, audio: AudioChunk, transcript: Transcript) -> Optional[dict]:
        # Always the recogniser's word timings when it gives them: mixing sources within a
        # call would shift the caller's rate baseline.
        found = features(audio, transcript.words or None)
        if found is None:
            return None
        aroused = arousal(found, self.baseline)
        self.baseline = self.baseline.observe(found, aroused)
        return aroused.as_metadata(found)["voice"]
