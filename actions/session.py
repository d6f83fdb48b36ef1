"""A new session (after Rasa's session expiry) keeps what Heard knew, and stays with the
colleague who has the conversation: the agent console silences Heard with a pause, and
Rasa's own session start would forget it and let Heard answer over the colleague."""
from __future__ import annotations

from typing import Any, Dict, Iterable, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ConversationPaused, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

NOT_CARRIED = {"session_started_metadata"}  # Rasa sets it afresh for each session


def paused_at_end(events: Iterable[Dict[str, Any]]) -> bool:
    """Whether the conversation is paused after these events (a restart also resumes)."""
    paused = False
    for event in events:
        kind = event.get("event")
        if kind == "pause":
            paused = True
        elif kind in ("resume", "restart"):
            paused = False
    return paused


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        events: List[Dict[str, Any]] = [SessionStarted()]
        if (domain.get("session_config") or {}).get("carry_over_slots_to_new_session", True):
            # A new session starts from the initial values: set what differs from them.
            initial = {name: (spec or {}).get("initial_value")
                       for name, spec in (domain.get("slots") or {}).items()}
            events += [SlotSet(name, value) for name, value in tracker.slots.items()
                       if value != initial.get(name) and name not in NOT_CARRIED]
        if paused_at_end(tracker.events):
            events.append(ConversationPaused())
        return events + [ActionExecuted("action_listen")]
