"""The shop's rules (actions/policy.py) and the pure readers in formatting and conversation."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from actions import conversation, formatting, policy
from actions.empathy import Emotion, Turn
from actions.policy import RefundDecision
from heard import formats
from heard.staffed_hours import StaffedHours

NOW = datetime(2026, 11, 25, 10, 0)  # a Wednesday
TODAY = NOW.date()
D = Decimal


# --- cancellation, refunds, lateness ---------------------------------------------------


@pytest.mark.parametrize(
    "status, shipped, hours_ago, total, expected",
    [
        ("processing", False, 2, D("59.90"), D("0.00")),
        ("delayed", False, 23, D("120.00"), D("0.00")),
        ("processing", False, 24, D("500.00"), D("0.00")),  # the 24th hour is still free
        ("processing", False, 25, D("59.90"), D("3.00")),  # 5% = 2.995, rounded half up
        ("processing", False, 72, D("100.00"), D("5.00")),
        ("delayed", False, 72, D("199.99"), D("10.00")),  # 5% = 9.9995 -> 10.00
        ("processing", False, 72, D("200.00"), D("10.00")),
        ("processing", False, 72, D("1000.00"), D("10.00")),  # capped
        ("delayed", True, 2, D("64.00"), None),  # already with the carrier
        ("shipped", True, 2, D("99.50"), None),
        ("shipped", False, 2, D("99.50"), None),
        ("delivered", True, 200, D("89.00"), None),
        ("cancelled", False, 2, D("75.00"), None),
    ],
)
def test_cancellation_fee(status, shipped, hours_ago, total, expected):
    fee = policy.cancellation_fee(status, shipped, NOW - timedelta(hours=hours_ago), NOW, total)
    assert fee == expected
    if expected is not None:
        assert fee.as_tuple().exponent == -2  # always whole cents


@pytest.mark.parametrize(
    "status, delivered_days_ago, refunded, expected",
    [
        ("delivered", 5, False, RefundDecision("eligible", TODAY + timedelta(days=25))),
        ("delivered", 0, False, RefundDecision("eligible", TODAY + timedelta(days=30))),
        ("delivered", 30, False, RefundDecision("eligible", TODAY)),  # last day of the window
        ("delivered", 31, False, RefundDecision("window_passed", TODAY - timedelta(days=1))),
        ("delivered", 45, False, RefundDecision("window_passed", TODAY - timedelta(days=15))),
        ("shipped", None, False, RefundDecision("not_delivered")),
        ("processing", None, False, RefundDecision("not_delivered")),
        ("delivered", 5, True, RefundDecision("already_refunded")),
        ("delivered", 45, True, RefundDecision("already_refunded")),
        ("cancelled", None, False, RefundDecision("cancelled")),
        ("cancelled", None, True, RefundDecision("already_refunded")),
    ],
)
def test_refund_decision(status, delivered_days_ago, refunded, expected):
    delivered = None if delivered_days_ago is None else NOW - timedelta(days=delivered_days_ago)
    assert policy.refund_decision(status, delivered, NOW, refunded) == expected


@pytest.mark.parametrize(
    "status, promised_offset, expected",
    [
        ("delayed", -3, True),
        ("shipped", -1, True),
        ("processing", -1, True),
        ("shipped", 0, False),  # due today is not late yet
        ("delayed", 1, False),
        ("delivered", -10, False),
        ("cancelled", -10, False),
    ],
)
def test_is_late(status, promised_offset, expected):
    assert policy.is_late(status, TODAY + timedelta(days=promised_offset), TODAY) is expected


@pytest.mark.parametrize(
    "total, expected",
    [
        (D("120.00"), D("12.00")),
        (D("64.00"), D("6.40")),
        (D("55.55"), D("5.56")),  # 5.555 rounded half up
        (D("50.00"), D("5.00")),
        (D("49.99"), D("5.00")),  # the minimum
        (D("19.99"), D("5.00")),
        (D("0.00"), D("5.00")),
    ],
)
def test_late_voucher(total, expected):
    voucher = policy.late_voucher(total)
    assert voucher == expected and str(voucher) == str(expected)


@pytest.mark.parametrize(
    "estimated, promised, expected",
    [
        (2, -3, 2),  # the carrier's new estimate
        (None, 1, 1),  # no estimate: the promise still stands
        (-1, -3, 2),  # both in the past: two days from today
        (None, -3, 2),
        (-1, 5, 2),  # a stale estimate is not replaced by the old promise
    ],
)
def test_new_estimate_is_never_in_the_past(estimated, promised, expected):
    offset = lambda days: None if days is None else TODAY + timedelta(days=days)  # noqa: E731
    result = policy.new_estimate(offset(estimated), offset(promised), TODAY)
    assert result == offset(expected)
    assert result > TODAY


@pytest.mark.parametrize(
    "status, expected",
    [
        ("processing", True),
        ("shipped", False),
        ("delayed", False),
        ("delivered", False),
        ("cancelled", False),
    ],
)
def test_can_change(status, expected):
    assert policy.can_change(status) is expected


@pytest.mark.parametrize(
    "status, expected_by_offset, expected",
    [
        ("approved", -3, True),
        ("requested", -1, True),
        ("approved", 0, False),  # due today
        ("approved", 4, False),
        ("paid", -13, False),
    ],
)
def test_refund_overdue(status, expected_by_offset, expected):
    assert (
        policy.refund_overdue(status, TODAY + timedelta(days=expected_by_offset), TODAY) is expected
    )


@pytest.mark.parametrize(
    "statuses, expected",
    [
        ((), False),
        (("captured",), False),
        (("captured", "captured"), True),
        (("captured", "refunded"), False),
        (("refunded", "refunded"), False),
        (("captured", "refunded", "captured"), True),
    ],
)
def test_is_double_charge(statuses, expected):
    payments = tuple(
        (D("49.00"), s, NOW + timedelta(minutes=3 * i)) for i, s in enumerate(statuses)
    )
    assert policy.is_double_charge(payments) is expected


# --- staffed hours and handoffs ------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, days, opens, closes",
    [
        ("Mon-Fri 08:00-20:00", (0, 1, 2, 3, 4), time(8), time(20)),
        ("Mon-Sat 08:00-20:00", (0, 1, 2, 3, 4, 5), time(8), time(20)),
        ("mon-sun 00:00-23:59", (0, 1, 2, 3, 4, 5, 6), time(0), time(23, 59)),
        ("Mon,Wed,Fri 10:00-16:00", (0, 2, 4), time(10), time(16)),
        ("SAT 09:30-13:15", (5,), time(9, 30), time(13, 15)),
        ("  Tue-Thu   07:00-19:00 ", (1, 2, 3), time(7), time(19)),
    ],
)
def test_staffed_hours_parse(spec, days, opens, closes):
    assert StaffedHours.parse(spec) == StaffedHours(days, opens, closes)


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "Mon-Fri",
        "08:00-20:00",
        "Funday 08:00-20:00",
        "Mon-Fri 8-20",
        "Mon-Fri 08:00",
        "Mon-Fri 25:00-26:00",
        "Mon-Tue-Wed 08:00-20:00",
        "Mon,,Fri 08:00-20:00",
        "Mon - Fri 08:00-20:00",
    ],
)
def test_staffed_hours_parse_rejects_bad_specs(spec):
    with pytest.raises(ValueError, match="expected e.g. 'Mon-Fri 09:00-17:00'"):
        StaffedHours.parse(spec)


@pytest.mark.parametrize("spec", ["Fri-Mon 08:00-20:00", "Mon-Fri 20:00-08:00"])
def test_staffed_hours_that_are_never_open_are_rejected(spec):
    with pytest.raises(ValueError, match="never open"):
        StaffedHours.parse(spec)


WEEKDAYS = StaffedHours.parse("Mon-Fri 08:00-20:00")


@pytest.mark.parametrize(
    "when, is_open, next_opening",
    [
        (datetime(2026, 11, 25, 10, 0), True, datetime(2026, 11, 26, 8, 0)),
        (datetime(2026, 11, 25, 8, 0), True, datetime(2026, 11, 26, 8, 0)),  # opening minute
        (datetime(2026, 11, 25, 7, 59), False, datetime(2026, 11, 25, 8, 0)),
        (datetime(2026, 11, 25, 19, 59), True, datetime(2026, 11, 26, 8, 0)),
        (datetime(2026, 11, 25, 20, 0), False, datetime(2026, 11, 26, 8, 0)),  # closing time
        (datetime(2026, 11, 27, 21, 0), False, datetime(2026, 11, 30, 8, 0)),  # Friday night
        (datetime(2026, 11, 28, 19, 0), False, datetime(2026, 11, 30, 8, 0)),  # Saturday evening
        (datetime(2026, 11, 29, 12, 0), False, datetime(2026, 11, 30, 8, 0)),  # Sunday noon
        (datetime(2026, 12, 31, 22, 0), False, datetime(2027, 1, 1, 8, 0)),  # over the new year
    ],
)
def test_is_open_and_next_opening(when, is_open, next_opening):
    assert WEEKDAYS.is_open(when) is is_open
    assert WEEKDAYS.next_opening(when) == next_opening


def test_next_opening_a_week_ahead_for_a_single_day():
    wednesdays = StaffedHours.parse("Wed 08:00-20:00")
    assert wednesdays.next_opening(NOW) == datetime(2026, 12, 2, 8, 0)


@pytest.mark.parametrize(
    "now, waiting, expected",
    [
        (NOW, 0, ("wait", 4)),
        (NOW, 1, ("wait", 8)),
        (NOW, 5, ("wait", 24)),
        (datetime(2026, 11, 25, 21, 0), 0, ("callback", datetime(2026, 11, 26, 8, 0))),
        (datetime(2026, 11, 28, 19, 0), 3, ("callback", datetime(2026, 11, 30, 8, 0))),
    ],
)
def test_handoff_next_step(now, waiting, expected):
    assert policy.handoff_next_step(now, waiting, WEEKDAYS) == expected


def test_handoff_wait_grows_with_the_queue():
    waits = [policy.handoff_next_step(NOW, n, WEEKDAYS)[1] for n in range(6)]
    assert waits == sorted(waits) and len(set(waits)) == len(waits)


@pytest.mark.parametrize(
    "step, when, can_transfer, expected",
    [
        ("wait", 4, True, ("transfer", 4)),
        ("wait", 8, False, ("callback", NOW + timedelta(minutes=8))),
        (
            "callback",
            datetime(2026, 11, 26, 8, 0),
            True,
            ("callback", datetime(2026, 11, 26, 8, 0)),
        ),
    ],
)
def test_phone_handoff_step(step, when, can_transfer, expected):
    """A caller can't wait in a chat queue: put through, or called back."""
    assert policy.phone_handoff_step(NOW, step, when, can_transfer) == expected


# --- cases -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, days, expected",
    [
        (date(2026, 11, 25), 0, date(2026, 11, 25)),
        (date(2026, 11, 25), 1, date(2026, 11, 26)),  # Wednesday -> Thursday
        (date(2026, 11, 27), 1, date(2026, 11, 30)),  # Friday -> Monday
        (date(2026, 11, 28), 1, date(2026, 11, 30)),  # Saturday -> Monday
        (date(2026, 11, 29), 1, date(2026, 11, 30)),  # Sunday -> Monday
        (date(2026, 11, 26), 2, date(2026, 11, 30)),
        (date(2026, 11, 25), 5, date(2026, 12, 2)),
    ],
)
def test_add_business_days(start, days, expected):
    assert policy.add_business_days(start, days) == expected


@pytest.mark.parametrize(
    "kind, priority, opened, today, expected",
    [
        # "within 1 business day", as the billing, care and orders replies promise
        ("double_charge", "high", NOW, TODAY, date(2026, 11, 26)),
        ("payment_question", "normal", NOW, TODAY, date(2026, 11, 26)),
        (
            "complaint",
            "normal",
            datetime(2026, 11, 27, 18, 0),
            date(2026, 11, 27),
            date(2026, 11, 30),
        ),  # opened on a Friday evening: Monday
        (
            "complaint",
            "high",
            datetime(2026, 11, 28, 9, 0),
            date(2026, 11, 28),
            date(2026, 11, 30),
        ),  # opened on a Saturday: Monday
        # a carrier search takes two, unless the case is urgent
        ("not_received", "high", NOW, TODAY, date(2026, 11, 27)),
        ("not_received", "urgent", NOW, TODAY, date(2026, 11, 26)),
        # due today is still today; a day gone by becomes the next business day
        ("not_received", "high", datetime(2026, 11, 23, 9, 0), TODAY, TODAY),
        ("refund_overdue", "high", datetime(2026, 11, 16, 9, 0), TODAY, date(2026, 11, 26)),
        ("damage", "urgent", datetime(2026, 11, 20, 9, 0), date(2026, 11, 27), date(2026, 11, 30)),
    ],
)
def test_case_expected_by(kind, priority, opened, today, expected):
    assert policy.case_expected_by(kind, priority, opened, today) == expected


@pytest.mark.parametrize(
    "current, wanted, expected",
    [
        ("normal", "urgent", "urgent"),
        ("high", "urgent", "urgent"),
        ("normal", "high", "high"),  # a complaint that turned severe
        ("low", "normal", "normal"),
        ("urgent", "urgent", None),  # as upset as when it was opened
        ("high", "high", None),
        ("urgent", "high", None),  # calmer now: never lowered
        ("high", "normal", None),
    ],
)
def test_raised_priority(current, wanted, expected):
    assert policy.raised_priority(current, wanted) == expected


# --- formatting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        (date(2026, 11, 25), "Wednesday 25 November"),
        (datetime(2026, 11, 30, 8, 0), "Monday 30 November"),
        (date(2027, 1, 1), "Friday 1 January"),  # no leading zero
        (None, "soon"),
    ],
)
def test_day(value, expected):
    assert formatting.day(value) == expected


@pytest.mark.parametrize(
    "amount, expected",
    [
        (D("59.90"), "€59.90"),
        (D("5"), "€5.00"),
        (D("0.5"), "€0.50"),
        (D("1234.56"), "€1234.56"),
        (10, "€10.00"),
    ],
)
def test_euros(amount, expected):
    assert formatting.euros(amount) == expected


@pytest.mark.parametrize(
    "address, expected",
    [
        ("jane.doe@example.com", "j***@example.com"),
        ("m@example.org", "m***@example.org"),
        ("no-at-sign", "***"),
        ("", "***"),
    ],
)
def test_mask_email(address, expected):
    assert formats.mask_email(address) == expected


# --- conversation readers ------------------------------------------------------------------

TS = 1764064800.0  # 2025-11-25 10:00:00 UTC


def user(text, intent, emotion="neutral", intensity=0.0, ts=TS):
    return {
        "event": "user",
        "text": text,
        "timestamp": ts,
        "parse_data": {
            "intent": {"name": intent},
            "emotion": {"name": emotion, "intensity": intensity},
        },
    }


def bot(text, ts=TS + 1):
    return {"event": "bot", "text": text, "timestamp": ts}


EVENTS = [
    {"event": "action", "name": "action_listen", "timestamp": TS - 1},
    user("where is my order", "track_order", "anxiety", 0.4),
    bot("Could you give me your order number?"),
    {"event": "slot", "name": "order_id", "value": "1234567", "timestamp": TS + 2},
    user("1234567", "inform", ts=TS + 60),
    {"event": "bot", "text": None, "timestamp": TS + 61},  # e.g. a custom payload only
    bot("It is late, I'm sorry.", ts=TS + 62),
    user("this is ridiculous", "complain", "anger", 0.85, ts=TS + 120),
]


def test_user_turns():
    assert conversation.user_turns(EVENTS) == [
        Turn("track_order", Emotion("anxiety", 1.0, 0.4)),
        Turn("inform", Emotion("neutral", 1.0, 0.0)),
        Turn("complain", Emotion("anger", 1.0, 0.85)),
    ]


@pytest.mark.parametrize(
    "event, expected",
    [
        ({"event": "user", "text": "hi"}, Turn("none", Emotion())),
        ({"event": "user", "text": "hi", "parse_data": None}, Turn("none", Emotion())),
        ({"event": "user", "parse_data": {"intent": {"name": None}}}, Turn("none", Emotion())),
        (
            {"event": "user", "parse_data": {"intent": None, "emotion": {"intensity": "x"}}},
            Turn("none", Emotion()),
        ),
    ],
)
def test_user_turns_with_missing_parse_data(event, expected):
    assert conversation.user_turns([event]) == [expected]


def test_emotion_timeline():
    assert conversation.emotion_timeline(EVENTS) == [
        {
            "turn": 1,
            "at": "2025-11-25T10:00:00+00:00",
            "emotion": "anxiety",
            "intensity": 0.4,
            "intent": "track_order",
            "frustration": None,
        },
        {
            "turn": 2,
            "at": "2025-11-25T10:01:00+00:00",
            "emotion": "neutral",
            "intensity": 0.0,
            "intent": "inform",
            "frustration": None,
        },
        {
            "turn": 3,
            "at": "2025-11-25T10:02:00+00:00",
            "emotion": "anger",
            "intensity": 0.85,
            "intent": "complain",
            "frustration": None,
        },
    ]


TURNS = conversation.user_turns(
    EVENTS
    + [
        user("let me talk to a person", "contact_human_agent", "anger", 0.9, ts=TS + 180),
        user("where is it", "track_order", ts=TS + 200),
    ]
)


@pytest.mark.parametrize(
    "turns, slots, reason, expected",
    [
        (
            TURNS,
            {"verified_order": "1234567", "order_id": "1234567"},
            "customer_request",
            "Reason: customer request. Asked about: track order, complain, contact human agent. "
            "Identity checked with order 1234567. Latest emotion: neutral (0.00).",
        ),
        (
            TURNS[:3],
            {"order_id": "7654321", "identity_attempts": 3.0},
            "identity_failed",
            "Reason: identity failed. Asked about: track order, complain. "
            "Order mentioned: 7654321 (identity not confirmed). Failed identity checks: 3. "
            "Latest emotion: anger (0.85).",
        ),
        (
            [Turn("greet", Emotion()), Turn("nlu_fallback", Emotion("confusion", 1.0, 0.333))],
            {},
            "repeated_fallback",
            "Reason: repeated fallback. Asked about: nothing recognised. "
            "Latest emotion: confusion (0.33).",
        ),
        (
            [],
            {"identity_attempts": 0},
            "customer_request",
            "Reason: customer request. Asked about: nothing recognised.",
        ),
    ],
)
def test_summary(turns, slots, reason, expected):
    assert conversation.summary(turns, slots, reason) == expected
