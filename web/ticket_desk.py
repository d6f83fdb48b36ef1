"""The tickets the console shows: reading a request's filters and reassignment target,
and each ticket's JSON. store/tickets.py makes the queries and the changes."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Dict, Mapping, Optional

from sqlalchemy.engine import Engine

from heard.cases import CASE_PRIORITIES, CASE_TEAMS, TEAMS
from heard.formats import mask_email
from store.console import AgentView, ConsoleRecords
from store.repository import utcnow
from store.tickets import (
    MAX_PAGE,
    SORTS,
    STATUSES,
    CaseView,
    Colleague,
    TicketChange,
    TicketFilter,
    TicketRecords,
)
from web.handoff_queue import iso

logger = logging.getLogger(__name__)

REFERENCE = re.compile(r"TK-[A-Z0-9]{6}")
_TEXT = re.compile(r"[A-Za-z0-9-]{1,20}")  # part of an order number or a reference
_NUMBER = re.compile(r"[0-9]{1,6}")
MAX_OFFSET = 100_000
DEFAULT_PAGE = 50
_TARGET = re.compile(r"(team|agent):(.{1,40})")


class TicketRequestError(ValueError):
    """A filter or reassignment the console can't use; the message is for people."""


def _choice(args: Mapping[str, Optional[str]], name: str, allowed, default: Optional[str]):
    value = (args.get(name) or "").strip()
    if not value:
        return default
    if value not in allowed:
        raise TicketRequestError(f"'{name}' must be one of: {', '.join(allowed)}.")
    return value


def _count(args: Mapping[str, Optional[str]], name: str, default: int, low: int, high: int) -> int:
    value = (args.get(name) or "").strip()
    if not value:
        return default
    if not _NUMBER.fullmatch(value) or not low <= int(value) <= high:
        raise TicketRequestError(f"'{name}' must be a whole number from {low} to {high}.")
    return int(value)


def parse_filter(args: Mapping[str, Optional[str]]) -> TicketFilter:
    """The filters of GET /console/api/tickets; TicketRequestError when they can't be used."""
    text = (args.get("q") or "").strip()
    if text and not _TEXT.fullmatch(text):
        raise TicketRequestError(
            "'q' is part of an order number or a reference: up to 20 letters, digits or '-'."
        )
    return TicketFilter(
        kind=_choice(args, "kind", tuple(CASE_TEAMS), None),
        priority=_choice(args, "priority", CASE_PRIORITIES, None),
        status=_choice(args, "status", (*STATUSES, "all"), "open"),
        text=text,
        sort=_choice(args, "sort", SORTS, "priority"),
        limit=_count(args, "limit", DEFAULT_PAGE, 1, MAX_PAGE),
        offset=_count(args, "offset", 0, 0, MAX_OFFSET),
    )


@dataclass(frozen=True)
class Target:
    """Whom a ticket is reassigned to: `team` (one of heard.cases.TEAMS) or `agent`
    (a username)."""

    kind: str
    name: str


def parse_target(body: Optional[Mapping[str, Any]]) -> Target:
    """`{"to": "team:<team>" | "agent:<username>"}`: the prefix says which, so a team and
    an agent can never be mistaken for each other."""
    to = (body or {}).get("to")
    match = _TARGET.fullmatch(to) if isinstance(to, str) else None
    if match is None:
        raise TicketRequestError(
            'Say whom to give it to as JSON: {"to": "team:<team>"} or {"to": "agent:<username>"}.'
        )
    kind, name = match.groups()
    if kind == "team" and name not in TEAMS:
        raise TicketRequestError(f"There is no team '{name}'. Teams: {', '.join(TEAMS)}.")
    return Target(kind, name)


def _person(colleague: Optional[Colleague]) -> Optional[Dict[str, str]]:
    return {"username": colleague.username, "name": colleague.name} if colleague else None


def ticket_json(t: CaseView, now: datetime, summary: bool = True) -> Dict[str, Any]:
    reference = t.reference
    answer: Dict[str, Any] = {
        "reference": reference,
        "kind": t.kind,
        "priority": t.priority,
        "status": t.status,
        "order_number": t.order_number,
        "customer": (
            {
                "name": t.customer_name,
                "email": mask_email(t.customer_email) if t.customer_email else None,
            }
            if t.customer_name
            else None
        ),
        "created_at": iso(t.created_at),
        "age_seconds": max(0, int((now - t.created_at).total_seconds())),
        "team": t.team,
        "assignee": _person(t.assignee),
        "assigned_by": _person(t.assigned_by),
        "assigned_at": iso(t.assigned_at),
        "closed_by": _person(t.closed_by),
        "closed_at": iso(t.closed_at),
        "conversation_id": t.conversation_id,
        "messages_url": (
            f"/console/api/tickets/{reference}/messages" if t.conversation_id else None
        ),
    }
    if summary:
        answer["summary"] = t.summary
    return answer


class TicketDesk:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow):
        self.records = TicketRecords(engine)
        self.agents = ConsoleRecords(engine)
        self.clock = clock

    def page(self, wanted: TicketFilter) -> Dict[str, Any]:
        tickets, total = self.records.page(wanted)
        now = self.clock()
        return {
            "tickets": [ticket_json(t, now, summary=False) for t in tickets],
            "total": total,
            "limit": wanted.limit,
            "offset": wanted.offset,
        }

    def get(self, reference: str) -> Optional[Dict[str, Any]]:
        ticket = self.records.get(reference) if REFERENCE.fullmatch(reference) else None
        return ticket_json(ticket, self.clock()) if ticket else None

    def choices(self) -> Dict[str, Any]:
        """What the console's filters and reassignment offer."""
        return {
            "kinds": sorted(CASE_TEAMS),
            "priorities": list(reversed(CASE_PRIORITIES)),
            "teams": list(TEAMS),
            "agents": [{"username": a.username, "name": a.name} for a in self.agents.agents()],
        }

    def close(self, reference: str, agent: AgentView) -> TicketChange:
        if not REFERENCE.fullmatch(reference):
            return TicketChange("missing")
        change = self.records.close(reference, agent.username, self.clock())
        if change.outcome == "changed":
            logger.info("web.ticket.closed reference=%s agent=%s", reference, agent.username)
        return change

    def reassign(self, reference: str, target: Target, agent: AgentView) -> TicketChange:
        if not REFERENCE.fullmatch(reference):
            return TicketChange("missing")
        assign = self.records.assign_team if target.kind == "team" else self.records.assign_agent
        change = assign(reference, target.name, agent.username, self.clock())
        if change.outcome == "changed":
            logger.info(
                "web.ticket.reassigned reference=%s to=%s:%s agent=%s",
                reference,
                target.kind,
                target.name,
                agent.username,
            )
        return change

    def change_json(self, change: TicketChange) -> Dict[str, Any]:
        assert change.ticket is not None
        return {
            "ticket": ticket_json(change.ticket, self.clock()),
            "changed": change.outcome == "changed",
        }
