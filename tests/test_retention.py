"""Retention on real databases: a Rasa SQL tracker store and a shop database built in the
test (SQLite, and PostgreSQL when installed), the same queries the dashboard runs before
and after, and the daily run beside the supervisor."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import date, datetime, timezone
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import retention
from bot.__main__ import main
from rasa_seam.tracker_events import EVENTS
from store import models as shop
from store.migrate import upgrade
from store.repository import Repository
from store.retained import RETAINED
from tests.waiting import eventually
from web.dashboard import Filters
from web.dashboard_queries import dashboard

DAYS = 90
NOW = datetime(2026, 11, 25, 10, tzinfo=timezone.utc).timestamp()
BEFORE = retention.cutoff(NOW, DAYS)  # 2026-08-27 10:00 UTC


def at(month: int, day: int, hour: int, minute: int = 0) -> float:
    return datetime(2026, month, day, hour, minute, tzinfo=timezone.utc).timestamp()


def said(text, intent, emotion, intensity, time, channel):
    return UserUttered(
        text,
        {"name": intent, "confidence": 1.0},
        [],
        {"emotion": {"name": emotion, "intensity": intensity}},
        timestamp=time,
        input_channel=channel,
    )


# conversation id -> channel, customer messages (intent, emotion, intensity, (month, day, hour))
CONVERSATIONS = {
    "old-angry": (
        "socketio",
        [
            ("order_status", "anger", 0.9, (8, 1, 10)),
            ("contact_human_agent", "anger", 0.6, (8, 1, 11)),
        ],
    ),
    "old-lost": (
        "rest",
        [
            ("request_refund", "frustration", 0.7, (8, 2, 9)),
            ("nlu_fallback", "frustration", 0.7, (8, 2, 10)),
        ],
    ),
    "old-glad": (
        "socketio",
        [("track_order", "confusion", 0.5, (8, 2, 12)), ("thank_you", "joy", 0.8, (8, 2, 13))],
    ),
    # Began long ago, but the customer wrote again last week: all of it stays.
    "revived": (
        "socketio",
        [
            ("order_status", "anger", 0.8, (8, 1, 9)),
            ("order_status", "frustration", 0.5, (11, 20, 9)),
        ],
    ),
    "recent": ("rest", [("track_order", "neutral", 0.2, (11, 20, 10))]),
    # Its last event is an hour after the cutoff: kept.
    "edge": ("rest", [("track_order", "anxiety", 0.4, (8, 27, 11))]),
}
# (conversation id, reason, (month, day, hour))
HANDOFFS = [
    ("old-angry", "repeated_anger", (8, 1, 11)),
    ("old-angry", "customer_request", (8, 1, 11)),
    ("revived", "customer_request", (8, 1, 9)),
    ("recent", "customer_request", (11, 20, 10)),
]
RATINGS = [
    ("old-angry", 2, (8, 1, 12)),
    ("old-glad", 5, (8, 2, 14)),
    ("revived", 1, (8, 1, 10)),
    ("recent", 4, (11, 20, 11)),
]
RESOLUTIONS = [
    ("old-glad", 1, "track_order", True, (8, 2, 12)),
    ("old-lost", 1, "request_refund", False, (8, 2, 9)),
    ("revived", 1, "order_status", True, (8, 1, 9)),
]
OLD = {"old-angry", "old-lost", "old-glad", "silent"}


def save(store, sender, channel, turns):
    events = [ActionExecuted("action_listen", timestamp=at(*turns[0][3]) - 1)]
    for intent, emotion, intensity, when in turns:
        events.append(said(f"about {intent}", intent, emotion, intensity, at(*when), channel))
        events.append(BotUttered("an answer", timestamp=at(*when) + 1))
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))


class Clock:
    def __init__(self):
        self.now = datetime(2026, 8, 1)

    def __call__(self):
        return self.now


def naive(month, day, hour):
    return datetime(2026, month, day, hour)


def filled(store, shop_url):
    """(tracker engine, shop engine) with the conversations above, their handoffs (one taken
    by an agent), ratings and resolutions, and a conversation without customer messages."""
    for sender, (channel, turns) in CONVERSATIONS.items():
        save(store, sender, channel, turns)
    # Opened the widget, never wrote: nothing for the dashboard, deleted all the same.
    asyncio.run(
        store.save(
            DialogueStateTracker.from_events(
                "silent", [ActionExecuted("action_listen", timestamp=at(8, 3, 9))]
            )
        )
    )
    clock = Clock()
    upgrade(shop_url)
    repo = Repository.from_url(shop_url, clock=clock)
    for conversation, reason, when in HANDOFFS:
        clock.now = naive(*when)
        repo.create_handoff(
            conversation,
            CONVERSATIONS[conversation][0],
            reason,
            2,
            "summary with the customer's words",
            [],
            [],
        )
    with repo.engine.begin() as connection:  # an agent took one of the old handoffs
        reference = (
            connection.execute(
                sa.select(shop.Handoff.reference).where(shop.Handoff.conversation_id == "old-angry")
            )
            .scalars()
            .first()
        )
        connection.execute(
            sa.insert(shop.Takeover).values(
                handoff_reference=reference,
                agent_username="sam",
                agent_name="Sam",
                taken_at=naive(8, 1, 12),
            )
        )
    for conversation, rating, when in RATINGS:
        clock.now = naive(*when)
        repo.record_feedback(conversation, "socketio", rating, "anger", "joy")
    for conversation, turn, request, done, when in RESOLUTIONS:
        clock.now = naive(*when)
        repo.record_resolution(conversation, "socketio", request, done, turn)
    yield store.engine, repo.engine
    store.engine.dispose()
    repo.engine.dispose()


@pytest.fixture
def sqlite_databases(tmp_path):
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    yield from filled(store, f"sqlite:///{tmp_path}/heard.db")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def databases(request, tmp_path):
    """The same on each backend the product supports."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_databases")
        return
    url = request.getfixturevalue("empty_postgres_url")  # the tracker's and the shop's
    yield from filled(SQLTrackerStore(Domain.empty(), dialect="postgresql", host=url), url)


def senders(tracker):
    with tracker.connect() as connection:
        return set(connection.execute(sa.select(EVENTS.c.sender_id).distinct()).scalars())


def snapshot(tracker, shop_db):
    """Every row retention could touch, comparable."""
    tables = {
        tracker: [EVENTS, RETAINED],
        shop_db: [
            shop.Handoff.__table__,
            shop.Feedback.__table__,
            shop.Resolution.__table__,
            shop.Takeover.__table__,
        ],
    }
    rows = {}
    for engine, found in tables.items():
        names = set(sa.inspect(engine).get_table_names())
        with engine.connect() as connection:
            for table in found:
                rows[table.name] = (
                    sorted(map(repr, connection.execute(sa.select(table))))
                    if table.name in names
                    else None
                )
    return rows


def conversation_ids(shop_db, model):
    with shop_db.connect() as connection:
        return sorted(connection.execute(sa.select(model.conversation_id)).scalars())


# Date ranges that hold deleted conversations, and some that don't.
WINDOWS = [
    Filters(date(2026, 8, 1), date(2026, 8, 31)),
    Filters(date(2026, 8, 1), date(2026, 8, 31), "socketio"),
    Filters(date(2026, 8, 2), date(2026, 8, 2), "rest"),
    Filters(date(2026, 7, 1), date(2026, 11, 25)),
    Filters(date(2026, 11, 1), date(2026, 11, 25)),
]


def all_figures(tracker, shop_db):
    return [dashboard(tracker, shop_db, window) for window in WINDOWS]


def test_old_conversations_go_with_their_records_and_the_rest_stays(databases):
    tracker, shop_db = databases
    outcome = retention.purge(tracker, shop_db, BEFORE)
    assert senders(tracker) == {"revived", "recent", "edge"}
    assert outcome == retention.Outcome(
        conversations=4, events=16, summed=3, handoffs=2, ratings=2, resolutions=2
    )
    # A record of a conversation that stays is kept, however old.
    assert conversation_ids(shop_db, shop.Handoff) == ["recent", "revived"]
    assert conversation_ids(shop_db, shop.Feedback) == ["recent", "revived"]
    assert conversation_ids(shop_db, shop.Resolution) == ["revived"]
    with shop_db.connect() as connection:  # who took a deleted handoff goes with it
        assert (
            connection.execute(sa.select(sa.func.count()).select_from(shop.Takeover)).scalar_one()
            == 0
        )


def test_records_without_stored_events_go_only_when_old(databases):
    """Records of a conversation the tracker store no longer has (left by a run that
    failed halfway) go once old; those of a turn in flight, whose events Rasa stores after
    the actions ran, stay: here the same sender id is back."""
    tracker, shop_db = databases
    for when in ((8, 5, 9), (11, 25, 9)):
        repo = Repository(shop_db, clock=lambda when=when: naive(*when))
        repo.record_feedback("left-behind", "rest", 3, None, None)
        repo.create_handoff("left-behind", "rest", "customer_request", 2, "summary", [], [])
    outcome = retention.purge(tracker, shop_db, BEFORE)
    assert (outcome.handoffs, outcome.ratings) == (3, 3)
    assert conversation_ids(shop_db, shop.Handoff) == ["left-behind", "recent", "revived"]
    assert conversation_ids(shop_db, shop.Feedback) == ["left-behind", "recent", "revived"]


@pytest.mark.parametrize("batch", [1, 2, retention.BATCH])
def test_the_dashboard_shows_the_same_figures_after_a_run(databases, batch):
    tracker, shop_db = databases
    before = all_figures(tracker, shop_db)
    assert before[0]["conversations"] == 5 and before[0]["ratings_count"] == 3
    retention.purge(tracker, shop_db, BEFORE, batch=batch)
    assert senders(tracker) == {"revived", "recent", "edge"}  # so the sums are what's shown
    assert all_figures(tracker, shop_db) == before


def test_a_second_run_changes_nothing(databases):
    tracker, shop_db = databases
    figures = all_figures(tracker, shop_db)
    retention.purge(tracker, shop_db, BEFORE)
    after_first = snapshot(tracker, shop_db)
    assert retention.purge(tracker, shop_db, BEFORE) == retention.Outcome()
    assert snapshot(tracker, shop_db) == after_first
    assert all_figures(tracker, shop_db) == figures


def test_a_dry_run_counts_what_a_run_deletes_and_changes_nothing(databases):
    tracker, shop_db = databases
    untouched = snapshot(tracker, shop_db)
    counted = retention.purge(tracker, shop_db, BEFORE, dry_run=True)
    assert snapshot(tracker, shop_db) == untouched
    assert counted == retention.purge(tracker, shop_db, BEFORE)
    assert counted.conversations == 4


def test_a_stopped_run_keeps_the_figures_and_the_next_one_finishes(databases, monkeypatch):
    tracker, shop_db = databases
    figures = all_figures(tracker, shop_db)
    stopped = threading.Event()
    purge_batch = retention._purge_batch
    monkeypatch.setattr(
        retention, "_purge_batch", lambda *args: (purge_batch(*args), stopped.set())
    )
    outcome = retention.purge(tracker, shop_db, BEFORE, batch=1, stopped=stopped)
    assert (outcome.conversations, outcome.handoffs, outcome.finished) == (1, 0, False)
    assert len(senders(tracker)) == 6
    assert len(conversation_ids(shop_db, shop.Handoff)) == 4  # summed only once all are
    assert all_figures(tracker, shop_db) == figures
    monkeypatch.setattr(retention, "_purge_batch", purge_batch)
    assert retention.purge(tracker, shop_db, BEFORE).conversations == 3
    assert senders(tracker) == {"revived", "recent", "edge"}
    assert all_figures(tracker, shop_db) == figures


def test_a_conversation_that_wakes_up_during_its_batch_is_kept(databases, monkeypatch):
    """The customer writes again between the batch's reads and its delete: the sums and
    the delete are rolled back together and the batch is read again without it."""
    tracker, shop_db = databases
    figures = all_figures(tracker, shop_db)
    records = retention.shop_records
    woken = []

    def write_first(shop_db, which):
        if not woken:
            woken.append(True)
            with tracker.begin() as connection:
                connection.execute(
                    sa.insert(EVENTS).values(
                        sender_id="old-glad", type_name="bot", timestamp=NOW - 60, data="{}"
                    )
                )
        return records(shop_db, which)

    monkeypatch.setattr(retention, "shop_records", write_first)
    outcome = retention.purge(tracker, shop_db, BEFORE)
    assert woken and outcome.conversations == 3
    assert senders(tracker) == {"old-glad", "revived", "recent", "edge"}
    assert conversation_ids(shop_db, shop.Feedback) == ["old-glad", "recent", "revived"]
    assert all_figures(tracker, shop_db) == figures


@pytest.mark.parametrize(
    "raw, days",
    [("", 90), ("30", 30), (" 365 ", 365), ("1", 1), ("3650", 3650), ("off", None), ("OFF", None)],
)
def test_the_setting(raw, days):
    assert retention.retention_days({retention.DAYS_VAR: raw}) == days
    assert retention.retention_days({}) == 90


@pytest.mark.parametrize("raw", ["0", "-5", "3651", "1.5", "ninety", "90d"])
def test_a_bad_setting_is_refused_clearly(raw):
    with pytest.raises(
        ValueError,
        match=rf"^HEARD_RETENTION_DAYS must be a whole number of "
        rf"days from 1 to 3650, or off, not '{raw}'$",
    ):
        retention.retention_days({retention.DAYS_VAR: raw})


def test_the_command_refuses_a_bad_setting(monkeypatch, capsys):
    monkeypatch.setenv(retention.DAYS_VAR, "0")
    assert main(["retention"]) == 2
    assert "HEARD_RETENTION_DAYS must be a whole number" in capsys.readouterr().err
    assert main(["retention", "--days", "abc"]) == 2
    assert "--days must be a whole number" in capsys.readouterr().err


def endpoints_file(tmp_path, tracker):
    path = tmp_path / "endpoints.yml"
    path.write_text(
        f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {tracker.url.database}\n"
    )
    return path


@pytest.fixture
def frozen(monkeypatch):
    """Retention's clock at NOW."""
    monkeypatch.setattr(retention, "time", SimpleNamespace(time=lambda: NOW))


def test_the_command_reads_the_servers_settings(
    sqlite_databases, tmp_path, monkeypatch, capsys, frozen
):
    tracker, shop_db = sqlite_databases
    monkeypatch.setattr("bot.__main__.ROOT", tmp_path)  # where it finds endpoints.yml
    endpoints_file(tmp_path, tracker)
    monkeypatch.setenv("DATABASE_URL", str(shop_db.url))
    monkeypatch.setenv(retention.DAYS_VAR, "30")
    untouched = snapshot(tracker, shop_db)
    assert main(["retention", "--dry-run"]) == 0
    assert snapshot(tracker, shop_db) == untouched
    # 30 days, not 90: "edge" is old too.
    assert capsys.readouterr().out == (
        "retention (30 days, last event before 2026-10-26 10:00 UTC): would delete 5 "
        "conversations (19 events; 4 kept in the dashboard's sums), 2 handoffs, 2 ratings, "
        "2 resolutions\n"
    )
    assert main(["retention", "--days", "off"]) == 0
    assert capsys.readouterr().out == "retention: off, nothing deleted\n"
    assert snapshot(tracker, shop_db) == untouched


def test_the_tracker_store_is_the_one_endpoints_names(tmp_path):
    path = tmp_path / "endpoints.yml"
    path.write_text("tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: var/tracker.db\n")
    engine = retention.tracker_store_engine(path)
    assert engine.url.database == str(retention.ROOT / "var" / "tracker.db")  # as Rasa runs
    path.write_text(
        "tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: db.example\n"
        "  port: 5433\n  db: heard\n  username: heard\n  login_db: postgres\n"
    )
    url = retention.tracker_store_engine(path).url
    assert (url.host, url.port, url.database, url.username) == (
        "db.example",
        5433,
        "heard",
        "heard",
    )
    path.write_text("action_endpoint:\n  url: http://localhost:5055/webhook\n")
    with pytest.raises(ValueError, match="needs the SQL tracker store"):
        retention.tracker_store_engine(path)


def test_the_daily_run_repeats_survives_a_failure_and_stops_promptly():
    calls, lines = [], []

    def job():
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise sa.exc.OperationalError(
                "DELETE ...", {"sender_id": "secret"}, Exception("database is locked")
            )

    stopped = threading.Event()
    thread = threading.Thread(
        target=retention.every_day, args=(job, stopped, lines.append, 0.01, 0.05)
    )
    thread.start()
    try:
        assert eventually(lambda: len(calls) >= 3, 5), "the job did not repeat"
    finally:
        stopped.set()
        thread.join(timeout=1)
    assert not thread.is_alive()
    assert lines == [
        "retention: failed (OperationalError: database is locked); trying again in 1.38889e-05 h"
    ]
    assert all(b - a >= 0.04 for a, b in zip(calls, calls[1:]))  # the interval is kept


def test_the_daily_run_waits_for_its_first_time_and_stops_at_once():
    calls = []
    stopped = threading.Event()
    thread = threading.Thread(
        target=retention.every_day, args=(lambda: calls.append(1), stopped, print, 3600, 86_400)
    )
    thread.start()
    started = time.monotonic()
    stopped.set()
    thread.join(timeout=1)
    assert not thread.is_alive() and time.monotonic() - started < 1
    assert calls == []


def test_the_supervisors_daily_run_deletes_and_logs_counts(sqlite_databases, tmp_path, frozen):
    tracker, shop_db = sqlite_databases
    figures = all_figures(tracker, shop_db)
    lines = []
    stopped = threading.Event()
    thread = retention.start_daily(
        DAYS,
        endpoints_file(tmp_path, tracker),
        str(shop_db.url),
        stopped,
        lines.append,
        first=0.01,
        interval=3600,
    )
    try:
        assert eventually(lambda: lines, 30), "the daily run never ran"
    finally:
        stopped.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
    assert senders(tracker) == {"revived", "recent", "edge"}
    assert all_figures(tracker, shop_db) == figures
    [line] = lines
    assert line.startswith(f"retention ({DAYS} days, ") and "deleted 4 conversations" in line
    assert not any(sender in line for sender in OLD)
