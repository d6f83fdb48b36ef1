"""Validation of `request_form`: identity first, then the request's own details."""
from __future__ import annotations

import asyncio
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions import account, refunds
from actions.context import shared_repository
from actions.requests import IDENTITY_SLOTS, REQUESTS, required_slots
from actions.store.repository import Repository

MAX_IDENTITY_ATTEMPTS = 3
_ORDER_NUMBER = re.compile(r"(?<!\d)(\d[\d -]{4,10}\d)(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Words a customer uses to stop a half-finished request.
STOP_INTENTS = ("deny", "goodbye")


def order_number_from(text: str) -> Optional[str]:
    """'#123-4567', 'order 1234567' -> '1234567'; None unless it has 6 to 8 digits."""
    for candidate in _ORDER_NUMBER.findall(str(text)):
        digits = re.sub(r"[ -]", "", candidate)
        if 6 <= len(digits) <= 8:
            return digits
    return None


def email_from(text: str) -> Optional[str]:
    match = _EMAIL.search(str(text))
    return match.group().strip(".").lower() if match and len(match.group()) <= 254 else None


def address_from(text: str) -> Optional[str]:
    address = " ".join(str(text).split())
    ok = 10 <= len(address) <= 200 and re.search(r"\d", address) and re.search(r"[A-Za-z]{2}",
                                                                                  address)
    return address if ok else None


def full_name_from(text: str) -> Optional[str]:
    name = re.sub(r"^(my name is|i am|i'm|it's|name:?)\s+", "", " ".join(str(text).split()),
                  flags=re.I).strip(" .")
    parts = name.split()
    if 1 <= len(parts) <= 4 and len(name) <= 80 and all(
            p.replace("-", "").replace("'", "").isalpha() for p in parts):
        return name.title() if name.islower() else name
    return None


def account_type_from(text: str) -> Optional[str]:
    lowered = str(text).lower()
    aliases = {"biz": "business", "pro": "premium", "company": "business",
               "standard": "basic", "free": "basic"}
    for word in re.findall(r"[a-z]+", lowered):
        word = aliases.get(word, word)
        if word in account.ACCOUNT_TYPES:
            return word
    return None


class ValidateRequestForm(FormValidationAction):
    def __init__(self, repo: Optional[Repository] = None):
        self._repo = repo

    @property
    def repo(self) -> Repository:
        return self._repo or shared_repository()

    def name(self) -> Text:
        return "validate_request_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: Dict[Text, Any]) -> List[Text]:
        verified = tracker.get_slot("verified_order")
        status = None
        if verified:
            order = await asyncio.to_thread(self.repo.find_order, verified)
            status = order.status if order else None
        failed = (tracker.get_slot("identity_attempts") or 0) >= MAX_IDENTITY_ATTEMPTS
        return required_slots(tracker.get_slot("pending_request"), bool(verified), status,
                              failed)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        pending = tracker.get_slot("pending_request")
        if intent == "contact_human_agent":
            return [SlotSet("pending_request", "handoff"), SlotSet("requested_slot", None)]
        if intent in STOP_INTENTS:
            dispatcher.utter_message(response="utter_request_stopped")
            return [SlotSet("pending_request", None), SlotSet("requested_slot", None)]
        if intent in REQUESTS and intent != pending:
            # A new request mid-way: keep what was collected, drop the text the form took
            # for its question, and carry on with the new request.
            dispatcher.utter_message(response="utter_switch_request")
            tracker.slots.update({"pending_request": intent,
                                  "request_text": tracker.latest_message.get("text")})
            requested = tracker.get_slot("requested_slot")
            events = [SlotSet("pending_request", intent),
                      SlotSet("request_text", tracker.latest_message.get("text"))]
            if requested and requested not in ("order_id", "email"):
                tracker.slots[requested] = None
                events.append(SlotSet(requested, None))
            elif requested:
                value = (order_number_from if requested == "order_id" else email_from)(
                    tracker.get_slot(requested) or "")
                tracker.slots[requested] = value
                events.append(SlotSet(requested, value))
            next_slot = await self.next_requested_slot(dispatcher, tracker, domain)
            return events + ([next_slot] if next_slot else [])
        return await super().run(dispatcher, tracker, domain)

    async def get_validation_events(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        events = await super().get_validation_events(dispatcher, tracker, domain)
        tracker.add_slots(events)
        if tracker.get_slot("verified_order") or not all(
                tracker.get_slot(s) for s in IDENTITY_SLOTS):
            return events
        return events + await self._check_identity(dispatcher, tracker)

    async def _check_identity(self, dispatcher: CollectingDispatcher,
                              tracker: Tracker) -> List[Dict[Text, Any]]:
        order = await asyncio.to_thread(self.repo.verify_identity,
                                        tracker.get_slot("order_id"), tracker.get_slot("email"))
        if order:
            return [SlotSet("verified_order", order.number), SlotSet("identity_attempts", 0)]
        attempts = int(tracker.get_slot("identity_attempts") or 0) + 1
        if attempts < MAX_IDENTITY_ATTEMPTS:
            dispatcher.utter_message(response="utter_identity_mismatch")
        # Both cleared, so the reply never tells which of the two was wrong.
        return [SlotSet("order_id", None), SlotSet("email", None),
                SlotSet("identity_attempts", attempts)]

    # --- one validator per slot: normalise, or explain and ask again ---------------
    @staticmethod
    def _checked(slot: str, value: Optional[str], dispatcher: CollectingDispatcher,
                 invalid_response: str) -> Dict[Text, Any]:
        if value is None:
            dispatcher.utter_message(response=invalid_response)
        return {slot: value}

    def validate_order_id(self, value: Any, dispatcher: CollectingDispatcher,
                          tracker: Tracker, domain: Dict[Text, Any]) -> Dict[Text, Any]:
        return self._checked("order_id", order_number_from(value), dispatcher,
                             "utter_invalid_order_id")

    def validate_email(self, value: Any, dispatcher: CollectingDispatcher,
                       tracker: Tracker, domain: Dict[Text, Any]) -> Dict[Text, Any]:
        return self._checked("email", email_from(value), dispatcher, "utter_invalid_email")

    def validate_new_address(self, value: Any, dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: Dict[Text, Any]) -> Dict[Text, Any]:
        return self._checked("new_address", address_from(value), dispatcher,
                             "utter_invalid_address")

    def validate_account_type(self, value: Any, dispatcher: CollectingDispatcher,
                              tracker: Tracker, domain: Dict[Text, Any]) -> Dict[Text, Any]:
        return self._checked("account_type", account_type_from(value), dispatcher,
                             "utter_invalid_account_type")

    def validate_profile_update(self, value: Any, dispatcher: CollectingDispatcher,
                                tracker: Tracker, domain: Dict[Text, Any]) -> Dict[Text, Any]:
        ok = value if account.parse_profile_update(str(value)) else None
        return self._checked("profile_update", ok, dispatcher, "utter_invalid_profile_update")

    def validate_remedy(self, value: Any, dispatcher: CollectingDispatcher,
                        tracker: Tracker, domain: Dict[Text, Any]) -> Dict[Text, Any]:
        return self._checked("remedy", refunds.remedy_from_text(str(value)), dispatcher,
                             "utter_invalid_remedy")

    def validate_full_name(self, value: Any, dispatcher: CollectingDispatcher,
                           tracker: Tracker, domain: Dict[Text, Any]) -> Dict[Text, Any]:
        return self._checked("full_name", full_name_from(value), dispatcher,
                             "utter_invalid_full_name")

