"""The end of a request and of the conversation: "anything else?", and the rating, asked
once when the customer is done and never while they are upset."""

from __future__ import annotations

import re
from typing import Any, Dict, List

from actions import conversation, frustration
from actions.context import Context
from heard.contract import FRUSTRATION, PROGRESS_TURN

# What marks "I'm done": a goodbye, thanks, or "no" to "anything else?".
DONE_INTENTS = ("goodbye", "thank_you", "deny")
# "No thanks, I don't do ratings" answers the rating question; it is no review to file.
_DECLINES = re.compile(
    r"^\W{0,5}(no|nope|nah|not now|no thanks?|i'?d rather not|skip( it)?|"
    r"pass|i don'?t (do|want to|give) (ratings?|rate|surveys?))\b",
    re.I,
)


def declines_rating(ctx: Context) -> bool:
    """Whether this message turns down a pending rating request (which is then dropped).
    A confirmation asked since is what a "no" answers: it must not leave that open."""
    if (
        not ctx.slot("awaiting_rating")
        or ctx.slot("awaiting_confirmation")
        or not _DECLINES.search(ctx.latest_text)
    ):
        return False
    ctx.set("awaiting_rating", False)
    ctx.say("utter_rating_declined")
    return True


def after_resolution(
    ctx: Context, request: str, resolved: bool, ranking: List[Dict[str, Any]]
) -> None:
    """A resolved request cools the conversation's frustration, counts as progress, and
    leaves its facts (and the other readings of the request, `ranking`) for follow-ups;
    then Heard asks whether there is anything else."""
    turn = len(conversation.user_turns(ctx.tracker.events))
    ctx.repo.record_resolution(ctx.conversation_id, ctx.channel, request, resolved, turn)
    ctx.set(
        "last_result",
        {
            "request": request,
            "response": ctx.said[-1] if ctx.said else None,
            "facts": ctx.facts,
            "ranking": ranking,
        },
    )
    if not resolved:
        return
    ctx.set(FRUSTRATION, frustration.after_resolution(float(ctx.slot(FRUSTRATION) or 0)))
    ctx.set(PROGRESS_TURN, turn)
    ctx.set("resolved_requests", int(ctx.slot("resolved_requests") or 0) + 1)
    if not ctx.slot("awaiting_confirmation") and not ctx.slot("queued_requests"):
        ctx.say("utter_anything_else_question")


def close(ctx: Context) -> None:
    """The customer is done: after a resolved request, ask for the 1-5 rating once, unless
    their latest message is upset; then a colleague is offered instead of a survey."""
    if not ctx.slot("resolved_requests") or ctx.slot("rating_asked"):
        return
    if ctx.emotion.negative:
        ctx.say_once("utter_offer_human_closing")
        return
    ctx.say("utter_ask_rating")
    ctx.set("rating_asked", True)
    ctx.set("awaiting_rating", True)
