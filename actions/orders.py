"""Order requests: tracking, lateness, cancellation, changes and addresses."""

from __future__ import annotations

from actions import policy
from actions.context import Context
from actions.formatting import day, euros


def track_order(ctx: Context) -> bool:
    o = ctx.checked_order
    today = ctx.repo.clock().date()
    if policy.is_late(o.status, o.promised_date, today):
        ctx.apologise("late_delivery")
        ctx.say(
            "utter_order_late",
            promised=day(o.promised_date),
            estimate=day(policy.new_estimate(o.estimated_date, o.promised_date, today)),
        )
    elif o.status == "shipped":
        ctx.say(
            "utter_order_shipped",
            carrier=o.carrier,
            tracking=o.tracking_code,
            shipped=day(o.shipped_at),
            estimate=day(o.estimated_date or o.promised_date),
        )
    elif o.status == "delivered":
        ctx.say("utter_order_delivered", delivered=day(o.delivered_at))
    elif o.status == "cancelled":
        ctx.say("utter_order_cancelled")
    elif o.status == "delayed":
        ctx.say(
            "utter_order_delayed",
            promised=day(o.promised_date),
            estimate=day(policy.new_estimate(o.estimated_date, o.promised_date, today)),
        )
    else:
        ctx.say("utter_order_processing", estimate=day(o.estimated_date or o.promised_date))
    return True


def report_late_delivery(ctx: Context) -> bool:
    o = ctx.checked_order
    today = ctx.repo.clock().date()
    if o.status == "delivered":  # a search is a case for the carrier: asked first
        ctx.say("utter_delivered_search_offer", delivered=day(o.delivered_at))
        ctx.set("awaiting_confirmation", "not_received")
        return False
    if o.status == "cancelled":
        ctx.say("utter_order_cancelled")
    elif policy.is_late(o.status, o.promised_date, today):
        ctx.apologise("late_delivery")
        amount = policy.late_voucher(o.total)
        code, created = ctx.repo.issue_voucher(o.number, amount, "late_delivery")
        estimate = day(policy.new_estimate(o.estimated_date, o.promised_date, today))
        ctx.say(
            "utter_late_delivery_voucher" if created else "utter_late_delivery_voucher_again",
            promised=day(o.promised_date),
            estimate=estimate,
            amount=euros(amount),
            code=code,
        )
    else:
        ctx.say(
            "utter_not_late_yet",
            promised=day(o.promised_date),
            estimate=day(o.estimated_date or o.promised_date),
        )
    return True


def confirm_not_received(ctx: Context) -> bool:
    o = ctx.checked_order
    reference = ctx.open_case(
        "not_received", f"Customer says delivered order {o.number} has not arrived.", "high"
    )
    if reference:
        ctx.say("utter_late_but_delivered", delivered=day(o.delivered_at), reference=reference)
    return True


def cancel_order(ctx: Context) -> bool:
    o = ctx.checked_order
    fee = policy.cancellation_fee(
        o.status, o.shipped_at is not None, o.placed_at, ctx.repo.clock(), o.total
    )
    if fee is None:
        ctx.say("utter_cancel_not_possible")
        return True
    ctx.say(
        "utter_cancel_confirm", fee=euros(fee) if fee else "no fee", refund=euros(o.total - fee)
    )
    ctx.set("awaiting_confirmation", "cancel_order")
    return False


def confirm_cancel(ctx: Context) -> bool:
    o = ctx.checked_order
    fee = policy.cancellation_fee(
        o.status, o.shipped_at is not None, o.placed_at, ctx.repo.clock(), o.total
    )
    if fee is None:  # it shipped while we were talking
        ctx.say("utter_cancel_not_possible")
        return True
    refund = ctx.repo.cancel_order(o.number, fee)
    ctx.refresh_order()
    ctx.say("utter_cancel_done", refund=euros(refund.amount), expected=day(refund.expected_by))
    return True


def change_order(ctx: Context) -> bool:
    o = ctx.checked_order
    if not policy.can_change(o.status):
        ctx.say("utter_change_too_late")
        return True
    if ctx.asks_before_writing("change_order"):
        return False
    reference = ctx.open_case(
        "order_change", ctx.slot("request_text") or "Change request", "normal"
    )
    if reference:
        ctx.say("utter_change_order_logged", reference=reference)
    return True


def change_shipping_address(ctx: Context) -> bool:
    o = ctx.checked_order
    if not policy.can_change(o.status):
        ctx.say("utter_address_too_late")
        return True
    ctx.repo.update_shipping_address(o.number, ctx.slot("new_address"))
    ctx.say("utter_address_changed", address=ctx.slot("new_address"))
    return True


def set_up_shipping_address(ctx: Context) -> bool:
    o = ctx.checked_order
    ctx.repo.update_customer(o.customer.id, default_address=ctx.slot("new_address"))
    ctx.say("utter_default_address_saved", address=ctx.slot("new_address"))
    return True
