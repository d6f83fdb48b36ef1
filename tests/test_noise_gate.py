"""nlu/noise_gate.py: messages without a single known word fall back."""

from __future__ import annotations

import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.noise_gate import NoiseGate, is_noise, vocabulary


@pytest.fixture
def gate(tmp_path):
    """Trained on two examples, then loaded back the way a Rasa server loads it."""
    storage, resource = LocalModelStorage(tmp_path), Resource("noise_gate")
    NoiseGate.create({}, storage, resource, None).train(
        TrainingData(
            [
                Message(data={"text": "refund pls", "intent": "get_refund"}),
                Message(data={"text": "wheres my parcel", "intent": "track_order"}),
            ]
        )
    )
    return NoiseGate.load({}, storage, resource, None)


@pytest.mark.parametrize("text", ["asdf qwerty zxcv", "jjjjkk", "xkcdq vbnm!!", "zzzz ghj"])
def test_keyboard_mashes_are_noise(text):
    assert is_noise(text, [], vocabulary())


@pytest.mark.parametrize(
    "text",
    [
        "wheres my ordr",  # typos, but "my" is a word
        "parcel?",
        "7045512",  # no letters: the classifier decides (an order number)
        "🙂🙂",
        "",
        "hmm",
    ],
)
def test_messages_with_a_word_or_no_letters_are_not(text):
    assert not is_noise(text, [], vocabulary())


def test_an_entity_is_never_noise():
    assert not is_noise("asdfg", [{"entity": "order_id", "value": "1234567"}], vocabulary())


def test_every_word_of_the_training_examples_is_known(gate):
    assert is_noise("refund??", [], vocabulary())  # only pieces in the encoder vocabulary
    for text in ("refund", "WHERES IT"):
        message = Message(data={"text": text, "intent": {"name": "x", "confidence": 0.5}})
        gate.process([message])
        assert message.get("intent")["name"] == "x", text
    mash = Message(data={"text": "sdfgh", "intent": {"name": "x", "confidence": 0.5}})
    assert gate.process([mash])[0].get("intent")["name"] == "nlu_fallback"


def test_the_gate_replaces_the_intent_and_empties_the_ranking(gate):
    noise = Message(
        data={
            "text": "asdf qwerty zxcv",
            "intent": {"name": "inform", "confidence": 0.3},
            "intent_ranking": [{"name": "inform", "confidence": 0.3}],
        }
    )
    words = Message(
        data={"text": "where is my parcel", "intent": {"name": "track_order", "confidence": 0.9}}
    )
    gate.process([noise, words])
    assert noise.get("intent") == {"name": "nlu_fallback", "confidence": 1.0}
    assert [r["name"] for r in noise.get("intent_ranking")] == ["nlu_fallback"]
    assert words.get("intent")["name"] == "track_order"


def test_a_message_without_an_intent_falls_back(gate):
    """An empty text gets no sentence vector, so no intent: Rasa's FallbackClassifier
    would fail on it."""
    empty = Message(data={"text": "", "intent": None})
    gate.process([empty])
    assert empty.get("intent") == {"name": "nlu_fallback", "confidence": 1.0}
