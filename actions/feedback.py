"""Complaints, reviews and the end-of-conversation rating."""
from __future__ import annotations

import re

from actions import conversation
from actions.context import Context
from actions.handoff import hand_over

_SEVERE = re.compile(r"\b(lawyer|legal action|sue|court|fraud|scam|police|ombudsman|"
                     r"trading standards|chargeback|dangerous|injur\w*|fire|burn\w*)\b", re.I)


def is_severe(text: str, emotion_name: str, level: str) -> bool:
    return bool(_SEVERE.search(text)) or (emotion_name == "anger" and level == "high")


def complaint(ctx: Context) -> bool:
    text = ctx.slot("request_text") or ctx.latest_text
    severe = is_severe(text, ctx.emotion.name, ctx.emotion.level)
    order = ctx.order
    ticket = ctx.repo.open_ticket("complaint", text[:2000], "high" if severe else "normal",
                                  order.customer.id if order else None,
                                  order.number if order else None, ctx.conversation_id)
    ctx.say("utter_complaint_logged", reference=ticket)
    if severe:
        hand_over(ctx, "severe_complaint")
        return False
    return True


def review(ctx: Context) -> bool:
    order = ctx.order
    ctx.repo.open_ticket("review", (ctx.slot("request_text") or ctx.latest_text)[:2000], "low",
                         order.customer.id if order else None,
                         order.number if order else None, ctx.conversation_id)
    ctx.say("utter_review_thanks")
    return True


def record_rating(ctx: Context, rating: int) -> None:
    turns = conversation.user_turns(ctx.tracker.events)
    start = turns[0].emotion.name if turns else None
    end = turns[-2].emotion.name if len(turns) > 1 else start  # the turn before the rating
    order = ctx.order
    ctx.repo.record_feedback(ctx.conversation_id, ctx.channel, rating, start, end,
                             order.customer.id if order else None)
    ctx.set("awaiting_rating", False)
    ctx.say("utter_rating_thanks_high" if rating >= 4 else "utter_rating_thanks_low")
