"""Validation of `request_form`: identity first, then the request's own details."""

from __future__ import annotations

import asyncio
import re
from typing import Any, Callable, Dict, List, Optional, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions import account, conversation, info, refunds
from actions.base import shared_repository
from actions.context import Context
from actions.empathy import Turn
from actions.escalation import escalation_for, hand_over
from actions.requests import IDENTITY_SLOTS, REQUESTS, required_slots
from heard.contract import ORDER_NUMBER, VOICE_CHANNEL
from heard.formats import EMAIL_RE, ORDER_NUMBER_RE
from store.repository import Repository

MAX_IDENTITY_ATTEMPTS = 3
# A mid-form message that doesn't answer the question counts as a new request only when
# the classifier is this sure; otherwise it is read as a (wrong) answer and asked again.
SWITCH_CONFIDENCE = 0.8
# An order number as customers write it: its digits may be grouped by spaces or hyphens.
_WRITTEN_ORDER_NUMBER = re.compile(r"(?<!\d)(\d[\d -]{4,10}\d)(?!\d)")
_ORDER_NUMBER_DIGITS = re.compile(ORDER_NUMBER)
# Words a customer uses to stop a half-finished request.
STOP_INTENTS = ("deny", "goodbye")
# Questions on the side that leave the request where it was: policy answers and the like.
DIGRESSIONS = {
    **info.ANSWERS,
    "bot_challenge": "utter_iamabot",
    "out_of_scope": "utter_out_of_scope",
}
DIGRESSION_CONFIDENCE = 0.6


def order_number_from(text: str) -> Optional[str]:
    """'#123-4567', 'order 1234567' -> '1234567'; None unless it has 6 to 8 digits."""
    for candidate in _WRITTEN_ORDER_NUMBER.findall(str(text)):
        digits = re.sub(r"[ -]", "", candidate)
        if _ORDER_NUMBER_DIGITS.fullmatch(digits):
            return digits
    return None


def email_from(text: str) -> Optional[str]:
    match = EMAIL_RE.search(str(text))
    return match.group().strip(".").lower() if match and len(match.group()) <= 254 else None


def address_from(text: str) -> Optional[str]:
    address = " ".join(str(text).split())
    ok = (
        10 <= len(address) <= 200
        and re.search(r"\d", address)
        and re.search(r"[A-Za-z]{2}", address)
    )
    return address if ok else None


def full_name_from(text: str) -> Optional[str]:
    name = re.sub(
        r"^(my name is|i am|i'm|it's|name:?)\s+", "", " ".join(str(text).split()), flags=re.I
    ).strip(" .")
    parts = name.split()
    if (
        1 <= len(parts) <= 4
        and len(name) <= 80
        and all(p.replace("-", "").replace("'", "").isalpha() for p in parts)
    ):
        return name.title() if name.islower() else name
    return None


def account_type_from(text: str) -> Optional[str]:
    lowered = str(text).lower()
    aliases = {
        "biz": "business",
        "pro": "premium",
        "company": "business",
        "standard": "basic",
        "free": "basic",
    }
    for word in re.findall(r"[a-z]+", lowered):
        word = aliases.get(word, word)
        if word in account.ACCOUNT_TYPES:
            return word
    return None


def profile_update_from(text: str) -> Optional[str]:
    return str(text) if account.parse_profile_update(str(text)) else None


# slot -> (reader of the customer's answer, response when it can't be read)
READERS: Dict[str, Tuple[Callable[[str], Optional[str]], str]] = {
    "order_id": (order_number_from, "utter_invalid_order_id"),
    "email": (email_from, "utter_invalid_email"),
    "new_address": (address_from, "utter_invalid_address"),
    "account_type": (account_type_from, "utter_invalid_account_type"),
    "profile_update": (profile_update_from, "utter_invalid_profile_update"),
    "remedy": (refunds.remedy_from_text, "utter_invalid_remedy"),
    "full_name": (full_name_from, "utter_invalid_full_name"),
}


# Strict readers for details the customer volunteers: only a bare 6 to 8 digit run is an
# order number here (a date such as 2026-11-30 is not).
EXTRA_READERS: Dict[str, Callable[[str], Optional[str]]] = {
    "order_id": lambda text: next(iter(ORDER_NUMBER_RE.findall(text)), None),
    "email": email_from,
}


def mentioned(slot: str, tracker: Tracker) -> Dict[Text, Any]:
    """An order number or e-mail address written anywhere in the latest message, for a
    slot the form isn't asking for (that one is read from the answer): "it's 3456789 /
    jane.doe@example.com" answers both questions at once, and "sorry, the order is
    2345679" corrects the number given before."""
    if tracker.get_slot("requested_slot") == slot:
        return {}
    found = EXTRA_READERS[slot](tracker.latest_message.get("text") or "")
    return {slot: found} if found and found != tracker.get_slot(slot) else {}


def new_upset_feeling(turns: List[Turn]) -> bool:
    """An answer that comes with a new upset feeling ("ugh, fine: 1234567") is
    acknowledged before the form goes on; the same feeling again is not."""
    return (
        bool(turns)
        and turns[-1].emotion.negative
        and (len(turns) < 2 or turns[-2].emotion.name != turns[-1].emotion.name)
    )


def reads_back(slot: str, channel: Optional[str]) -> bool:
    """On the phone a misheard digit is easy to miss, so the order number is said back."""
    return slot == "order_id" and channel == VOICE_CHANNEL


class ValidateRequestForm(FormValidationAction):
    """Reads each answer with READERS, checks identity once both parts are in, and lets
    the customer stop, ask for a human or change the request half-way."""

    def __init__(self, repo: Optional[Repository] = None):
        self._repo = repo

    @property
    def repo(self) -> Repository:
        return self._repo or shared_repository()

    def name(self) -> Text:
        return "validate_request_form"

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[Text]:
        verified = tracker.get_slot("verified_order")
        status = None
        if verified:
            order = await asyncio.to_thread(self.repo.find_order, verified)
            status = order.status if order else None
        failed = (tracker.get_slot("identity_attempts") or 0) >= MAX_IDENTITY_ATTEMPTS
        return required_slots(tracker.get_slot("pending_request"), bool(verified), status, failed)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        if not tracker.get_slot("requested_slot"):  # the request's own message, already
            return await self._run(dispatcher, tracker, domain)  # acknowledged and checked
        ctx = Context(dispatcher, tracker, domain, self.repo)
        reason = escalation_for(ctx)  # an answer: escalation is checked here too
        if reason:
            await asyncio.to_thread(hand_over, ctx, reason)
            return ctx.events + [SlotSet("requested_slot", None)]
        if new_upset_feeling(conversation.user_turns(tracker.events)):
            ctx.acknowledge()
        return ctx.events + await self._run(dispatcher, tracker, domain)

    async def _run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        text = tracker.latest_message.get("text") or ""
        requested = tracker.get_slot("requested_slot")
        if requested in READERS and READERS[requested][0](text) is not None:
            return await super().run(dispatcher, tracker, domain)  # it answers the question
        intent = tracker.latest_message.get("intent") or {}
        name, confidence = intent.get("name"), intent.get("confidence") or 0.0
        if name in STOP_INTENTS:
            dispatcher.utter_message(response="utter_request_stopped")
            return [SlotSet("pending_request", None), SlotSet("requested_slot", None)]
        if name in DIGRESSIONS and confidence >= DIGRESSION_CONFIDENCE and requested:
            # A question on the side: answered, then the form asks its question again.
            dispatcher.utter_message(response=DIGRESSIONS[name])
            return [SlotSet(requested, None)]
        if (
            name in REQUESTS
            and name != tracker.get_slot("pending_request")
            and confidence >= SWITCH_CONFIDENCE
        ):
            return await self._switch(
                name, confidence, text, requested, dispatcher, tracker, domain
            )
        return await super().run(dispatcher, tracker, domain)

    async def _switch(
        self,
        request: str,
        confidence: float,
        text: str,
        requested: Optional[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[Dict[Text, Any]]:
        """A new request half-way: keep what was collected, drop the text the form took
        as an answer, and carry on with the new request."""
        dispatcher.utter_message(response="utter_switch_request")
        changes = {
            "pending_request": request,
            "request_text": text[:2000],
            "request_confidence": confidence,
        }
        if requested:
            changes[requested] = None
        tracker.slots.update(changes)
        events = [SlotSet(name, value) for name, value in changes.items()]
        next_slot = await self.next_requested_slot(dispatcher, tracker, domain)
        return events + ([next_slot] if next_slot else [])

    async def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> Dict[Text, Any]:
        return mentioned("order_id", tracker)

    async def extract_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> Dict[Text, Any]:
        return mentioned("email", tracker)

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        """Each answer read (or explained and asked again), then the identity check."""
        required = await self.required_slots([], dispatcher, tracker, domain)
        candidates = tracker.slots_to_validate()
        events = []
        for slot, value in candidates.items():
            if slot not in required or slot not in READERS:
                continue
            reader, invalid_response = READERS[slot]
            read = reader(str(value)) if value is not None else None
            answered_another = any(
                other != slot and other in IDENTITY_SLOTS for other in candidates
            )
            if read is None and not answered_another:  # "jane@x.com" for the order number:
                dispatcher.utter_message(response=invalid_response)  # no reproach, ask again
            elif reads_back(slot, tracker.get_latest_input_channel()):
                dispatcher.utter_message(response="utter_order_id_read_back", order_id=read)
            events.append(SlotSet(slot, read))
        tracker.add_slots(events)
        if tracker.get_slot("verified_order") or not all(
            tracker.get_slot(s) for s in IDENTITY_SLOTS
        ):
            return events
        return events + await self._check_identity(dispatcher, tracker)

    async def _check_identity(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> List[Dict[Text, Any]]:
        order = await asyncio.to_thread(
            self.repo.verify_identity, tracker.get_slot("order_id"), tracker.get_slot("email")
        )
        if order:
            return [SlotSet("verified_order", order.number), SlotSet("identity_attempts", 0)]
        attempts = int(tracker.get_slot("identity_attempts") or 0) + 1
        if attempts < MAX_IDENTITY_ATTEMPTS:
            dispatcher.utter_message(response="utter_identity_mismatch")
        # Both cleared, so the reply never tells which of the two was wrong.
        return [
            SlotSet("order_id", None),
            SlotSet("email", None),
            SlotSet("identity_attempts", attempts),
        ]
