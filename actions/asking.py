"""The form's identity questions, worded for the customer's state: one numbered step at a
time for a confused customer, a reassuring word for an anxious one (`reply_style`, set when
the request began). Rasa asks a form's slot with `action_ask_<slot>` when it exists."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import empathy


class AskForSlot(Action, ABC):
    @property
    @abstractmethod
    def slot(self) -> str:
        """The form slot this action asks for."""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        style = tracker.get_slot("reply_style") or "plain"
        dispatcher.utter_message(response=empathy.styled_response(
            f"utter_ask_{self.slot}", style, domain.get("responses", {})))
        return []


class ActionAskOrderId(AskForSlot):
    slot = "order_id"


class ActionAskEmail(AskForSlot):
    slot = "email"
