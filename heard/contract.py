"""What Heard's processes must agree on: the Rasa server, the action server, the voice
channels and the agent console each read these names and shapes from here, so they agree
by construction rather than by coincidence. Standard library only: every process, and
training, imports it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Mapping, Optional

# --- channels ---------------------------------------------------------------------------
# The input channel of every call (phone or browser microphone), and the `channel:` of the
# domain's voice response variants.
VOICE_CHANNEL = "voice"
# `metadata["call"]["transport"]` of a call on a phone line (browser calls have none to
# transfer: they are joined in chat).
PHONE_TRANSPORT = "twilio"

# --- who wrote a bot event --------------------------------------------------------------
# A colleague's reply from the agent console is stored as a bot event with this metadata.
AGENT_SENDER = "agent"


def agent_metadata(name: str) -> Dict[str, str]:
    """The metadata that marks a bot event as written by the human agent `name`."""
    return {"sender": AGENT_SENDER, "agent": name}


def written_by_agent(event: Mapping[str, Any]) -> bool:
    return (event.get("metadata") or {}).get("sender") == AGENT_SENDER


# --- slots both servers write -----------------------------------------------------------
# Positions among the session's customer messages: set by actions, reset by the Rasa
# server when a long session goes on in a fresh one, and set by the console's takeover.
HANDOFF_TURN = "handoff_turn"
PROGRESS_TURN = "progress_turn"
FRUSTRATION = "frustration"  # the conversation's score, updated by the Rasa server per turn

# --- emotions ---------------------------------------------------------------------------
EMOTIONS = ("anger", "frustration", "sadness", "anxiety", "confusion", "joy", "neutral")
NEGATIVE_EMOTIONS = ("anger", "frustration", "sadness", "anxiety", "confusion")

# --- formats (pattern text; compiled with their boundaries in heard.formats) ------------
ORDER_NUMBER = r"\d{6,8}"  # a shop order number: 6 to 8 digits
# An e-mail address, every repetition bounded so that matching runs in linear time. Also
# the `email` regex feature in data/nlu.yml (a test keeps the two identical).
EMAIL = r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}"
# A conversation id, from every channel (a REST `sender`, a widget's session, a call): no
# paths, no spaces, bounded.
CONVERSATION_ID = r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}"
# A widget's conversation id, a subset of CONVERSATION_ID: a random UUID (dashes optional)
# the widget keeps. The widget reads its history without signing in, so the id is the only
# proof that the conversation is the visitor's and must be unguessable: other channels'
# ids (a REST sender, a call's) are never served to a widget.
WIDGET_SESSION_ID = r"[0-9a-fA-F]{8}(?:-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}"

# --- the transcript ---------------------------------------------------------------------
# One line of a conversation as people read it: in the live console, in a stored handoff
# and in the console's JavaScript.
#   {"sender": "customer" | "heard" | "agent", "text": str, "time": float (Unix seconds),
#    "agent": str | None (the colleague's name), "buttons": [{"title", "payload"}]}
CUSTOMER, HEARD, AGENT = "customer", "heard", AGENT_SENDER


def transcript_line(event: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """One line from one tracker event (as JSON), or None for events nobody saw."""
    kind, text = event.get("event"), event.get("text")
    time = float(event.get("timestamp") or 0.0)
    if kind == "user" and text:  # external (triggered) intents have no text
        return {"sender": CUSTOMER, "text": text, "time": time, "agent": None, "buttons": []}
    if kind != "bot":
        return None
    data = event.get("data") or {}
    buttons = [
        {"title": b.get("title", ""), "payload": b.get("payload", "")}
        for b in data.get("buttons") or []
        if isinstance(b, dict)
    ]
    if not text and not buttons:
        return None
    if written_by_agent(event):
        return {
            "sender": AGENT,
            "text": text or "",
            "time": time,
            "agent": (event.get("metadata") or {}).get("agent"),
            "buttons": [],
        }
    return {"sender": HEARD, "text": text or "", "time": time, "agent": None, "buttons": buttons}


def transcript(
    events: Iterable[Mapping[str, Any]], after: Optional[float] = None
) -> List[Dict[str, Any]]:
    """The lines of `events`, those later than `after` only when it is given."""
    lines = (transcript_line(e) for e in events)
    return [line for line in lines if line and (after is None or line["time"] > after)]


def iso_time(seconds: Optional[float]) -> Optional[str]:
    """A line's time as people read it in logs and summaries (UTC, to the second)."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(float(seconds), tz=timezone.utc).isoformat(timespec="seconds")
