"""Answers to follow-ups (actions/follow_ups.py), from the facts of the last resolution
(the `last_result` slot: the request, its main response and the values in it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional

from actions import clarify, empathy, follow_ups, info, policy
from actions.context import Context
from actions.requests import REQUESTS
from heard import settings
from heard.formats import mask_email

# Facts that say when something happens, most specific first.
WHEN_FACTS = ("expected", "estimate", "callback_time")  # dates still to come
READS_AS_REQUEST = frozenset({*REQUESTS, *info.ANSWERS})


def which(ctx: Context) -> Optional[str]:
    """The follow-up this message asks, when there is something for it to follow."""
    found = follow_ups.kind(ctx.latest_text)
    if found is None or not follow_ups.leans_on_last_answer(
        found, ctx.latest_text, ctx.intent, READS_AS_REQUEST
    ):
        return None
    if found == "wait":
        return found if ctx.repo.waiting_handoff(ctx.conversation_id) else None
    last = ctx.slot("last_result")
    if not last:
        return None
    # "And how many days does the normal one take?" after the delivery options has nothing
    # to follow in them: the question itself is answered.
    specific = {"when": _when(last), "why": _specific(ctx, last, "why")}
    if (
        found in specific
        and not specific[found]
        and (ctx.intent in READS_AS_REQUEST or ctx.slot("awaiting_confirmation"))
    ):
        return None
    return found


def _when(last: Dict[str, Any]) -> Optional[str]:
    facts = last.get("facts") or {}
    return next((facts[k] for k in WHEN_FACTS if facts.get(k)), None)


def _specific(ctx: Context, last: Dict[str, Any], kind: str) -> Optional[str]:
    """`utter_why_<response>` / `utter_next_<response>` for the last answer, if written."""
    name = f"utter_{kind}_{(last.get('response') or '').removeprefix('utter_')}"
    return name if name in ctx.responses() else None


def answer(ctx: Context, kind: str) -> None:
    last: Dict[str, Any] = ctx.slot("last_result") or {}
    facts: Dict[str, str] = last.get("facts") or {}
    when = _when(last)
    if kind == "wait":
        _queue_status(ctx)
    elif kind == "when":
        ctx.say("utter_follow_up_when" if when else "utter_follow_up_when_done", when=when or "")
    elif kind == "why":  # the reason behind that very answer, filled from its facts
        ctx.say(_specific(ctx, last, "why") or "utter_follow_up_why", **facts)
    elif kind == "next":
        ctx.say(
            _specific(ctx, last, "next")
            or ("utter_follow_up_next" if when else "utter_follow_up_next_done"),
            **{**facts, "when": when or ""},
        )
    elif kind == "email":
        _email(ctx, last)
    elif kind == "repeat":
        _repeat(ctx)
    else:
        _offer_others(ctx, last.get("request") or "", last.get("ranking") or [])


def _queue_status(ctx: Context) -> None:
    waiting = ctx.repo.waiting_handoff(ctx.conversation_id)
    if waiting is None:  # `which` found it waiting, but a colleague has taken it since
        raise LookupError(f"no handoff waiting in conversation {ctx.conversation_id}")
    step, when = policy.handoff_next_step(
        ctx.repo.clock(), ctx.repo.waiting_handoffs() - 1, settings.read("HEARD_STAFFED_HOURS")
    )
    if step == "wait":
        ctx.say("utter_handoff_status", reference=waiting.reference, minutes=when)
    else:
        assert isinstance(when, datetime)  # a callback's `when` is its time
        ctx.say(
            "utter_handoff_status_callback",
            reference=waiting.reference,
            callback_time=when.strftime("%A at %H:%M"),
        )


def _email(ctx: Context, last: Dict[str, Any]) -> None:
    """The last answer, e-mailed to the verified customer once; nobody else's address."""
    order = ctx.order
    if order is None:
        ctx.say("utter_follow_up_email_unverified")
        return
    if not last.get("emailed"):
        ctx.repo.queue_email(
            order.customer.email, "chat_summary", f"Your request about order {order.number}"
        )
        ctx.set("last_result", {**last, "emailed": True})
    ctx.say("utter_follow_up_emailed", masked_email=mask_email(order.customer.email))


def _repeat(ctx: Context) -> None:
    """Heard's replies before the latest message, once more; not the sympathy lines,
    which are never said twice."""
    sympathy = {
        v.get("text")
        for name, variations in ctx.responses().items()
        if name.startswith(empathy.SYMPATHY_PREFIXES)
        for v in variations
    }
    lines: List[str] = []
    for event in reversed(ctx.tracker.events[:-1]):
        if event.get("event") == "user" and lines:
            break
        if event.get("event") == "bot" and event.get("text") not in sympathy | {None, ""}:
            lines.insert(0, event["text"])
    ctx.say("utter_follow_up_repeat")
    for line in lines:
        ctx.dispatcher.utter_message(text=line)


def _offer_others(ctx: Context, handled: str, ranking: List[Dict[str, Any]]) -> None:
    """ "That's not what I asked": the two likeliest other readings of the request. The
    answer given is forgotten, so the rephrased request isn't read as its follow-up."""
    ctx.set("last_result", None)
    others = [r for r in ranking if r.get("name") != handled]
    offered = clarify.options(others, floor=0.0)
    if not offered:
        ctx.say("utter_follow_up_not_asked")
        return
    choices = clarify.buttons(offered, ctx.responses().get("utter_clarify_options", []))
    ctx.say("utter_follow_up_not_asked_options", buttons=choices)
