"""Pure readings of a conversation's events: user turns, emotion timeline, summary (its
transcript is `heard.contract.transcript`, the one every process reads)."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional

from actions import follow_ups
from actions.empathy import REPEATED_CONTACT, Emotion, Turn
from heard.contract import FRUSTRATION, iso_time

Event = Mapping[str, Any]


def _intent(event: Event) -> str:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name") or "none"


def _reading(event: Event) -> str:
    """The intent, except that a follow-up ("why?") the classifier couldn't place is one,
    not a misunderstanding."""
    intent = _intent(event)
    if intent == "nlu_fallback" and follow_ups.kind((event.get("text") or "")[:2000]):
        return "follow_up"
    return intent


def user_turns(events: Iterable[Event]) -> List[Turn]:
    return [
        Turn(
            _reading(e),
            Emotion.from_parse(e.get("parse_data")),
            bool(REPEATED_CONTACT.search((e.get("text") or "")[:2000])),
        )
        for e in events
        if e.get("event") == "user"
    ]


def request_message(events: Iterable[Event], request_text: Optional[str]) -> Optional[Event]:
    """The latest user event whose text made the request (`request_text` keeps a message's
    first 2000 characters), else the latest user event."""
    users = [e for e in events if e.get("event") == "user"]
    made = [e for e in users if request_text and (e.get("text") or "")[:2000] == request_text]
    return (made or users)[-1] if users else None


def request_turns(events: Iterable[Event], request_text: Optional[str]) -> List[Turn]:
    """The user turns from the latest message that made the request (its text is
    `request_text`) on, answers to the form's questions included; only the latest turn
    when no message did."""
    users = [e for e in events if e.get("event") == "user"]
    # request_text keeps a message's first 2000 characters
    made = [
        i
        for i, e in enumerate(users)
        if request_text and (e.get("text") or "")[:2000] == request_text
    ]
    return user_turns(users[made[-1] if made else max(0, len(users) - 1) :])


def emotion_timeline(events: Iterable[Event]) -> List[Dict[str, Any]]:
    """Per user turn: emotion, intensity, intent and the conversation's frustration score
    as updated for that turn (the `frustration` slot event that follows it)."""
    timeline: List[Dict[str, Any]] = []
    for e in events:
        if e.get("event") == "user":
            emotion = Emotion.from_parse(e.get("parse_data"))
            timeline.append(
                {
                    "turn": len(timeline) + 1,
                    "at": iso_time(e.get("timestamp")),
                    "emotion": emotion.name,
                    "intensity": emotion.intensity,
                    "intent": _intent(e),
                    "frustration": None,
                }
            )
        elif (
            e.get("event") == "slot"
            and e.get("name") == FRUSTRATION
            and timeline
            and timeline[-1]["frustration"] is None
        ):
            timeline[-1]["frustration"] = e.get("value")
    return timeline


def summary(turns: List[Turn], slots: Mapping[str, Any], reason: str) -> str:
    """A few lines an agent reads in seconds: what was asked, about what, what happened."""
    asked = []
    for t in turns:
        if (
            t.intent not in ("inform", "affirm", "deny", "greet", "nlu_fallback", "none")
            and t.intent not in asked
        ):
            asked.append(t.intent)
    parts = [f"Reason: {reason.replace('_', ' ')}."]
    parts.append(
        "Asked about: "
        + (", ".join(a.replace("_", " ") for a in asked) or "nothing recognised")
        + "."
    )
    if slots.get("verified_order"):
        parts.append(f"Identity checked with order {slots['verified_order']}.")
    elif slots.get("order_id"):
        parts.append(f"Order mentioned: {slots['order_id']} (identity not confirmed).")
    if slots.get("identity_attempts"):
        parts.append(f"Failed identity checks: {int(slots['identity_attempts'])}.")
    if turns:
        parts.append(
            f"Latest emotion: {turns[-1].emotion.name} ({turns[-1].emotion.intensity:.2f})."
        )
    return " ".join(parts)
