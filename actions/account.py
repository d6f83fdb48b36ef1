"""Account requests. Replies never reveal whether an e-mail address has an account."""

from __future__ import annotations

import re
from typing import Optional, Tuple

from actions.context import Context
from heard.formats import mask_email

ACCOUNT_TYPES = ("personal", "business", "premium", "basic", "family", "student")
_PHONE = re.compile(r"\+?[\d][\d\s().-]{6,18}\d")
_UNSUBSCRIBE = re.compile(
    r"\b(un-?subscribe|stop|opt[- ]?out|remove me|take me off|no more|"
    r"cancel|off (your|the) (list|mailing list|newsletter))\b",
    re.I,
)


def parse_profile_update(text: str) -> Optional[Tuple[str, str]]:
    """('phone', '+44 20 7946 0000') or ('name', 'Jane Doe') from what the customer typed."""
    phone = _PHONE.search(text)
    if phone:
        return "phone", phone.group().strip()
    match = re.search(r"\bname\b(?:\s+(?:to|is|should be))?\s*:?\s*(.+)", text, re.I)
    if match:
        name = match.group(1).strip(" .")
        if 1 <= len(name.split()) <= 4 and all(
            p.replace("-", "").replace("'", "").isalpha() for p in name.split()
        ):
            return "name", name
    return None


def wants_unsubscribe(text: str) -> bool:
    return bool(_UNSUBSCRIBE.search(text))


def create_account(ctx: Context) -> bool:
    email = ctx.slot("email")
    first, _, last = (ctx.slot("full_name") or "").strip().partition(" ")
    if ctx.repo.create_customer(first, last or "-", email):
        ctx.repo.queue_email(email, "welcome", "Confirm your new account")
    else:
        ctx.repo.queue_email(email, "account_exists", "You already have an account with us")
    ctx.say("utter_account_link_sent", masked_email=mask_email(email))
    return True


def edit_account(ctx: Context) -> bool:
    update = parse_profile_update(ctx.slot("profile_update"))
    assert update is not None  # request_form keeps only a profile_update it can read
    field, value = update
    order = ctx.checked_order
    customer = order.customer
    if field == "phone":
        ctx.repo.update_customer(customer.id, phone=value)
    else:
        first, _, last = value.partition(" ")
        ctx.repo.update_customer(
            customer.id, first_name=first, last_name=last or customer.last_name
        )
    ctx.refresh_order()
    ctx.say("utter_profile_updated", field=field, value=value)
    return True


def delete_account(ctx: Context) -> bool:
    order = ctx.checked_order
    ctx.say("utter_delete_confirm", masked_email=mask_email(order.customer.email))
    ctx.set("awaiting_confirmation", "delete_account")
    return False


def confirm_delete(ctx: Context) -> bool:
    order = ctx.checked_order
    ctx.repo.delete_customer(order.customer.id)
    ctx.say("utter_account_deleted")
    for slot in ("verified_order", "order_id", "email"):
        ctx.set(slot, None)
    return True


def switch_account(ctx: Context) -> bool:
    order = ctx.checked_order
    customer = order.customer
    wanted = ctx.slot("account_type")
    if customer.account_type == wanted:
        ctx.say("utter_plan_already", account_type=wanted)
    else:
        ctx.repo.update_customer(customer.id, account_type=wanted)
        ctx.say("utter_plan_switched", old=customer.account_type, account_type=wanted)
    return True


def recover_password(ctx: Context) -> bool:
    email = ctx.slot("email")
    customer = ctx.repo.customer_by_email(email)
    if customer:
        ctx.repo.record_account_action(customer.id, "password_reset")
        ctx.repo.queue_email(customer.email, "password_reset", "Reset your password")
    ctx.say("utter_reset_link_sent", masked_email=mask_email(email))
    return True


def registration_problems(ctx: Context) -> bool:
    email = ctx.slot("email")
    if ctx.repo.customer_by_email(email):
        ctx.repo.queue_email(email, "verification", "Confirm your e-mail address")
    ctx.say("utter_registration_help", masked_email=mask_email(email))
    return True


def newsletter_subscription(ctx: Context) -> bool:
    email = ctx.slot("email")
    subscribe = not wants_unsubscribe(ctx.slot("request_text") or "")
    ctx.repo.set_newsletter(email, subscribe)
    ctx.say(
        "utter_newsletter_subscribed" if subscribe else "utter_newsletter_unsubscribed",
        masked_email=mask_email(email),
    )
    return True
