"""The handoff queue the console works from: list, take, hand back; who has what.
The decisions and the JSON are here; store/console.py makes the changes."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Dict, List, Optional, Tuple

from sqlalchemy.engine import Engine

from store import models as shop
from store.console import AgentView, ConsoleRecords
from store.repository import OrderView, Repository, session_scope, utcnow

logger = logging.getLogger(__name__)

OPEN = ("waiting", "taken")


@dataclass(frozen=True)
class Outcome:
    """What a take or a hand-back did: `ok` (then, and only then, with the handoff),
    `missing`, `conflict` (with a reason)."""

    status: str
    handoff: Optional[Dict[str, Any]] = None
    reason: str = ""


def take_decision(status: str, holder: Optional[str], agent: str) -> Tuple[str, str]:
    """(outcome, why) for an agent taking a handoff in `status` held by `holder`."""
    if status == "waiting":
        return "take", ""
    if status == "taken" and holder == agent:
        return "ok", ""  # taking twice (a second tab) changes nothing
    if status == "taken":
        return "conflict", "Another agent is already handling this conversation."
    return "conflict", "This conversation has already been handed back to Heard."


def holder_decision(status: str, holder: Optional[str], agent: str) -> Tuple[str, str]:
    """(outcome, why) for replying to or handing back a handoff: only its holder may."""
    if status == "taken" and holder == agent:
        return "ok", ""
    if status == "taken":
        return "conflict", "Another agent is handling this conversation."
    if status == "waiting":
        return "conflict", "Take this conversation before writing to the customer."
    return "conflict", "This conversation has already been handed back to Heard."


def iso(moment: Optional[datetime]) -> Optional[str]:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def order_json(order: Optional[OrderView]) -> Optional[Dict[str, Any]]:
    if order is None:
        return None
    c = order.customer
    return {
        "number": order.number,
        "status": order.status,
        "total": str(order.total),
        "currency": order.currency,
        "items": [
            {"product": p, "quantity": q, "unit_price": str(price)} for p, q, price in order.items
        ],
        "placed_at": iso(order.placed_at),
        "shipped_at": iso(order.shipped_at),
        "delivered_at": iso(order.delivered_at),
        "promised_date": order.promised_date.isoformat(),
        "estimated_date": order.estimated_date.isoformat() if order.estimated_date else None,
        "carrier": order.carrier,
        "tracking_code": order.tracking_code,
        "shipping_address": order.shipping_address,
        "customer": {
            "name": f"{c.first_name} {c.last_name}",
            "email": c.email,
            "account_type": c.account_type,
        },
    }


def handoff_json(
    h: shop.Handoff, takeover: Optional[shop.Takeover], order: Optional[OrderView], now: datetime
) -> Dict[str, Any]:
    return {
        "reference": h.reference,
        "conversation_id": h.conversation_id,
        "channel": h.channel,
        "reason": h.reason,
        "priority": h.priority,
        "status": h.status,
        "agent": takeover.agent_name if takeover else None,
        "waiting_seconds": max(0, int((now - h.created_at).total_seconds())),
        "created_at": iso(h.created_at),
        "summary": h.summary,
        "transcript": list(h.transcript or []),
        "emotion_timeline": list(h.emotion_timeline or []),
        "order": order_json(order),
        "callback_at": iso(h.callback_at),
    }


class HandoffQueue:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow):
        self.engine = engine
        self.clock = clock
        self.shop = Repository(engine, clock)
        self.records = ConsoleRecords(engine)

    def _rows(self, s, *criteria) -> List[Tuple[shop.Handoff, Optional[shop.Takeover]]]:
        return (
            s.query(shop.Handoff, shop.Takeover)
            .outerjoin(shop.Takeover, shop.Takeover.handoff_reference == shop.Handoff.reference)
            .filter(*criteria)
            .order_by(shop.Handoff.priority, shop.Handoff.created_at, shop.Handoff.id)
            .all()
        )

    def _json(self, rows) -> List[Dict[str, Any]]:
        now = self.clock()
        return [
            handoff_json(
                h, t, self.shop.find_order(h.order_number) if h.order_number else None, now
            )
            for h, t in rows
        ]

    def queue(self) -> List[Dict[str, Any]]:
        """Waiting and taken handoffs, most urgent first, then longest waiting."""
        with session_scope(self.engine) as s:
            rows = self._rows(s, shop.Handoff.status.in_(OPEN))
        return self._json(rows)

    def get(self, reference: str) -> Optional[Dict[str, Any]]:
        with session_scope(self.engine) as s:
            rows = self._rows(s, shop.Handoff.reference == reference)
        return self._json(rows)[0] if rows else None

    def _state(self, reference: str) -> Optional[Tuple[str, Optional[str]]]:
        with session_scope(self.engine) as s:
            rows = self._rows(s, shop.Handoff.reference == reference)
        if not rows:
            return None
        handoff, takeover = rows[0]
        return handoff.status, takeover.agent_username if takeover else None

    def _found(self, reference: str) -> Outcome:
        """ok with the handoff as it is now; missing, should it have gone meanwhile."""
        handoff = self.get(reference)
        return Outcome("missing") if handoff is None else Outcome("ok", handoff)

    def take(self, reference: str, agent: AgentView) -> Outcome:
        if self.records.take(reference, agent, self.clock()):
            outcome = self._found(reference)
            if outcome.handoff is not None:
                logger.info(
                    "web.handoff.taken conversation=%s reference=%s agent=%s",
                    outcome.handoff["conversation_id"],
                    reference,
                    agent.username,
                )
            return outcome
        return self._refused(reference, agent, take_decision)

    def release(self, reference: str, agent: AgentView) -> Outcome:
        if self.records.release(reference, agent, self.clock()):
            outcome = self._found(reference)
            if outcome.handoff is not None:
                logger.info(
                    "web.handoff.returned conversation=%s reference=%s agent=%s",
                    outcome.handoff["conversation_id"],
                    reference,
                    agent.username,
                )
            return outcome
        return self._refused(reference, agent, holder_decision)

    def check_holder(self, reference: str, agent: AgentView) -> Outcome:
        """ok (with the handoff) when `agent` has taken it; else missing or conflict."""
        state = self._state(reference)
        if state is None:
            return Outcome("missing")
        outcome, why = holder_decision(*state, agent.username)
        return self._found(reference) if outcome == "ok" else Outcome(outcome, reason=why)

    def _refused(self, reference: str, agent: AgentView, decide) -> Outcome:
        state = self._state(reference)
        if state is None:
            return Outcome("missing")
        outcome, why = decide(*state, agent.username)
        if outcome == "take":  # it became waiting again in between: report, don't loop
            outcome, why = "conflict", "This conversation changed just now; try again."
        return self._found(reference) if outcome == "ok" else Outcome(outcome, reason=why)

    def agent_on(self, conversation_id: str) -> Optional[str]:
        """The display name of the agent who has this conversation now, if any."""
        with session_scope(self.engine) as s:
            row = (
                s.query(shop.Takeover.agent_name)
                .join(shop.Handoff, shop.Handoff.reference == shop.Takeover.handoff_reference)
                .filter(
                    shop.Handoff.conversation_id == conversation_id, shop.Handoff.status == "taken"
                )
                .first()
            )
            return row[0] if row else None
