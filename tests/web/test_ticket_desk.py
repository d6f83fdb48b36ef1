"""The console's tickets against a real shop database (SQLite and PostgreSQL): the filtered, ordered,
bounded list, one ticket with its customer, closing and reassigning (each idempotent, who
and when recorded), and the request parsing and JSON of web/ticket_desk.py."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from heard import cases
from store import models as shop
from store.console import ConsoleRecords
from store.tickets import TicketFilter, TicketRecords
from web.ticket_desk import (
    TicketDesk,
    TicketRequestError,
    parse_filter,
    parse_target,
)

SAM_HASH = "$argon2id$not-a-real-hash"


@pytest.fixture
def repo(backend_repo):
    """The seeded shop database on SQLite and on PostgreSQL (row locks, LIKE, CASE)."""
    return backend_repo


@pytest.fixture
def records(repo) -> TicketRecords:
    return TicketRecords(repo.engine)


@pytest.fixture
def sam(repo, clock):
    return ConsoleRecords(repo.engine).add_agent("sam", "Sam Rivera", SAM_HASH, clock.now)


@pytest.fixture
def kim(repo, clock):
    return ConsoleRecords(repo.engine).add_agent("kim", "Kim Lee", SAM_HASH, clock.now)


def ticket(repo, clock, kind, priority="normal", order=None, conversation=None, minutes_ago=0):
    """A ticket as the actions open one, `minutes_ago` before the clock's now."""
    now = clock.now
    clock.now = now - timedelta(minutes=minutes_ago)
    customer = repo.find_order(order).customer.id if order else None
    view, created = repo.open_ticket(
        kind, f"{kind} summary", priority, customer, order, conversation or f"c-{kind}-{order}"
    )
    clock.now = now
    assert created
    return view.reference


def references(page):
    return [t.reference for t in page[0]]


@pytest.fixture
def four(repo, clock):
    """damage high (order 3456789, 30 min), complaint urgent (no order, 5 min), review low
    (order 2345678, 60 min), double_charge urgent (order 4567890, 20 min)."""
    return {
        "damage": ticket(repo, clock, "damage", "high", "3456789", minutes_ago=30),
        "complaint": ticket(repo, clock, "complaint", "urgent", minutes_ago=5),
        "review": ticket(repo, clock, "review", "low", "2345678", minutes_ago=60),
        "double_charge": ticket(repo, clock, "double_charge", "urgent", "4567890", minutes_ago=20),
    }


def test_most_urgent_first_then_open_longest_or_newest_first(records, four):
    by_priority = references(records.page(TicketFilter()))
    assert by_priority == [
        four["double_charge"],  # urgent, 20 min
        four["complaint"],  # urgent, 5 min
        four["damage"],
        four["review"],
    ]
    newest = references(records.page(TicketFilter(sort="newest")))
    assert newest == [four["complaint"], four["double_charge"], four["damage"], four["review"]]


@pytest.mark.parametrize(
    "wanted, expected",
    [
        (TicketFilter(kind="damage"), ["damage"]),
        (TicketFilter(priority="urgent"), ["double_charge", "complaint"]),
        (TicketFilter(text="6789"), ["damage", "double_charge"]),  # 3456789 and 4567890
        (TicketFilter(text="2345678"), ["review"]),
        (TicketFilter(kind="review", priority="urgent"), []),
        (TicketFilter(text="%"), []),  # a LIKE wildcard is a character like any other
        (TicketFilter(status="closed"), []),
    ],
)
def test_filters(records, four, wanted, expected):
    assert set(references(records.page(wanted))) == {four[k] for k in expected}


def test_a_reference_is_found_by_any_part_in_any_case(records, four):
    reference = four["complaint"]
    assert references(records.page(TicketFilter(text=reference[3:].lower()))) == [reference]


def test_pages_are_bounded_and_count_everything(records, four):
    first, total = records.page(TicketFilter(limit=3))
    second, again = records.page(TicketFilter(limit=3, offset=3))
    assert (len(first), len(second), total, again) == (3, 1, 4, 4)
    assert {t.reference for t in first + second} == set(four.values())
    assert len(records.page(TicketFilter(limit=10_000))[0]) == 4  # at most MAX_PAGE


def test_a_ticket_shows_its_customer_and_team(repo, clock, records, four):
    damage = records.get(four["damage"])
    assert (damage.customer_name, damage.customer_email) == ("Jane Doe", "jane.doe@example.com")
    assert damage.team == "returns" and damage.assignee is None
    assert damage.summary == "damage summary" and damage.conversation_id == "c-damage-3456789"
    assert records.get(four["complaint"]).customer_name is None  # no order, no customer
    assert records.get("TK-NOPE22") is None
    # The order's customer when the ticket names none; nobody once the account is closed.
    with repo.session() as s:
        s.query(shop.Ticket).filter_by(reference=four["review"]).update({"customer_id": None})
    assert records.get(four["review"]).customer_name == "Jane Doe"
    repo.delete_customer(repo.find_order("3456789").customer.id)
    assert records.get(four["damage"]).customer_email is None


def test_closing_is_recorded_once(repo, clock, records, sam, kim, four):
    reference = four["damage"]
    closed_at = clock.now
    first = records.close(reference, "sam", closed_at)
    assert first.outcome == "changed"
    assert (first.ticket.status, first.ticket.closed_at) == ("closed", closed_at)
    assert (first.ticket.closed_by.username, first.ticket.closed_by.name) == ("sam", "Sam Rivera")
    clock.now += timedelta(minutes=3)
    again = records.close(reference, "kim", clock.now)
    assert again.outcome == "unchanged" and again.ticket == first.ticket  # who and when kept
    assert records.close("TK-NOPE22", "sam", clock.now).outcome == "missing"
    assert reference not in references(records.page(TicketFilter()))
    assert references(records.page(TicketFilter(status="closed"))) == [reference]
    assert len(records.page(TicketFilter(status="all"))[0]) == 4
    # The same problem reported again is a new case, not the closed one.
    view, created = repo.open_ticket("damage", "again", "high", None, "3456789", "c-later")
    assert created and view.reference != reference


def test_two_agents_closing_at_once_close_it_once(clock, records, sam, kim, four):
    """Both tabs ask at the same moment: one closes it, the other is told it was closed,
    and the ticket names the one who did (each ticket is locked for its change)."""
    for reference in four.values():
        start, outcomes = threading.Barrier(2), {}

        def close(who, reference=reference, start=start, outcomes=outcomes):
            start.wait(timeout=10)
            outcomes[who] = records.close(reference, who, clock.now).outcome

        racers = [threading.Thread(target=close, args=(who,)) for who in ("sam", "kim")]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join(timeout=30)
        assert sorted(outcomes.values()) == ["changed", "unchanged"], outcomes
        winner = next(who for who, outcome in outcomes.items() if outcome == "changed")
        assert records.get(reference).closed_by.username == winner


def test_reassigning_to_a_team_or_an_agent(clock, records, sam, kim, four):
    reference = four["damage"]
    # Its own team, with nobody on it: nothing to change, nothing recorded.
    same = records.assign_team(reference, "returns", "sam", clock.now)
    assert same.outcome == "unchanged" and same.ticket.assigned_at is None

    to_kim = records.assign_agent(reference, "kim", "sam", clock.now)
    assert to_kim.outcome == "changed"
    assert (to_kim.ticket.team, to_kim.ticket.assignee.name) == ("returns", "Kim Lee")
    assert (to_kim.ticket.assigned_by.username, to_kim.ticket.assigned_at) == ("sam", clock.now)
    clock.now += timedelta(minutes=1)
    repeat = records.assign_agent(reference, "kim", "kim", clock.now)
    assert repeat.outcome == "unchanged" and repeat.ticket == to_kim.ticket

    unknown = records.assign_agent(reference, "nobody", "sam", clock.now)
    assert unknown.outcome == "unknown_agent" and unknown.ticket == to_kim.ticket

    to_billing = records.assign_team(reference, "billing", "kim", clock.now)
    assert to_billing.outcome == "changed"
    assert (to_billing.ticket.team, to_billing.ticket.assignee) == ("billing", None)
    assert (to_billing.ticket.assigned_by.name, to_billing.ticket.assigned_at) == (
        "Kim Lee",
        clock.now,
    )
    with pytest.raises(ValueError, match="unknown team"):
        records.assign_team(reference, "marketing", "sam", clock.now)

    records.close(reference, "sam", clock.now)
    assert records.assign_team(reference, "returns", "sam", clock.now).outcome == "closed"
    assert records.assign_agent(reference, "sam", "sam", clock.now).outcome == "closed"
    assert records.get(reference).team == "billing"
    assert records.assign_agent("TK-NOPE22", "sam", "sam", clock.now).outcome == "missing"


def test_a_removed_agent_is_still_named_by_username(repo, clock, records, sam, four):
    records.assign_agent(four["damage"], "sam", "sam", clock.now)
    ConsoleRecords(repo.engine).remove_agent("sam")
    assignee = records.get(four["damage"]).assignee
    assert (assignee.username, assignee.name) == ("sam", "sam")


# --- web/ticket_desk.py: what a request may ask for, and the JSON ---------------------


def test_filter_defaults():
    assert parse_filter({}) == TicketFilter()
    wanted = parse_filter(
        {"kind": "damage", "priority": "high", "status": "all", "q": " 3456 ", "sort": "newest"}
        | {"limit": "10", "offset": "20"}
    )
    assert wanted == TicketFilter("damage", "high", "all", "3456", "newest", 10, 20)


@pytest.mark.parametrize(
    "args, message",
    [
        ({"kind": "gift_card"}, "'kind' must be one of"),
        ({"priority": "critical"}, "'priority' must be one of: low, normal, high, urgent"),
        ({"status": "pending"}, "'status' must be one of: open, closed, all"),
        ({"sort": "oldest"}, "'sort' must be one of: priority, newest"),
        ({"q": "%"}, "'q' is part of an order number"),
        ({"q": "x" * 21}, "'q' is part of an order number"),
        ({"q": "<script>"}, "'q' is part of an order number"),
        ({"limit": "0"}, "'limit' must be a whole number from 1 to 100"),
        ({"limit": "101"}, "'limit' must be a whole number from 1 to 100"),
        ({"limit": "1e3"}, "'limit' must be a whole number"),
        ({"offset": "-1"}, "'offset' must be a whole number from 0 to 100000"),
        ({"offset": "9" * 400}, "'offset' must be a whole number"),
    ],
)
def test_bad_filters(args, message):
    with pytest.raises(TicketRequestError, match=message):
        parse_filter(args)


@pytest.mark.parametrize(
    "body, kind, name",
    [
        ({"to": "team:customer care"}, "team", "customer care"),
        ({"to": "agent:sam"}, "agent", "sam"),
    ],
)
def test_targets(body, kind, name):
    target = parse_target(body)
    assert (target.kind, target.name) == (kind, name)


@pytest.mark.parametrize(
    "body",
    [None, {}, {"to": "sam"}, {"to": "team:marketing"}, {"to": 7}, {"to": "agent:" + "x" * 41}],
)
def test_bad_targets(body):
    with pytest.raises(TicketRequestError):
        parse_target(body)


def test_every_team_owns_a_kind_of_case():
    assert set(cases.TEAMS) == set(cases.CASE_TEAMS.values())


def test_ticket_json(repo, clock, sam, four):
    desk = TicketDesk(repo.engine, clock)
    listed = desk.page(TicketFilter(kind="damage"))
    assert (listed["total"], listed["limit"], listed["offset"]) == (1, 50, 0)
    (row,) = listed["tickets"]
    assert "summary" not in row  # the list stays small; one ticket has it
    assert row == {
        "reference": four["damage"],
        "kind": "damage",
        "priority": "high",
        "status": "open",
        "order_number": "3456789",
        "customer": {"name": "Jane Doe", "email": "j***@example.com"},
        "created_at": "2026-11-25T09:30:00Z",
        "age_seconds": 1800,
        "team": "returns",
        "assignee": None,
        "assigned_by": None,
        "assigned_at": None,
        "closed_by": None,
        "closed_at": None,
        "conversation_id": "c-damage-3456789",
        "messages_url": f"/console/api/tickets/{four['damage']}/messages",
    }
    assert desk.get(four["damage"]) == {**row, "summary": "damage summary"}
    assert desk.get("TK-../../x") is None and desk.get(four["damage"].lower()) is None
    choices = desk.choices()
    assert choices["teams"] == sorted(set(cases.CASE_TEAMS.values()))
    assert choices["priorities"] == ["urgent", "high", "normal", "low"]
    assert choices["agents"] == [{"username": "sam", "name": "Sam Rivera"}]
    assert "damage" in choices["kinds"]
