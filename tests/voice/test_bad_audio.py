"""Bad audio and bad clients on the Twilio websocket: the call ends cleanly or carries on,
the server keeps answering, and its threads and memory return to where they were."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import numpy as np
import pytest
import websockets

from tests.waiting import until
from voice.audio import AudioChunk
from voice.phone_emulator import silence

pytestmark = pytest.mark.slow


def server_status(voice_live) -> dict:
    pid = voice_live.live.servers.processes[-1].pid  # the Rasa server
    fields = dict(
        line.split(":", 1)
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if ":" in line
    )
    return {"threads": int(fields["Threads"]), "rss_mb": int(fields["VmRSS"].split()[0]) / 1024}


def still_answers(voice_live, speech) -> bool:
    call = voice_live.call("hello")

    async def talk():
        async with call:
            await call.reply()
            await call.say(speech("Hello"))
            return await call.reply()

    return asyncio.run(talk()).audio.duration > 0.5


def test_malformed_messages_are_skipped_and_the_call_carries_on(voice_live, speech):
    call = voice_live.call("hello")

    async def talk():
        async with call:
            await call.reply()
            for junk in (
                "{not json",
                "[1, 2]",
                '{"event": "media"}',
                '{"event": "dance"}',
                json.dumps(
                    {
                        "event": "media",
                        "streamSid": call.stream_sid,
                        "media": {"payload": "***not base64***"},
                    }
                ),
            ):
                await call._ws.send(junk)
            await call.say(speech("Hello"))
            return await call.reply()

    assert asyncio.run(talk()).audio.duration > 0.5
    assert voice_live.logged("voice.twilio.bad_message")


@pytest.mark.parametrize(
    "media_format, why",
    [
        ({"encoding": "audio/x-l16", "sampleRate": 8000, "channels": 1}, "unsupported encoding"),
        (
            {"encoding": "audio/x-mulaw", "sampleRate": 16000, "channels": 1},
            "unsupported sample rate",
        ),
    ],
)
def test_a_stream_in_another_codec_is_closed_with_the_reason(voice_live, media_format, why):
    async def connect():
        async with websockets.connect(f"{voice_live.ws_url}/webhooks/twilio_voice/stream") as ws:
            stream_sid = f"MZ{uuid.uuid4().hex}"
            await ws.send(
                json.dumps(
                    {
                        "event": "start",
                        "streamSid": stream_sid,
                        "start": {
                            "callSid": f"CA{uuid.uuid4().hex}",
                            "streamSid": stream_sid,
                            "mediaFormat": media_format,
                        },
                    }
                )
            )
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            return closed.value

    closed = asyncio.run(connect())
    assert closed.code == 1003 and why in closed.reason


def test_truncated_frames_and_silence_only_end_cleanly(voice_live):
    call = voice_live.call()

    async def talk():
        async with call:
            await call.reply()
            for size in (1, 7, 159, 161):  # frames cut anywhere, not 160 bytes
                await call._send(
                    {
                        "event": "media",
                        "streamSid": call.stream_sid,
                        "media": {"payload": "//" * (size // 2) + "/w==" * (size % 2)},
                    }
                )
            await call.send_audio(silence(2.0))
        return call.heard

    asyncio.run(talk())
    assert voice_live.logged(f"voice.call.ended call={call.call_sid} reason=caller_hung_up")


def test_ten_minutes_of_noise_never_becomes_a_conversation(voice_live):
    # If noise were taken for speech, the stand-in would "hear" this line.
    call = voice_live.call("this line must never be heard")
    noise = np.random.default_rng(7).normal(0, 2000, 8000 * 60).astype("<i2")

    async def talk():
        async with call:
            await call.reply()
            for _ in range(10):  # ten minutes of audio, sent faster than real time
                await call.send_audio(AudioChunk(noise.tobytes(), 8000))
            await asyncio.sleep(1.0)

    asyncio.run(talk())
    user = [e for e in voice_live.tracker(call.call_sid)["events"] if e["event"] == "user"]
    assert user == []


def test_a_caller_who_hangs_up_mid_reply_leaves_nothing_behind(voice_live, speech):
    assert still_answers(voice_live, speech)  # warm: the worker threads exist now
    before = server_status(voice_live)
    for _ in range(5):

        async def drop(call):
            async with call:
                await call.reply()
                await call.say(speech("What are your opening hours?"))
                await until(
                    lambda: call.heard.first_audio_at is not None, 60, "no answer audio came"
                )
                await call._ws.close()  # gone, mid-answer, without a stop message

        asyncio.run(drop(voice_live.call("what are your opening hours")))
    assert still_answers(voice_live, speech)
    after = server_status(voice_live)
    assert after["threads"] <= before["threads"] + 2, (before, after)
    assert after["rss_mb"] - before["rss_mb"] < 50, (before, after)
    assert voice_live.logged("reason=caller_hung_up", times=5)
