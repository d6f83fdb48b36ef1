"""When a conversation's session ends, and what the next session keeps.

Rasa loads, replays and sends to the action server the current session only, so a
session's length bounds the work of every turn. A session ends after
`session_expiration_time` minutes without a message (domain.yml: the customer went away)
or after `HEARD_SESSION_MAX_TURNS` customer messages (`heard.limits`: a long chat or call
goes on in a fresh session).

- Going on after the turn limit, everything is kept: the slots, an open form and its
  question, a colleague's takeover. Only the turn positions (`handoff_turn`,
  `progress_turn`) start again, because they count the messages of the session.
- Coming back after the idle time, the customer is starting afresh: what Heard knows about
  them stays (order, e-mail, identity, feelings, what was already said), but nothing that
  waited for an answer does, so their first message is never read as the answer to an old
  question (a rating, a confirmation, a form's question) or as a follow-up to an old reply.

Pure: the Rasa side lives in `rasa_seam.tracker_sessions`.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping

from heard.contract import HANDOFF_TURN, PROGRESS_TURN

# Rasa sets it afresh for each session.
NOT_CARRIED = frozenset({"session_started_metadata"})
# Positions among the session's customer messages.
TURN_POSITIONS = frozenset({HANDOFF_TURN, PROGRESS_TURN})
# Questions, requests and replies still waiting for the customer.
PENDING = frozenset(
    {
        "requested_slot",
        "pending_request",
        "request_text",
        "request_confidence",
        "tentative_request",
        "queued_requests",
        "awaiting_confirmation",
        "awaiting_rating",
        "last_result",
        "new_address",
        "account_type",
        "profile_update",
        "remedy",
        "full_name",
    }
)


def returning(last_message_at: float, now: float, expiration_minutes: float) -> bool:
    """Whether the customer's last message is older than the idle time."""
    return expiration_minutes > 0 and (now - last_message_at) / 60 > expiration_minutes


def carried_slots(
    values: Mapping[str, Any], initial: Mapping[str, Any], came_back: bool
) -> Dict[str, Any]:
    """The slots the new session sets: those that differ from their initial value (the new
    session starts from those), less what does not carry over."""
    dropped = NOT_CARRIED | TURN_POSITIONS | (PENDING if came_back else frozenset())
    return {
        name: value
        for name, value in values.items()
        if name not in dropped and value != initial.get(name)
    }
