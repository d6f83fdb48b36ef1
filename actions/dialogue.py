"""The actions Rasa's rules call: begin and resolve a request, answers, confirmations."""
from __future__ import annotations

import re
from typing import Any, Callable, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import account, clarify, conversation, feedback, frustration, info, orders
from actions.context import Context, HeardAction
from actions.handoff import hand_over
from actions.request_form import EXTRA_READERS
from actions.requests import DETAIL_SLOTS, REQUESTS

DIRECT: Dict[str, Callable[[Context], bool]] = {
    **{intent: info.answer for intent in info.ANSWERS},
    "complaint": feedback.complaint,
    "review": feedback.review,
}
CONFIRMABLE: Dict[str, Callable[[Context], bool]] = {
    "cancel_order": orders.confirm_cancel,
    "delete_account": account.confirm_delete,
}
DECLINED = {"cancel_order": "utter_cancel_kept", "delete_account": "utter_delete_kept"}


def offer_human_if_angry(ctx: Context) -> None:
    if ctx.plan.offer_human:
        ctx.say_once("utter_offer_human")


def after_resolution(ctx: Context, resolved: bool) -> None:
    """A resolved request cools the conversation's frustration; after the first one, once
    per conversation, Heard asks for a 1-5 rating."""
    if resolved:
        ctx.set("frustration", frustration.after_resolution(float(ctx.slot("frustration") or 0)))
    if resolved and not ctx.slot("rating_asked") and not ctx.slot("awaiting_confirmation"):
        ctx.say("utter_ask_rating")
        ctx.set("rating_asked", True)
        ctx.set("awaiting_rating", True)


class ActionBeginRequest(HeardAction):
    """Acknowledges the feeling, remembers the request; `request_form` collects the rest."""

    def name(self) -> str:
        return "action_begin_request"

    def handle(self, ctx: Context) -> None:
        offer_human_if_angry(ctx)
        ctx.set("pending_request", ctx.intent)
        ctx.set("request_text", ctx.latest_text[:2000])
        ctx.set("reply_style", ctx.style)
        ctx.set("awaiting_confirmation", None)
        written = EXTRA_READERS["order_id"](ctx.latest_text)
        if written and written != ctx.slot("order_id"):  # the classifier may not tag it
            ctx.set("order_id", written)
        mentioned, verified = ctx.slot("order_id"), ctx.slot("verified_order")
        if verified and mentioned and mentioned != verified:
            # Another order of the same customer needs no new check; anyone else's does.
            other = ctx.repo.find_order(mentioned)
            same_customer = other and ctx.order and other.customer.id == ctx.order.customer.id
            ctx.set("verified_order", other.number if same_customer else None)
            if not same_customer:
                ctx.set("email", None)


class ActionResolveRequest(HeardAction):
    acknowledges = False  # acknowledged when the request began

    def name(self) -> str:
        return "action_resolve_request"

    def handle(self, ctx: Context) -> None:
        request = ctx.slot("pending_request")
        ctx.style = ctx.slot("reply_style") or "plain"
        if request == "handoff":
            hand_over(ctx, "customer_request")
            return
        spec = REQUESTS.get(request or "")
        if spec is None or (spec.identity and ctx.order is None):
            return
        resolved = spec.handler(ctx)
        ctx.set("pending_request", None)
        for slot in DETAIL_SLOTS:
            if slot != "email":
                ctx.set(slot, None)
        after_resolution(ctx, resolved)


class ActionAnswer(HeardAction):
    """Requests that need no identity: policy answers, complaints, reviews."""

    def name(self) -> str:
        return "action_answer"

    def handle(self, ctx: Context) -> None:
        offer_human_if_angry(ctx)
        after_resolution(ctx, DIRECT[ctx.intent](ctx))


class ActionSmallTalk(HeardAction):
    def name(self) -> str:
        return "action_small_talk"

    def handle(self, ctx: Context) -> None:
        ctx.say(info.SMALL_TALK[ctx.intent])


class ActionFallback(HeardAction):
    def name(self) -> str:
        return "action_fallback"

    def handle(self, ctx: Context) -> None:
        """Offers the two most likely requests when there are two; else asks again."""
        offered = clarify.options((ctx.tracker.latest_message or {}).get("intent_ranking") or [])
        if not offered:
            ctx.say("utter_default")
            return
        choices = clarify.buttons(offered, ctx.responses().get("utter_clarify_options", []))
        ctx.say("utter_clarify", buttons=choices, first_option=choices[0]["title"].lower(),
                second_option=choices[1]["title"].lower())


class ActionConfirm(HeardAction):
    def name(self) -> str:
        return "action_confirm"

    def handle(self, ctx: Context) -> None:
        confirm = CONFIRMABLE.get(ctx.pop("awaiting_confirmation") or "")
        if confirm is None or ctx.order is None:
            ctx.say("utter_how_can_i_help")
            return
        after_resolution(ctx, confirm(ctx))


class ActionDecline(HeardAction):
    def name(self) -> str:
        return "action_decline"

    def handle(self, ctx: Context) -> None:
        ctx.say(DECLINED.get(ctx.pop("awaiting_confirmation") or "", "utter_anything_else"))


def rating_from(entities: list, text: str):
    for entity in entities:
        if entity.get("entity") == "rating" and str(entity.get("value")).isdigit():
            return int(entity["value"])
    match = re.fullmatch(r"\s*([1-5])\s*(?:/\s*5|stars?|out of 5)?\s*[.!]?\s*", text or "")
    return int(match.group(1)) if match else None


class ActionInform(HeardAction):
    """Information given outside a form: a rating, or an order number with no request yet."""

    def name(self) -> str:
        return "action_inform"

    def handle(self, ctx: Context) -> None:
        rating = rating_from((ctx.tracker.latest_message or {}).get("entities") or [],
                             ctx.latest_text)
        if ctx.slot("awaiting_rating") and rating and 1 <= rating <= 5:
            feedback.record_rating(ctx, rating)
        elif ctx.slot("order_id"):
            ctx.say("utter_what_about_order", order_id=ctx.slot("order_id"))
        else:
            ctx.say("utter_how_can_i_help")


class ActionUpdateFrustration(Action):
    """Runs on every user message (the `frustration` slot's custom mapping): it only
    updates the score, so it says nothing and needs no database."""

    def name(self) -> str:
        return "action_update_frustration"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        turns = conversation.user_turns(tracker.events)
        previous = float(tracker.get_slot("frustration") or 0.0)
        return [SlotSet("frustration", frustration.update(previous, turns))]
