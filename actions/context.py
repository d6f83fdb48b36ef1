"""The turn's context every Heard action works in: the tracker read, what is said, the
slot events collected, the verified customer's order and the cases opened."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import conversation, empathy, policy
from actions.formatting import day
from heard.cases import CASE_TEAMS
from store.repository import OrderView, Repository

# A write (a refund, a case) for a request read with less confidence than this is asked
# about first ("Just to check: a refund for order ...?"); `awaiting_confirmation` then
# holds CONFIRM_REQUEST + the request. Tuned on validation data, never on the test set:
# `python -m bench.nlu_validation` (the lowest with 95 % of unasked writes right).
UNSURE_WRITES = ("get_refund", "change_order", "payment_issue")
CONFIRM_BELOW = 0.55
CONFIRM_REQUEST = "request:"


class Context:
    """One action run: reads the tracker, says things, collects slot events."""

    def __init__(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
        repo: Repository,
    ):
        self.dispatcher = dispatcher
        self.tracker = tracker
        self.domain = domain
        self.repo = repo
        self.events: List[Dict[str, Any]] = []
        self._slots: Dict[str, Any] = {}
        self.emotion = empathy.Emotion.from_parse(tracker.latest_message)
        intent = (tracker.latest_message or {}).get("intent") or {}
        self.intent = intent.get("name") or ""
        self.confidence = float(intent.get("confidence") or 0.0)
        self.plan = empathy.plan(self.emotion, self.intent)
        self.style = self.plan.style
        self._order: Optional[OrderView] = None
        # What this run said, by response, and the facts in it (dates, references...):
        # the last resolution's facts answer follow-ups such as "how long will that take?".
        self.said: List[str] = []
        self.facts: Dict[str, str] = {}
        self.confirmed = False  # the customer said yes to the write this run makes

    # --- slots ---------------------------------------------------------------------
    def slot(self, name: str) -> Any:
        return self._slots[name] if name in self._slots else self.tracker.get_slot(name)

    def set(self, name: str, value: Any) -> None:
        self._slots[name] = value
        self.events.append(SlotSet(name, value))

    def pop(self, name: str) -> Any:
        """The slot's value, clearing it: for one-shot state such as a pending yes/no."""
        value = self.slot(name)
        self.set(name, None)
        return value

    @property
    def conversation_id(self) -> str:
        return self.tracker.sender_id

    @property
    def channel(self) -> str:
        return self.tracker.get_latest_input_channel() or "unknown"

    @property
    def call(self) -> dict:
        """The voice channel's facts about the call (transport, caller, can_transfer)."""
        for event in reversed(self.tracker.events):
            if event.get("event") == "user":
                call = (event.get("metadata") or {}).get("call")
                return call if isinstance(call, dict) else {}
        return {}

    @property
    def latest_text(self) -> str:
        return (self.tracker.latest_message or {}).get("text") or ""

    # --- the verified customer -----------------------------------------------------
    @property
    def order(self) -> Optional[OrderView]:
        """The order whose identity check passed in this conversation, fresh from the db."""
        number = self.slot("verified_order")
        if number and (self._order is None or self._order.number != number):
            self._order = self.repo.find_order(number)
        return self._order if number else None

    @property
    def checked_order(self) -> OrderView:
        """The verified order, for handlers that `dialogue.py` runs only once it is known."""
        order = self.order
        if order is None:
            raise LookupError("a request handler ran without a verified order")
        return order

    def refresh_order(self) -> None:
        self._order = None

    def names(self) -> Dict[str, Any]:
        """Template values every response may use once the customer is known."""
        order = self.order
        if not order:
            return {"first_name": ""}
        return {
            "first_name": order.customer.first_name,
            "order_id": order.number,
            "items": order.items_text,
            "status": order.status,
        }

    # --- saying things -------------------------------------------------------------
    def responses(self) -> Dict[str, Any]:
        return self.domain.get("responses", {})

    def say(self, response: str, **values: Any) -> None:
        """Utters `response`, or its `_steps`/`_reassure` variant when the style calls for it."""
        name = empathy.styled_response(response, self.style, self.responses())
        self.dispatcher.utter_message(response=name, **{**self.names(), **values})
        self.said.append(response)
        self.facts.update({k: str(v) for k, v in values.items() if isinstance(v, (str, int))})

    def say_once(self, response: str, **values: Any) -> bool:
        """Utters a variation of `response` never said before in this conversation, its
        {placeholders} filled from `values`."""
        variations = [
            v
            for v in self.responses().get(response, [])
            if v.get("channel") in (None, self.channel)
        ]
        said = list(self.slot("acks_said") or [])
        index = empathy.pick_variation(response, len(variations), said)
        if index is None:
            return False
        text = variations[index]["text"]
        self.dispatcher.utter_message(text=text.format_map(values) if values else text)
        self.set("acks_said", said + [f"{response}:{index}"])
        return True

    def acknowledge(self) -> None:
        """The feeling first, then (once per conversation) what is riding on it."""
        if self.plan.acknowledgement:
            self.say_once(self.plan.acknowledgement)
        at_stake = empathy.stakes(self.latest_text)
        if at_stake:
            self.say_once("utter_ack_stakes", stakes=at_stake)

    def apologise(self, fault: str) -> None:
        response = empathy.apology(fault)
        if response:
            self.say_once(response)

    def has_apologised(self, fault: str) -> bool:
        """Whether this conversation has heard any variation of the apology for `fault`."""
        return any(
            key.startswith(f"{empathy.apology(fault)}:") for key in self.slot("acks_said") or []
        )

    def asks_before_writing(self, request: str) -> bool:
        """Asks whether to go ahead, and True, when the write `request` is about to make
        was not clearly asked for: read with low confidence, and not yet confirmed."""
        assert request in UNSURE_WRITES, f"{request} is not listed in UNSURE_WRITES"
        if self.confirmed or float(self.slot("request_confidence") or 0.0) >= CONFIRM_BELOW:
            return False
        self.say(f"utter_confirm_{request}")
        self.set("awaiting_confirmation", CONFIRM_REQUEST + request)
        return True

    # --- cases -----------------------------------------------------------------------
    def request_emotions(self) -> List[empathy.Emotion]:
        """How the customer felt since making the request being resolved: that is often a
        turn or two later, after the identity questions, when the latest message is calm."""
        text = self.slot("request_text") if self.slot("pending_request") else None
        return [t.emotion for t in conversation.request_turns(self.tracker.events, text)]

    def open_case(
        self, kind: str, summary: str, priority: str, fault: Optional[str] = None
    ) -> Optional[str]:
        """Opens a ticket for the problem and returns its reference; or, when one is open
        already, refers the customer to it (raising it if they are more upset now) and
        returns None. A shop `fault` is owned for a new case, and for a repeat only if
        this conversation hasn't heard that apology: never a second, different one."""
        order = self.order
        wanted = empathy.case_priority(priority, self.request_emotions())
        ticket, created = self.repo.open_ticket(
            kind,
            summary,
            wanted,
            order.customer.id if order else None,
            order.number if order else None,
            self.conversation_id,
        )
        if fault and (created or not self.has_apologised(fault)):
            self.apologise(fault)
        raised = None if created else policy.raised_priority(ticket.priority, wanted)
        if raised:
            self.repo.raise_ticket_priority(ticket.reference, raised)
        expected = policy.case_expected_by(
            kind, raised or ticket.priority, ticket.created_at, self.repo.clock().date()
        )
        self.facts.update(reference=ticket.reference, team=CASE_TEAMS[kind], expected=day(expected))
        if created:
            return ticket.reference
        self.say(
            "utter_case_already_open_raised" if raised else "utter_case_already_open",
            reference=ticket.reference,
            team=CASE_TEAMS[kind],
            expected=day(expected),
        )
        return None
