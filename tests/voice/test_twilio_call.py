"""Calls over Twilio's Media Streams protocol against the real servers: the simulated
line POSTs /incoming signed like Twilio, then streams mu-law audio (espeak-ng speech and
recordings from ../shared/audio) to the websocket the TwiML names; the scripted stand-in
replaces English recognition, everything else is the product."""

from __future__ import annotations

import asyncio
import uuid
import xml.etree.ElementTree as ET

import pytest

from tests.voice.twiml import verbs
from tests.waiting import until
from voice.audio import read_wav, resample
from voice.phone_emulator import silence

pytestmark = pytest.mark.slow


def test_incoming_call_is_answered_with_a_stream_and_an_action(voice_live):
    twiml = voice_live.twilio_post(
        "/incoming", {"CallSid": f"CA{uuid.uuid4().hex}", "From": "+15550123"}
    )
    assert [verb for verb, _ in verbs(twiml)] == ["Connect"]
    connect = ET.fromstring(twiml).find("Connect")
    server = voice_live.live.servers.rasa_url
    assert connect.get("action") == f"{server}/webhooks/twilio_voice/after"
    stream = connect.find("Stream")
    assert stream.get("url") == f"{voice_live.ws_url}/webhooks/twilio_voice/stream"
    parameters = {p.get("name"): p.get("value") for p in stream.findall("Parameter")}
    assert set(parameters) == {"caller", "token"} and parameters["caller"] == "+15550123"
    assert parameters["token"]


def test_a_call_goes_from_greeting_to_a_resolved_order_question(voice_live, speech):
    call = voice_live.call(
        "where is my order",
        "two three four five six seven eight",
        "jane dot doe at example dot com",
    )

    async def talk():
        async with call:
            greeting = await call.reply()
            answers = []
            for text in (
                "Where is my order?",
                "two three four five six seven eight",
                "jane dot doe at example dot com",
            ):
                await call.say(speech(text))
                answers.append(await call.reply())
            return greeting, answers

    greeting, answers = asyncio.run(talk())
    assert greeting.audio.duration > 1.0 and greeting.marks
    assert all(a.audio.duration > 1.0 and a.marks for a in answers)
    events = voice_live.tracker(call.call_sid)["events"]
    said = [e["text"] for e in events if e["event"] == "user"]
    assert said == ["where is my order", "2345678", "jane.doe@example.com"]
    assert all(e.get("input_channel") == "voice" for e in events if e["event"] == "user")
    spoken_turn = [e for e in events if e["event"] == "user"][0]
    assert 0.0 <= spoken_turn["metadata"]["voice"]["arousal"] <= 1.0  # how it was said
    assert spoken_turn["parse_data"]["emotion"]["name"]
    bot = voice_live.bot_texts(call.call_sid)
    assert any("keypad" in t for t in bot)  # the voice variant of the order question
    assert "That's order 2345678." in bot  # read back for confirmation
    assert any("shipped" in t.lower() for t in bot)


def test_keypad_digits_give_the_order_number(voice_live, speech):
    call = voice_live.call("where is my order")

    async def talk():
        async with call:
            await call.reply()
            await call.say(speech("Where is my order?"))
            await call.reply()
            await call.press("3456789#")
            return await call.reply()

    answer = asyncio.run(talk())
    assert answer.audio.duration > 1.0
    user = [e for e in voice_live.tracker(call.call_sid)["events"] if e["event"] == "user"]
    assert user[-1]["text"] == "3456789"
    assert user[-1]["metadata"]["dtmf"] is True
    assert "That's order 3456789." in voice_live.bot_texts(call.call_sid)


def test_speaking_over_heard_clears_its_audio_and_is_answered(voice_live, speech):
    call = voice_live.call("what are your opening hours")
    call.echo_marks = False  # playback takes real time, as on a phone

    async def talk():
        async with call:
            await until(lambda: call.heard.first_audio_at is not None, 60, "no greeting audio came")
            await asyncio.sleep(0.5)  # mid-greeting
            await call.say(speech("What are your opening hours?"), realtime=True)
            return await call.reply(quiet=1.0)

    answer = asyncio.run(talk())
    assert answer.clears, "no clear message after the caller spoke over Heard"
    assert any(
        "8 am" in t or "8:00" in t or "opening" in t.lower() or "Monday" in t
        for t in voice_live.bot_texts(call.call_sid)
    )


def test_handoff_on_the_phone_transfers_the_call(voice_live, speech):
    call = voice_live.call("I want to talk to a human")

    async def talk():
        async with call:
            await call.reply()
            await call.say(speech("I want to talk to a human"))
            heard = await call.reply()
            await asyncio.wait_for(call.closed.wait(), 10)
            return heard

    heard = asyncio.run(talk())
    assert heard.audio.duration > 1.0
    assert any("putting you through" in t for t in voice_live.bot_texts(call.call_sid))
    handoff = voice_live.live.repo.waiting_handoff(call.call_sid)
    assert handoff is not None and handoff.channel == "voice"
    after = voice_live.twilio_post("/after", {"CallSid": call.call_sid})
    assert verbs(after) == [("Dial", "+15550199")]
    # Asked again (or for another call) it hangs up: the transfer is used once.
    again = voice_live.twilio_post("/after", {"CallSid": call.call_sid})
    assert verbs(again) == [("Hangup", "")]


def test_silence_gets_a_reprompt_then_a_goodbye_and_the_call_ends(voice_live):
    call = voice_live.call()

    async def wait():
        async with call:
            greeting = await call.reply()
            reprompt = await call.reply(timeout=8)
            await asyncio.wait_for(call.closed.wait(), 15)
            return greeting, reprompt

    greeting, reprompt = asyncio.run(wait())
    assert reprompt.audio.duration > 0.5
    assert voice_live.logged("reason=silence")


def test_goodbye_ends_the_call(voice_live, speech):
    call = voice_live.call("goodbye")

    async def talk():
        async with call:
            await call.reply()
            await call.say(speech("Goodbye"))
            await asyncio.wait_for(call.closed.wait(), 15)

    asyncio.run(talk())
    assert voice_live.logged(f"call={call.call_sid} reason=goodbye")


def test_recorded_digits_from_real_speakers_reach_the_dialogue(voice_live, shared_audio):
    """Real human speech (FSDD, 8 kHz): the turn is detected and handed to the dialogue."""
    call = voice_live.call("hello")
    clip = resample(read_wav(next((shared_audio / "fsdd").glob("7_*_0.wav"))), 8000)

    async def talk():
        async with call:
            await call.reply()
            await call.send_audio(silence(0.5))
            await call.say(clip)
            return await call.reply()

    answer = asyncio.run(talk())
    assert answer.audio.duration > 0.5
    assert [
        e["text"] for e in voice_live.tracker(call.call_sid)["events"] if e["event"] == "user"
    ] == ["hello"]
