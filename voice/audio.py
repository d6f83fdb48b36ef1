"""Audio as plain data: PCM16 chunks, G.711 mu-law, resampling (whole chunks, or a stream in
pieces), loudness, WAV files.

Everything here is pure (no I/O except `read_wav`) so transports and tests can rely on it.
"""

from __future__ import annotations

import math
import wave
from dataclasses import dataclass
from math import gcd
from pathlib import Path
from typing import Union

import numpy as np
import soxr
from scipy.signal import resample_poly

TELEPHONY_RATE = 8000  # Twilio Media Streams: 8 kHz mu-law
BROWSER_RATE = 16000  # what the web widget sends and Vosk models expect

# G.711 mu-law as in the ITU-T G.191 reference and CPython's audioop: the encoder works on
# 14-bit magnitudes (input >> 2), bias 0x21, clip 8159; the decoder expands to 16 bits.
_BIAS = 0x84  # decoder bias, 16-bit domain
_BIAS14 = 0x21
_CLIP14 = 8159
_SEG_END14 = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF], dtype=np.int32)


@dataclass(frozen=True)
class AudioChunk:
    """Mono signed 16-bit little-endian PCM at `sample_rate` Hz."""

    pcm: bytes
    sample_rate: int

    def __post_init__(self) -> None:
        if len(self.pcm) % 2:
            raise ValueError("PCM16 audio needs an even number of bytes")
        if self.sample_rate <= 0:
            raise ValueError(f"bad sample rate {self.sample_rate}")

    @classmethod
    def from_samples(cls, samples: np.ndarray, sample_rate: int) -> "AudioChunk":
        """Float samples are taken as -1..1 full scale; integers as int16 values."""
        if np.issubdtype(samples.dtype, np.floating):
            samples = samples * 32767.0
        clipped = np.clip(np.rint(samples), -32768, 32767).astype("<i2")
        return cls(clipped.tobytes(), sample_rate)

    @property
    def samples(self) -> np.ndarray:
        return np.frombuffer(self.pcm, dtype="<i2")

    @property
    def duration(self) -> float:
        return len(self.pcm) / 2 / self.sample_rate


def mulaw_encode(pcm: bytes) -> bytes:
    """PCM16 -> 8-bit G.711 mu-law, one byte per sample."""
    x = np.frombuffer(pcm, dtype="<i2").astype(np.int32) >> 2  # arithmetic, like the reference
    mask = np.where(x < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.abs(x), _CLIP14) + _BIAS14
    seg = np.searchsorted(_SEG_END14, magnitude)  # first segment whose end >= magnitude
    code = np.where(seg >= 8, 0x7F, (seg << 4) | ((magnitude >> (np.minimum(seg, 7) + 1)) & 0x0F))
    return ((code ^ mask) & 0xFF).astype(np.uint8).tobytes()


def mulaw_decode(data: bytes) -> bytes:
    """8-bit G.711 mu-law -> PCM16."""
    u = ~np.frombuffer(data, dtype=np.uint8).astype(np.int32) & 0xFF
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(u & 0x80, -magnitude, magnitude).astype("<i2").tobytes()


def chunk_from_mulaw(data: bytes, sample_rate: int = TELEPHONY_RATE) -> AudioChunk:
    return AudioChunk(mulaw_decode(data), sample_rate)


def chunk_to_mulaw(chunk: AudioChunk) -> bytes:
    """Mu-law at 8 kHz, resampling first if needed (what Twilio wants back)."""
    return mulaw_encode(resample(chunk, TELEPHONY_RATE).pcm)


def resample(chunk: AudioChunk, rate: int) -> AudioChunk:
    """Polyphase resampling (anti-aliased), e.g. 8 kHz <-> 16 kHz, 22050 -> 16000."""
    if rate == chunk.sample_rate or not chunk.pcm:
        return AudioChunk(chunk.pcm, rate)
    g = gcd(rate, chunk.sample_rate)
    out = resample_poly(chunk.samples.astype(np.float64), rate // g, chunk.sample_rate // g)
    return AudioChunk.from_samples(np.rint(out).astype(np.int64), rate)


class StreamResampler:
    """Resamples one continuous stream that arrives in pieces (a call's 20 ms frames) as if
    it were resampled whole. `resample` on each piece would pad both of its edges with
    silence, a click every 20 ms; here the filter's state carries from piece to piece.

    The filter holds back some audio (about 0.1 s), so a piece's output can be shorter
    than the piece, even empty: `flush()` returns the rest once the stream ends, after
    which the resampler takes no more audio.
    """

    def __init__(self, from_rate: int, to_rate: int) -> None:
        self.from_rate, self.to_rate = from_rate, to_rate
        self._soxr = (
            soxr.ResampleStream(from_rate, to_rate, 1, dtype="int16")
            if from_rate != to_rate
            else None
        )

    def feed(self, chunk: AudioChunk) -> AudioChunk:
        if chunk.sample_rate != self.from_rate:
            raise ValueError(f"stream of {self.from_rate} Hz audio, got {chunk.sample_rate} Hz")
        return self._resample(chunk.samples, last=False)

    def flush(self) -> AudioChunk:
        return self._resample(np.zeros(0, dtype="<i2"), last=True)

    def _resample(self, samples: np.ndarray, last: bool) -> AudioChunk:
        if self._soxr is None:
            return AudioChunk(samples.tobytes(), self.to_rate)
        out = self._soxr.resample_chunk(samples, last=last)
        return AudioChunk(out.astype("<i2").tobytes(), self.to_rate)


def dbfs(chunk: AudioChunk) -> float:
    """RMS level in dB relative to full scale (a full-scale sine is -3.01 dBFS).

    Digital silence is -inf, so callers can compare without special cases.
    """
    if not chunk.pcm:
        return float("-inf")
    rms = math.sqrt(float(np.mean(chunk.samples.astype(np.float64) ** 2)))
    return 20 * math.log10(rms / 32768.0) if rms > 0 else float("-inf")


def read_wav(path: Union[str, Path]) -> AudioChunk:
    """A 16-bit PCM WAV file as one chunk; stereo is mixed down to mono."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2 or w.getcomptype() != "NONE":
            raise ValueError(f"{path}: only 16-bit PCM WAV is supported")
        channels, rate = w.getnchannels(), w.getframerate()
        frames = w.readframes(w.getnframes())
    samples = np.frombuffer(frames, dtype="<i2")
    if channels > 1:
        mono = samples.reshape(-1, channels).astype(np.int32).mean(axis=1)
        samples = np.rint(mono).astype(np.int64)
        return AudioChunk.from_samples(samples, rate)
    return AudioChunk(samples.tobytes(), rate)


def write_wav(path: Union[str, Path], chunk: AudioChunk) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(chunk.sample_rate)
        w.writeframes(chunk.pcm)
