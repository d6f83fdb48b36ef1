"""The shop's rules as pure functions: what may be done to an order, and what it costs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Optional, Tuple, Union

# Staffed hours live in heard/ (heard.settings parses HEARD_STAFFED_HOURS with them).
from heard.cases import CASE_PRIORITIES
from heard.staffed_hours import StaffedHours

REFUND_WINDOW_DAYS = 30
FREE_CANCELLATION_HOURS = 24
CANCELLATION_FEE_RATE = Decimal("0.05")
CANCELLATION_FEE_CAP = Decimal("10.00")
LATE_VOUCHER_RATE = Decimal("0.10")
LATE_VOUCHER_MIN = Decimal("5.00")
MINUTES_PER_WAITING_HANDOFF = 4
VAT_RATE = Decimal("0.19")
VAT_DIVISOR = 1 + VAT_RATE  # prices include VAT


def money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def cancellation_fee(
    status: str, shipped: bool, placed_at: datetime, now: datetime, total: Decimal
) -> Optional[Decimal]:
    """The fee to cancel, or None when the order can no longer be cancelled."""
    if status not in ("processing", "delayed") or shipped:
        return None
    if now - placed_at <= timedelta(hours=FREE_CANCELLATION_HOURS):
        return Decimal("0.00")
    return money(min(Decimal(total) * CANCELLATION_FEE_RATE, CANCELLATION_FEE_CAP))


@dataclass(frozen=True)
class RefundDecision:
    outcome: str  # "eligible", "not_delivered", "window_passed", "already_refunded", "cancelled"
    deadline: Optional[date] = None


def refund_decision(
    status: str, delivered_at: Optional[datetime], now: datetime, already_refunded: bool
) -> RefundDecision:
    if already_refunded:
        return RefundDecision("already_refunded")
    if status == "cancelled":
        return RefundDecision("cancelled")
    if delivered_at is None:
        return RefundDecision("not_delivered")
    deadline = (delivered_at + timedelta(days=REFUND_WINDOW_DAYS)).date()
    if now.date() > deadline:
        return RefundDecision("window_passed", deadline)
    return RefundDecision("eligible", deadline)


def is_late(status: str, promised: date, today: date) -> bool:
    return status not in ("delivered", "cancelled") and today > promised


def late_voucher(total: Decimal) -> Decimal:
    return money(max(Decimal(total) * LATE_VOUCHER_RATE, LATE_VOUCHER_MIN))


def new_estimate(estimated: Optional[date], promised: date, today: date) -> date:
    """A date to promise a customer whose parcel is late: never one already in the past."""
    candidate = estimated or promised
    return candidate if candidate > today else today + timedelta(days=2)


def can_change(status: Optional[str]) -> bool:
    """Items and address can change only while the warehouse still has the order (None:
    no order found, so nothing to change)."""
    return status == "processing"


def refund_overdue(status: str, expected_by: date, today: date) -> bool:
    return status != "paid" and today > expected_by


def is_double_charge(payments: Tuple[Tuple[Decimal, str, datetime], ...]) -> bool:
    """An order is paid once: a second captured payment is a charge too many."""
    return sum(1 for _, status, _ in payments if status == "captured") > 1


# Business days until the team answers, as the replies promise: "within 1 business day",
# two for a carrier search; an urgent case is answered within one whatever its kind.
SLOWER_CASES = {"not_received": 2}


def add_business_days(start: date, days: int) -> date:
    """The date `days` business days (Monday to Friday) after `start`."""
    current = start
    for _ in range(days):
        current += timedelta(days=1)
        while current.weekday() >= 5:
            current += timedelta(days=1)
    return current


def case_expected_by(kind: str, priority: str, opened_at: datetime, today: date) -> date:
    """When the customer hears back about an open case: the promised business days from
    its opening, or the next business day when that has passed (never a day gone by)."""
    days = 1 if priority == "urgent" else SLOWER_CASES.get(kind, 1)
    due = add_business_days(opened_at.date(), days)
    return due if due >= today else add_business_days(today, 1)


def raised_priority(current: str, wanted: str) -> Optional[str]:
    """The priority an open case is raised to when the customer comes back asking for more
    (`wanted`, from how they feel now), or None when it already has as much."""
    rank = CASE_PRIORITIES.index
    return wanted if rank(wanted) > rank(current) else None


# A handoff step's `when`: the minutes to wait for "wait" (and "transfer"), the time of
# the call back for "callback".
HandoffWhen = Union[int, datetime]


def handoff_next_step(now: datetime, waiting: int, hours: StaffedHours) -> Tuple[str, HandoffWhen]:
    """('wait', minutes) while staff are in, else ('callback', when they are back)."""
    if hours.is_open(now):
        return "wait", max(2, (waiting + 1) * MINUTES_PER_WAITING_HANDOFF)
    return "callback", hours.next_opening(now)


def phone_handoff_step(
    now: datetime, step: str, when: HandoffWhen, can_transfer: bool
) -> Tuple[str, HandoffWhen]:
    """A caller can't wait for a chat agent: while staff are in they are put through (when
    a transfer number is set up), otherwise called back - as soon as a colleague is free,
    or when the team is back."""
    if step != "wait":
        return step, when
    if can_transfer:
        return "transfer", when
    assert isinstance(when, int)  # a wait is in minutes
    return "callback", now + timedelta(minutes=when)
