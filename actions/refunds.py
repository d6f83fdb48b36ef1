"""Refunds: requests by the policy window, tracking, and damaged items."""

from __future__ import annotations

import re
from typing import Optional

from actions import policy
from actions.context import Context
from actions.formatting import day, euros


def get_refund(ctx: Context) -> bool:
    o = ctx.checked_order
    refunds = ctx.repo.refunds_for(o.number)
    decision = policy.refund_decision(
        o.status, o.delivered_at, ctx.repo.clock(), already_refunded=bool(refunds)
    )
    if decision.outcome == "eligible":
        if ctx.asks_before_writing("get_refund"):
            return False
        refund = ctx.repo.create_refund(o.number, o.total, "return")
        ctx.say(
            "utter_refund_created",
            amount=euros(refund.amount),
            expected=day(refund.expected_by),
            reference=refund.reference,
        )
    elif decision.outcome == "not_delivered":
        ctx.say("utter_refund_not_delivered")
    elif decision.outcome == "window_passed":
        ctx.say(
            "utter_refund_window_passed",
            deadline=day(decision.deadline),
            days=policy.REFUND_WINDOW_DAYS,
        )
    else:  # already refunded, or cancelled with its refund
        return track_refund(ctx)
    return True


def track_refund(ctx: Context) -> bool:
    o = ctx.checked_order
    refunds = ctx.repo.refunds_for(o.number)
    if not refunds:
        ctx.say("utter_no_refund_found")
        return True
    refund = refunds[-1]
    today = ctx.repo.clock().date()
    if refund.status == "paid":
        ctx.say("utter_refund_paid", amount=euros(refund.amount), paid=day(refund.paid_at))
    elif policy.refund_overdue(refund.status, refund.expected_by, today):
        reference = ctx.open_case(
            "refund_overdue",
            f"Refund {refund.reference} overdue since {refund.expected_by}.",
            "high",
            fault="refund_overdue",
        )
        if reference:  # `expected` stays the case's date: when it will be done
            ctx.say(
                "utter_refund_overdue",
                amount=euros(refund.amount),
                due=day(refund.expected_by),
                reference=reference,
            )
    else:
        ctx.say(
            "utter_refund_on_track",
            amount=euros(refund.amount),
            expected=day(refund.expected_by),
            reference=refund.reference,
        )
    return True


def remedy_from_text(text: str) -> Optional[str]:
    lowered = text.lower()
    if any(w in lowered for w in ("replace", "new one", "exchange", "another one", "swap")):
        return "replacement"
    if any(w in lowered for w in ("refund", "money back", "reimburse", "pay me back")):
        return "refund"
    return None


# An item that hurt someone or could: overheating, sparks, smoke, fire, shocks, burns.
_SAFETY = re.compile(
    r"\b(over-?heat\w*|too hot to touch|spark\w*|smok(e|ed|es|ing)|fire|flames?|caught "
    r"fire|burn(t|ed|s|ing)?|scorch\w*|melt\w*|explod\w*|exploded|electric shock|shocked "
    r"me|gave me a shock|electrocut\w*|injur\w*|hurt (me|my|him|her|them)|cut (myself|my)|"
    r"dangerous|unsafe|hazard\w*|toxic|fumes)\b",
    re.I,
)


def is_safety_incident(text: str) -> bool:
    return bool(_SAFETY.search(text or ""))


def report_damaged_item(ctx: Context) -> bool:
    """Damaged or defective: replaced or refunded, nothing to send back. Unsafe: the same,
    as an urgent safety case (the customer was offered a colleague when they said it)."""
    o = ctx.checked_order
    remedy = ctx.slot("remedy")
    text = ctx.slot("request_text") or ""
    safety = is_safety_incident(text)
    summary = f"on order {o.number}: {text} Customer wants a {remedy}."
    if safety:
        reference = ctx.open_case(
            "safety", f"SAFETY INCIDENT {summary}", "urgent", fault="damaged_item"
        )
    else:
        reference = ctx.open_case("damage", f"Damaged item {summary}", "high", fault="damaged_item")
    if reference is None:  # reported before: the open case has it, remedy and all
        return True
    if remedy == "refund":
        refund = ctx.repo.create_refund(o.number, o.total, "damaged_item")
        ctx.say(
            "utter_damaged_refund",
            amount=euros(refund.amount),
            expected=day(refund.expected_by),
            reference=reference,
        )
    else:
        ctx.say("utter_damaged_replacement", reference=reference)
    if safety:
        ctx.say("utter_safety_case", reference=reference)
    return True
