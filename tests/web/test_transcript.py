"""Tracker events as the transcript the console and the widget show (heard.contract)."""

from __future__ import annotations

from heard.contract import agent_metadata, transcript

EVENTS = [
    {"event": "action", "name": "action_listen", "timestamp": 1.0},
    {"event": "user", "text": "hi", "timestamp": 2.0, "parse_data": {}},
    {
        "event": "bot",
        "text": "How would you rate this chat?",
        "timestamp": 3.0,
        "data": {"buttons": [{"title": "5", "payload": "5"}]},
    },
    {"event": "user", "text": None, "timestamp": 4.0},  # a triggered intent
    {
        "event": "bot",
        "text": "Hi, I'm Sam.",
        "timestamp": 5.0,
        "metadata": agent_metadata("Sam Rivera"),
    },
    {"event": "bot", "text": None, "timestamp": 6.0, "data": {"custom": {"x": 1}}},
    {"event": "pause", "timestamp": 7.0},
]


def test_events_become_the_chat_both_sides_see():
    assert transcript(EVENTS) == [
        {"sender": "customer", "text": "hi", "time": 2.0, "agent": None, "buttons": []},
        {
            "sender": "heard",
            "text": "How would you rate this chat?",
            "time": 3.0,
            "agent": None,
            "buttons": [{"title": "5", "payload": "5"}],
        },
        {
            "sender": "agent",
            "text": "Hi, I'm Sam.",
            "time": 5.0,
            "agent": "Sam Rivera",
            "buttons": [],
        },
    ]


def test_only_lines_after_a_time():
    assert [line["time"] for line in transcript(EVENTS, after=3.0)] == [5.0]
    assert transcript(EVENTS, after=5.0) == []


def test_an_agents_line_never_carries_buttons():
    event = {
        "event": "bot",
        "text": "Pick one",
        "timestamp": 1.5,
        "metadata": agent_metadata("Kim"),
        "data": {"buttons": [{"title": "a"}]},
    }
    assert transcript([event]) == [
        {"sender": "agent", "text": "Pick one", "time": 1.5, "agent": "Kim", "buttons": []}
    ]
