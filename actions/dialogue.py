"""The actions Rasa's rules call: begin and resolve a request, answers, confirmations."""

from __future__ import annotations

import logging
import re
from abc import abstractmethod
from typing import Any, Callable, Dict, List, Mapping, Optional

from rasa_sdk.events import FollowupAction

from actions import (
    account,
    clarify,
    closing,
    conversation,
    feedback,
    follow_up_replies,
    info,
    orders,
    refunds,
)
from actions.base import HeardAction
from actions.context import CONFIRM_REQUEST, Context
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
    "not_received": orders.confirm_not_received,
}
DECLINED = {"cancel_order": "utter_cancel_kept", "delete_account": "utter_delete_kept"}

logger = logging.getLogger(__name__)


def not_registered(ctx: Context, event: str, intent: str, table: str) -> None:
    """An intent its rule in data/rules.yml sends here without an entry in `table`: a slip
    made when adding a flow (tests/test_requests_match_rules.py catches it before release).
    Logged for the developer, by intent name only; the customer hears that something went
    wrong on Heard's side rather than nothing."""
    logger.error(
        "%s conversation=%s intent=%s: no entry in %s", event, ctx.conversation_id, intent, table
    )
    ctx.say("utter_technical_problem")


def offer_human_if_angry(ctx: Context) -> None:
    if ctx.plan.offer_human:
        ctx.say_once("utter_offer_human")


def ranking_of(event: Optional[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    return [
        {"name": r.get("name"), "confidence": r.get("confidence")}
        for r in ((event or {}).get("parse_data") or {}).get("intent_ranking") or []
    ][:4]


class EntryAction(HeardAction):
    """An action a customer's message leads to directly. Before its own answer come what
    the message may mean in the conversation: a declined rating request, a "no" to a
    pending confirmation, a follow-up of the last answer ("why?", "how long will that
    take?", answered from its facts), or several requests at once."""

    form_follows = False  # whether its rule runs request_form next anyway

    def handle(self, ctx: Context) -> None:
        kind = follow_up_replies.which(ctx)
        if closing.declines_rating(ctx):
            return
        if ctx.slot("awaiting_confirmation") and says_no(ctx):
            decline(ctx)
        elif kind:
            follow_up_replies.answer(ctx, kind)
        elif not start_several(ctx, self.form_follows):
            self.respond(ctx)

    @abstractmethod
    def respond(self, ctx: Context) -> None:
        """The action's own answer to a message that is not a follow-up."""


def begin(ctx: Context, request: str, text: str, details: Optional[str] = None) -> None:
    """Remembers `request` (made in `text`) until it is done, with the order number and
    e-mail written in `details` (the latest message by default) or else in `text`."""
    ctx.set("pending_request", request)
    ctx.set("request_text", text[:2000])
    ctx.set("reply_style", ctx.style)
    ctx.set("awaiting_confirmation", None)
    ctx.set("tentative_request", None)
    for slot, reader in EXTRA_READERS.items():  # the classifier may not tag them
        written = reader(ctx.latest_text if details is None else details) or reader(text)
        if written and written != ctx.slot(slot):
            ctx.set(slot, written)
    mentioned, verified = ctx.slot("order_id"), ctx.slot("verified_order")
    if verified and mentioned and mentioned != verified:
        # Another order of the same customer needs no new check; anyone else's does.
        other, current = ctx.repo.find_order(mentioned), ctx.order
        if other and current and other.customer.id == current.customer.id:
            ctx.set("verified_order", other.number)
        else:
            ctx.set("verified_order", None)
            ctx.set("email", None)


class ActionBeginRequest(EntryAction):
    """Acknowledges the feeling, remembers the request; `request_form` collects the rest."""

    form_follows = True

    def name(self) -> str:
        return "action_begin_request"

    def respond(self, ctx: Context) -> None:
        offer_human_if_angry(ctx)
        if ctx.intent == "report_damaged_item" and refunds.is_safety_incident(ctx.latest_text):
            ctx.say_once("utter_safety_first")
        own = [r for r in clause_requests(ctx) if r["intent"] == ctx.intent]
        # With several requests, this one's own clause has its order number, and counts
        # for its confidence (the whole message is read less surely as either).
        begin(ctx, ctx.intent, ctx.latest_text, own[0]["text"] if own else None)
        ctx.set("request_confidence", max([ctx.confidence] + [r["confidence"] for r in own]))
        ctx.set("queued_requests", others(ctx))


QUEUEABLE = frozenset({*REQUESTS, *info.ANSWERS})
CLAUSE_CONFIDENCE = 0.6  # a clause read this surely as a request is one


def clause_requests(ctx: Context, at_least: int = 2) -> List[Dict[str, Any]]:
    """The requests of a message that makes at least `at_least` (nlu/clauses.py), in
    order, each once."""
    found: List[Dict[str, Any]] = []
    for clause in (ctx.tracker.latest_message or {}).get("clauses") or []:
        intent, confidence = clause.get("intent"), float(clause.get("confidence") or 0)
        if (
            intent in QUEUEABLE
            and confidence >= CLAUSE_CONFIDENCE
            and all(f["intent"] != intent for f in found)
        ):
            found.append(
                {"intent": intent, "text": str(clause.get("text"))[:2000], "confidence": confidence}
            )
    return found if len(found) >= at_least else []


def others(ctx: Context) -> List[Dict[str, Any]]:
    """The requests of the message besides the one it was read as."""
    return [r for r in clause_requests(ctx) if r["intent"] != ctx.intent]


def start_several(ctx: Context, form_follows: bool) -> bool:
    """A message with several requests that was read as none of them ("I need a refund,
    also send me the invoice" fell between the two): the first begins, the others wait."""
    found = clause_requests(ctx)
    if not found or ctx.intent in {r["intent"] for r in found}:
        return False
    ctx.set("queued_requests", found[1:])
    start(ctx, found[0], None, form_follows)  # details anywhere in the message
    return True


def start(
    ctx: Context, request: Dict[str, Any], details: Optional[str], form_follows: bool = False
) -> None:
    """Begins one of several requests (the form collects its details), or answers it."""
    if request["intent"] in REQUESTS:
        begin(ctx, request["intent"], request["text"], details)
        ctx.set("request_confidence", request["confidence"])
        if not form_follows:
            ctx.events.append(FollowupAction("request_form"))
        return
    ctx.say(info.ANSWERS[request["intent"]])
    closing.after_resolution(ctx, request["intent"], True, [])
    take_next(ctx)


def take_next(ctx: Context) -> None:
    """After a resolution, the next request the customer made in the same message."""
    queued = list(ctx.slot("queued_requests") or [])
    if not queued or ctx.slot("awaiting_confirmation") or ctx.slot("pending_request"):
        return
    ctx.set("queued_requests", queued[1:])
    ctx.say("utter_next_request")
    start(ctx, queued[0], queued[0]["text"])  # its own clause's order number, if any


def resolve(ctx: Context, request: str) -> None:
    """Runs the request's handler, forgets its details and closes the request."""
    ranking = ranking_of(conversation.request_message(ctx.tracker.events, ctx.slot("request_text")))
    resolved = REQUESTS[request].handler(ctx)
    ctx.set("pending_request", None)
    for slot in DETAIL_SLOTS:
        if slot != "email":
            ctx.set(slot, None)
    closing.after_resolution(ctx, request, resolved, ranking)
    take_next(ctx)


class ActionResolveRequest(HeardAction):
    acknowledges = False  # acknowledged when the request began

    def name(self) -> str:
        return "action_resolve_request"

    def handle(self, ctx: Context) -> None:
        request = ctx.slot("pending_request")
        ctx.style = ctx.slot("reply_style") or "plain"
        spec = REQUESTS.get(request or "")
        if spec is None:
            if request:  # none pending: it was stopped or handed over, and that was said
                ctx.set("pending_request", None)  # nothing to resume later
                not_registered(
                    ctx, "actions.request.unknown", request, "REQUESTS (actions/requests.py)"
                )
            return
        if spec.identity and ctx.order is None:
            return
        resolve(ctx, request)


class ActionAnswer(EntryAction):
    """Requests that need no identity: policy answers, complaints, reviews."""

    def name(self) -> str:
        return "action_answer"

    def respond(self, ctx: Context) -> None:
        answer = DIRECT.get(ctx.intent)
        if answer is None:
            not_registered(
                ctx, "actions.answer.unknown", ctx.intent, "info.ANSWERS (actions/info.py)"
            )
            return
        offer_human_if_angry(ctx)
        resolved = answer(ctx)
        if not ctx.slot("pending_request"):
            ctx.set("queued_requests", others(ctx))
        closing.after_resolution(
            ctx, ctx.intent, resolved, ranking_of({"parse_data": ctx.tracker.latest_message})
        )
        take_next(ctx)


class ActionSmallTalk(EntryAction):
    def name(self) -> str:
        return "action_small_talk"

    def respond(self, ctx: Context) -> None:
        if not (ctx.intent == "thank_you" and ctx.emotion.negative):  # "thanks for nothing"
            ctx.say(info.SMALL_TALK[ctx.intent])
        if ctx.intent in closing.DONE_INTENTS:
            closing.close(ctx)


class ActionFallback(EntryAction):
    def name(self) -> str:
        return "action_fallback"

    def respond(self, ctx: Context) -> None:
        """Offers the two most likely requests when there are two; else asks again. The
        likelier one is remembered: details given next instead of a choice resume it.
        A message of details ("tim.w@example.org") is taken as details."""
        if any(reader(ctx.latest_text) for reader in EXTRA_READERS.values()) and take_details(ctx):
            return
        ranking = (ctx.tracker.latest_message or {}).get("intent_ranking") or []
        both = clarify.safe_reading(ranking)
        if both and not ctx.slot("pending_request"):
            start(ctx, {"intent": both, "text": ctx.latest_text, "confidence": 0.0}, None)
            return
        guess = clarify.likely_request(ranking, REQUESTS)
        if guess and not ctx.slot("pending_request"):
            ctx.set("tentative_request", guess)
            ctx.set("request_text", ctx.latest_text[:2000])
        offered = clarify.options(ranking)
        if not offered:
            ctx.say("utter_default")
            return
        choices = clarify.buttons(offered, ctx.responses().get("utter_clarify_options", []))
        ctx.say(
            "utter_clarify",
            buttons=choices,
            first_option=choices[0]["title"].lower(),
            second_option=choices[1]["title"].lower(),
        )


class ActionConfirm(HeardAction):
    def name(self) -> str:
        return "action_confirm"

    def handle(self, ctx: Context) -> None:
        awaiting = ctx.pop("awaiting_confirmation") or ""
        ctx.style = ctx.slot("reply_style") or ctx.style
        if awaiting.startswith(CONFIRM_REQUEST) and ctx.order is not None:
            ctx.confirmed = True
            resolve(ctx, awaiting[len(CONFIRM_REQUEST) :])
            return
        confirm = CONFIRMABLE.get(awaiting)
        if confirm is None or ctx.order is None:
            ctx.say("utter_how_can_i_help")
            return
        ranking = ranking_of(
            conversation.request_message(ctx.tracker.events, ctx.slot("request_text"))
        )
        closing.after_resolution(ctx, awaiting, confirm(ctx), ranking)
        take_next(ctx)


class ActionDecline(EntryAction):
    def name(self) -> str:
        return "action_decline"

    def respond(self, ctx: Context) -> None:
        if ctx.slot("awaiting_confirmation"):
            decline(ctx)
            return
        ctx.say("utter_anything_else")
        closing.close(ctx)


def says_no(ctx: Context) -> bool:
    """A clause of the message is a sure "no" ("no wait, don't. When will it arrive?")."""
    return ctx.intent != "affirm" and any(
        c.get("intent") == "deny" and float(c.get("confidence") or 0) >= CLAUSE_CONFIDENCE
        for c in (ctx.tracker.latest_message or {}).get("clauses") or []
    )


def decline(ctx: Context) -> None:
    """No to the pending confirmation: nothing changes; a request in the same message
    follows."""
    awaiting = ctx.pop("awaiting_confirmation") or ""
    ctx.set("pending_request", None)
    ctx.say(DECLINED.get(awaiting, "utter_nothing_changed"))
    then = clause_requests(ctx, at_least=1)
    if then:
        ctx.set("queued_requests", then)
        take_next(ctx)


def rating_from(entities: list, text: str):
    for entity in entities:
        if entity.get("entity") == "rating" and str(entity.get("value")).isdigit():
            return int(entity["value"])
    match = re.fullmatch(r"\s*([1-5])\s*(?:/\s*5|stars?|out of 5)?\s*[.!]?\s*", text or "")
    return int(match.group(1)) if match else None


class ActionInform(EntryAction):
    """Information given outside a form: a rating, or details (see `take_details`)."""

    def name(self) -> str:
        return "action_inform"

    def respond(self, ctx: Context) -> None:
        rating = rating_from(
            (ctx.tracker.latest_message or {}).get("entities") or [], ctx.latest_text
        )
        if ctx.slot("awaiting_rating") and rating and 1 <= rating <= 5:
            feedback.record_rating(ctx, rating)
        elif not take_details(ctx):
            ctx.say("utter_how_can_i_help")


def take_details(ctx: Context) -> bool:
    """An order number or e-mail given outside a form: it resumes the request remembered
    from an earlier message, or corrects the order of the last one; otherwise Heard asks
    what to do with the order. False when there is nothing to take."""
    request = request_to_resume(ctx)
    if request:
        if request == ctx.slot("tentative_request"):  # only guessed: writes ask first
            ctx.set("request_confidence", 0.0)
        begin(ctx, request, ctx.slot("request_text") or ctx.latest_text)
        ctx.events.append(FollowupAction("request_form"))
        return True
    if not ctx.slot("order_id"):
        return False
    misread = next(
        (
            e
            for e in reversed(ctx.tracker.events)
            if e.get("event") == "user"
            and (e.get("parse_data") or {}).get("intent", {}).get("name") == "nlu_fallback"
        ),
        None,
    )
    offered = clarify.options(((misread or {}).get("parse_data") or {}).get("intent_ranking") or [])
    if offered:  # the two requests a misunderstood message may have meant, as buttons
        choices = clarify.buttons(offered, ctx.responses().get("utter_clarify_options", []))
        ctx.say("utter_what_about_order_options", order_id=ctx.slot("order_id"), buttons=choices)
    else:
        ctx.say("utter_what_about_order", order_id=ctx.slot("order_id"))
    return True


def request_to_resume(ctx: Context) -> Optional[str]:
    if not any(reader(ctx.latest_text) for reader in EXTRA_READERS.values()):
        return None
    remembered = ctx.slot("pending_request") or ctx.slot("tentative_request")
    if remembered in REQUESTS:
        return remembered
    last = (ctx.slot("last_result") or {}).get("request")
    written = EXTRA_READERS["order_id"](ctx.latest_text)
    if (
        last in REQUESTS
        and REQUESTS[last].identity
        and written
        and written != ctx.slot("verified_order")
    ):
        return last  # "sorry, it's 2345679": the same request for the right order
    return None
