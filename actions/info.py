"""Answers that need no lookup: policies, how-tos and small talk, worded in domain.yml."""

from __future__ import annotations

from actions.context import Context

# intent -> response; the response's `_steps`/`_reassure`/... variant is used when it fits.
ANSWERS = {
    "delivery_options": "utter_delivery_options",
    "delivery_period": "utter_delivery_period",
    "check_payment_methods": "utter_payment_methods",
    "check_refund_policy": "utter_refund_policy",
    "check_cancellation_fee": "utter_cancellation_fee",
    "contact_customer_service": "utter_contact_customer_service",
    "place_order": "utter_place_order",
}
SMALL_TALK = {
    "greet": "utter_greet",
    "goodbye": "utter_goodbye",
    "thank_you": "utter_you_are_welcome",
    "bot_challenge": "utter_iamabot",
    "out_of_scope": "utter_out_of_scope",
}


def answer(ctx: Context) -> bool:
    ctx.say(ANSWERS[ctx.intent])
    return True
