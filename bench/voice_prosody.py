"""How fast the voice features are: ms of compute per second of audio, at 8 and 16 kHz.

`python -m bench.voice_prosody`. Uses the shared Vosk test clip (8.3 s of real speech) when
../shared/audio is there, else a synthetic voiced glide of the same length.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from bench.report import percentile, print_table
from bot.training import ROOT
from voice.audio import AudioChunk, chunk_from_mulaw, chunk_to_mulaw, read_wav, resample
from voice.prosody import Baseline, arousal, features

CLIP = ROOT.parent / "shared" / "audio" / "speech" / "vosk_digits_10001-90210-01803.wav"
RUNS = 50


def source() -> tuple:
    if CLIP.is_file():
        return read_wav(CLIP), CLIP.name
    rate, seconds = 16000, 8.3
    t = np.arange(int(rate * seconds)) / rate
    glide = 0.3 * np.sin(2 * np.pi * np.cumsum(100 + 10 * t) / rate)
    return AudioChunk.from_samples(glide, rate), "synthetic glide"


def ms_per_second(chunk: AudioChunk) -> list:
    features(chunk)  # warm-up
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        features(chunk)
        times.append((time.perf_counter() - start) * 1000 / chunk.duration)
    return times


def main() -> None:
    clip, name = source()
    rows = {"audio": f"{name}, {clip.duration:.1f} s, {RUNS} runs each"}
    for label, chunk in (
        ("8 kHz mu-law", chunk_from_mulaw(chunk_to_mulaw(clip))),
        ("16 kHz", resample(clip, 16000)),
    ):
        times = ms_per_second(chunk)
        rows[f"features {label}, ms per s of audio (median)"] = f"{statistics.median(times):.2f}"
        rows[f"features {label}, ms per s of audio (p95)"] = f"{percentile(times, 0.95):.2f}"
        rows[f"features {label}, ms per s of audio (best)"] = f"{min(times):.2f}"  # least load
    found = features(clip)
    if found is None:
        raise SystemExit(f"{name} holds no voiced speech to measure")
    start = time.perf_counter()
    for _ in range(1000):
        arousal(found, Baseline())
    rows["arousal, us per utterance"] = f"{(time.perf_counter() - start) * 1000:.1f}"
    print_table(rows)


if __name__ == "__main__":
    main()
