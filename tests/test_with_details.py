"""Requests with details added to the training data (bot/with_details.py)."""

import random

from rasa.shared.nlu.training_data.message import Message

from bot.with_details import NOT_REQUESTS, augmented, with_details
from heard.formats import EMAIL_RE, ORDER_NUMBER_RE


def test_every_detail_is_annotated_where_it_is():
    rng = random.Random(1)
    for _ in range(200):
        message = with_details("where is my parcel", rng)
        text = message.get("text")
        assert "where is my parcel" in text
        for entity in message.get("entities"):
            span = text[entity["start"] : entity["end"]]
            assert span == entity["value"]
            pattern = ORDER_NUMBER_RE if entity["entity"] == "order_id" else EMAIL_RE
            assert pattern.fullmatch(span)
        found = len(ORDER_NUMBER_RE.findall(text)) + len(EMAIL_RE.findall(text))
        assert found == len(message.get("entities")) >= 1


def test_a_seeded_share_of_requests_only():
    examples = [
        Message.build(text=f"cancel my order please {i}", intent="cancel_order")
        for i in range(1000)
    ]
    examples += [Message.build(text="yes", intent=move) for move in NOT_REQUESTS]
    tagged = Message.build(
        text="track 1234567",
        intent="track_order",
        entities=[{"start": 6, "end": 13, "value": "1234567", "entity": "order_id"}],
    )
    added = augmented(examples + [tagged] * 50, share=0.2, seed=3)
    requests = [m for m in added if m.get("intent") == "cancel_order"]
    answers = [m for m in added if m.get("intent") == "inform"]
    assert 150 <= len(requests) == len(answers) <= 250
    for request, answer in zip(requests, answers):  # the same details, alone
        assert [e["value"] for e in answer.get("entities")] == [
            e["value"] for e in sorted(request.get("entities"), key=lambda e: e["start"])
        ]
        for entity in answer.get("entities"):
            assert answer.get("text")[entity["start"] : entity["end"]] == entity["value"]
    assert [m.get("text") for m in added] == [
        m.get("text") for m in augmented(examples + [tagged] * 50, 0.2, 3)
    ]
