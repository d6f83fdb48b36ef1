"""The widget's call button protocol against the real servers: 16 kHz PCM in, PCM and JSON
events out, the call continuing the chat's conversation."""

from __future__ import annotations

import asyncio
import json
import urllib.request
import uuid

import pytest
import websockets

from voice.phone_emulator import silence

pytestmark = pytest.mark.slow


async def collect(ws, quiet: float = 0.8, timeout: float = 20.0):
    """Audio bytes and JSON events until nothing arrived for `quiet` seconds after audio."""
    audio, events = bytearray(), []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        try:
            message = await asyncio.wait_for(ws.recv(), quiet)
        except asyncio.TimeoutError:
            if audio:
                break
            continue
        except websockets.ConnectionClosed:
            break
        if isinstance(message, bytes):
            audio += message
        else:
            events.append(json.loads(message))
    return bytes(audio), events


async def stream(ws, chunk):
    for i in range(0, len(chunk.pcm), 640):  # 20 ms at 16 kHz
        await ws.send(chunk.pcm[i : i + 640])


def test_a_browser_call_continues_the_chat_session(voice_live, speech):
    session_id = f"widget-{uuid.uuid4().hex[:12]}"
    voice_live.script(session_id, "where is my order")
    url = f"{voice_live.ws_url}/webhooks/browser_voice/stream"

    async def talk():
        async with websockets.connect(url, max_size=None) as ws:
            await ws.send(
                json.dumps({"event": "start", "session_id": session_id, "sample_rate": 16000})
            )
            greeting, greeting_events = await collect(ws)
            await stream(ws, speech("Where is my order?", 16000))
            await stream(ws, silence(1.0, 16000))
            answer, events = await collect(ws)
            await ws.send(json.dumps({"event": "stop"}))
            return greeting, greeting_events, answer, events

    greeting, greeting_events, answer, events = asyncio.run(talk())
    assert len(greeting) > 16000 * 2 and len(answer) > 16000 * 2  # over a second each
    assert {"event": "bot", "text": greeting_events[0]["text"]} in greeting_events
    assert {"event": "transcript", "text": "where is my order"} in events
    states = [e["state"] for e in events if e["event"] == "state"]
    assert states[:2] == ["listening", "thinking"] and "speaking" in states
    bot = [e["text"] for e in events if e["event"] == "bot"]
    assert any("order number" in t for t in bot)
    assert voice_live.bot_texts(session_id)[-1] == bot[-1]


def test_status_says_whether_calls_are_possible(voice_live):
    with urllib.request.urlopen(
        f"{voice_live.live.servers.rasa_url}/webhooks/browser_voice/status", timeout=10
    ) as response:
        assert json.load(response) == {"available": True, "reason": ""}


@pytest.mark.parametrize(
    "first, message",
    [
        (b"\x00\x01" * 100, "must be a JSON start message"),
        ("{not json", "not valid JSON"),
        (
            json.dumps({"event": "start", "session_id": "../../etc", "sample_rate": 16000}),
            "session_id must be",
        ),
        (
            json.dumps({"event": "start", "session_id": "abcdefgh1", "sample_rate": 44100}),
            "must be 16000 Hz",
        ),
    ],
)
def test_a_bad_start_is_refused_with_a_reason(voice_live, first, message):
    url = f"{voice_live.ws_url}/webhooks/browser_voice/stream"

    async def start():
        async with websockets.connect(url) as ws:
            await ws.send(first)
            reply = json.loads(await ws.recv())
            with pytest.raises(websockets.ConnectionClosed):
                await ws.recv()
            return reply

    reply = asyncio.run(start())
    assert reply["event"] == "error" and message in reply["message"]
