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

from rasa_seam.tracker_events import tracker_engine
from store.migrate import upgrade
from store.repository import Repository
from web import dashboard
from web.dashboard_queries import dashboard as figures_from

DAY = date(2026, 11, 20)


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> float:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=timezone.utc).timestamp()


def said(text, intent, emotion, time, channel, intensity=0.5):
    return UserUttered(
        text,
        {"name": intent, "confidence": 1.0},
        [],
        {"emotion": {"name": emotion, "intensity": intensity}},
        timestamp=time,
        input_channel=channel,
    )


def save_conversations(store, conversations):
    """Each conversation's customer messages, Heard's answers and a triggered intent into the
    tracker store; a turn is (intent, emotion, day, hour) or (intent, emotion, intensity,
    day, hour)."""
    for sender, (channel, turns) in conversations.items():
        turns = [turn if len(turn) == 5 else (*turn[:2], 0.5, *turn[2:]) for turn in turns]
        events = [ActionExecuted("action_listen", timestamp=at(*turns[0][3:]) - 1)]
        for intent, emotion, intensity, day, hour in turns:
            events.append(
                said(f"message {intent}", intent, emotion, at(day, hour), channel, intensity)
            )
            events.append(BotUttered("an answer", timestamp=at(day, hour, 0, 1)))
        # A triggered intent has no text: it is not the customer speaking.
        events.append(
            UserUttered(
                None, {"name": "order_status"}, timestamp=at(day, hour, 5), input_channel=channel
            )
        )
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))


# conversation id -> channel, customer messages (intent, emotion, day, hour)
CONVERSATIONS = {
    "c1": (
        "socketio",
        [
            ("order_status", "anger", 20, 10),
            ("order_status", "frustration", 20, 11),
            ("thanks", "joy", 20, 12),
        ],
    ),
    "c2": ("rest", [("ask_refund_policy", "neutral", 20, 12), ("goodbye", "neutral", 20, 13)]),
    "c3": (
        "socketio",
        [("request_refund", "frustration", 21, 9), ("contact_human_agent", "anger", 21, 10)],
    ),
    "c4": ("socketio", [("ask_payment_methods", "confusion", 22, 23), ("thanks", "joy", 23, 8)]),
    "before": ("rest", [("order_status", "anger", 19, 23)]),  # started the day before
    "after": ("socketio", [("order_status", "anger", 23, 0)]),  # started the day after
}


@pytest.fixture
def databases(tmp_path, clock):
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    save_conversations(store, CONVERSATIONS)
    upgrade(f"sqlite:///{tmp_path}/heard.db")
    shop = Repository.from_url(f"sqlite:///{tmp_path}/heard.db", clock=clock)
    for conversation, reason in (
        ("c1", "repeated_anger"),
        ("c3", "customer_request"),
        ("c3", "rising_frustration"),
        ("before", "customer_request"),
    ):
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
        {"day": "2026-11-22", "channel": "socketio", "count": 1},
    ]
    assert figures["containment_rate"] == 0.5
    assert figures["escalation_rate_by_reason"] == [
        {"reason": "customer_request", "rate": 0.25, "count": 1},
        {"reason": "repeated_anger", "rate": 0.25, "count": 1},
        {"reason": "rising_frustration", "rate": 0.25, "count": 1},
    ]
    assert figures["average_rating"] == 3.67 and figures["ratings_count"] == 3
    emotions = {
        row["emotion"]: (row["start"], row["end"]) for row in figures["emotion_start_vs_end"]
    }
    assert emotions == {
        "anger": (1, 1),
        "frustration": (1, 0),
        "sadness": (0, 0),
        "anxiety": (0, 0),
        "confusion": (1, 0),
        "joy": (0, 2),
        "neutral": (1, 1),
    }
    assert [row["emotion"] for row in figures["emotion_start_vs_end"]][0] == "anger"
    assert figures["angry_intents"] == [
        {"intent": "order_status", "count": 2},
        {"intent": "contact_human_agent", "count": 1},
        {"intent": "request_refund", "count": 1},
    ]
    assert figures["channels"] == ["rest", "socketio"]
    # No fallback and no recorded request here; c1 and c4 ended calmer, c3 as angry.
    assert (figures["resolution_rate"], figures["fallback_rate"]) == (0.0, 0.0)
    assert (figures["calm_down_rate"], figures["started_upset"]) == (0.6667, 3)


def test_figures_for_one_channel(databases):
    figures = run(databases, "socketio")
    assert figures["conversations"] == 3
    assert figures["containment_rate"] == pytest.approx(0.3333)
    assert [(r["reason"], r["count"]) for r in figures["escalation_rate_by_reason"]] == [
        ("customer_request", 1),
        ("repeated_anger", 1),
        ("rising_frustration", 1),
    ]
    assert figures["average_rating"] == 3.0 and figures["ratings_count"] == 2
    assert figures["channels"] == ["rest", "socketio"]  # the filter's choices stay
    assert figures["channel"] == "socketio"


def test_a_range_without_conversations(databases):
    store, shop = databases
    figures = figures_from(
        store.engine, shop.engine, dashboard.Filters(date(2026, 1, 1), date(2026, 1, 31))
    )
    assert figures["conversations"] == 0 and figures["containment_rate"] == 0.0
    assert figures["average_rating"] is None and figures["ratings_count"] == 0
    assert figures["conversations_per_day"] == [] and figures["angry_intents"] == []
    assert all(row["start"] == row["end"] == 0 for row in figures["emotion_start_vs_end"])
    assert (figures["resolution_rate"], figures["fallback_rate"]) == (0.0, 0.0)
    assert (figures["calm_down_rate"], figures["started_upset"]) == (None, 0)
    assert figures["customer_messages"] == 0
    assert figures["rates_per_channel"] == figures["rates_per_day"] == []


def test_the_engine_is_found_inside_rasas_wrappers(tmp_path):
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "t.db"))
    assert tracker_engine(FailSafeTrackerStore(AwaitableTrackerStore(store))) is store.engine
    assert tracker_engine(object()) is None


TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    "args, expected",
    [
        ({}, (date(2026, 10, 27), TODAY, "")),
        ({"from": "2026-11-01", "to": "2026-11-03"}, (date(2026, 11, 1), date(2026, 11, 3), "")),
        ({"to": "2026-11-03"}, (date(2026, 10, 5), date(2026, 11, 3), "")),
        (
            {"from": "2026-11-03", "to": "2026-11-03", "channel": " rest "},
            (date(2026, 11, 3), date(2026, 11, 3), "rest"),
        ),
        ({"channel": ""}, (date(2026, 10, 27), TODAY, "")),
    ],
)
def test_filters(args, expected):
    filters = dashboard.parse_filters(args, TODAY)
    assert (filters.start, filters.end, filters.channel) == expected


@pytest.mark.parametrize(
    "args, message",
    [
        ({"from": "yesterday"}, "'from' must be a date"),
        ({"to": "2026-13-01"}, "'to' must be a date"),
        ({"from": "2026-11-05", "to": "2026-11-01"}, "must not be after"),
        ({"from": "2024-01-01", "to": "2026-11-01"}, "at most 366 days"),
        ({"channel": "socket io; drop"}, "'channel' must be"),
    ],
)
def test_bad_filters_are_refused_clearly(args, message):
    with pytest.raises(dashboard.FilterError, match=message):
        dashboard.parse_filters(args, TODAY)


def test_window_covers_whole_utc_days():
    start, end = dashboard.Filters(DAY, DAY).window
    assert start == at(20, 0) and end == at(21, 0)


# --- containment, resolution, fallbacks and calming down -----------------------------------

# conversation id -> channel, customer messages (intent, emotion, intensity, day, hour)
OUTCOMES = {
    # Resolved; started angry, ended glad: calmer.
    "s1": ("socketio", [("track_order", "anger", 0.9, 20, 10), ("thank_you", "joy", 0.6, 20, 11)]),
    # The refund was not completed; ended on a fallback (not contained), as frustrated.
    "s2": (
        "socketio",
        [
            ("request_refund", "frustration", 0.8, 20, 12),
            ("nlu_fallback", "frustration", 0.8, 20, 13),
        ],
    ),
    # Handed to a human; still angry, but less: calmer.
    "s3": (
        "socketio",
        [("complain", "anger", 0.9, 21, 9), ("contact_human_agent", "anger", 0.6, 21, 10)],
    ),
    # A fallback first, then understood and resolved: contained; confused, then neutral.
    "s4": (
        "socketio",
        [("nlu_fallback", "confusion", 0.5, 21, 11), ("track_order", "neutral", 0.2, 21, 12)],
    ),
    # No human, but it ended on a fallback: not contained. Never upset.
    "r1": ("rest", [("greet", "neutral", 0.1, 20, 9), ("nlu_fallback", "neutral", 0.1, 20, 10)]),
    # Resolved, contained, but sad turned to a stronger anger: not calmer.
    "r2": (
        "rest",
        [("payment_issue", "sadness", 0.7, 21, 14), ("payment_issue", "anger", 0.8, 21, 15)],
    ),
    # One anxious message: contained, never calmer.
    "r3": ("rest", [("track_order", "anxiety", 0.6, 21, 16)]),
    "early": ("rest", [("track_order", "anger", 0.9, 19, 10), ("thank_you", "joy", 0.2, 19, 11)]),
}
OUTCOME_HANDOFFS = [("s3", "customer_request"), ("early", "customer_request")]
# (conversation id, turn, request, resolved) as the actions record them
OUTCOME_RESOLUTIONS = [
    ("s1", 1, "track_order", True),
    ("s2", 1, "request_refund", False),
    ("s4", 2, "track_order", True),
    ("s4", 2, "cancel_order", False),
    ("r2", 1, "payment_issue", False),
    ("r2", 2, "payment_issue", True),
    ("early", 1, "track_order", True),
    ("elsewhere", 1, "track_order", True),
]
OUTCOME_RANGE = (date(2026, 11, 20), date(2026, 11, 21))


def rates(conversations, contained, resolved, messages, fallback, upset, calm_down, **key):
    return {
        **key,
        "conversations": conversations,
        "containment_rate": contained,
        "resolution_rate": resolved,
        "customer_messages": messages,
        "fallback_rate": fallback,
        "started_upset": upset,
        "calm_down_rate": calm_down,
    }


# 7 conversations, 13 customer messages (3 fallbacks), 6 started upset (3 calmer).
ALL_RATES = rates(7, 0.5714, 0.4286, 13, 0.2308, 6, 0.5)
PER_CHANNEL = [
    rates(3, 0.6667, 0.3333, 5, 0.2, 2, 0.0, channel="rest"),
    rates(4, 0.5, 0.5, 8, 0.25, 4, 0.75, channel="socketio"),
]
PER_DAY = [
    rates(1, 0.0, 0.0, 2, 0.5, 0, None, day="2026-11-20", channel="rest"),
    rates(2, 0.5, 0.5, 4, 0.25, 2, 0.5, day="2026-11-20", channel="socketio"),
    rates(2, 1.0, 0.5, 3, 0.0, 2, 0.0, day="2026-11-21", channel="rest"),
    rates(2, 0.5, 0.5, 4, 0.25, 2, 1.0, day="2026-11-21", channel="socketio"),
]


def hand_made(conversations):
    return [
        dashboard.Conversation(
            sender,
            channel,
            [
                dashboard.Message(at(day, hour), intent, emotion, intensity)
                for intent, emotion, intensity, day, hour in turns
            ],
        )
        for sender, (channel, turns) in conversations.items()
    ]


def outcome_figures(channel=""):
    return dashboard.figures(
        hand_made({k: v for k, v in OUTCOMES.items() if k != "early"}),
        OUTCOME_HANDOFFS,
        [],
        dashboard.Filters(*OUTCOME_RANGE, channel),
        [(conversation, done) for conversation, _, _, done in OUTCOME_RESOLUTIONS],
    )


def overall(figures):
    return rates(
        *(
            figures[name]
            for name in (
                "conversations",
                "containment_rate",
                "resolution_rate",
                "customer_messages",
                "fallback_rate",
                "started_upset",
                "calm_down_rate",
            )
        )
    )


def test_rates_per_channel_and_day_from_hand_made_conversations():
    figures = outcome_figures()
    assert overall(figures) == ALL_RATES
    assert figures["rates_per_channel"] == PER_CHANNEL
    assert figures["rates_per_day"] == PER_DAY
    # r1 had no human but ended on a fallback: counting it would give 6/7.
    assert figures["containment_rate"] == 0.5714


def test_rates_for_one_channel_from_hand_made_conversations():
    figures = outcome_figures("socketio")
    assert overall(figures) == {k: v for k, v in PER_CHANNEL[1].items() if k != "channel"}
    assert figures["rates_per_channel"] == [PER_CHANNEL[1]]
    assert figures["rates_per_day"] == [PER_DAY[1], PER_DAY[3]]
    assert figures["channels"] == ["rest", "socketio"]


def message(intent="inform", emotion="neutral", intensity=0.5):
    return dashboard.Message(at(20, 10), intent, emotion, intensity)


@pytest.mark.parametrize(
    "first, last, calmer",
    [
        (("anger", 0.9), ("joy", 0.5), True),
        (("anger", 0.9), ("neutral", 0.0), True),
        (("confusion", 0.3), ("neutral", 0.9), True),  # no longer negative, however strong
        (("anger", 0.9), ("anger", 0.5), True),  # the same emotion, weaker
        (("anger", 0.9), ("frustration", 0.4), True),  # another negative emotion, weaker
        (("anger", 0.5), ("anger", 0.5), False),
        (("sadness", 0.4), ("anger", 0.8), False),
        (("frustration", 0.6), ("sadness", 0.7), False),
        (("anger", 0.9), (None, None), False),  # unknown: not calmer
        (("anger", None), ("anger", 0.3), False),
        (("anger", 0.9), ("anger", None), False),
        (("neutral", 0.5), ("joy", 0.9), False),  # never upset: not counted at all
        (("joy", 0.9), ("anger", 0.2), False),
    ],
)
def test_calmed_down(first, last, calmer):
    conversation = dashboard.Conversation(
        "c",
        "rest",
        [
            message(emotion=first[0], intensity=first[1]),
            message(emotion=last[0], intensity=last[1]),
        ],
    )
    assert dashboard.calmed_down(conversation) is calmer
    assert dashboard.started_upset(conversation) is (first[0] not in ("joy", "neutral"))


def test_one_message_never_calmed_down():
    assert not dashboard.calmed_down(dashboard.Conversation("c", "rest", [message("x", "anger")]))


@pytest.mark.parametrize(
    "intents, escalated, is_contained",
    [
        (["track_order", "thank_you"], set(), True),
        (["nlu_fallback", "track_order"], set(), True),  # understood in the end
        (["track_order", "nlu_fallback"], set(), False),  # left on a fallback
        (["nlu_fallback"], set(), False),
        (["track_order", "thank_you"], {"c"}, False),  # a human took over
    ],
)
def test_contained(intents, escalated, is_contained):
    conversation = dashboard.Conversation("c", "rest", [message(i) for i in intents])
    assert dashboard.contained(conversation, escalated) is is_contained


@pytest.fixture
def outcome_databases(tmp_path, clock):
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    save_conversations(store, OUTCOMES)
    upgrade(f"sqlite:///{tmp_path}/heard.db")
    shop = Repository.from_url(f"sqlite:///{tmp_path}/heard.db", clock=clock)
    for conversation, reason in OUTCOME_HANDOFFS:
        shop.create_handoff(conversation, OUTCOMES[conversation][0], reason, 2, "summary", [], [])
    for conversation, turn, request, done in OUTCOME_RESOLUTIONS:
        channel = OUTCOMES.get(conversation, ("rest",))[0]
        shop.record_resolution(conversation, channel, request, done, turn)
        shop.record_resolution(conversation, channel, request, not done, turn)  # a retry
    return store, shop


def test_rates_from_the_tracker_and_the_shop_database(outcome_databases):
    store, shop = outcome_databases
    figures = figures_from(store.engine, shop.engine, dashboard.Filters(*OUTCOME_RANGE))
    assert overall(figures) == ALL_RATES
    assert figures["rates_per_channel"] == PER_CHANNEL
    assert figures["rates_per_day"] == PER_DAY
    assert [
        (row["day"], row["channel"], row["count"]) for row in figures["conversations_per_day"]
    ] == [(row["day"], row["channel"], row["conversations"]) for row in PER_DAY]

    rest = figures_from(store.engine, shop.engine, dashboard.Filters(*OUTCOME_RANGE, "rest"))
    assert overall(rest) == {k: v for k, v in PER_CHANNEL[0].items() if k != "channel"}
    assert rest["rates_per_day"] == [PER_DAY[0], PER_DAY[2]]


def test_a_fallback_intent_is_read_from_the_parse_data_too():
    data = {
        "text": "asdf",
        "input_channel": "rest",
        "parse_data": {
            "intent": {"name": "nlu_fallback"},
            "emotion": {"name": "anger", "intensity": 0.7},
        },
    }
    [conversation] = dashboard.conversations_from([("c", at(20, 10), None, data)])
    assert conversation.messages == [dashboard.Message(at(20, 10), "nlu_fallback", "anger", 0.7)]
    assert conversation.messages[0].fallback and conversation.messages[0].upset
