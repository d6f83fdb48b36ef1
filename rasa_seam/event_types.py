"""An event's class is looked up once per type name: Rasa searched every subclass of `Event`
for each event it loaded, a fifth of a long conversation's turn."""

from __future__ import annotations

from functools import lru_cache
from typing import Optional

from rasa.shared.core.events import Event

_original = {"resolve_event": Event.resolve_by_type}


@lru_cache(maxsize=None)
def resolve_event_type(type_name: str, default: Optional[type] = None) -> Optional[type]:
    return _original["resolve_event"](type_name, default)


def install() -> None:
    Event.resolve_by_type = staticmethod(resolve_event_type)
