"""Sessions in Rasa's trackers: the current session's events, a session that also ends after
`HEARD_SESSION_MAX_TURNS` customer messages, and Rasa's own session start (no call to the
action server) carrying what `rasa_seam.sessions` says."""

from __future__ import annotations

import time
from typing import Any, List

from rasa.core.actions.action import ActionSessionStart
from rasa.core.processor import MessageProcessor
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    ConversationPaused,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from heard.limits import session_max_turns
from rasa_seam import sessions

_original = {
    "session_expired": MessageProcessor._has_session_expired,
    "session_start": ActionSessionStart.run,  # replaced whole: pinned by the tests
}


def this_session(tracker: DialogueStateTracker) -> List[Event]:
    """The events since the latest session start (a tracker loaded from the store holds
    that session only, but in the turn that starts a new one it holds both)."""
    events: List[Event] = []
    for event in reversed(tracker.events):
        if isinstance(event, SessionStarted):
            break
        events.append(event)
    return events[::-1]


def has_session_expired(self: MessageProcessor, tracker: DialogueStateTracker) -> bool:
    """Rasa's idle expiry, or the session's turn limit reached."""
    if _original["session_expired"](self, tracker):
        return True
    said = sum(isinstance(e, UserUttered) for e in this_session(tracker))
    return said >= session_max_turns()


async def start_session(
    self: ActionSessionStart,
    output_channel: Any,
    nlg: Any,
    tracker: DialogueStateTracker,
    domain: Any,
) -> List[Event]:
    """Rasa's `action_session_start`, keeping what `rasa_seam.sessions` says (Rasa's own
    set every slot again, once per slot event of the old session)."""
    events: List[Event] = [SessionStarted()]
    last = tracker.get_last_event_for(UserUttered)
    came_back = last is not None and sessions.returning(
        last.timestamp, time.time(), domain.session_config.session_expiration_time
    )
    if domain.session_config.carry_over_slots:
        slots = tracker.slots.values()
        carried = sessions.carried_slots(
            {s.name: s.value for s in slots}, {s.name: s.initial_value for s in slots}, came_back
        )
        events += [SlotSet(name, value) for name, value in carried.items()]
        if tracker.active_loop_name and not came_back:
            events.append(ActiveLoop(tracker.active_loop_name))
    if tracker.is_paused():  # a colleague has the conversation: Heard stays silent
        events.append(ConversationPaused())
    return events + [ActionExecuted(ACTION_LISTEN_NAME)]


def install() -> None:
    MessageProcessor._has_session_expired = has_session_expired
    ActionSessionStart.run = start_session
