"""Pure decisions behind one open case per problem: real words, urgency, the request's turns."""

import re

import pytest

from actions import conversation
from actions.empathy import Emotion, Turn, case_priority
from actions.feedback import has_real_words
from heard.cases import CASE_TEAMS
from tests.harness import ROOT, user_event


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The courier was rude", True),
        ("great service", True),
        ("Wo ist mein Paket?", True),
        ("Ça n'est pas arrivé", True),
        ("I love it", True),  # "I" is too short, "love it" is enough
        ("{% raw %} {% raw %}", False),
        ("{{ 7*7 }} ${user.name} {name}", False),
        ("{# note #} <script>alert(1)</script>", False),
        ("<b>ok</b>", False),
        ("&nbsp;&amp; https://example.com/review-page", False),
        ("ok ok ok", False),  # one word, however often
        ("x y z 1 2 3", False),
        ("!!! ??? 😡😡", False),
        ("", False),
        ("asdf", False),
        ("<p>Terrible packaging</p>", True),
    ],
)
def test_has_real_words(text, expected):
    assert has_real_words(text) is expected


ANGRY = Emotion("anger", intensity=0.9)
CROSS = Emotion("frustration", intensity=0.6)  # high from 0.6


@pytest.mark.parametrize(
    "base, emotions, expected",
    [
        ("high", [Emotion()], "high"),
        ("normal", [ANGRY], "urgent"),
        ("high", [CROSS], "urgent"),
        ("normal", [Emotion("frustration", intensity=0.5)], "normal"),  # upset, not intensely
        ("normal", [Emotion("sadness", intensity=0.9)], "normal"),  # sad is not more urgent
        ("normal", [Emotion("anxiety", intensity=0.9)], "normal"),
        ("normal", [ANGRY, Emotion()], "urgent"),  # the request, then a calm e-mail address
        ("low", [], "low"),
    ],
)
def test_case_priority(base, emotions, expected):
    assert case_priority(base, emotions) == expected


def turn(text, intent, emotion="neutral", intensity=0.0):
    return user_event(text, intent, emotion, intensity)


EVENTS = [
    turn("hi", "greet"),
    turn("WHERE IS MY REFUND", "track_refund", "anger", 0.9),
    {"event": "bot", "text": "What's your order number?"},
    turn("8901234", "inform"),
    turn("mei.chen@example.org", "inform"),
]


@pytest.mark.parametrize(
    "events, request_text, intents",
    [
        (EVENTS, "WHERE IS MY REFUND", ["track_refund", "inform", "inform"]),
        (EVENTS, None, ["inform"]),  # no request: only the latest turn
        (EVENTS, "something never said", ["inform"]),
        (
            EVENTS + [turn("WHERE IS MY REFUND", "track_refund")],
            "WHERE IS MY REFUND",
            ["track_refund"],
        ),  # the latest time it was said
        ([turn("x" * 2500, "complaint")], "x" * 2000, ["complaint"]),  # kept to 2000 characters
        ([], "anything", []),
    ],
)
def test_request_turns(events, request_text, intents):
    turns = conversation.request_turns(events, request_text)
    assert all(isinstance(t, Turn) for t in turns)
    assert [t.intent for t in turns] == intents


def test_the_request_turns_keep_their_emotions():
    turns = conversation.request_turns(EVENTS, "WHERE IS MY REFUND")
    assert [t.emotion.name for t in turns] == ["anger", "neutral", "neutral"]


def test_every_kind_of_case_the_code_opens_has_a_team():
    source = "\n".join(p.read_text() for p in (ROOT / "actions").glob("*.py"))
    kinds = set(re.findall(r'open_(?:case|ticket)\(\s*"([a-z_]+)"', source))
    assert kinds == set(CASE_TEAMS)
