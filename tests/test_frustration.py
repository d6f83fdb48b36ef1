"""Conversation-level frustration: how it rises, cools and triggers a handoff."""

from __future__ import annotations

import pytest

from actions import frustration as fr
from actions.dialogue import ActionAnswer
from actions.empathy import Emotion, Turn, escalation_reason
from store import models as m
from tests.harness import Conversation, stored
from tests.harness import Turn as Said

CALM = Emotion()


def turn(intent="track_order", name="neutral", intensity=0.0, cues=()):
    return Turn(intent, Emotion(name, 0.9, intensity, tuple(cues)))


@pytest.mark.parametrize(
    "previous, turns, expected",
    [
        (0.0, [turn()], 0.0),
        (0.0, [turn(name="anger", intensity=0.8)], 0.4),
        (0.0, [turn(name="frustration", intensity=1.0)], 0.45),
        (0.0, [turn(name="confusion", intensity=0.5)], 0.1),
        (0.4, [turn()], 0.34),  # cools when nothing new goes wrong
        (0.0, [turn("nlu_fallback")], 0.15),
        (0.0, [turn("track_order"), turn("track_order")], 0.2),  # asked again
        (0.0, [turn("inform"), turn("inform")], 0.0),  # answers are not requests
        (0.0, [turn(cues=["waiting"])], 0.1),
        (0.6, [turn("thank_you")], 0.255),
        (0.6, [turn(name="joy", intensity=0.5)], 0.255),
        (0.9, [turn(name="anger", intensity=1.0, cues=["waiting"])], 1.0),  # capped
    ],
)
def test_update(previous, turns, expected):
    assert fr.update(previous, turns) == pytest.approx(expected)


def test_resolution_halves_it():
    assert fr.after_resolution(0.8) == 0.4


@pytest.mark.parametrize(
    "score, turns, reason",
    [
        (0.9, 2, "rising_frustration"),
        (0.9, 1, None),  # one turn since the last handoff is not a trend
        (0.5, 3, None),
    ],
)
def test_high_frustration_escalates(score, turns, reason):
    history = [turn(name="frustration", intensity=0.5)] * turns
    assert escalation_reason(history, 0, score) == reason


def test_a_bad_conversation_rises_then_falls_after_resolution(repo):
    conv = Conversation(repo)
    scores = []
    for said in [
        Said("where is my refund", "track_refund", "frustration", 0.3),
        Said(
            "still waiting, two weeks now",
            "track_refund",
            "frustration",
            0.5,
            cues=["waiting", "repeated_contact"],
        ),
        Said("asdf", "nlu_fallback"),
    ]:
        scores.append(conv.hear(said))
    assert scores == [0.135, 0.64, 0.694]
    conv.run(ActionAnswer, Said("ok what's the refund policy", "check_refund_policy"))
    assert conv.slots["frustration"] == 0.347  # resolved: halved
    assert repo.count(m.Handoff) == 0


def test_the_handoff_timeline_carries_the_score(repo):
    conv = Conversation(repo)
    conv.hear(Said("this is useless", "complaint", "anger", 0.6))
    conv.hear(
        Said("I give up, still nothing", "complaint", "frustration", 0.9, cues=["repeated_contact"])
    )
    conv.slots["frustration"] = 0.9
    conv.run(ActionAnswer, Said("and again nothing", "complaint", "frustration", 0.5))
    (handoff,) = stored(repo, m.Handoff)
    assert handoff.reason == "rising_frustration"
    # The second complaint is also a repeat.
    assert [t["frustration"] for t in handoff.emotion_timeline][:2] == [0.3, 0.86]
    assert repo.count(m.Ticket) == 0  # handed over before the complaint was filed
