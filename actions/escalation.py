"""When a human takes over, and handing the conversation over with everything Heard knows."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import List, Optional, Tuple

from actions import conversation, empathy, policy
from actions.context import Context
from actions.empathy import Turn
from heard import settings
from heard.contract import (
    FRUSTRATION,
    HANDOFF_TURN,
    PHONE_TRANSPORT,
    PROGRESS_TURN,
    VOICE_CHANNEL,
    transcript,
)

logger = logging.getLogger(__name__)


def _turns_since_last_handoff(ctx: Context) -> Tuple[List[Turn], int]:
    turns = conversation.user_turns(ctx.tracker.events)
    return turns[int(ctx.slot(HANDOFF_TURN) or 0) :], len(turns)


def escalation_for(ctx: Context) -> Optional[str]:
    """Why a human should take over now (empathy.escalation_reason), or None."""
    turns, total = _turns_since_last_handoff(ctx)
    return empathy.escalation_reason(
        turns,
        int(ctx.slot("identity_attempts") or 0),
        float(ctx.slot(FRUSTRATION) or 0.0),
        total - int(ctx.slot(PROGRESS_TURN) or 0),
    )


def _with_callback_number(summary: str, number: Optional[str]) -> str:
    return f"{summary} Call back on {number}." if number else summary


def hand_over(ctx: Context, reason: str) -> None:
    """Records the handoff, tells the customer what happens next, resets the request. A
    conversation already waiting for a colleague keeps its one handoff."""
    events = ctx.tracker.events
    recent, total_turns = _turns_since_last_handoff(ctx)
    waiting = ctx.repo.waiting_handoff(ctx.conversation_id)
    if waiting:
        ctx.say("utter_handoff_already_waiting", reference=waiting.reference)
        _reset_after_handoff(ctx, total_turns)
        return
    worst = max(
        (t.emotion for t in recent if t.emotion.negative),
        key=lambda e: e.intensity,
        default=ctx.emotion,
    )
    order = ctx.order
    now = ctx.repo.clock()
    step, when = policy.handoff_next_step(
        now, ctx.repo.waiting_handoffs(), settings.read("HEARD_STAFFED_HOURS")
    )
    on_phone = ctx.channel == VOICE_CHANNEL and ctx.call.get("transport") == PHONE_TRANSPORT
    if on_phone:
        step, when = policy.phone_handoff_step(now, step, when, bool(ctx.call.get("can_transfer")))
    # A callback's `when` is its time; a wait's or a transfer's, minutes.
    callback = when if step == "callback" and isinstance(when, datetime) else None
    record = ctx.repo.create_handoff(
        conversation_id=ctx.conversation_id,
        channel=ctx.channel,
        reason=reason,
        priority=empathy.handoff_priority(worst, reason),
        summary=_with_callback_number(
            conversation.summary(
                conversation.user_turns(events),
                {k: ctx.slot(k) for k in ("verified_order", "order_id", "identity_attempts")},
                reason,
            ),
            ctx.call.get("caller") if callback and on_phone else None,
        ),
        transcript=transcript(events),
        emotion_timeline=conversation.emotion_timeline(events),
        customer_id=order.customer.id if order else None,
        order_number=order.number if order else None,
        callback_at=callback,
    )
    logger.info(
        "actions.handoff.created conversation=%s reason=%s priority=%s",
        ctx.conversation_id,
        reason,
        record.priority,
    )
    if ctx.emotion.negative:
        ctx.acknowledge()
    ctx.say(f"utter_handoff_{reason}")
    if step == "wait":
        ctx.say("utter_handoff_wait", reference=record.reference, minutes=when)
    elif step == "transfer":
        ctx.say("utter_handoff_transfer", reference=record.reference)
    elif callback:
        ctx.say(
            "utter_handoff_callback_phone" if on_phone else "utter_handoff_callback",
            reference=record.reference,
            callback_time=callback.strftime("%A at %H:%M"),
        )
    if ctx.channel == VOICE_CHANNEL:  # the call itself transfers or carries on
        ctx.dispatcher.utter_message(
            json_message={
                "handoff": {"reference": record.reference, "step": step, "reason": reason}
            }
        )
    _reset_after_handoff(ctx, total_turns)


def _reset_after_handoff(ctx: Context, total_turns: int) -> None:
    ctx.set(HANDOFF_TURN, total_turns)
    ctx.set("identity_attempts", 0)
    ctx.set("pending_request", None)
    ctx.set("awaiting_confirmation", None)
