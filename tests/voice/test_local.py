"""`python -m voice.local`: file mode against the real servers (scripted stand-in for
recognition), and the pieces of call mode that need no audio device."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid

import pytest

from bot.servers import free_port
from tests.harness import ROOT
from tests.waiting import until
from voice import local
from voice.audio import AudioChunk, dbfs, read_wav, resample, write_wav
from voice.local import (
    FRAME_BYTES,
    Listener,
    LocalCallError,
    SoxPlayer,
    TurnAudio,
    describe,
    frames,
    load_input,
    open_microphone,
    run_call,
    stream_url,
)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "voice.local", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )


# --- against the real servers -----------------------------------------------------------
@pytest.mark.slow
def test_file_mode_holds_a_conversation_and_writes_each_answer(voice_live, speech, tmp_path):
    session_id = f"local-{uuid.uuid4().hex[:12]}"
    voice_live.script(session_id, "where is my order", "two three four five six seven eight")
    inputs = []
    for i, text in enumerate(["Where is my order?", "two three four five six seven eight"]):
        path = tmp_path / f"in-{i}.wav"
        write_wav(path, speech(text, 22050))  # any rate: the client resamples to 16 kHz
        inputs.append(str(path))
    out = tmp_path / "out"

    result = run_cli(
        "file", *inputs, "--out", str(out), "--url", voice_live.ws_url, "--session-id", session_id
    )

    assert result.returncode == 0, result.stderr
    for turn in range(3):  # the greeting, then one answer per input file
        audio = read_wav(out / f"turn-{turn:02d}.wav")
        assert audio.sample_rate == 16000
        assert 1.0 < audio.duration < 60, f"turn {turn}: {audio.duration:.1f} s"
        assert dbfs(audio) > -40, f"turn {turn} is silent"
    transcript = (out / "transcript.txt").read_text().splitlines()
    assert "caller: where is my order" in transcript
    assert "caller: 2345678" in transcript
    assert sum(line.startswith("heard: ") for line in transcript) >= 3
    said = [e["text"] for e in voice_live.tracker(session_id)["events"] if e["event"] == "user"]
    assert said == ["where is my order", "2345678"]
    assert any("2345678" in t for t in voice_live.bot_texts(session_id))  # read back


@pytest.mark.slow
def test_file_mode_reports_the_servers_refusal(voice_live, speech, tmp_path):
    path = tmp_path / "in.wav"
    write_wav(path, speech("hello"))
    result = run_cli(
        "file",
        str(path),
        "--out",
        str(tmp_path / "out"),
        "--url",
        voice_live.ws_url,
        "--session-id",
        "no spaces allowed",
    )
    assert result.returncode == 1
    assert "Heard refused the call" in result.stderr and "session_id" in result.stderr


# Stands in for `sox -d` recording: 16 kHz PCM16 on stdout at a microphone's pace; quiet
# while the greeting plays, then the caller's words, then quiet.
PACED_MICROPHONE = """
import sys, time
audio = bytes(32000 * 6) + open(sys.argv[1], "rb").read() + bytes(32000 * 60)
start = time.monotonic()
for i in range(0, len(audio), 640):
    time.sleep(max(0.0, start + i / 32000 - time.monotonic()))
    sys.stdout.buffer.write(audio[i:i + 640])
    sys.stdout.buffer.flush()
"""


@pytest.mark.slow
def test_call_mode_talks_through_microphone_and_speaker_and_ctrl_c_hangs_up(
    voice_live, speech, tmp_path
):
    session_id = f"local-{uuid.uuid4().hex[:12]}"
    voice_live.script(session_id, "what are your opening hours")
    words = tmp_path / "caller.raw"
    words.write_bytes(resample(speech("What are your opening hours?"), 16000).pcm)
    played = tmp_path / "played.raw"
    lines = []

    async def ctrl_c_once_answered():
        await until(
            lambda: any(line.startswith("caller:") for line in lines) and "speaking" in lines[-1],
            60,
            "the caller's words and Heard's answer were not shown",
        )
        os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C does; run_call catches it

    async def scenario():
        microphone = await open_microphone([sys.executable, "-c", PACED_MICROPHONE, str(words)])
        speaker = SoxPlayer(["sh", "-c", f"cat >> {played}"])  # stands in for `sox ... -d`
        pressing = asyncio.create_task(ctrl_c_once_answered())
        await asyncio.wait_for(
            run_call(voice_live.ws_url, session_id, speaker, microphone, lines.append), 60
        )
        assert pressing.done()

    asyncio.run(scenario())
    assert "caller: what are your opening hours" in lines
    assert lines[-1].endswith("(call ended)")
    audio = AudioChunk(played.read_bytes(), 16000)
    assert audio.duration > 1.0 and dbfs(audio) > -40
    said = [e["text"] for e in voice_live.tracker(session_id)["events"] if e["event"] == "user"]
    assert said == ["what are your opening hours"]
    assert voice_live.logged(f"call={session_id} reason=caller_hung_up")


def test_a_refused_connection_exits_1_with_a_clear_message(tmp_path, speech):
    path = tmp_path / "in.wav"
    write_wav(path, speech("hello"))
    url = f"ws://127.0.0.1:{free_port()}"  # nothing listens there
    result = run_cli("file", str(path), "--out", str(tmp_path / "out"), "--url", url)
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"voice.local: could not connect to {url}/webhooks/browser_voice/stream"
    )
    assert "Traceback" not in result.stderr


def test_an_unreadable_input_file_is_named(tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    result = run_cli("file", str(bad), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert str(bad) in result.stderr and "Traceback" not in result.stderr


# --- pure helpers -------------------------------------------------------------------------
def test_stream_url_accepts_the_server_or_the_stream_address():
    assert stream_url("ws://localhost:5005") == "ws://localhost:5005/webhooks/browser_voice/stream"
    assert stream_url("ws://h:1/") == "ws://h:1/webhooks/browser_voice/stream"
    assert (
        stream_url("ws://h:1/webhooks/browser_voice/stream")
        == "ws://h:1/webhooks/browser_voice/stream"
    )


def test_events_read_as_a_log():
    assert describe({"event": "transcript", "text": "hi"}) == "caller: hi"
    assert describe({"event": "bot", "text": "Hello!"}) == "heard:  Hello!"
    assert "listening" in describe({"event": "state", "state": "listening"})
    assert "goodbye" in describe({"event": "hangup", "reason": "goodbye"})
    assert describe({"event": "error", "message": "voice is off"}) == "error: voice is off"
    assert "playback stopped" in describe({"event": "clear"})
    assert describe({"event": "something new"}) is None
    assert "unreadable" in describe(local.parse_event("{nope"))


def test_frames_are_20_ms_and_the_last_is_padded():
    pcm = b"\x01\x00" * (FRAME_BYTES // 2 + 10)
    out = frames(pcm)
    assert [len(f) for f in out] == [FRAME_BYTES, FRAME_BYTES]
    assert out[1] == b"\x01\x00" * 10 + b"\x00" * (FRAME_BYTES - 20)


def test_inputs_of_any_rate_become_16_khz(tmp_path):
    path = tmp_path / "tone.wav"
    write_wav(path, AudioChunk(b"\x10\x00" * 8000, 8000))
    audio = load_input(path)
    assert audio.sample_rate == 16000 and abs(audio.duration - 1.0) < 0.01
    with pytest.raises(LocalCallError, match="missing.wav"):
        load_input(tmp_path / "missing.wav")


def test_turn_audio_knows_how_long_playback_still_takes():
    audio = TurnAudio()
    assert audio.playing_for(0.0) == 0.0
    audio.write(b"\x00\x00" * 16000)  # one second
    assert audio.playing_for(audio.first_at + 0.25) == pytest.approx(0.75)
    assert audio.take().duration == 1.0 and audio.playing_for(0.0) == 0.0


# --- call mode, without an audio device ------------------------------------------------------
class FakePlayer:
    def __init__(self):
        self.calls = []

    def write(self, pcm):
        self.calls.append(("write", len(pcm)))

    def clear(self):
        self.calls.append(("clear",))


def test_listener_plays_audio_stops_on_clear_and_logs_the_conversation():
    player, logged = FakePlayer(), []
    listener = Listener(player, logged.append)
    for raw in [
        json.dumps({"event": "bot", "text": "Hi, this is Heard."}),
        b"\x00" * 640,
        json.dumps({"event": "state", "state": "speaking"}),
        json.dumps({"event": "clear"}),
        json.dumps({"event": "transcript", "text": "where is my order"}),
        json.dumps({"event": "hangup", "reason": "goodbye"}),
    ]:
        listener.handle(raw)
    assert player.calls == [("write", 640), ("clear",)]
    assert listener.lines == ["heard:  Hi, this is Heard.", "caller: where is my order"]
    assert listener.spoken == 1 and listener.hangup == "goodbye" and listener.over
    assert any("playback stopped" in line for line in logged)


def test_listener_remembers_an_error():
    listener = Listener(FakePlayer(), lambda line: None)
    listener.handle(json.dumps({"event": "error", "message": "voice is off: no model"}))
    assert listener.over and listener.error == "voice is off: no model"


async def started(player: SoxPlayer, not_this=None, timeout: float = 10.0):
    """The player's playback process, once it has started one (other than `not_this`)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while player.process is None or player.process is not_this:
        assert asyncio.get_running_loop().time() < deadline, "playback did not start"
        await asyncio.sleep(0.02)
    return player.process


def test_sox_player_clear_kills_playback_and_the_next_audio_starts_afresh():
    async def scenario():
        player = SoxPlayer(["sh", "-c", "cat > /dev/null"])  # stands in for sox writing to -d
        feeder = asyncio.create_task(player.run())
        player.write(b"\x00" * 640)
        first = await started(player)
        assert first.returncode is None
        player.write(b"\x00" * 640)
        player.clear()
        assert player._queue.empty()
        await asyncio.wait_for(first.wait(), 5)  # killed, not left to finish its buffer
        player.write(b"\x00" * 640)
        second = await started(player, not_this=first)
        assert second.returncode is None
        feeder.cancel()
        await player.close()

    asyncio.run(scenario())


def test_a_missing_audio_device_is_one_clear_line():
    failing = [
        "sh",
        "-c",
        "echo 'ALSA lib pcm.c: Unknown PCM default' >&2; "
        "echo 'sox FAIL sox: Sorry, there is no default audio device configured' >&2; "
        "exit 2",
    ]
    with pytest.raises(LocalCallError, match="no audio input: .*no default audio device"):
        asyncio.run(open_microphone(failing))

    async def no_output():
        await SoxPlayer(failing).check(settle=0.3)

    with pytest.raises(LocalCallError, match="no audio output: .*no default audio device"):
        asyncio.run(no_output())


def test_call_without_sox_says_so(monkeypatch):
    monkeypatch.setattr(local.shutil, "which", lambda name: None)
    with pytest.raises(LocalCallError, match="sox is not installed"):
        asyncio.run(local.call("ws://localhost:1", "local-test-1"))
