"""The repository on every supported backend (SQLite and PostgreSQL) over the seeded data."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from actions import policy
from store import models as m
from store.seed import seed
from tests.harness import stored

NOW = datetime(2026, 11, 25, 10, 0)
TODAY = NOW.date()
D = Decimal


def customer_id(repo, email):
    return repo.customer_by_email(email).id


# --- identity ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number, email, expected",
    [
        ("1234567", "jane.doe@example.com", "1234567"),
        ("1234567", "Jane.Doe@EXAMPLE.com", "1234567"),
        ("1234567", "  jane.doe@example.com\t", "1234567"),
        ("10234567", "lukas.weber@example.com", "10234567"),
        ("123456", "ana.souza@example.com", "123456"),
        ("1234567", "omar.haddad@example.com", None),  # someone else's order
        ("1234567", "jane.doe@example.co", None),
        ("1234567", "", None),
        ("0000000", "jane.doe@example.com", None),
        ("12345678", "jane.doe@example.com", None),
    ],
)
def test_verify_identity(backend_repo, number, email, expected):
    order = backend_repo.verify_identity(number, email)
    assert (order.number if order else None) == expected


def test_verify_identity_refuses_a_deleted_customer(backend_repo):
    jane = customer_id(backend_repo, "jane.doe@example.com")
    backend_repo.delete_customer(jane)
    assert backend_repo.verify_identity("1234567", "jane.doe@example.com") is None
    # Not even with the anonymised address now on the record.
    assert backend_repo.verify_identity("1234567", f"deleted-{jane}@invalid") is None


# --- orders ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number, status, total, items_text",
    [
        ("1234567", "processing", "59.90", "wireless headphones"),
        ("2345678", "shipped", "99.50", "running shoes, 2 x sports socks"),
        ("10234567", "shipped", "298.00", "2 x laser printer"),
        ("5678901", "delivered", "19.99", "phone case"),
    ],
)
def test_find_order_view(backend_repo, number, status, total, items_text):
    order = backend_repo.find_order(number)
    assert (order.number, order.status, order.items_text) == (number, status, items_text)
    assert isinstance(order.total, Decimal) and str(order.total) == total  # exact, 2 places
    assert order.currency == "EUR"


def test_find_order_details(backend_repo):
    order = backend_repo.find_order("2345678")
    assert order.items == (("running shoes", 1, D("84.50")), ("sports socks", 2, D("7.50")))
    assert (order.carrier, order.tracking_code) == ("DHL", "DHL2345678X")
    assert order.placed_at == NOW - timedelta(days=3)
    assert order.shipped_at == NOW - timedelta(days=1)
    assert (order.delivered_at, order.promised_date) == (None, TODAY + timedelta(days=2))
    assert (order.customer.first_name, order.customer.email) == ("Jane", "jane.doe@example.com")
    assert order.shipping_address == order.customer.default_address
    assert backend_repo.find_order("9999999") is None


def test_double_charged_order_has_two_captured_payments(backend_repo):
    order = backend_repo.find_order("7890123")
    placed = NOW - timedelta(days=12)
    assert sorted(order.payments, key=lambda p: p[2]) == [
        (D("49.00"), "captured", placed),
        (D("49.00"), "captured", placed + timedelta(minutes=3)),
    ]
    assert policy.is_double_charge(order.payments)


@pytest.mark.parametrize(
    "number, fee, refund",
    [
        ("1234567", D("0.00"), D("59.90")),
        ("6789012", D("10.00"), D("190.00")),
    ],
)
def test_cancel_order(backend_repo, number, fee, refund):
    view = backend_repo.cancel_order(number, fee)
    assert (view.order_number, view.amount, view.status) == (number, refund, "approved")
    assert view.reference.startswith("RF-")
    assert (view.created_at, view.expected_by) == (NOW, TODAY + timedelta(days=7))
    order = backend_repo.find_order(number)
    assert order.status == "cancelled"
    assert backend_repo.refunds_for(number) == [view]


@pytest.mark.parametrize("number", ["2345678", "4567890", "3456789", "8901234"])
def test_cancel_order_refuses_once_shipped_and_changes_nothing(backend_repo, number):
    status = backend_repo.find_order(number).status
    refunds = backend_repo.count(m.Refund)
    with pytest.raises(ValueError, match="can no longer be cancelled"):
        backend_repo.cancel_order(number, D("0.00"))
    assert backend_repo.find_order(number).status == status
    assert backend_repo.count(m.Refund) == refunds


def test_update_shipping_address_while_processing(backend_repo):
    backend_repo.update_shipping_address("1234567", "1 New Road, Shelbyville")
    assert backend_repo.find_order("1234567").shipping_address == "1 New Road, Shelbyville"


@pytest.mark.parametrize("number", ["2345678", "4567890", "3456789"])
def test_update_shipping_address_refused_after_the_warehouse(backend_repo, number):
    before = backend_repo.find_order(number).shipping_address
    with pytest.raises(ValueError, match="left the warehouse"):
        backend_repo.update_shipping_address(number, "1 New Road, Shelbyville")
    assert backend_repo.find_order(number).shipping_address == before


# --- refunds and vouchers --------------------------------------------------------------


def test_refunds_for_lists_oldest_first(backend_repo, clock):
    later = backend_repo.create_refund("9012345", D("5.00"), "goodwill")
    clock.now = NOW - timedelta(days=5)  # created after `later`, but dated earlier
    earlier = backend_repo.create_refund("9012345", D("30.00"), "price_match")
    refunds = backend_repo.refunds_for("9012345")
    assert [r.reference for r in refunds] == [earlier.reference, "RF-ONTRACK", later.reference]
    assert [r.amount for r in refunds] == [D("30.00"), D("35.00"), D("5.00")]
    assert earlier.expected_by == TODAY + timedelta(days=2)
    assert backend_repo.refunds_for("1234567") == []


def test_create_refund_only_once_per_order_and_reason(backend_repo):
    first = backend_repo.create_refund("3456789", D("89.00"), "damaged_item")
    assert backend_repo.create_refund("3456789", D("89.00"), "damaged_item") == first
    assert backend_repo.create_refund("9012345", D("35.00"), "return").reference == "RF-ONTRACK"
    other = backend_repo.create_refund("3456789", D("5.00"), "goodwill")
    assert other.reference != first.reference
    assert [r.reference for r in backend_repo.refunds_for("3456789")] == [
        first.reference,
        other.reference,
    ]


def test_issue_voucher_only_once_per_order_and_reason(backend_repo):
    code, created = backend_repo.issue_voucher("4567890", D("12.00"), "late_delivery")
    assert created and code.startswith("GW-")
    assert backend_repo.issue_voucher("4567890", D("12.00"), "late_delivery") == (code, False)
    other_reason, created_other = backend_repo.issue_voucher("4567890", D("5.00"), "damaged")
    other_order, created_order = backend_repo.issue_voucher("123456", D("6.40"), "late_delivery")
    assert created_other and created_order
    assert len({code, other_reason, other_order}) == 3
    assert backend_repo.count(m.Voucher) == 3


# --- tickets, handoffs, feedback -------------------------------------------------------


def test_open_ticket_and_tickets(backend_repo):
    mei = customer_id(backend_repo, "mei.chen@example.org")
    charge, created = backend_repo.open_ticket(
        "double_charge",
        "Charged twice for the blender",
        "high",
        customer_id=mei,
        order_number="7890123",
        conversation_id="c-1",
    )
    damage, _ = backend_repo.open_ticket("damage", "Lamp arrived broken")
    question, _ = backend_repo.open_ticket(
        "payment_question", "Invoice missing", order_number="7890123"
    )
    assert created and charge.reference.startswith("TK-")
    assert (charge.kind, charge.priority, charge.status, charge.created_at) == (
        "double_charge",
        "high",
        "open",
        NOW,
    )
    assert len({charge.reference, damage.reference, question.reference}) == 3
    assert [t.reference for t in stored(backend_repo, m.Ticket)] == [
        charge.reference,
        damage.reference,
        question.reference,
    ]
    (first,) = stored(backend_repo, m.Ticket, kind="double_charge")
    assert (
        first.priority,
        first.status,
        first.customer_id,
        first.order_number,
        first.conversation_id,
        first.summary,
        first.created_at,
    ) == ("high", "open", mei, "7890123", "c-1", "Charged twice for the blender", NOW)
    assert stored(backend_repo, m.Ticket, kind="complaint") == []


def test_one_open_ticket_per_order_and_problem_from_any_conversation(backend_repo, clock):
    opened, created = backend_repo.open_ticket(
        "refund_overdue", "Refund overdue", "high", order_number="8901234", conversation_id="chat"
    )
    clock.now = NOW + timedelta(days=1)
    again, created_again = backend_repo.open_ticket(
        "refund_overdue", "Refund overdue", "low", order_number="8901234", conversation_id="call"
    )
    assert created and not created_again
    assert again == opened  # as it was opened: priority, time and all
    (ticket,) = stored(backend_repo, m.Ticket, kind="refund_overdue")
    assert (ticket.conversation_id, ticket.summary) == ("chat", "Refund overdue")


def test_a_repeat_adds_its_new_words_to_the_open_ticket(backend_repo, clock):
    backend_repo.open_ticket("order_change", "size L please", order_number="1234567")
    clock.now = NOW + timedelta(hours=2)
    for text in ("size L please", "and blue", "and blue"):
        backend_repo.open_ticket("order_change", text, order_number="1234567")
    (ticket,) = stored(backend_repo, m.Ticket, kind="order_change")
    assert ticket.summary == "size L please\nAgain on 2026-11-25 12:00: and blue"


def test_a_summary_stops_growing_at_its_limit(backend_repo):
    from store.repository import TICKET_SUMMARY_LIMIT

    backend_repo.open_ticket("complaint", "x" * TICKET_SUMMARY_LIMIT, conversation_id="c-1")
    backend_repo.open_ticket("complaint", "one more thing", conversation_id="c-1")
    assert len(stored(backend_repo, m.Ticket, kind="complaint")[0].summary) == TICKET_SUMMARY_LIMIT


@pytest.mark.parametrize(
    "first, second, tickets",
    [
        # (kind, order, conversation) of two reports, and how many tickets they make
        (("complaint", None, "c-1"), ("complaint", None, "c-1"), 1),
        (("complaint", None, "c-1"), ("complaint", None, "c-2"), 2),
        (("complaint", "1234567", "c-1"), ("complaint", "1234567", "c-2"), 1),
        (("complaint", "1234567", "c-1"), ("complaint", "2345678", "c-1"), 2),
        (("double_charge", "7890123", "c-1"), ("payment_question", "7890123", "c-1"), 2),
        (("double_charge", "7890123", "c-1"), ("refund_overdue", "7890123", "c-1"), 2),
    ],
)
def test_what_counts_as_the_same_problem(backend_repo, first, second, tickets):
    for kind, order, conversation in (first, second):
        backend_repo.open_ticket(kind, "report", order_number=order, conversation_id=conversation)
    assert backend_repo.count(m.Ticket) == tickets


def test_a_closed_ticket_lets_the_problem_open_again(backend_repo):
    old, _ = backend_repo.open_ticket("damage", "broken", order_number="3456789")
    with backend_repo.session() as s:
        s.query(m.Ticket).update({"status": "closed"})
    new, created = backend_repo.open_ticket("damage", "broken", order_number="3456789")
    assert created and new.reference != old.reference


def test_raise_ticket_priority(backend_repo):
    ticket, _ = backend_repo.open_ticket(
        "payment_question", "why?", "normal", order_number="1234567"
    )
    backend_repo.raise_ticket_priority(ticket.reference, "urgent")
    assert stored(backend_repo, m.Ticket, kind="payment_question")[0].priority == "urgent"


def test_reports_at_the_same_moment_open_one_ticket(backend_repo):
    """Conversations reporting the same problem at once take turns on the order's lock,
    so each later one finds the first one's ticket."""
    start = threading.Barrier(8)

    def report(conversation):
        start.wait()
        return backend_repo.open_ticket(
            "double_charge",
            "charged twice",
            "high",
            order_number="7890123",
            conversation_id=conversation,
        )

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(report, [f"c-{i}" for i in range(8)]))
    assert sum(created for _, created in results) == 1
    assert len({ticket.reference for ticket, _ in results}) == 1
    assert backend_repo.count(m.Ticket) == 1


TRANSCRIPT = [  # heard.contract's transcript lines
    {
        "sender": "customer",
        "text": "Wo ist mein Paket? 😠",
        "time": 1764064800.0,
        "agent": None,
        "buttons": [],
    },
    {
        "sender": "heard",
        "text": "I'm sorry — let me check.",
        "time": 1764064801.5,
        "agent": None,
        "buttons": [{"title": "Track it", "payload": "/track_order"}],
    },
    {
        "sender": "agent",
        "text": "Hallo, ich bin Sam.",
        "time": 1764065100.0,
        "agent": "Sam",
        "buttons": [],
    },
]
TIMELINE = [
    {
        "turn": 1,
        "at": "2025-11-25T10:00:00+00:00",
        "emotion": "anger",
        "intensity": 0.85,
        "intent": "track_order",
    },
    {"turn": 2, "at": None, "emotion": "anger", "intensity": 0.9, "intent": "complain"},
]


def test_create_handoff_round_trip(backend_repo):
    omar = customer_id(backend_repo, "omar.haddad@example.com")
    callback = datetime(2026, 11, 26, 8, 0)
    created = backend_repo.create_handoff(
        "conv-1",
        "rest",
        "repeated_anger",
        1,
        "Reason: repeated anger.",
        TRANSCRIPT,
        TIMELINE,
        customer_id=omar,
        order_number="4567890",
        callback_at=callback,
    )
    assert created.reference.startswith("HO-")
    assert backend_repo.waiting_handoff("conv-1") == created
    [row] = stored(backend_repo, m.Handoff)
    assert (row.reference, row.summary) == (created.reference, "Reason: repeated anger.")
    assert (row.transcript, row.emotion_timeline) == (TRANSCRIPT, TIMELINE)
    assert (row.status, row.customer_id, row.order_number, row.callback_at, row.created_at) == (
        "waiting",
        omar,
        "4567890",
        callback,
        NOW,
    )


def test_waiting_handoffs_are_those_no_colleague_has_taken(backend_repo, clock):
    assert backend_repo.waiting_handoffs() == 0
    made = {}
    for name, minutes in [("first", -60), ("again", 0), ("other", 5)]:
        clock.now = NOW + timedelta(minutes=minutes)
        conversation = "conv-other" if name == "other" else "conv-1"
        made[name] = backend_repo.create_handoff(
            conversation, "rest", "customer_request", 3, name, [], []
        ).reference
    assert backend_repo.waiting_handoffs() == 3
    assert backend_repo.waiting_handoff("conv-1").reference == made["first"]  # the oldest
    with backend_repo.session() as s:  # an agent picks one up
        s.query(m.Handoff).filter_by(reference=made["first"]).one().status = "assigned"
    assert backend_repo.waiting_handoffs() == 2
    assert backend_repo.waiting_handoff("conv-1").reference == made["again"]
    assert backend_repo.waiting_handoff("conv-none") is None


@pytest.mark.parametrize("rating", [0, 6, -1, 10])
def test_record_feedback_rejects_ratings_outside_1_to_5(backend_repo, rating):
    with pytest.raises(ValueError):
        backend_repo.record_feedback("conv-1", "rest", rating, "anger", "neutral")
    assert backend_repo.count(m.Feedback) == 0


@pytest.mark.parametrize("rating", [1, 5])
def test_record_feedback(backend_repo, rating):
    backend_repo.record_feedback("conv-1", "rest", rating, "anger", "neutral")
    with backend_repo.session() as s:
        row = s.query(m.Feedback).one()
        assert (row.rating, row.emotion_start, row.emotion_end, row.created_at) == (
            rating,
            "anger",
            "neutral",
            NOW,
        )


def _resolutions(repo):
    with repo.session() as s:
        return [
            (r.conversation_id, r.channel, r.request, r.resolved, r.turn, r.created_at)
            for r in s.query(m.Resolution).order_by(m.Resolution.id)
        ]


def test_record_resolution_once_per_conversation_turn_and_request(backend_repo, clock):
    backend_repo.record_resolution("conv-1", "rest", "track_order", True, 1)
    clock.now = NOW + timedelta(seconds=5)
    backend_repo.record_resolution("conv-1", "rest", "track_order", False, 1)  # a retry
    backend_repo.record_resolution("conv-1", "rest", "track_order", True, 1)
    backend_repo.record_resolution("conv-1", "rest", "cancel_order", False, 1)  # another request
    backend_repo.record_resolution("conv-1", "rest", "track_order", False, 3)  # a later turn
    backend_repo.record_resolution("conv-2", "socketio", "track_order", True, 1)
    later = NOW + timedelta(seconds=5)
    assert _resolutions(backend_repo) == [
        ("conv-1", "rest", "track_order", True, 1, NOW),  # the first record stays as it was
        ("conv-1", "rest", "cancel_order", False, 1, later),
        ("conv-1", "rest", "track_order", False, 3, later),
        ("conv-2", "socketio", "track_order", True, 1, later),
    ]


def test_retries_racing_the_first_call_record_one_resolution(backend_repo):
    start = threading.Barrier(8)

    def record(resolved):
        start.wait()
        backend_repo.record_resolution("conv-1", "rest", "request_refund", resolved, 2)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(record, [True] * 4 + [False] * 4))
    [(conversation, _, request, _, turn, _)] = _resolutions(backend_repo)
    assert (conversation, request, turn) == ("conv-1", "request_refund", 2)


# --- newsletter and accounts ---------------------------------------------------------------


def test_set_newsletter_upserts_one_row_per_address(backend_repo, clock):
    backend_repo.set_newsletter(" Jane.Doe@Example.com ", True)
    clock.now = NOW + timedelta(days=1)
    backend_repo.set_newsletter("jane.doe@example.com", False)
    assert backend_repo.count(m.NewsletterSubscription) == 1
    with backend_repo.session() as s:
        row = s.query(m.NewsletterSubscription).one()
        assert (row.email, row.subscribed, row.updated_at) == (
            "jane.doe@example.com",
            False,
            NOW + timedelta(days=1),
        )


@pytest.mark.parametrize(
    "email",
    [
        "jane.doe@example.com",
        "JANE.DOE@EXAMPLE.COM",
        " Mei.Chen@example.org ",
    ],
)
def test_create_customer_refuses_an_existing_email(backend_repo, email):
    customers = backend_repo.count(m.Customer)
    assert backend_repo.create_customer("Jane", "Again", email) is False
    assert backend_repo.count(m.Customer) == customers


def test_create_customer(backend_repo):
    assert backend_repo.create_customer("Noor", "Ali", "  Noor.Ali@example.com ") is True
    noor = backend_repo.customer_by_email("noor.ali@example.com")
    assert (noor.first_name, noor.last_name, noor.email, noor.account_type) == (
        "Noor",
        "Ali",
        "Noor.Ali@example.com",
        "personal",
    )
    assert backend_repo.create_customer("Noor", "Ali", "noor.ali@example.com") is False


def test_update_customer(backend_repo):
    ana = customer_id(backend_repo, "ana.souza@example.com")
    backend_repo.update_customer(ana, phone="+49 30 123456", last_name="Souza-Lima")
    view = backend_repo.customer_by_email("ana.souza@example.com")
    assert (view.phone, view.last_name) == ("+49 30 123456", "Souza-Lima")
    with backend_repo.session() as s:
        action = s.query(m.AccountAction).one()
        assert (action.customer_id, action.kind, action.detail) == (ana, "edit", "last_name, phone")


@pytest.mark.parametrize(
    "fields", [{"email": "x@example.com"}, {"id": 99}, {"phone": "1", "deleted_at": None}]
)
def test_update_customer_refuses_unknown_fields(backend_repo, fields):
    ana = customer_id(backend_repo, "ana.souza@example.com")
    before = backend_repo.customer_by_email("ana.souza@example.com")
    with pytest.raises(ValueError, match="cannot update"):
        backend_repo.update_customer(ana, **fields)
    assert backend_repo.customer_by_email("ana.souza@example.com") == before
    assert backend_repo.count(m.AccountAction) == 0


def test_delete_customer_anonymises_and_keeps_orders(backend_repo):
    jane = customer_id(backend_repo, "jane.doe@example.com")
    customers = backend_repo.count(m.Customer)
    backend_repo.delete_customer(jane)
    assert backend_repo.customer_by_email("jane.doe@example.com") is None
    order = backend_repo.find_order("3456789")  # kept for accounting
    assert (order.customer.email, order.customer.phone, order.customer.default_address) == (
        f"deleted-{jane}@invalid",
        None,
        None,
    )
    assert backend_repo.verify_identity("3456789", "jane.doe@example.com") is None
    assert backend_repo.count(m.Customer) == customers
    # The address is free again for a new account.
    assert backend_repo.create_customer("Jane", "Doe", "jane.doe@example.com") is True


# --- seed ----------------------------------------------------------------------------------


def test_seed_leaves_a_seeded_database_alone(backend_repo):
    counts = [backend_repo.count(t) for t in (m.Customer, m.Order, m.Payment, m.Refund)]
    assert seed(backend_repo) is False
    assert [backend_repo.count(t) for t in (m.Customer, m.Order, m.Payment, m.Refund)] == counts
    assert counts == [5, 12, 13, 3]


def _refund(repo, number):
    [refund] = repo.refunds_for(number)
    return refund


# Each row of seed.py's docstring, checked through the shop's own rules.
SEED_STATES = {
    "1234567": (
        "jane.doe@example.com",
        "processing",
        lambda o, r: (
            policy.cancellation_fee(o.status, False, o.placed_at, NOW, o.total) == D("0.00")
            and o.placed_at == NOW - timedelta(hours=2)
        ),
    ),
    "2345678": (
        "jane.doe@example.com",
        "shipped",
        lambda o, r: (
            o.shipped_at is not None and not policy.is_late(o.status, o.promised_date, TODAY)
        ),
    ),
    "3456789": (
        "jane.doe@example.com",
        "delivered",
        lambda o, r: (
            o.delivered_at == NOW - timedelta(days=5)
            and policy.refund_decision(o.status, o.delivered_at, NOW, False).outcome == "eligible"
        ),
    ),
    "4567890": (
        "omar.haddad@example.com",
        "delayed",
        lambda o, r: (
            o.promised_date == TODAY - timedelta(days=3)
            and policy.is_late(o.status, o.promised_date, TODAY)
        ),
    ),
    "5678901": (
        "omar.haddad@example.com",
        "delivered",
        lambda o, r: (
            o.delivered_at == NOW - timedelta(days=45)
            and policy.refund_decision(o.status, o.delivered_at, NOW, False).outcome
            == "window_passed"
        ),
    ),
    "6789012": (
        "omar.haddad@example.com",
        "processing",
        lambda o, r: (
            policy.cancellation_fee(o.status, False, o.placed_at, NOW, o.total) == D("10.00")
        ),
    ),
    "7890123": (
        "mei.chen@example.org",
        "delivered",
        lambda o, r: policy.is_double_charge(o.payments),
    ),
    "8901234": (
        "mei.chen@example.org",
        "cancelled",
        lambda o, r: policy.refund_overdue(r("8901234").status, r("8901234").expected_by, TODAY),
    ),
    "9012345": (
        "mei.chen@example.org",
        "delivered",
        lambda o, r: (
            r("9012345").status == "approved"
            and not policy.refund_overdue(r("9012345").status, r("9012345").expected_by, TODAY)
        ),
    ),
    "10234567": (
        "lukas.weber@example.com",
        "shipped",
        lambda o, r: o.customer.account_type == "business",
    ),
    "11234567": (
        "lukas.weber@example.com",
        "delivered",
        lambda o, r: r("11234567").status == "paid" and r("11234567").paid_at is not None,
    ),
    "123456": (
        "ana.souza@example.com",
        "delayed",
        lambda o, r: (
            o.promised_date >= TODAY and not policy.is_late(o.status, o.promised_date, TODAY)
        ),
    ),
}


@pytest.mark.parametrize("number", list(SEED_STATES))
def test_seed_loads_every_documented_state(backend_repo, number):
    email, status, holds = SEED_STATES[number]
    order = backend_repo.find_order(number)
    assert (order.customer.email, order.status) == (email, status)
    assert holds(order, lambda n: _refund(backend_repo, n))
