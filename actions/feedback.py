"""Complaints, reviews and the end-of-conversation rating."""

from __future__ import annotations

import re

from actions import conversation
from actions.context import Context
from actions.escalation import hand_over

_SEVERE = re.compile(
    r"\b(lawyer|legal action|sue|court|fraud|scam|police|ombudsman|"
    r"trading standards|chargeback|dangerous|injur\w*|fire|burn\w*)\b",
    re.I,
)
# Markup and template tokens ({% raw %}, {{ x }}, ${x}, <b>, &amp;) and links carry no
# feedback of their own.
_MARKUP = re.compile(r"\{[%{#].*?[%}#]\}|\$?\{[^{}]*\}|<[^>]*>|&#?\w+;|https?://\S+", re.S)
_WORD = re.compile(r"[^\W\d_]{2,}")  # two or more letters, in any alphabet
MIN_WORDS = 2  # "great service" says something; "{% raw %} {% raw %}" doesn't


def has_real_words(text: str) -> bool:
    """Whether the text says something: at least MIN_WORDS different words once markup and
    template tokens are gone. Junk opens no ticket."""
    words = {w.lower() for w in _WORD.findall(_MARKUP.sub(" ", text or ""))}
    return len(words) >= MIN_WORDS


def is_severe(text: str, emotion_name: str, level: str) -> bool:
    return bool(_SEVERE.search(text)) or (emotion_name == "anger" and level == "high")


def complaint(ctx: Context) -> bool:
    text = ctx.latest_text  # complaints are answered on the message that makes them
    if not has_real_words(text):
        ctx.say("utter_default")  # asks them to put it another way
        return False
    severe = is_severe(text, ctx.emotion.name, ctx.emotion.level)
    reference = ctx.open_case("complaint", text[:2000], "high" if severe else "normal")
    if reference:
        ctx.say("utter_complaint_logged", reference=reference)
    if severe:
        hand_over(ctx, "severe_complaint")
        return False
    return True


def review(ctx: Context) -> bool:
    text = ctx.latest_text
    if not has_real_words(text):
        ctx.say("utter_review_unclear")
        return False
    order = ctx.order  # a repeat adds its words to the open review instead of a new one
    ctx.repo.open_ticket(
        "review",
        text[:2000],
        "low",
        order.customer.id if order else None,
        order.number if order else None,
        ctx.conversation_id,
    )
    ctx.say("utter_review_thanks")
    return True


def record_rating(ctx: Context, rating: int) -> None:
    turns = conversation.user_turns(ctx.tracker.events)
    start = turns[0].emotion.name if turns else None
    end = turns[-2].emotion.name if len(turns) > 1 else start  # the turn before the rating
    order = ctx.order
    ctx.repo.record_feedback(
        ctx.conversation_id, ctx.channel, rating, start, end, order.customer.id if order else None
    )
    ctx.set("awaiting_rating", False)
    ctx.say("utter_rating_thanks_high" if rating >= 4 else "utter_rating_thanks_low")
