"""Tracker events as the chat the customer and the agent see (pure)."""
from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Optional

_SESSION_ID = re.compile(
    r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.I)


def valid_session_id(value: Any) -> bool:
    """Widget session ids are UUIDs, with or without dashes."""
    return isinstance(value, str) and bool(_SESSION_ID.match(value))


def agent_metadata(name: str) -> Dict[str, str]:
    """What marks a bot event in the tracker as written by a human agent."""
    return {"sender": "agent", "agent": name}


def message(event: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """One chat line from one tracker event, or None for events nobody saw."""
    kind, text = event.get("event"), event.get("text")
    time = float(event.get("timestamp") or 0.0)
    if kind == "user" and text:  # external (triggered) intents have no text
        return {"sender": "customer", "text": text, "buttons": [], "agent": None,
                "time": time}
    if kind != "bot":
        return None
    data = event.get("data") or {}
    buttons = [{"title": b.get("title", ""), "payload": b.get("payload", "")}
               for b in data.get("buttons") or [] if isinstance(b, dict)]
    if not text and not buttons:
        return None
    metadata = event.get("metadata") or {}
    if metadata.get("sender") == "agent":
        return {"sender": "agent", "text": text or "", "buttons": [],
                "agent": metadata.get("agent"), "time": time}
    return {"sender": "heard", "text": text or "", "buttons": buttons, "agent": None,
            "time": time}


def messages(events: Iterable[Dict[str, Any]], after: Optional[float] = None
             ) -> List[Dict[str, Any]]:
    lines = (message(e) for e in events)
    return [m for m in lines if m and (after is None or m["time"] > after)]
