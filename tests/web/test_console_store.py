"""The console's records against a real (SQLite) shop database: agents, sessions that
expire, and the handoff queue with its take / hand-back rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

from heard.contract import transcript_line
from store import models as shop
from web import handoff_queue
from web.agents import AgentError, Agents
from web.handoff_queue import HandoffQueue
from web.sessions import Sessions, lifetime_from, token_hash

PASSWORD = "a long enough password"
# Cheap hashing keeps the tests fast; the command line and the server use the defaults.
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def agents(repo, clock) -> Agents:
    return Agents(repo.engine, clock, FAST)


@pytest.fixture
def sam(agents):
    return agents.add("sam", "Sam Rivera", PASSWORD)


@pytest.fixture
def kim(agents):
    return agents.add("kim", "Kim Lee", PASSWORD)


def test_password_check(agents, sam):
    assert agents.check("sam", PASSWORD) == sam
    assert agents.check("sam", PASSWORD + "x") is None
    assert agents.check("nobody", PASSWORD) is None


def test_duplicate_and_weak_agents_are_refused(agents, sam):
    with pytest.raises(AgentError, match="already exists"):
        agents.add("sam", "Another", PASSWORD)
    with pytest.raises(AgentError, match="at least 10"):
        agents.add("newcomer", "New", "short")
    assert [a.username for a in agents.all()] == ["sam"]


def test_sessions_expire(repo, clock, sam):
    sessions = Sessions(repo.engine, timedelta(hours=8), clock)
    started = sessions.start(sam)
    assert sessions.agent_for(started.token) == sam
    clock.now += timedelta(hours=7, minutes=59)
    assert sessions.agent_for(started.token) == sam
    clock.now += timedelta(minutes=1)
    assert sessions.agent_for(started.token) is None
    assert sessions.agent_for("made-up") is None and sessions.agent_for(None) is None


def test_only_the_tokens_hash_is_stored(repo, clock, sam):
    started = Sessions(repo.engine, timedelta(hours=1), clock).start(sam)
    with repo.engine.connect() as connection:
        stored = connection.execute(text("select token_hash from console_sessions")).scalars().all()
    assert stored == [token_hash(started.token)] and started.token not in stored


def test_signing_out_and_removing_an_agent_end_sessions(repo, clock, agents, sam):
    sessions = Sessions(repo.engine, timedelta(hours=1), clock)
    first, second = sessions.start(sam), sessions.start(sam)
    sessions.end(first.token)
    assert sessions.agent_for(first.token) is None and sessions.agent_for(second.token) == sam
    agents.remove("sam")
    assert sessions.agent_for(second.token) is None


@pytest.mark.parametrize("value, hours", [("", 8), ("12", 12), ("0.5", 0.5)])
def test_session_lifetime_setting(value, hours):
    assert lifetime_from({"HEARD_CONSOLE_SESSION_HOURS": value}) == timedelta(hours=hours)


@pytest.mark.parametrize("value", ["eight", "0", "-1", "1000"])
def test_bad_session_lifetime_setting(value):
    with pytest.raises(ValueError, match="HEARD_CONSOLE_SESSION_HOURS"):
        lifetime_from({"HEARD_CONSOLE_SESSION_HOURS": value})


HI = transcript_line({"event": "user", "text": "hi", "timestamp": 1764064800.25})


def handoff(repo, clock, conversation, priority, minutes_ago, order=None):
    now = clock.now
    clock.now = now - timedelta(minutes=minutes_ago)
    record = repo.create_handoff(
        conversation,
        "socketio",
        "customer_request",
        priority,
        "summary",
        [HI],
        [{"emotion": "anger"}],
        order_number=order,
    )
    clock.now = now
    return record.reference


def test_queue_order_priority_then_waiting_time(repo, clock):
    queue = HandoffQueue(repo.engine, clock)
    newer_urgent = handoff(repo, clock, "a", 1, 2)
    older_urgent = handoff(repo, clock, "b", 1, 9)
    calm = handoff(repo, clock, "c", 3, 30)
    middle = handoff(repo, clock, "d", 2, 1, order="4567890")
    listed = queue.queue()
    assert [h["reference"] for h in listed] == [older_urgent, newer_urgent, middle, calm]
    assert [h["waiting_seconds"] for h in listed] == [540, 120, 60, 1800]
    with_order = listed[2]
    assert with_order["order"]["number"] == "4567890"
    assert with_order["order"]["customer"]["email"] == "omar.haddad@example.com"
    assert listed[0]["order"] is None and listed[0]["transcript"] == [HI]


def test_take_is_exclusive_and_hand_back_leaves_the_queue(repo, clock, sam, kim):
    queue = HandoffQueue(repo.engine, clock)
    reference = handoff(repo, clock, "a", 1, 5)
    taken = queue.take(reference, sam)
    assert taken.status == "ok" and taken.handoff["status"] == "taken"
    assert taken.handoff["agent"] == "Sam Rivera"
    assert queue.take(reference, sam).status == "ok"  # a second tab of the same agent
    refused = queue.take(reference, kim)
    assert (refused.status, refused.reason) == (
        "conflict",
        "Another agent is already handling this conversation.",
    )
    assert queue.check_holder(reference, kim).status == "conflict"
    assert queue.release(reference, kim).status == "conflict"
    assert queue.agent_on("a") == "Sam Rivera"
    released = queue.release(reference, sam)
    assert released.status == "ok" and released.handoff["status"] == "returned"
    assert queue.queue() == [] and queue.agent_on("a") is None
    assert queue.take(reference, kim).status == "conflict"
    with repo.session() as s:
        assert s.query(shop.Handoff).filter_by(reference=reference).one().status == "returned"


def test_unknown_references(repo, clock, sam):
    queue = HandoffQueue(repo.engine, clock)
    assert queue.take("HO-NOPE22", sam).status == "missing"
    assert queue.release("HO-NOPE22", sam).status == "missing"
    assert queue.get("HO-NOPE22") is None


@pytest.mark.parametrize(
    "status, holder, outcome",
    [
        ("waiting", None, "take"),
        ("taken", "sam", "ok"),
        ("taken", "kim", "conflict"),
        ("returned", "sam", "conflict"),
    ],
)
def test_take_decision(status, holder, outcome):
    assert handoff_queue.take_decision(status, holder, "sam")[0] == outcome


@pytest.mark.parametrize(
    "status, holder, outcome",
    [
        ("waiting", None, "conflict"),
        ("taken", "sam", "ok"),
        ("taken", "kim", "conflict"),
        ("returned", "sam", "conflict"),
    ],
)
def test_holder_decision(status, holder, outcome):
    assert handoff_queue.holder_decision(status, holder, "sam")[0] == outcome
