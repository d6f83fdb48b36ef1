"""CallSession decisions with a recording transport and dialogue: real audio (espeak-ng
speech) through the real turn detector; recognition is the scripted stand-in, speech
synthesis a quick tone, and time a simulated clock that moves only when a test moves it,
so silences, keypad pauses and playback take no real time and happen in a fixed order."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import pytest

from tests.waiting import until
from voice.audio import AudioChunk
from voice.call import BotTurn, CallConfig, CallSession, ConfigError, sentences
from voice.phone_emulator import silence
from voice.prosody import CallerVoice
from voice.scripted_stt import ScriptedSpeechToText
from voice.tts import NEUTRAL, Prosody

RATE = 8000
PROMPTS = {
    "utter_voice_greeting": "Hello, this is Heard.",
    "utter_voice_reprompt": "Are you still there?",
    "utter_voice_goodbye_silence": "Goodbye for now.",
    "utter_voice_not_heard": "Sorry, I didn't catch that.",
    "utter_voice_time_limit": "We need to end the call.",
    "utter_voice_trouble": "Something went wrong.",
    "utter_voice_transfer_failed": "I couldn't put you through.",
}
GREETING = PROMPTS["utter_voice_greeting"]
STEP_TIMEOUT = 10  # real seconds for one step (synthesis, recognition, a reply) to show
CALL_TIMEOUT = 30  # real seconds for a whole scenario


class SimulatedClock:
    """A `Clock` whose time moves only in `advance`: each sleeper wakes at its deadline, in
    deadline order, and runs up to its next wait before time moves on; what the last one
    started (a prompt, a turn) has begun when `advance` returns."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: List[Tuple[float, int, asyncio.Future]] = []
        self._order = itertools.count()  # equal deadlines wake in the order they slept

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        woken = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), woken))
        await woken

    async def advance(self, seconds: float) -> None:
        end = self.now + seconds
        while self._sleepers and self._sleepers[0][0] <= end:
            deadline, _, woken = heapq.heappop(self._sleepers)
            self.now = max(self.now, deadline)
            if not woken.done():  # done: its sleeper was cancelled
                woken.set_result(None)
                await asyncio.sleep(0)  # the woken task runs first, up to its next wait
        self.now = end
        await asyncio.sleep(0)


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

    def answers(self) -> int:
        """Answers whose audio has all been sent (the session then reports 'speaking')."""
        return sum(
            1
            for e in self.events
            if e[0] == "notify" and e[1] == {"event": "state", "state": "speaking"}
        )

    def kinds(self) -> List[str]:
        return [e[0] for e in self.events if e[0] != "notify"]


class Dialogue:
    def __init__(self, replies: Optional[Dict[str, BotTurn]] = None, fail_on: str = ""):
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

    def texts(self) -> List[str]:
        return [text for text, _ in self.heard]


class Tone:
    """A stand-in synthesiser: 0.1 s of tone per word (its audio is never listened to).
    Synthesis of the sentence `hold` waits until `release` is set."""

    def __init__(self, hold: str = ""):
        self.prosodies: List[Prosody] = []
        self.hold = hold
        self.release = threading.Event()

    def synthesize(self, text, prosody=NEUTRAL):
        if text == self.hold and not self.release.wait(STEP_TIMEOUT):
            raise AssertionError(f"synthesis of {text!r} was never released")
        self.prosodies.append(prosody)
        n = int(RATE * 0.1 * len(text.split()))
        tone = (3000 * np.sin(np.arange(n) * 2 * np.pi * 440 / RATE)).astype("<i2")
        return AudioChunk(tone.tobytes(), RATE)


def run_call(
    script_lines,
    steps,
    config: Optional[CallConfig] = None,
    dialogue=None,
    transport=None,
    features=None,
    tts=None,
    stt=None,
):
    """Starts a session on a simulated clock, runs `steps(session)` and returns
    (transport, dialogue, session)."""
    transport = transport or Transport()
    dialogue = dialogue or Dialogue()

    async def main():
        session = CallSession(
            "call-1",
            transport,
            dialogue,
            stt or ScriptedSpeechToText(script_lines),
            tts or Tone(),
            config or CallConfig(),
            metadata={"call": {"transport": "test"}},
            features=features,
            clock=SimulatedClock(),
        )
        await session.start()
        try:
            try:
                await asyncio.wait_for(steps(session), CALL_TIMEOUT)
            except asyncio.TimeoutError:
                raise AssertionError(
                    f"the call's steps did not finish within {CALL_TIMEOUT} s"
                ) from None
        finally:
            await session.end("test_over")
        return session

    session = asyncio.run(main())
    return transport, dialogue, session


async def feed(session, audio: AudioChunk, frame: float = 0.02):
    step = int(RATE * frame) * 2
    for i in range(0, len(audio.pcm), step):
        await session.audio(AudioChunk(audio.pcm[i : i + step], RATE))


async def say(session, audio: AudioChunk):
    """The caller speaks, then pauses long enough to end the turn."""
    await feed(session, audio)
    await feed(session, silence(1.0))


async def heard_out(session, answers: int = 1):
    """Waits until Heard has sent `answers` answers' audio, then lets simulated time pass
    until the caller has heard all of it, and one tick more: what waits for the end of
    Heard's speech (a hang-up, a transfer) polls the clock, and has then seen it."""
    await until(
        lambda: session.transport.answers() >= answers,
        STEP_TIMEOUT,
        f"Heard did not send answer {answers}",
    )
    while session.bot_speaking:
        await session.clock.advance(0.1)
    await session.clock.advance(0.1)


async def is_closed(session):
    await until(lambda: session.closed, STEP_TIMEOUT, "the call did not end")


@pytest.fixture
def hello(speech):
    return speech("Hello, where is my order?")


def test_greets_then_hands_the_callers_words_to_the_dialogue(hello):
    async def steps(session):
        await heard_out(session)
        await say(session, hello)
        await until(lambda: session.timings, STEP_TIMEOUT, "Heard did not answer")

    transport, dialogue, session = run_call(["where is my order"], steps)
    assert transport.said()[0] == GREETING
    assert dialogue.texts() == ["where is my order"]
    metadata = dialogue.heard[0][1]
    assert metadata["call"] == {"transport": "test"} and metadata["stt_confidence"] == 1.0
    assert transport.said()[-1] == "You said where is my order."
    timing = session.timings[0]
    assert set(timing) == {
        "end_of_turn_wait",
        "recognition",
        "dialogue",
        "synthesis_to_first_audio",
        "decision_to_first_audio",
    }
    assert 0.55 <= timing["end_of_turn_wait"] <= 0.7  # the default 0.6 s, to a frame


def test_each_utterance_carries_how_the_caller_sounded(hello):
    async def steps(session):
        await heard_out(session)
        await say(session, hello)
        await until(lambda: dialogue.heard, STEP_TIMEOUT, "the dialogue heard nothing")

    dialogue = Dialogue()
    run_call(["where is my order"], steps, dialogue=dialogue, features=CallerVoice())
    voice = dialogue.heard[0][1]["voice"]
    assert set(voice) == {"loudness_db", "pitch_hz", "rate", "arousal", "cues"}
    assert 0.0 <= voice["arousal"] <= 1.0 and voice["pitch_hz"] > 60


def test_speaking_over_heard_clears_playback_and_drops_the_rest(hello):
    third = "And a third one too."
    long_reply = BotTurn(
        texts=[
            "One two three four five six seven eight nine ten. "
            f"Another sentence follows here. {third}"
        ]
    )
    tts = Tone(hold=third)  # Heard is still working on the third sentence ...

    async def steps(session):
        await heard_out(session)
        await say(session, hello)
        await until(
            lambda: len(transport.played) == 3,
            STEP_TIMEOUT,
            "Heard did not play the first two sentences",
        )
        assert session.bot_speaking  # the simulated clock has not moved on
        await say(session, hello)  # ... when the caller talks over the answer
        tts.release.set()
        await until(
            lambda: len(session.timings) == 2, STEP_TIMEOUT, "Heard did not answer the interruption"
        )

    transport = Transport()
    dialogue = Dialogue({"where is my order": long_reply})
    run_call(
        ["where is my order", "sorry what"], steps, dialogue=dialogue, transport=transport, tts=tts
    )
    assert dialogue.texts() == ["where is my order", "sorry what"]
    kinds = transport.kinds()
    assert kinds.count("clear") == 1 and kinds.index("clear") == 3  # after two sentences
    assert len(transport.played) == 4  # greeting, two sentences, the answer: not the third


def test_keypad_digits_are_sent_on_hash():
    async def steps(session):
        await heard_out(session)
        for digit in "99*2345678#":  # '*' drops a mistyped start
            await session.dtmf(digit)
        await until(lambda: dialogue.heard, STEP_TIMEOUT, "the digits were not sent")

    dialogue = Dialogue()
    run_call([], steps, dialogue=dialogue)
    assert dialogue.heard == [("2345678", {"call": {"transport": "test"}, "dtmf": True})]


def test_keypad_digits_are_sent_after_a_pause_or_at_eight():
    async def steps(session):
        await heard_out(session)
        for digit in "123456":
            await session.dtmf(digit)
        await session.clock.advance(2.8)
        assert dialogue.heard == []  # the caller may still be typing
        await session.clock.advance(0.3)  # past the 3 s dtmf_timeout
        await until(lambda: dialogue.heard, STEP_TIMEOUT, "the digits were not sent")
        for digit in "98765432":
            await session.dtmf(digit)
        # No time passes: the eighth digit sends them.
        await until(
            lambda: len(dialogue.heard) == 2, STEP_TIMEOUT, "eight digits were not sent at once"
        )

    dialogue = Dialogue()
    run_call([], steps, dialogue=dialogue)
    assert dialogue.texts() == ["123456", "98765432"]


def test_silence_gets_reprompts_then_a_goodbye_and_a_hang_up():
    config = CallConfig()  # reprompt after 8 s, twice, then goodbye

    async def steps(session):
        for answers in (1, 2, 3):
            await heard_out(session, answers)  # the quiet starts at most 0.2 s ago
            await session.clock.advance(config.reprompt_after - 0.5)
            assert len(transport.said()) == answers and not session.closed  # not yet
            await session.clock.advance(0.6)
        await heard_out(session, 4)  # the goodbye, heard to its end before the hang-up
        await is_closed(session)

    transport = Transport()
    _, _, session = run_call([], steps, config, transport=transport)
    assert transport.said() == [
        GREETING,
        PROMPTS["utter_voice_reprompt"],
        PROMPTS["utter_voice_reprompt"],
        PROMPTS["utter_voice_goodbye_silence"],
    ]
    assert transport.kinds()[-1] == "hang_up" and ("hang_up", "silence") in transport.events
    assert session.end_reason == "silence"


def test_a_call_that_runs_too_long_is_ended_politely():
    config = CallConfig(max_call_seconds=1200, reprompt_after=2000)

    async def steps(session):
        await heard_out(session)
        await session.clock.advance(1199.5 - session.clock.time())
        assert transport.said() == [GREETING] and not session.closed
        await session.clock.advance(0.6)
        await heard_out(session, 2)
        await is_closed(session)

    transport = Transport()
    _, _, session = run_call([], steps, config, transport=transport)
    assert transport.said() == [GREETING, PROMPTS["utter_voice_time_limit"]]
    assert session.end_reason == "time_limit" and transport.kinds()[-1] == "hang_up"


def test_goodbye_hangs_up_after_the_answer(hello):
    async def steps(session):
        await heard_out(session)
        await say(session, hello)
        await until(lambda: transport.answers() == 2, STEP_TIMEOUT, "no goodbye")
        assert "hang_up" not in transport.kinds()  # the caller is still hearing it
        await heard_out(session, 2)
        await is_closed(session)

    transport = Transport()
    dialogue = Dialogue({"bye": BotTurn(texts=["Goodbye!"], end_call=True)})
    _, _, session = run_call(["bye"], steps, dialogue=dialogue, transport=transport)
    assert transport.said()[-1] == "Goodbye!" and session.end_reason == "goodbye"
    assert transport.kinds()[-1] == "hang_up"


@pytest.mark.parametrize("can_transfer", [True, False])
def test_a_transfer_handoff_moves_the_call_or_says_it_could_not(hello, can_transfer):
    handoff = BotTurn(
        texts=["Putting you through."], handoff={"step": "transfer", "reference": "H-1"}
    )

    async def steps(session):
        await heard_out(session)
        await say(session, hello)
        await until(lambda: transport.answers() == 2, STEP_TIMEOUT, "no handoff answer")
        assert "transfer" not in transport.kinds()  # the caller is still hearing it
        await heard_out(session, 2)
        if can_transfer:
            await is_closed(session)
        else:
            await heard_out(session, 3)

    transport = Transport(can_transfer)
    _, _, session = run_call(
        ["human please"], steps, transport=transport, dialogue=Dialogue({"human please": handoff})
    )
    assert ("transfer", "H-1") in transport.events
    if can_transfer:
        assert session.end_reason == "transferred"
    else:
        assert transport.said()[-1] == PROMPTS["utter_voice_transfer_failed"]
        assert session.end_reason == "test_over"


def test_speech_nobody_could_make_out_gets_asked_again(hello):
    async def steps(session):
        await heard_out(session)
        await say(session, hello)
        await heard_out(session, 2)

    transport, dialogue, _ = run_call([""], steps)  # the recogniser heard no words
    assert dialogue.heard == []
    assert transport.said() == [GREETING, PROMPTS["utter_voice_not_heard"]]


def test_a_failing_turn_is_apologised_for_and_the_call_goes_on(hello):
    async def steps(session):
        await heard_out(session)
        for answers in (2, 3):
            await say(session, hello)
            await heard_out(session, answers)

    transport, dialogue, session = run_call(
        ["boom", "still there"], steps, dialogue=Dialogue(fail_on="boom")
    )
    assert transport.said() == [GREETING, PROMPTS["utter_voice_trouble"], "You said still there."]
    assert dialogue.texts() == ["still there"]
    assert session.end_reason == "test_over"


def test_endless_sound_is_cut_into_turns(hello):
    async def steps(session):
        await heard_out(session)
        for _ in range(4):  # ~8 s of speech with no pause
            await feed(session, hello)
        await until(lambda: dialogue.heard, STEP_TIMEOUT, "the sound was never cut")

    dialogue = Dialogue()
    run_call(["first part"], steps, CallConfig(max_utterance_seconds=2.0), dialogue=dialogue)
    assert dialogue.texts() == ["first part"]


def test_the_answer_is_voiced_for_the_callers_emotion(hello):
    async def steps(session):
        await heard_out(session)
        await say(session, hello)
        await heard_out(session, 2)

    angry = BotTurn(texts=["I understand."], emotion="anger", intensity=1.0)
    tts = Tone()
    run_call(["x"], steps, dialogue=Dialogue({"x": angry}), tts=tts)
    assert tts.prosodies[0] == Prosody()  # the greeting: neutral
    assert tts.prosodies[-1].rate < 1 and tts.prosodies[-1].pitch < 1


@pytest.mark.parametrize(
    "options, message",
    [
        ({"trailing_silence": 0}, "must be positive"),
        ({"reprompt_after": "soon"}, "must be a number"),
        ({"tralling_silence": 0.5}, "unknown voice option"),
    ],
)
def test_bad_voice_options_are_named(options, message):
    with pytest.raises(ConfigError, match=message):
        CallConfig.from_options(options)


def test_sentences_split_at_sentence_ends_only():
    assert sentences("Hello there. Order 1.5 kg? Yes! ") == [
        "Hello there.",
        "Order 1.5 kg?",
        "Yes!",
    ]


def test_the_real_vosk_decoder_runs_inside_a_call(korean_stt, shared_audio):
    """Streaming recognition while the caller speaks, finalised at the end of the turn,
    with the digits grammar after an order question; the (Korean) model hears something."""
    from voice.audio import read_wav, resample

    digits = resample(read_wav(shared_audio / "speech" / "vosk_digits_10001-90210-01803.wav"), RATE)

    async def steps(session):
        await heard_out(session)
        session.expect = "digits"  # as after "what is your order number?"
        await say(session, digits)
        await until(
            lambda: session.timings or transport.answers() == 2,
            STEP_TIMEOUT,
            "the recogniser's transcript never reached the dialogue",
        )

    transport = Transport()
    dialogue = Dialogue({"": BotTurn()})
    _, _, session = run_call([], steps, dialogue=dialogue, transport=transport, stt=korean_stt)
    assert PROMPTS["utter_voice_trouble"] not in transport.said()
    assert len(dialogue.heard) >= 1 and dialogue.heard[0][0].strip()
    assert 0 <= dialogue.heard[0][1]["stt_confidence"] <= 1
    assert session.timings and session.timings[0]["recognition"] >= 0


def test_no_worker_outlives_a_call_that_heard_said_goodbye_to(hello):
    async def steps(session):
        await heard_out(session)
        await say(session, hello)
        await heard_out(session, 2)
        await is_closed(session)
        await until(
            lambda: all(task.done() for task in session._tasks),
            STEP_TIMEOUT,
            "a worker outlived the call",
        )

    dialogue = Dialogue({"bye": BotTurn(texts=["Goodbye!"], end_call=True)})
    run_call(["bye"], steps, dialogue=dialogue)
