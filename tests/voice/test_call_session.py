"""CallSession decisions with a recording transport and dialogue: real audio (espeak-ng
speech) through the real turn detector; recognition is the scripted stand-in and speech
synthesis a quick tone, so each test takes a second or two."""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import numpy as np
import pytest

from voice.audio import AudioChunk
from voice.call import BotTurn, CallConfig, CallSession, ConfigError, sentences
from voice.phone_emulator import silence
from voice.prosody import CallerVoice
from voice.scripted_stt import ScriptedSpeechToText
from voice.tts import Prosody

RATE = 8000
PROMPTS = {"utter_voice_greeting": "Hello, this is Heard.",
           "utter_voice_reprompt": "Are you still there?",
           "utter_voice_goodbye_silence": "Goodbye for now.",
           "utter_voice_not_heard": "Sorry, I didn't catch that.",
           "utter_voice_time_limit": "We need to end the call.",
           "utter_voice_trouble": "Something went wrong.",
           "utter_voice_transfer_failed": "I couldn't put you through."}


class Transport:
    sample_rate = RATE

    def __init__(self, can_transfer: bool = True):
        self.played: List[AudioChunk] = []
        self.events: List[Any] = []
        self.can_transfer = can_transfer

    async def play(self, audio, mark):
        self.played.append(audio)
        self.events.append(("play", mark))

    async def clear(self):
        self.events.append(("clear",))

    async def notify(self, event):
        self.events.append(("notify", event))

    async def hang_up(self, reason):
        self.events.append(("hang_up", reason))

    async def transfer(self, handoff):
        self.events.append(("transfer", handoff["reference"]))
        return self.can_transfer

    def said(self) -> List[str]:
        return [e[1]["text"] for e in self.events if e[0] == "notify" and e[1]["event"] == "bot"]

    def kinds(self) -> List[str]:
        return [e[0] for e in self.events if e[0] != "notify"]


class Dialogue:
    def __init__(self, replies: Dict[str, BotTurn] = None, fail_on: str = ""):
        self.replies = replies or {}
        self.heard: List[tuple] = []
        self.fail_on = fail_on

    async def turn(self, text, metadata):
        if text == self.fail_on:
            raise RuntimeError("the action server fell over")
        self.heard.append((text, metadata))
        return self.replies.get(text, BotTurn(texts=[f"You said {text}."]))

    def prompt(self, name):
        return PROMPTS[name]


class Tone:
    """A stand-in synthesiser: 0.1 s of tone per word (its audio is never listened to)."""

    def __init__(self):
        self.prosodies: List[Prosody] = []

    def synthesize(self, text, prosody=Prosody()):
        self.prosodies.append(prosody)
        n = int(RATE * 0.1 * len(text.split()))
        tone = (3000 * np.sin(np.arange(n) * 2 * np.pi * 440 / RATE)).astype("<i2")
        return AudioChunk(tone.tobytes(), RATE)


STEPS_TIMEOUT = 30  # seconds: every scenario here takes a few


def run_call(script_lines, steps, config=CallConfig(), dialogue=None, transport=None,
             features=None):
    """Starts a session, runs `steps(session)` and returns (transport, dialogue, session)."""
    transport = transport or Transport()
    dialogue = dialogue or Dialogue()

    async def main():
        session = CallSession("call-1", transport, dialogue, ScriptedSpeechToText(script_lines),
                              Tone(), config, metadata={"call": {"transport": "test"}},
                              features=features)
        await session.start()
        try:
            try:
                await asyncio.wait_for(steps(session), STEPS_TIMEOUT)
            except asyncio.TimeoutError:
                raise AssertionError(f"the call's steps did not finish within "
                                     f"{STEPS_TIMEOUT} s") from None
        finally:
            await session.end("test_over")
        return session

    session = asyncio.run(main())
    return transport, dialogue, session


async def feed(session, audio: AudioChunk, frame: float = 0.02):
    step = int(RATE * frame) * 2
    for i in range(0, len(audio.pcm), step):
        await session.audio(AudioChunk(audio.pcm[i:i + step], RATE))


async def say(session, audio: AudioChunk):
    """The caller speaks, then pauses long enough to end the turn."""
    await feed(session, audio)
    await feed(session, silence(1.0))


async def closed(session):
    while not session.closed:
        await asyncio.sleep(0.05)


async def settle(session, seconds: float = 0.3):
    """Lets the session's workers finish what they were given."""
    await asyncio.sleep(seconds)


@pytest.fixture
def hello(speech):
    return speech("Hello, where is my order?")


def test_greets_then_hands_the_callers_words_to_the_dialogue(hello):
    async def steps(session):
        await settle(session)
        await say(session, hello)
        await settle(session, 0.5)

    transport, dialogue, session = run_call(["where is my order"], steps)
    assert transport.said()[0] == PROMPTS["utter_voice_greeting"]
    assert [t for t, _ in dialogue.heard] == ["where is my order"]
    metadata = dialogue.heard[0][1]
    assert metadata["call"] == {"transport": "test"} and metadata["stt_confidence"] == 1.0
    assert transport.said()[-1] == "You said where is my order."
    timing = session.timings[0]
    assert set(timing) == {"end_of_turn_wait", "recognition", "dialogue",
                           "synthesis_to_first_audio", "decision_to_first_audio"}
    assert 0.55 <= timing["end_of_turn_wait"] <= 0.7  # the default 0.6 s, to a frame


def test_each_utterance_carries_how_the_caller_sounded(hello):
    async def steps(session):
        await settle(session)
        await say(session, hello)
        await settle(session, 0.5)

    _, dialogue, _ = run_call(["where is my order"], steps, features=CallerVoice())
    voice = dialogue.heard[0][1]["voice"]
    assert set(voice) == {"loudness_db", "pitch_hz", "rate", "arousal", "cues"}
    assert 0.0 <= voice["arousal"] <= 1.0 and voice["pitch_hz"] > 60


def test_speaking_over_heard_clears_playback_and_drops_the_rest(hello):
    long_reply = BotTurn(texts=["One two three four five six seven eight nine ten. "
                                "Another sentence follows here. And a third one too."])

    async def steps(session):
        await settle(session)
        await say(session, hello)
        while not session.bot_speaking or len(transport.played) < 2:
            await asyncio.sleep(0.01)
        await say(session, hello)  # the caller talks over the answer
        await settle(session, 0.5)

    transport = Transport()
    dialogue = Dialogue({"where is my order": long_reply})
    transport, dialogue, _ = run_call(["where is my order", "sorry what"], steps,
                                      dialogue=dialogue, transport=transport)
    kinds = transport.kinds()
    assert "clear" in kinds
    assert [t for t, _ in dialogue.heard] == ["where is my order", "sorry what"]


def test_keypad_digits_are_sent_on_hash(hello):
    async def steps(session):
        await settle(session)
        for digit in "99*2345678#":  # '*' drops a mistyped start
            await session.dtmf(digit)
        await settle(session)

    _, dialogue, _ = run_call([], steps)
    assert dialogue.heard == [("2345678", {"call": {"transport": "test"}, "dtmf": True})]


def test_keypad_digits_are_sent_after_a_pause_or_at_eight():
    async def steps(session):
        await settle(session)
        for digit in "123456":
            await session.dtmf(digit)
        await asyncio.sleep(0.5)
        for digit in "98765432":
            await session.dtmf(digit)
        await settle(session)

    _, dialogue, _ = run_call([], steps, CallConfig(dtmf_timeout=0.3))
    assert [t for t, _ in dialogue.heard] == ["123456", "98765432"]


def test_silence_gets_reprompts_then_a_goodbye_and_a_hang_up():
    async def steps(session):
        await asyncio.wait_for(closed(session), 5)

    transport, _, session = run_call([], steps, CallConfig(reprompt_after=0.3, max_reprompts=2))
    assert transport.said() == [PROMPTS["utter_voice_greeting"], PROMPTS["utter_voice_reprompt"],
                                PROMPTS["utter_voice_reprompt"],
                                PROMPTS["utter_voice_goodbye_silence"]]
    assert ("hang_up", "silence") in transport.events and session.end_reason == "silence"


def test_a_call_that_runs_too_long_is_ended_politely():
    async def steps(session):
        await asyncio.wait_for(closed(session), 5)

    transport, _, session = run_call([], steps, CallConfig(max_call_seconds=0.5))
    assert transport.said()[-1] == PROMPTS["utter_voice_time_limit"]
    assert session.end_reason == "time_limit"


def test_goodbye_hangs_up_after_the_answer(hello):
    async def steps(session):
        await settle(session)
        await say(session, hello)
        await asyncio.wait_for(closed(session), 5)

    dialogue = Dialogue({"bye": BotTurn(texts=["Goodbye!"], end_call=True)})
    transport, _, session = run_call(["bye"], steps, dialogue=dialogue)
    assert transport.said()[-1] == "Goodbye!" and session.end_reason == "goodbye"
    assert transport.kinds()[-1] == "hang_up"


@pytest.mark.parametrize("can_transfer", [True, False])
def test_a_transfer_handoff_moves_the_call_or_says_it_could_not(hello, can_transfer):
    handoff = BotTurn(texts=["Putting you through."],
                      handoff={"step": "transfer", "reference": "H-1"})

    async def steps(session):
        await settle(session)
        await say(session, hello)
        await settle(session, 2.0 if not can_transfer else 0.5)

    transport, _, session = run_call(["human please"], steps, transport=Transport(can_transfer),
                                     dialogue=Dialogue({"human please": handoff}))
    assert ("transfer", "H-1") in transport.events
    if can_transfer:
        assert session.end_reason == "transferred"
    else:
        assert transport.said()[-1] == PROMPTS["utter_voice_transfer_failed"]


def test_speech_nobody_could_make_out_gets_asked_again(hello):
    async def steps(session):
        await settle(session)
        await say(session, hello)
        await settle(session, 0.5)

    transport, dialogue, _ = run_call([""], steps)  # the recogniser heard no words
    assert dialogue.heard == []
    assert transport.said()[-1] == PROMPTS["utter_voice_not_heard"]


def test_a_failing_turn_is_apologised_for_and_the_call_goes_on(hello):
    async def steps(session):
        await settle(session)
        for _ in range(2):
            await say(session, hello)
            await settle(session, 0.5)

    transport, dialogue, session = run_call(["boom", "still there"], steps,
                                            dialogue=Dialogue(fail_on="boom"))
    assert PROMPTS["utter_voice_trouble"] in transport.said()
    assert [t for t, _ in dialogue.heard] == ["still there"]
    assert session.end_reason == "test_over"


def test_endless_sound_is_cut_into_turns(hello):
    async def steps(session):
        await settle(session)
        for _ in range(4):  # ~8 s of speech with no pause
            await feed(session, hello)
        await settle(session, 0.5)

    _, dialogue, _ = run_call(["first part"], steps, CallConfig(max_utterance_seconds=2.0))
    assert [t for t, _ in dialogue.heard] == ["first part"]


def test_the_answer_is_voiced_for_the_callers_emotion(hello):
    async def steps(session):
        await settle(session)
        await say(session, hello)
        await settle(session, 0.5)

    angry = BotTurn(texts=["I understand."], emotion="anger", intensity=1.0)
    tts = Tone()

    async def main():
        session = CallSession("c", Transport(), Dialogue({"x": angry}), ScriptedSpeechToText(["x"]),
                              tts, CallConfig())
        await session.start()
        await steps(session)
        await session.end("done")

    asyncio.run(main())
    assert tts.prosodies[0] == Prosody()  # the greeting: neutral
    assert tts.prosodies[-1].rate < 1 and tts.prosodies[-1].pitch < 1


@pytest.mark.parametrize("options, message", [
    ({"trailing_silence": 0}, "must be positive"),
    ({"reprompt_after": "soon"}, "must be a number"),
    ({"tralling_silence": 0.5}, "unknown voice option"),
])
def test_bad_voice_options_are_named(options, message):
    with pytest.raises(ConfigError, match=message):
        CallConfig.from_options(options)


def test_sentences_split_at_sentence_ends_only():
    assert sentences("Hello there. Order 1.5 kg? Yes! ") == ["Hello there.", "Order 1.5 kg?", "Yes!"]


def test_the_real_vosk_decoder_runs_inside_a_call(korean_stt, shared_audio):
    """Streaming recognition while the caller speaks, finalised at the end of the turn,
    with the digits grammar after an order question; the (Korean) model hears something."""
    from voice.audio import read_wav, resample

    digits = resample(read_wav(shared_audio / "speech" / "vosk_digits_10001-90210-01803.wav"),
                      RATE)
    dialogue = Dialogue({"": BotTurn()})
    transport = Transport()

    async def main():
        session = CallSession("vosk-call", transport, dialogue, korean_stt, Tone(), CallConfig())
        session.expect = "digits"
        await session.start()
        await say(session, digits)
        for _ in range(100):
            if session.timings or PROMPTS["utter_voice_not_heard"] in transport.said():
                break
            await asyncio.sleep(0.1)
        await session.end("done")
        return session

    session = asyncio.run(main())
    assert PROMPTS["utter_voice_trouble"] not in transport.said()
    assert len(dialogue.heard) >= 1 and dialogue.heard[0][0].strip()
    assert 0 <= dialogue.heard[0][1]["stt_confidence"] <= 1
    assert session.timings and session.timings[0]["recognition"] >= 0


def test_no_worker_outlives_a_call_that_heard_said_goodbye_to(hello):
    async def steps(session):
        await settle(session)
        await say(session, hello)
        await asyncio.wait_for(closed(session), 5)
        await asyncio.sleep(0.1)
        assert all(task.done() for task in session._tasks)

    dialogue = Dialogue({"bye": BotTurn(texts=["Goodbye!"], end_call=True)})
    run_call(["bye"], steps, dialogue=dialogue)
