from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from voice.audio import (
    AudioChunk,
    StreamResampler,
    chunk_from_mulaw,
    chunk_to_mulaw,
    dbfs,
    mulaw_decode,
    mulaw_encode,
    read_wav,
    resample,
    write_wav,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import audioop
    except ImportError:  # removed in Python 3.13
        audioop = None


def sine(freq: float, rate: int, seconds: float, amplitude: float) -> AudioChunk:
    t = np.arange(int(rate * seconds)) / rate
    return AudioChunk.from_samples(amplitude * np.sin(2 * np.pi * freq * t), rate)


ALL_INT16 = np.arange(-32768, 32768, dtype="<i2").tobytes()


def test_mulaw_round_trip_error_is_within_the_g711_segment_step():
    decoded = np.frombuffer(mulaw_decode(mulaw_encode(ALL_INT16)), dtype="<i2").astype(int)
    original = np.frombuffer(ALL_INT16, dtype="<i2").astype(int)
    err = np.abs(decoded - original)
    # mu-law is logarithmic: the quantisation step doubles per segment, so the error is
    # bounded relative to the magnitude (plus clipping above 32635).
    # The step is 8 in the first segment and doubles per segment (about 1/16 of the
    # magnitude); the encoder truncates, so the error stays below one step.
    assert err[np.abs(original) < 32].max() <= 8
    assert np.all(err <= np.abs(original) / 16 + 8)
    assert err.max() <= 1024  # the worst case is clipping at full scale


def test_every_decoded_level_survives_another_round_trip():
    # Codes 0x7f and 0xff are both zero ("negative zero"), so compare levels, not codes.
    levels = mulaw_decode(bytes(range(256)))
    assert mulaw_decode(mulaw_encode(levels)) == levels


def test_mulaw_known_values():
    assert mulaw_encode(np.array([0], "<i2").tobytes()) == b"\xff"
    assert mulaw_encode(np.array([32767], "<i2").tobytes()) == b"\x80"
    assert mulaw_encode(np.array([-32768], "<i2").tobytes()) == b"\x00"


@pytest.mark.skipif(
    audioop is None, reason="audioop (stdlib, removed in Python 3.13) not available"
)
def test_mulaw_matches_audioop_exactly():
    assert mulaw_encode(ALL_INT16) == audioop.lin2ulaw(ALL_INT16, 2)
    every_code = bytes(range(256))
    assert mulaw_decode(every_code) == audioop.ulaw2lin(every_code, 2)


def test_mulaw_chunk_helpers_resample_to_8k():
    tone = sine(440, 16000, 0.5, 0.5)
    encoded = chunk_to_mulaw(tone)
    assert len(encoded) == 4000  # one byte per 8 kHz sample
    back = chunk_from_mulaw(encoded)
    assert back.sample_rate == 8000
    assert abs(dbfs(back) - dbfs(tone)) < 0.5


@pytest.mark.parametrize(
    "src,dst", [(8000, 16000), (16000, 8000), (22050, 16000), (44100, 8000), (16000, 16000)]
)
def test_resample_length_and_rate(src, dst):
    chunk = sine(300, src, 1.0, 0.5)
    out = resample(chunk, dst)
    assert out.sample_rate == dst
    assert abs(len(out.samples) - dst) <= 1
    assert abs(out.duration - 1.0) < 1e-3
    # A 300 Hz tone is inside every band here: level is kept.
    assert abs(dbfs(out) - dbfs(chunk)) < 0.3


def test_resample_removes_content_above_the_new_nyquist():
    # 6 kHz tone at 16 kHz cannot exist at 8 kHz (Nyquist 4 kHz): it must be filtered
    # out, not aliased into the speech band.
    out = resample(sine(6000, 16000, 1.0, 0.5), 8000)
    assert dbfs(out) < -40


def pieces(chunk: AudioChunk, ms: int = 20) -> list:
    """`chunk` cut as a call delivers it, in frames of `ms` milliseconds."""
    size = 2 * chunk.sample_rate * ms // 1000
    return [
        AudioChunk(chunk.pcm[i : i + size], chunk.sample_rate)
        for i in range(0, len(chunk.pcm), size)
    ]


@pytest.mark.parametrize("src,dst", [(8000, 16000), (16000, 8000), (22050, 16000)])
def test_a_stream_resampled_in_20ms_frames_is_the_tone_resampled_whole(src, dst):
    tone, ideal = sine(440, src, 1.0, 0.5), sine(440, dst, 1.0, 0.5).samples.astype(float)
    stream = StreamResampler(src, dst)
    streamed = b"".join(stream.feed(frame).pcm for frame in pieces(tone)) + stream.flush().pcm
    separately = b"".join(resample(frame, dst).pcm for frame in pieces(tone))
    inner = slice(dst // 50, -dst // 50)  # the tone's own start and end are edges for anyone

    def error(pcm: bytes) -> float:
        return float(np.abs(np.frombuffer(pcm, "<i2").astype(float) - ideal)[inner].max())

    assert len(streamed) == len(ideal) * 2
    assert error(streamed) <= 0.001 * 16384  # off by rounding only
    # Each frame on its own is padded with silence at both ends: a click every 20 ms.
    assert error(separately) > 0.1 * 16384


def test_a_stream_keeps_no_audio_back_when_the_rates_match():
    stream = StreamResampler(16000, 16000)
    frame = sine(440, 16000, 0.02, 0.5)
    assert stream.feed(frame) == frame and stream.flush().pcm == b""


def test_a_stream_refuses_audio_at_another_rate():
    with pytest.raises(ValueError, match="8000 Hz"):
        StreamResampler(8000, 16000).feed(sine(440, 16000, 0.02, 0.5))


@pytest.mark.parametrize("amplitude,expected", [(1.0, -3.01), (0.5, -9.03), (0.1, -23.01)])
def test_dbfs_of_a_known_sine(amplitude, expected):
    assert dbfs(sine(1000, 16000, 1.0, amplitude)) == pytest.approx(expected, abs=0.05)


def test_dbfs_of_silence_is_minus_infinity():
    assert dbfs(AudioChunk(b"\x00\x00" * 800, 8000)) == -math.inf
    assert dbfs(AudioChunk(b"", 8000)) == -math.inf


def test_audio_chunk_rejects_odd_byte_counts():
    with pytest.raises(ValueError):
        AudioChunk(b"\x00\x00\x00", 8000)


def test_read_all_fsdd_clips(shared_audio):
    clips = sorted((shared_audio / "fsdd").glob("*.wav"))
    assert len(clips) >= 100
    for path in clips:
        chunk = read_wav(path)
        assert chunk.sample_rate == 8000
        assert 0.1 < chunk.duration < 3.0
        # A spoken digit, not silence (the quietest speaker peaks around 600).
        assert dbfs(chunk) > -55, path.name
        assert np.abs(chunk.samples.astype(int)).max() > 300, path.name


def test_read_16k_speech_and_write_round_trip(shared_audio, tmp_path):
    chunk = read_wav(shared_audio / "speech" / "vosk_digits_10001-90210-01803.wav")
    assert chunk.sample_rate == 16000
    assert chunk.duration == pytest.approx(8.3, abs=0.2)
    write_wav(tmp_path / "copy.wav", chunk)
    assert read_wav(tmp_path / "copy.wav") == chunk


def test_read_wav_mixes_stereo_to_mono(tmp_path):
    import wave

    left = np.full(100, 1000, "<i2")
    right = np.full(100, 3000, "<i2")
    with wave.open(str(tmp_path / "st.wav"), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(np.column_stack([left, right]).astype("<i2").tobytes())
    chunk = read_wav(tmp_path / "st.wav")
    assert chunk.sample_rate == 16000
    assert list(chunk.samples) == [2000] * 100


def test_read_wav_rejects_8_bit(tmp_path):
    import wave

    with wave.open(str(tmp_path / "u8.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(b"\x80" * 100)
    with pytest.raises(ValueError, match="16-bit"):
        read_wav(tmp_path / "u8.wav")
