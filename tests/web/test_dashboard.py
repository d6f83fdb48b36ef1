"""Dashboard figures on known data: a real Rasa SQL tracker store and shop database built
in the test, then the same queries the console's dashboard call runs."""
from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone

import pytest
from rasa.core.tracker_store import AwaitableTrackerStore, FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from actions.store.repository import Repository
from web import dashboard
from web.dashboard_queries import dashboard as figures_from, tracker_engine

DAY = date(2026, 11, 20)


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> float:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=timezone.utc).timestamp()


def said(text, intent, emotion, time, channel):
    return UserUttered(text, {"name": intent, "confidence": 1.0}, [],
                       {"emotion": {"name": emotion, "intensity": 0.5}},
                       timestamp=time, input_channel=channel)


# conversation id -> channel, customer messages (intent, emotion, day, hour)
CONVERSATIONS = {
    "c1": ("socketio", [("order_status", "anger", 20, 10), ("order_status", "frustration", 20, 11),
                        ("thanks", "joy", 20, 12)]),
    "c2": ("rest", [("ask_refund_policy", "neutral", 20, 12), ("goodbye", "neutral", 20, 13)]),
    "c3": ("socketio", [("request_refund", "frustration", 21, 9),
                        ("contact_human_agent", "anger", 21, 10)]),
    "c4": ("socketio", [("ask_payment_methods", "confusion", 22, 23), ("thanks", "joy", 23, 8)]),
    "before": ("rest", [("order_status", "anger", 19, 23)]),  # started the day before
    "after": ("socketio", [("order_status", "anger", 23, 0)]),  # started the day after
}


@pytest.fixture
def databases(tmp_path, clock):
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    for sender, (channel, turns) in CONVERSATIONS.items():
        events = [ActionExecuted("action_listen", timestamp=at(*turns[0][2:]) - 1)]
        for intent, emotion, day, hour in turns:
            events.append(said(f"message {intent}", intent, emotion, at(day, hour), channel))
            events.append(BotUttered("an answer", timestamp=at(day, hour, 0, 1)))
        # A triggered intent has no text: it is not the customer speaking.
        events.append(UserUttered(None, {"name": "order_status"}, timestamp=at(day, hour, 5),
                                  input_channel=channel))
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    shop = Repository.from_url(f"sqlite:///{tmp_path}/heard.db", clock=clock)
    for conversation, reason in (("c1", "repeated_anger"), ("c3", "customer_request"),
                                 ("c3", "rising_frustration"), ("before", "customer_request")):
        shop.create_handoff(conversation, "socketio", reason, 2, "summary", [], [])
    for conversation, rating in (("c1", 2), ("c2", 5), ("c4", 4), ("before", 1)):
        shop.record_feedback(conversation, "socketio", rating, "anger", "joy")
    return store, shop


def run(databases, channel=""):
    store, shop = databases
    filters = dashboard.Filters(date(2026, 11, 20), date(2026, 11, 22), channel)
    return figures_from(store.engine, shop.engine, filters)


def test_figures_for_all_channels(databases):
    figures = run(databases)
    assert figures["conversations"] == 4
    assert figures["conversations_per_day"] == [
        {"day": "2026-11-20", "channel": "rest", "count": 1},
        {"day": "2026-11-20", "channel": "socketio", "count": 1},
        {"day": "2026-11-21", "channel": "socketio", "count": 1},
        {"day": "2026-11-22", "channel": "socketio", "count": 1}]
    assert figures["containment_rate"] == 0.5
    assert figures["escalation_rate_by_reason"] == [
        {"reason": "customer_request", "rate": 0.25, "count": 1},
        {"reason": "repeated_anger", "rate": 0.25, "count": 1},
        {"reason": "rising_frustration", "rate": 0.25, "count": 1}]
    assert figures["average_rating"] == 3.67 and figures["ratings_count"] == 3
    emotions = {row["emotion"]: (row["start"], row["end"])
                for row in figures["emotion_start_vs_end"]}
    assert emotions == {"anger": (1, 1), "frustration": (1, 0), "sadness": (0, 0),
                        "anxiety": (0, 0), "confusion": (1, 0), "joy": (0, 2),
                        "neutral": (1, 1)}
    assert [row["emotion"] for row in figures["emotion_start_vs_end"]][0] == "anger"
    assert figures["angry_intents"] == [
        {"intent": "order_status", "count": 2},
        {"intent": "contact_human_agent", "count": 1},
        {"intent": "request_refund", "count": 1}]
    assert figures["channels"] == ["rest", "socketio"]


def test_figures_for_one_channel(databases):
    figures = run(databases, "socketio")
    assert figures["conversations"] == 3
    assert figures["containment_rate"] == pytest.approx(0.3333)
    assert [(r["reason"], r["count"]) for r in figures["escalation_rate_by_reason"]] == [
        ("customer_request", 1), ("repeated_anger", 1), ("rising_frustration", 1)]
    assert figures["average_rating"] == 3.0 and figures["ratings_count"] == 2
    assert figures["channels"] == ["rest", "socketio"]  # the filter's choices stay
    assert figures["channel"] == "socketio"


def test_a_range_without_conversations(databases):
    store, shop = databases
    figures = figures_from(store.engine, shop.engine,
                           dashboard.Filters(date(2026, 1, 1), date(2026, 1, 31)))
    assert figures["conversations"] == 0 and figures["containment_rate"] == 0.0
    assert figures["average_rating"] is None and figures["ratings_count"] == 0
    assert figures["conversations_per_day"] == [] and figures["angry_intents"] == []
    assert all(row["start"] == row["end"] == 0 for row in figures["emotion_start_vs_end"])


def test_the_engine_is_found_inside_rasas_wrappers(tmp_path):
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "t.db"))
    assert tracker_engine(FailSafeTrackerStore(AwaitableTrackerStore(store))) is store.engine
    assert tracker_engine(object()) is None


TODAY = date(2026, 11, 25)


@pytest.mark.parametrize("args, expected", [
    ({}, (date(2026, 10, 27), TODAY, "")),
    ({"from": "2026-11-01", "to": "2026-11-03"}, (date(2026, 11, 1), date(2026, 11, 3), "")),
    ({"to": "2026-11-03"}, (date(2026, 10, 5), date(2026, 11, 3), "")),
    ({"from": "2026-11-03", "to": "2026-11-03", "channel": " rest "},
     (date(2026, 11, 3), date(2026, 11, 3), "rest")),
    ({"channel": ""}, (date(2026, 10, 27), TODAY, "")),
])
def test_filters(args, expected):
    filters = dashboard.parse_filters(args, TODAY)
    assert (filters.start, filters.end, filters.channel) == expected


@pytest.mark.parametrize("args, message", [
    ({"from": "yesterday"}, "'from' must be a date"),
    ({"to": "2026-13-01"}, "'to' must be a date"),
    ({"from": "2026-11-05", "to": "2026-11-01"}, "must not be after"),
    ({"from": "2024-01-01", "to": "2026-11-01"}, "at most 366 days"),
    ({"channel": "socket io; drop"}, "'channel' must be"),
])
def test_bad_filters_are_refused_clearly(args, message):
    with pytest.raises(dashboard.FilterError, match=message):
        dashboard.parse_filters(args, TODAY)


def test_window_covers_whole_utc_days():
    start, end = dashboard.Filters(DAY, DAY).window
    assert start == at(20, 0) and end == at(21, 0)
