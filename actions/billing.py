"""Payments and invoices."""

from __future__ import annotations

from actions import policy
from actions.context import Context
from actions.formatting import euros
from heard.formats import mask_email


def payment_issue(ctx: Context) -> bool:
    o = ctx.checked_order
    if policy.is_double_charge(o.payments):
        reference = ctx.open_case(
            "double_charge",
            f"Double charge on order {o.number}: "
            f"{sum(1 for p in o.payments if p[1] == 'captured')} captured payments of "
            f"{euros(o.payments[0][0])}.",
            "high",
            fault="double_charge",
        )
        if reference:
            ctx.say(
                "utter_double_charge_ticket", amount=euros(o.payments[-1][0]), reference=reference
            )
    else:  # a double charge is in the data; a question becomes a case only when clear
        if ctx.asks_before_writing("payment_issue"):
            return False
        reference = ctx.open_case(
            "payment_question",
            f"Payment question on order {o.number}: {ctx.slot('request_text') or ''}",
            "normal",
        )
        if reference:
            ctx.say("utter_payment_issue_ticket", amount=euros(o.total), reference=reference)
    return True


def invoice_number(order_number: str) -> str:
    return f"INV-{order_number}"


def check_invoice(ctx: Context) -> bool:
    o = ctx.checked_order
    ctx.say(
        "utter_invoice_details",
        invoice=invoice_number(o.number),
        total=euros(o.total),
        vat=euros(policy.money(o.total - o.total / policy.VAT_DIVISOR)),
    )
    return True


def get_invoice(ctx: Context) -> bool:
    o = ctx.checked_order
    ctx.repo.queue_email(o.customer.email, "invoice", f"Your invoice {invoice_number(o.number)}")
    ctx.say(
        "utter_invoice_sent",
        invoice=invoice_number(o.number),
        masked_email=mask_email(o.customer.email),
    )
    return True
