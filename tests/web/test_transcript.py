"""Tracker events as chat lines, and which session ids the widget may use."""
from __future__ import annotations

import pytest

from web import transcript


def test_events_become_the_chat_both_sides_see():
    events = [
        {"event": "action", "name": "action_listen", "timestamp": 1.0},
        {"event": "user", "text": "hi", "timestamp": 2.0, "parse_data": {}},
        {"event": "bot", "text": "How would you rate this chat?", "timestamp": 3.0,
         "data": {"buttons": [{"title": "5", "payload": "5"}]}},
        {"event": "user", "text": None, "timestamp": 4.0},  # a triggered intent
        {"event": "bot", "text": "Hi, I'm Sam.", "timestamp": 5.0,
         "metadata": transcript.agent_metadata("Sam Rivera")},
        {"event": "bot", "text": None, "timestamp": 6.0, "data": {"custom": {"x": 1}}},
        {"event": "pause", "timestamp": 7.0},
    ]
    assert transcript.messages(events) == [
        {"sender": "customer", "text": "hi", "buttons": [], "agent": None, "time": 2.0},
        {"sender": "heard", "text": "How would you rate this chat?",
         "buttons": [{"title": "5", "payload": "5"}], "agent": None, "time": 3.0},
        {"sender": "agent", "text": "Hi, I'm Sam.", "buttons": [], "agent": "Sam Rivera",
         "time": 5.0},
    ]
    assert [m["time"] for m in transcript.messages(events, after=3.0)] == [5.0]


@pytest.mark.parametrize("value, valid", [
    ("123e4567-e89b-12d3-a456-426614174000", True),
    ("123E4567E89B12D3A456426614174000", True),
    ("123e4567-e89b-12d3-a456-42661417400", False),
    ("../../etc/passwd", False),
    ("me", False),
    ("", False),
    (None, False),
    (12345, False),
])
def test_session_ids(value, valid):
    assert transcript.valid_session_id(value) is valid
