"""`make bench-voice`: a phone call's response latency, barge-in, the recogniser's speed
and memory per call.

Starts the real servers on their own ports with a scratch database, tracker and log, the
Twilio channel on the scripted recogniser stand-in (no English Vosk model here) and in
insecure_dev_mode (local, no Twilio account), and calls them with the simulated Twilio
caller, streaming espeak-ng speech in real time.
The real Vosk decoder's speed is measured separately on the Korean model (voice_stt.py).
Prints a table; writes nothing into the project.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from websockets.exceptions import ConnectionClosed

from bench import voice_stt
from bench.report import percentile, print_table
from bench.turns import rss_mb
from bot.servers import Servers
from bot.training import ensure_trained
from heard.paths import ROOT
from voice.audio import (
    TELEPHONY_RATE,
    AudioChunk,
    chunk_from_mulaw,
    chunk_to_mulaw,
    read_wav,
    resample,
)
from voice.phone_emulator import PhoneCall, silence
from voice.vad import FRAME_MS, EnergyVad

SHARED_AUDIO = ROOT.parent / "shared" / "audio"
# What callers say, call by call; the scripted recogniser "hears" the same words.
CALLS: List[List[str]] = [
    [
        "where is my order",
        "two three four five six seven eight",
        "jane dot doe at example dot com",
        "thanks bye",
    ],
    [
        "I want to cancel order six seven eight nine zero one two",
        "omar dot haddad at example dot com",
        "no keep it",
    ],
    [
        "my refund for nine zero one two three four five has not arrived",
        "mei dot chen at example dot org",
        "okay thanks",
    ],
    [
        "what is your refund policy",
        "which payment methods do you take",
        "what are your opening hours",
    ],
    [
        "hi",
        "where is my order one two three four five six seven",
        "jane dot doe at example dot com",
    ],
    ["do you ship abroad", "how long does delivery take", "can I return shoes I wore once"],
    [
        "my order four five six seven eight nine zero is late",
        "omar dot haddad at example dot com",
        "okay thank you",
    ],
]
BARGE_IN_LINE = "what are your opening hours"
TIMING = re.compile(r"voice\.turn\.timing call=(\S+) (.*)")


def espeak(text: str, folder: Path) -> AudioChunk:
    path = folder / f"{hashlib.sha1(text.encode()).hexdigest()[:12]}.wav"
    if not path.exists():
        subprocess.run(["espeak-ng", "-w", str(path), text], check=True)
    return read_wav(path)


def voiced_frames(audio: AudioChunk) -> List[int]:
    """Indexes of the 20 ms frames the server's VAD calls speech, in the frames the
    phone sends (8 kHz mu-law), so they line up with PhoneCall.send_audio's send times."""
    phone = chunk_from_mulaw(chunk_to_mulaw(resample(audio, TELEPHONY_RATE)))
    size = 2 * TELEPHONY_RATE * FRAME_MS // 1000
    frames = [
        AudioChunk(phone.pcm[i : i + size], TELEPHONY_RATE)
        for i in range(0, len(phone.pcm) - size + 1, size)
    ]  # whole frames, as the VAD's
    vad = EnergyVad()
    return [i for i, frame in enumerate(frames) if vad.classify(frame).speech]


def parse_timings(log: str, calls: Sequence[str]) -> Dict[str, List[float]]:
    """The server's per-turn split (`voice.turn.timing` lines) for the given calls, in ms."""
    wanted = set(calls)
    split: Dict[str, List[float]] = {}
    for call_id, fields in TIMING.findall(log):
        if call_id in wanted:
            for name, value in re.findall(r"(\w+)=(-?\d+)ms", fields):
                split.setdefault(name, []).append(float(value))
    return split


def p50_p95(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.0f} / {percentile(list(values), 0.95):.0f} ms"


class Bench:
    def __init__(self, servers: Servers, scripts: Path, speech: Path, progress=print):
        self.servers = servers
        self.scripts = scripts
        self.speech = speech
        self.progress = progress

    def call(self, lines: Sequence[str], echo_marks: bool = True) -> PhoneCall:
        call = PhoneCall(self.servers.rasa_url, echo_marks=echo_marks)
        (self.scripts / f"{call.call_sid}.txt").write_text("\n".join(lines) + "\n")
        return call

    async def latency(self) -> Tuple[List[float], List[str]]:
        """End of the caller's speech (send time of the last voiced frame) to the first
        media frame back, per turn; and the call ids, for the server's own split."""
        latencies, call_ids = [], []
        for lines in CALLS:
            call = self.call(lines)
            call_ids.append(call.call_sid)
            async with call:
                await call.reply(quiet=1.0)  # the greeting
                for line in lines:
                    speech = espeak(line, self.speech)
                    sent = await call.send_audio(speech, realtime=True)
                    end_of_speech = sent[voiced_frames(speech)[-1]]
                    # After "thanks bye" Heard says goodbye and hangs up.
                    with contextlib.suppress(ConnectionClosed):
                        await call.send_audio(silence(1.0), realtime=True)
                    answer = await call.reply(quiet=1.0)
                    if answer.first_audio_at is not None:
                        latencies.append((answer.first_audio_at - end_of_speech) * 1000)
                    if call.closed.is_set():
                        break
            self.progress(f"  call {len(call_ids)}/{len(CALLS)}: {len(latencies)} turns so far")
        return latencies, call_ids

    async def barge_in(self, trials: int) -> List[float]:
        """The caller's first voiced frame while Heard speaks, to the `clear` message."""
        speech = espeak(BARGE_IN_LINE, self.speech)
        first_voiced = voiced_frames(speech)[0]
        results = []
        for _ in range(trials):
            call = self.call([BARGE_IN_LINE], echo_marks=False)  # playback takes real time
            async with call:
                while call.heard.first_audio_at is None and not call.closed.is_set():
                    await asyncio.sleep(0.01)
                await asyncio.sleep(0.5)  # into the greeting
                sent = await call.send_audio(speech, realtime=True)
                deadline = time.monotonic() + 2
                while not call.heard.clears and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)
                if call.heard.clears:
                    results.append((call.heard.clears[0] - sent[first_voiced]) * 1000)
        return results

    async def memory(self, calls: int) -> Tuple[float, float, float]:
        """Rasa server RSS (MB) before, with `calls` idle calls open, and after each has
        taken a turn (all still open)."""
        pid = self.servers.processes[1].pid
        before = rss_mb(pid)
        open_calls = [self.call([BARGE_IN_LINE]) for _ in range(calls)]
        for call in open_calls:
            await call.__aenter__()
        await asyncio.gather(*(c.reply(quiet=1.0) for c in open_calls))
        idle = rss_mb(pid)
        speech = espeak(BARGE_IN_LINE, self.speech)
        await asyncio.gather(*(c.say(speech, realtime=True) for c in open_calls))
        await asyncio.gather(*(c.reply(quiet=1.0) for c in open_calls))
        talking = rss_mb(pid)
        for call in open_calls:
            await call.hang_up()
        return before, idle, talking


def start_servers(folder: Path) -> Tuple[Servers, Path]:
    scripts = folder / "scripts"
    scripts.mkdir()
    servers = Servers.in_folder(
        ensure_trained(),
        folder,
        credentials=(
            "rest:\nvoice.channels.twilio.TwilioMediaStreamsInput:\n"
            f"  stt: scripted\n  scripted_dir: {scripts}\n  insecure_dev_mode: true\n"
            "  call:\n    trailing_silence: 0.6\n"
        ),
    )
    servers.start()
    servers.wait_until_ready()
    return servers, scripts


def conditions() -> str:
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} cores, load average {load[0]:.2f} / {load[1]:.2f} "
        f"(1 / 5 min) at the start"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--barge-in-trials", type=int, default=12)
    parser.add_argument("--memory-calls", type=int, default=10)
    parser.add_argument("--max-streams", type=int, default=16, help="Vosk streams at most")
    args = parser.parse_args()
    if not shutil.which("espeak-ng"):
        raise SystemExit("bench-voice needs espeak-ng (apt-get install espeak-ng)")

    started = time.perf_counter()
    rows: Dict[str, str] = {"conditions": conditions()}
    folder = Path(tempfile.mkdtemp(prefix="heard-bench-voice-"))
    try:
        rows.update(measure(folder, args, started))
    except BaseException:
        print(f"logs kept in {folder / 'log'}")
        raise
    shutil.rmtree(folder, ignore_errors=True)
    print_table(rows)


def measure(folder: Path, args: argparse.Namespace, started: float) -> Dict[str, str]:
    rows: Dict[str, str] = {}
    speech = folder / "speech"
    speech.mkdir()
    print("starting the servers (scripted recogniser stand-in, Twilio channel)...", flush=True)
    servers, scripts = start_servers(folder)
    try:
        bench = Bench(servers, scripts, speech, progress=lambda line: print(line, flush=True))
        print("response latency: calls with espeak-ng speech in real time...", flush=True)
        latencies, call_ids = asyncio.run(bench.latency())
        print("barge-in...", flush=True)
        barge = asyncio.run(bench.barge_in(args.barge_in_trials))
        print(f"memory: {args.memory_calls} concurrent calls...", flush=True)
        before, idle, talking = asyncio.run(bench.memory(args.memory_calls))
    finally:
        servers.stop()
    log = (folder / "log" / "rasa.log").read_text(errors="replace")

    split = parse_timings(log, call_ids)
    rows["response latency p50 / p95: end of speech -> first audio (target p50 <= 800)"] = (
        f"{p50_p95(latencies)} ({len(latencies)} turns, {len(CALLS)} calls, trailing_silence 0.6 s)"
    )
    names = {
        "end_of_turn_wait": "  end-of-turn wait (server, stream time)",
        "recognition": "  recognition finalisation (scripted stand-in)",
        "dialogue": "  Rasa turn (NLU + dialogue + actions)",
        "synthesis_to_first_audio": "  speech synthesis to first audio",
        "decision_to_first_audio": "end-of-turn decision -> first audio (target <= 300)",
    }
    for key, name in names.items():
        if split.get(key):
            rows[f"{name} p50 / p95"] = p50_p95(split[key])
    if split.get("end_of_turn_wait") and split.get("decision_to_first_audio"):
        server = [
            wait + decision
            for wait, decision in zip(split["end_of_turn_wait"], split["decision_to_first_audio"])
        ]
        rows["  transport and timer granularity (client total - server total), p50"] = (
            f"{statistics.median(latencies) - statistics.median(server):.0f} ms"
        )
    rows["barge-in: first voiced frame -> clear, p50 / p95 (target p50 <= 300)"] = (
        f"{p50_p95(barge)} ({len(barge)} of {args.barge_in_trials} trials)"
        if barge
        else f"no clear in {args.barge_in_trials} trials"
    )

    print("recogniser: the real Vosk decoder (Korean model)...", flush=True)
    utterances = [espeak(line, speech) for call in CALLS for line in call]
    stt_rows, stream_mb = voice_stt.measure(
        SHARED_AUDIO, utterances, args.max_streams, progress=lambda line: print(line, flush=True)
    )
    rows.update(stt_rows)
    n = args.memory_calls
    rows[f"Rasa server memory per call, idle / after a turn ({n} calls open)"] = (
        f"{(idle - before) * 1024 / n:.0f} / {(talking - before) * 1024 / n:.0f} KB "
        f"(server {before:.0f} -> {talking:.0f} MB)"
    )
    rows["memory per call with a Vosk stream (estimate)"] = (
        f"{(talking - before) / n + stream_mb:.1f} MB (+ the model once per process)"
    )
    rows["benchmark duration"] = f"{time.perf_counter() - started:.0f} s"
    return rows


if __name__ == "__main__":
    main()
