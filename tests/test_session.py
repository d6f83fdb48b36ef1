"""A session that expires while a colleague has the conversation stays with the colleague."""
import asyncio

import pytest

from actions.session import ActionSessionStart, paused_at_end
from tests.harness import domain

PAUSE, RESUME, RESTART = {"event": "pause"}, {"event": "resume"}, {"event": "restart"}
USER = {"event": "user", "text": "hello"}


@pytest.mark.parametrize("events, paused", [
    ([], False),
    ([USER, PAUSE, USER], True),
    ([PAUSE, USER, RESUME, USER], False),
    ([PAUSE, RESTART], False),
    ([PAUSE, RESUME, PAUSE], True),
])
def test_paused_at_end(events, paused):
    assert paused_at_end(events) is paused


def run(events, slots):
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    tracker = Tracker("conv", slots, {}, events, False, None, {}, "action_listen")
    return asyncio.run(ActionSessionStart().run(CollectingDispatcher(), tracker, domain()))


def test_a_new_session_during_a_takeover_stays_paused_and_keeps_the_slots():
    events = run([USER, PAUSE, USER], {"verified_order": "2345678", "order_id": None,
                                       "session_started_metadata": {"x": 1}})
    assert [e["event"] for e in events] == ["session_started", "slot", "pause", "action"]
    assert events[1] == {"event": "slot", "name": "verified_order", "value": "2345678",
                         "timestamp": None}
    assert events[-1]["name"] == "action_listen"


def test_only_slots_that_differ_from_their_initial_value_are_carried():
    carried = [e["name"] for e in run([USER], {"identity_attempts": 0, "frustration": 0.4})
               if e["event"] == "slot"]
    assert carried == ["frustration"]


def test_a_new_session_of_an_ordinary_conversation_is_not_paused():
    assert "pause" not in [e["event"] for e in run([USER], {})]
