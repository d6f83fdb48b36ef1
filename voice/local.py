"""Talk to Heard from this machine, over the browser-audio websocket (its protocol is the
docstring of voice/channels/browser.py).

    python -m voice.local call [--url ws://localhost:5005]
        the microphone to Heard, Heard to the speaker (sox), a readable log; Ctrl-C hangs up
    python -m voice.local file IN1.wav [IN2.wav ...] --out DIR [--url ...] [--session-id ID]
        one caller turn per file; Heard's answers go to DIR/turn-00.wav (the greeting),
        turn-01.wav, ... and the caller/Heard lines to DIR/transcript.txt

Exit code 0 when the call ran, 1 with a one-line message when it could not.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import sys
import time
import uuid
import wave
from collections import deque
from pathlib import Path
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence, Union

from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.legacy.client import WebSocketClientProtocol
from websockets.legacy.client import connect as open_websocket

from voice.audio import BROWSER_RATE, AudioChunk, read_wav, resample, write_wav

DEFAULT_URL = "ws://localhost:5005"
STREAM_PATH = "/webhooks/browser_voice/stream"
FRAME_SECONDS = 0.02
FRAME_BYTES = 2 * int(BROWSER_RATE * FRAME_SECONDS)  # 20 ms of 16 kHz PCM16
RAW = ["-t", "raw", "-r", str(BROWSER_RATE), "-e", "signed-integer", "-b", "16", "-c", "1"]
# sox's default 8 KB buffer would hold back 256 ms of microphone audio (late barge-in).
RECORD_COMMAND = ["sox", "-q", "--buffer", str(2 * FRAME_BYTES), "-d", *RAW, "-"]
PLAY_COMMAND = ["sox", "-q", *RAW, "-", "-d"]


class LocalCallError(Exception):
    """What went wrong, in one line for the person at the keyboard."""


# --- pure helpers ---------------------------------------------------------------------
def stream_url(url: str) -> str:
    """The server's address, or the full stream address, to the stream address."""
    url = url.rstrip("/")
    return url if url.endswith(STREAM_PATH) else url + STREAM_PATH


def new_session_id() -> str:
    return f"local-{uuid.uuid4().hex[:12]}"


def start_message(session_id: str) -> str:
    return json.dumps({"event": "start", "session_id": session_id, "sample_rate": BROWSER_RATE})


def parse_event(raw: str) -> Dict[str, Any]:
    try:
        event = json.loads(raw)
    except ValueError:
        return {"event": "unreadable", "text": raw[:80]}
    return event if isinstance(event, dict) else {"event": "unreadable", "text": raw[:80]}


def describe(event: Dict[str, Any]) -> Optional[str]:
    """A log line for a server event; None for events not worth a line."""
    kind = event.get("event")
    if kind == "transcript":
        return f"caller: {event.get('text', '')}"
    if kind == "bot":
        return f"heard:  {event.get('text', '')}"
    if kind == "state":
        return f"        ({event.get('state', '?')})"
    if kind == "clear":
        return "        (caller spoke over Heard: playback stopped)"
    if kind == "hangup":
        return f"        (Heard hung up: {event.get('reason', '')})"
    if kind == "error":
        return f"error: {event.get('message', '')}"
    if kind == "unreadable":
        return f"        (unreadable message from Heard: {event.get('text', '')!r})"
    return None


def frames(pcm: bytes, size: int = FRAME_BYTES) -> List[bytes]:
    """Fixed-size frames; the last one is padded with silence."""
    return [pcm[i : i + size].ljust(size, b"\x00") for i in range(0, len(pcm), size)]


def load_input(path: Union[str, Path]) -> AudioChunk:
    """A caller turn from a 16-bit WAV file of any rate, as 16 kHz mono."""
    try:
        return resample(read_wav(path), BROWSER_RATE)
    except (OSError, EOFError, ValueError, wave.Error) as exc:
        raise LocalCallError(f"{path}: {exc}") from None


def turn_file(out: Path, turn: int) -> Path:
    return out / f"turn-{turn:02d}.wav"


# --- what comes back from Heard ---------------------------------------------------------
class Listener:
    """Heard's side of the call: audio to `player`, events to `log`. Remembers the caller
    and Heard lines, how the call ended, and when Heard last sent something."""

    def __init__(self, player: Any, log: Callable[[str], None] = print):
        self.player = player  # write(pcm), clear()
        self.log = log
        self.lines: List[str] = []
        self.hangup: Optional[str] = None
        self.error: Optional[str] = None
        self.spoken = 0  # 'speaking' states: Heard finished sending one answer's audio
        self.last_message_at = time.monotonic()

    def handle(self, raw: Union[str, bytes]) -> None:
        self.last_message_at = time.monotonic()
        if isinstance(raw, bytes):
            self.player.write(raw)
            return
        event = parse_event(raw)
        line = describe(event)
        if line:
            self.log(line)
        kind = event.get("event")
        if kind in ("transcript", "bot") and line:
            self.lines.append(line)
        elif kind == "state" and event.get("state") == "speaking":
            self.spoken += 1
        elif kind == "clear":
            self.player.clear()
        elif kind == "hangup":
            self.hangup = str(event.get("reason", ""))
        elif kind == "error":
            self.error = str(event.get("message", ""))

    @property
    def over(self) -> bool:
        return self.hangup is not None or self.error is not None


async def connect(url: str) -> WebSocketClientProtocol:
    try:
        return await open_websocket(stream_url(url), max_size=None, open_timeout=10)
    except (OSError, asyncio.TimeoutError, WebSocketException) as exc:
        raise LocalCallError(
            f"could not connect to {stream_url(url)}: {exc or type(exc).__name__}"
            " (is Heard running with the browser_voice channel?)"
        ) from None


async def read_all(ws: Any, listener: Listener) -> None:
    try:
        async for raw in ws:
            listener.handle(raw)
    except ConnectionClosed:
        pass


async def hang_up(ws: Any) -> None:
    try:
        await ws.send(json.dumps({"event": "stop"}))
        await ws.close()
    except ConnectionClosed:
        pass


# --- file mode ----------------------------------------------------------------------------
class TurnAudio:
    """The player of file mode: keeps each turn's audio and when it started arriving."""

    def __init__(self) -> None:
        self.pcm = bytearray()
        self.first_at: Optional[float] = None

    def write(self, pcm: bytes) -> None:
        self.first_at = self.first_at or time.monotonic()
        self.pcm += pcm

    def clear(self) -> None:
        pass  # the file keeps the whole answer; the log shows the interruption

    def take(self) -> AudioChunk:
        audio = AudioChunk(bytes(self.pcm[: len(self.pcm) // 2 * 2]), BROWSER_RATE)
        self.pcm, self.first_at = bytearray(), None
        return audio

    def playing_for(self, now: float) -> float:
        """Seconds until a speaker would have played everything received so far."""
        if self.first_at is None:
            return 0.0
        return max(0.0, self.first_at + len(self.pcm) / 2 / BROWSER_RATE - now)


class Microphone:
    """Sends 20 ms frames in real time, like a microphone: queued speech, else silence."""

    def __init__(self, ws: Any):
        self.ws = ws
        self._pending: Deque[bytes] = deque()
        self.drained = asyncio.Event()
        self.drained.set()

    def say(self, audio: AudioChunk) -> None:
        self._pending.extend(frames(audio.pcm))
        self.drained.clear()

    async def run(self) -> None:
        silence = b"\x00" * FRAME_BYTES
        start, sent = time.monotonic(), 0
        try:
            while True:
                await asyncio.sleep(max(0.0, start + sent * FRAME_SECONDS - time.monotonic()))
                await self.ws.send(self._pending.popleft() if self._pending else silence)
                sent += 1
                if not self._pending:
                    self.drained.set()
        finally:
            self.drained.set()  # a closed connection must not leave the caller waiting


async def wait_for_answer(
    listener: Listener, reader: asyncio.Task, spoken_before: int, quiet: float, timeout: float
) -> None:
    """Until Heard has sent a whole answer (a 'speaking' state, then `quiet` seconds of
    nothing), hung up or reported an error."""
    deadline = time.monotonic() + timeout
    while not listener.over:
        now = time.monotonic()
        if listener.spoken > spoken_before and now - listener.last_message_at >= quiet:
            return
        if reader.done():
            raise LocalCallError("Heard closed the connection")
        if now > deadline:
            raise LocalCallError(f"no answer from Heard within {timeout:.0f} s")
        await asyncio.sleep(0.05)


async def run_files(
    url: str,
    inputs: Sequence[AudioChunk],
    out: Path,
    session_id: str,
    log: Callable[[str], None] = print,
    quiet: float = 0.5,
    timeout: float = 30.0,
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    audio = TurnAudio()
    listener = Listener(audio, log)
    ws = await connect(url)
    await ws.send(start_message(session_id))
    reader = asyncio.create_task(read_all(ws, listener))
    microphone = Microphone(ws)
    sender = asyncio.create_task(microphone.run())
    try:
        for turn in range(len(inputs) + 1):
            if turn:
                if listener.over:
                    log(f"        ({len(inputs) - turn + 1} input file(s) not used)")
                    break
                microphone.say(inputs[turn - 1])
                await microphone.drained.wait()
            await wait_for_answer(listener, reader, listener.spoken, quiet, timeout)
            if listener.error is not None:
                raise LocalCallError(f"Heard refused the call: {listener.error}")
            if listener.over and not audio.pcm:
                break
            # A caller listens to the whole answer before speaking again (or it's a barge-in).
            await asyncio.sleep(audio.playing_for(time.monotonic()))
            chunk = audio.take()
            write_wav(turn_file(out, turn), chunk)
            log(f"        wrote {turn_file(out, turn)} ({chunk.duration:.1f} s)")
    finally:
        sender.cancel()
        await hang_up(ws)
        await asyncio.gather(reader, sender, return_exceptions=True)
        (out / "transcript.txt").write_text("".join(f"{line}\n" for line in listener.lines))


# --- call mode ------------------------------------------------------------------------------
def kill(process: asyncio.subprocess.Process) -> None:
    if process.stdin is not None:
        process.stdin.close()  # else the pipe is closed at garbage collection, loop or not
    if process.returncode is None:
        process.kill()


async def stop_process(process: asyncio.subprocess.Process) -> bytes:
    """Kills and reaps a sox process, reading its pipes to the end (asyncio closes a
    subprocess transport only then); returns what it wrote to stderr."""
    kill(process)
    outputs = await asyncio.gather(
        *(pipe.read() for pipe in (process.stdout, process.stderr) if pipe is not None)
    )
    await process.wait()
    return outputs[-1] if process.stderr is not None else b""


def last_line(stderr: bytes) -> str:
    lines = [line for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    failures = [line for line in lines if "FAIL" in line]
    return (failures or lines or ["no message"])[-1].strip()


class SoxPlayer:
    """Heard's audio to the speaker through a sox process; clear() kills it at once (what
    it had buffered is dropped) and the next audio starts a fresh one."""

    def __init__(self, command: Sequence[str] = PLAY_COMMAND):
        self.command = list(command)
        self.process: Optional[asyncio.subprocess.Process] = None
        self._killed: List[asyncio.subprocess.Process] = []  # reaped by run() and close()
        self._queue: "asyncio.Queue[bytes]" = asyncio.Queue()

    async def open(self) -> asyncio.subprocess.Process:
        self.process = await asyncio.create_subprocess_exec(
            *self.command, stdin=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        return self.process

    async def check(self, settle: float = 0.3) -> None:
        """Raises LocalCallError when the output device can't be opened."""
        process = await self.open()
        await asyncio.sleep(settle)
        if process.returncode is not None:
            why = last_line(await stop_process(process))
            raise LocalCallError(f"no audio output: sox exited ({why})")

    def write(self, pcm: bytes) -> None:
        self._queue.put_nowait(pcm)  # never blocks the websocket reader

    def clear(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()
        if self.process is not None:
            kill(self.process)
            self._killed.append(self.process)
        self.process = None

    async def run(self) -> None:
        """Feeds the queue to sox; a clear() mid-write just loses that write."""
        while True:
            pcm = await self._queue.get()
            while self._killed:
                await stop_process(self._killed.pop())
            process = self.process
            if process is None or process.returncode is not None:
                process = await self.open()
            assert process.stdin is not None  # opened with stdin=PIPE
            try:
                process.stdin.write(pcm)
                await process.stdin.drain()
            except (BrokenPipeError, ConnectionResetError):
                pass

    async def close(self) -> None:
        for process in [*self._killed, *([self.process] if self.process else [])]:
            await stop_process(process)
        self._killed, self.process = [], None


async def open_microphone(command: Sequence[str] = RECORD_COMMAND) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None  # opened with stdout=PIPE
    try:
        first = await asyncio.wait_for(process.stdout.read(FRAME_BYTES), 5)
    except asyncio.TimeoutError:
        first = b""
    if not first:
        why = last_line(await stop_process(process))
        raise LocalCallError(f"no audio input: sox could not record ({why})")
    return process


async def send_microphone(ws: Any, process: asyncio.subprocess.Process) -> None:
    assert process.stdout is not None  # open_microphone's, with stdout=PIPE
    while True:
        pcm = await process.stdout.read(FRAME_BYTES)
        if not pcm:
            raise LocalCallError("the microphone stopped (sox exited)")
        await ws.send(pcm)


async def run_call(
    url: str,
    session_id: str,
    player: SoxPlayer,
    microphone: asyncio.subprocess.Process,
    log: Callable[[str], None] = print,
) -> None:
    listener = Listener(player, log)
    ws = await connect(url)
    await ws.send(start_message(session_id))
    log(f"        (connected as {session_id}; Ctrl-C hangs up)")
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
    tasks = [
        asyncio.create_task(read_all(ws, listener)),
        asyncio.create_task(send_microphone(ws, microphone)),
        asyncio.create_task(player.run()),
    ]
    stopped = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait([stopped, *tasks[:2]], return_when=asyncio.FIRST_COMPLETED)
        for task in done - {stopped}:
            task.result()  # a dead microphone raises here
        if listener.error is not None:
            raise LocalCallError(f"Heard refused the call: {listener.error}")
        if listener.hangup is None and not stopped.done():
            raise LocalCallError("Heard closed the connection")
    finally:
        asyncio.get_running_loop().remove_signal_handler(signal.SIGINT)
        await hang_up(ws)
        for task in [stopped, *tasks]:
            task.cancel()
        await asyncio.gather(stopped, *tasks, return_exceptions=True)
        await stop_process(microphone)
        await player.close()
    log("        (call ended)")


async def call(url: str, session_id: str) -> None:
    if not shutil.which("sox"):
        raise LocalCallError(
            "sox is not installed; `voice.local call` needs it for the "
            "microphone and speaker (apt-get install sox)"
        )
    player = SoxPlayer()
    await player.check()
    try:
        microphone = await open_microphone()
    except LocalCallError:
        await player.close()
        raise
    await run_call(url, session_id, player, microphone)


# --- command line ---------------------------------------------------------------------------
def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m voice.local",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    modes = parser.add_subparsers(dest="mode", required=True)
    for mode in ("call", "file"):
        sub = modes.add_parser(mode)
        sub.add_argument(
            "--url", default=DEFAULT_URL, help=f"Heard's server (default {DEFAULT_URL})"
        )
        sub.add_argument(
            "--session-id",
            default=None,
            help="the conversation to continue (8-64 letters, digits, - or _)",
        )
    file_mode = modes.choices["file"]
    file_mode.add_argument("inputs", nargs="+", type=Path, help="WAV files, one per caller turn")
    file_mode.add_argument("--out", required=True, type=Path, help="folder for Heard's answers")
    file_mode.add_argument(
        "--timeout", type=float, default=30.0, help="seconds to wait for each answer (default 30)"
    )
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    session_id = args.session_id or new_session_id()
    try:
        if args.mode == "call":
            asyncio.run(call(args.url, session_id))
        else:
            inputs = [load_input(path) for path in args.inputs]
            asyncio.run(run_files(args.url, inputs, args.out, session_id, timeout=args.timeout))
    except LocalCallError as exc:
        print(f"voice.local: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # file mode; call mode hangs up on Ctrl-C itself
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
