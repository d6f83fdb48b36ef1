"""Whole conversations over REST with the real Rasa server, action server and database."""

from __future__ import annotations

import pytest

from store import models as m
from tests.harness import stored

pytestmark = pytest.mark.slow


def test_parse_api_returns_emotion(live):
    parsed = live.parse("I'm really worried, I was charged twice for my order")
    emotion = parsed["emotion"]
    assert emotion["name"] == "anxiety"
    assert 0 < emotion["intensity"] <= 1
    assert {r["name"] for r in emotion["ranking"]} >= {"anger", "joy", "neutral"}
    assert parsed["intent"]["name"] == "payment_issue"


def test_track_an_order_and_rate_the_chat(live):
    chat = live.conversation()
    assert "Heard" in chat.say("hi")[0]
    assert "e-mail" in chat.say("where is my order 2345678?")[-1]
    replies = chat.say("jane.doe@example.com")
    assert any("Jane" in r and "DHL" in r for r in replies)
    assert "anything else" in replies[-1]  # the rating waits until the customer is done
    assert "1 (poor) to 5" in chat.say("no, that's all, thanks")[-1]
    chat.say("5")
    with live.repo.session() as s:
        feedback = s.query(m.Feedback).filter_by(conversation_id=chat.sender).one()
        assert feedback.rating == 5 and feedback.channel == "rest"


def test_cancel_an_order_with_confirmation(live):
    chat = live.conversation()
    chat.say("I want to cancel order 1234567")
    asked = chat.say("jane.doe@example.com")
    assert any("shall I cancel order 1234567" in r for r in asked)
    assert live.repo.find_order("1234567").status == "processing"
    done = chat.say("yes please")
    assert any("is cancelled" in r for r in done)
    assert live.repo.find_order("1234567").status == "cancelled"


def test_identity_is_checked_before_anything_is_disclosed(live):
    chat = live.conversation()
    chat.say("track order 3456789")
    replies = chat.say("omar.haddad@example.com")  # a real customer, but not this order's
    assert any("couldn't match" in r for r in replies)
    assert not any("coffee maker" in r for r in replies)


def test_furious_customer_is_acknowledged_calmly_and_handed_over_once(live):
    """A furious complaint goes to a senior colleague at once; asking for a human then
    keeps that one handoff and repeats its ticket number."""
    chat = live.conversation()
    first = chat.say("This is absolutely unacceptable, you people are useless and I'm furious")
    assert len(first) >= 2 and not any("!" in r for r in first)
    assert any("ticket number" in r.lower() for r in first)
    replies = chat.say("I want to speak to a human agent now")
    assert any("already in the queue" in r.lower() for r in replies)
    (handoff,) = stored(live.repo, m.Handoff, conversation_id=chat.sender)
    assert handoff.reason == "severe_complaint" and handoff.reference in replies[-1]
    assert handoff.transcript[0]["text"].startswith("This is absolutely unacceptable")
    assert handoff.emotion_timeline[0]["emotion"] in ("anger", "frustration")


def test_policy_question_needs_no_identity(live):
    replies = live.conversation().say("what is your refund policy?")
    assert any("30 days" in r for r in replies)


def test_a_takeover_outlives_the_session_expiring(live):
    """A colleague took the conversation over five hours ago; the customer writes again
    after the session's idle time. Heard must stay silent: the colleague has it."""
    import time

    chat = live.conversation()
    t0 = time.time() - 5 * 3600  # the whole conversation so far happened back then
    events = [
        {"event": "action", "name": "action_session_start", "timestamp": t0},
        {"event": "session_started", "timestamp": t0 + 0.1},
        {"event": "action", "name": "action_listen", "timestamp": t0 + 0.2},
        {
            "event": "user",
            "text": "I want a human",
            "timestamp": t0 + 1,
            "input_channel": "rest",
            "parse_data": {
                "intent": {"name": "contact_human_agent", "confidence": 1.0},
                "entities": [],
            },
        },
        {"event": "slot", "name": "order_id", "value": "2345678", "timestamp": t0 + 2},
        {"event": "pause", "timestamp": t0 + 3},  # what the console's Take does
    ]
    chat.append_events(events)

    assert chat.say("hello? anyone there?") == []
    tracker = chat.tracker()
    kinds = [e["event"] for e in tracker["events"]]
    assert kinds.count("session_started") == 2  # a new session began ...
    assert tracker["paused"]  # ... and it is still the colleague's
    assert tracker["slots"]["order_id"] == "2345678"  # with what Heard knew


def test_a_long_conversation_goes_on_in_a_new_session_mid_question(live):
    """The turn limit (20 messages by default) falls between the form's question and its
    answer: the new session keeps the question, and the answer completes the request."""
    chat = live.conversation()
    for _ in range(19):
        chat.say("what is your refund policy?")
    assert "e-mail" in chat.say("where is my order 2345678?")[-1]  # message 20
    replies = chat.say("jane.doe@example.com")  # message 21: a new session
    assert any("Jane" in r and "DHL" in r for r in replies)
    kinds = [e["event"] for e in chat.tracker()["events"]]
    assert kinds.count("session_started") == 2  # the answer came in a new session


def test_a_customer_back_after_the_idle_time_is_not_answering_the_old_rating(live):
    import time

    chat = live.conversation()
    t0 = time.time() - 2 * 3600
    chat.append_events(
        [
            {"event": "action", "name": "action_session_start", "timestamp": t0},
            {"event": "session_started", "timestamp": t0 + 0.1},
            {"event": "action", "name": "action_listen", "timestamp": t0 + 0.2},
            {
                "event": "user",
                "text": "no, that's all",
                "timestamp": t0 + 1,
                "input_channel": "rest",
                "parse_data": {"intent": {"name": "deny", "confidence": 1.0}, "entities": []},
            },
            {"event": "slot", "name": "awaiting_rating", "value": True, "timestamp": t0 + 2},
            {"event": "slot", "name": "order_id", "value": "2345678", "timestamp": t0 + 2},
        ]
    )
    chat.say("3")
    with live.repo.session() as s:
        assert s.query(m.Feedback).filter_by(conversation_id=chat.sender).count() == 0
    asked = chat.say("where is my order?")[-1]
    assert "e-mail" in asked and "order number" not in asked  # the order is still known


def test_two_requests_in_one_message_are_both_resolved(live):
    """In whichever order: the cancellation asks for its yes, the tracking needs no new
    identity check (the same customer's order)."""
    from bench.conversation_play import reset

    reset(live.repo)  # 1234567 as seeded: an earlier test cancels it
    chat = live.conversation()
    replies = chat.say("please cancel order 1234567 and tell me where order 2345678 is")
    replies += chat.say("jane.doe@example.com")
    assert any("shall I cancel order 1234567" in r for r in replies)
    replies += chat.say("yes")
    replies += [] if any("DHL" in r for r in replies) else chat.say("jane.doe@example.com")
    assert any("is cancelled" in r for r in replies)
    assert any("2345678" in r and "DHL" in r for r in replies)
    assert sum("e-mail address" in r for r in replies) <= 1  # one identity check
    assert live.repo.find_order("1234567").status == "cancelled"


def test_details_in_any_order_and_a_follow_up_from_the_last_answer(live):
    chat = live.conversation()
    chat.say("jane.doe@example.com here, order 3456789")
    replies = chat.say("I'd like a refund please")
    assert any("refund of €89.00" in r for r in replies)
    assert not any("e-mail address did you use" in r for r in replies)  # never asked again
    expected = next(r for r in replies if "refund of" in r).split(" by ")[-1].split(".")[0]
    assert any(expected in r for r in chat.say("and how long will that take?"))
