"""Tickets as the agent console works on them: a filtered page, one ticket with its summary,
closing one, giving one to a team or to an agent.

web/ticket_desk.py reads the request and writes the JSON; what counts as a change, and the
one transaction each change is, live here. Every change is idempotent: asking for what is
already so changes nothing and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Dict, Iterable, List, Optional, Tuple

from sqlalchemy import case, func, or_
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Query, Session, aliased

from heard.cases import CASE_PRIORITIES, TEAMS, team_of
from store import models as m
from store.repository import session_scope

STATUSES = ("open", "closed")
SORTS = ("priority", "newest")
MAX_PAGE = 100


@dataclass(frozen=True)
class TicketFilter:
    """Which tickets, in which order: `status` open, closed or all; `text` part of an
    order number or a reference; `sort` priority (most urgent, then open longest) or
    newest."""

    kind: Optional[str] = None
    priority: Optional[str] = None
    status: str = "open"
    text: str = ""
    sort: str = "priority"
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class Colleague:
    username: str
    name: str  # the username again when the agent has been removed since


@dataclass(frozen=True)
class CaseView:
    reference: str
    kind: str
    priority: str
    status: str
    order_number: Optional[str]
    conversation_id: Optional[str]
    summary: str
    created_at: datetime
    customer_name: Optional[str]  # None when unknown or the account was closed
    customer_email: Optional[str]
    team: Optional[str]  # the owning team: set by a reassignment, else its kind's
    assignee: Optional[Colleague]
    assigned_by: Optional[Colleague]
    assigned_at: Optional[datetime]
    closed_by: Optional[Colleague]
    closed_at: Optional[datetime]


@dataclass(frozen=True)
class TicketChange:
    """What a close or a reassignment did: `changed`, `unchanged` (it was so already),
    `missing`, `closed` (a closed ticket is not reassigned) or `unknown_agent`; with the
    ticket as it is now whenever there is one."""

    outcome: str
    ticket: Optional[CaseView] = None


# Most urgent first: urgent 0 ... low 3, an unknown priority last.
_URGENCY = {priority: rank for rank, priority in enumerate(reversed(CASE_PRIORITIES))}


class TicketRecords:
    def __init__(self, engine: Engine):
        self.engine = engine

    # --- reading -----------------------------------------------------------------------

    def page(self, wanted: TicketFilter) -> Tuple[List[CaseView], int]:
        """The tickets on the page `wanted` asks for, and how many match in all."""
        criteria = _criteria(wanted)
        urgency = case(_URGENCY, value=m.Ticket.priority, else_=len(_URGENCY))
        order = (
            (urgency, m.Ticket.created_at, m.Ticket.id)
            if wanted.sort == "priority"
            else (m.Ticket.created_at.desc(), m.Ticket.id.desc())
        )
        limit = max(1, min(wanted.limit, MAX_PAGE))
        with session_scope(self.engine) as s:
            total = s.query(func.count(m.Ticket.id)).filter(*criteria).scalar() or 0
            rows = (
                _with_customer(s)
                .filter(*criteria)
                .order_by(*order)
                .limit(limit)
                .offset(max(0, wanted.offset))
                .all()
            )
            return _views(s, rows), total

    def get(self, reference: str) -> Optional[CaseView]:
        with session_scope(self.engine) as s:
            return self._get(s, reference)

    # --- changes -----------------------------------------------------------------------

    def close(self, reference: str, by: str, now: datetime) -> TicketChange:
        """Closes an open ticket, recording who and when; a closed one stays as it was."""
        with session_scope(self.engine) as s:
            ticket = _locked(s, reference)
            if ticket is None:
                return TicketChange("missing")
            changed = ticket.status != "closed"
            if changed:
                ticket.status, ticket.closed_by, ticket.closed_at = "closed", by, now
                s.flush()
            return TicketChange("changed" if changed else "unchanged", self._get(s, reference))

    def assign_team(self, reference: str, team: str, by: str, now: datetime) -> TicketChange:
        """Gives an open ticket to `team` for anyone there to pick up (no agent has it)."""
        if team not in TEAMS:
            raise ValueError(f"unknown team {team!r}")
        with session_scope(self.engine) as s:
            ticket = _locked(s, reference)
            if ticket is None:
                return TicketChange("missing")
            if ticket.status == "closed":
                return TicketChange("closed", self._get(s, reference))
            if (ticket.team or team_of(ticket.kind)) == team and ticket.assignee is None:
                return TicketChange("unchanged", self._get(s, reference))
            ticket.team, ticket.assignee = team, None
            return self._assigned(s, ticket, by, now)

    def assign_agent(self, reference: str, username: str, by: str, now: datetime) -> TicketChange:
        """Gives an open ticket to one agent; its team stays the one it belongs to."""
        with session_scope(self.engine) as s:
            ticket = _locked(s, reference)
            if ticket is None:
                return TicketChange("missing")
            if ticket.status == "closed":
                return TicketChange("closed", self._get(s, reference))
            if s.query(m.Agent.id).filter_by(username=username).first() is None:
                return TicketChange("unknown_agent", self._get(s, reference))
            if ticket.assignee == username:
                return TicketChange("unchanged", self._get(s, reference))
            ticket.assignee = username
            return self._assigned(s, ticket, by, now)

    # --- helpers -----------------------------------------------------------------------

    def _assigned(self, s: Session, ticket: m.Ticket, by: str, now: datetime) -> TicketChange:
        ticket.assigned_by, ticket.assigned_at = by, now
        s.flush()
        return TicketChange("changed", self._get(s, ticket.reference))

    def _get(self, s: Session, reference: str) -> Optional[CaseView]:
        rows = _with_customer(s).filter(m.Ticket.reference == reference).all()
        return _views(s, rows)[0] if rows else None


def _criteria(wanted: TicketFilter) -> list:
    criteria = []
    if wanted.kind:
        criteria.append(m.Ticket.kind == wanted.kind)
    if wanted.priority:
        criteria.append(m.Ticket.priority == wanted.priority)
    if wanted.status in STATUSES:  # anything else: all
        criteria.append(m.Ticket.status == wanted.status)
    if wanted.text:
        # Order numbers are digits and references upper case: one spelling finds both.
        text = wanted.text.upper()
        criteria.append(
            or_(
                m.Ticket.order_number.contains(text, autoescape=True),
                m.Ticket.reference.contains(text, autoescape=True),
            )
        )
    return criteria


def _locked(s: Session, reference: str) -> Optional[m.Ticket]:
    """The ticket, held until the transaction ends, so that two agents' changes take turns
    and the second sees the first's (one close wins; the other finds it closed). A no-op
    update locks on every backend: PostgreSQL locks the row, SQLite the database (it has
    no FOR UPDATE), as Repository.open_ticket does with an order."""
    tickets = s.query(m.Ticket).filter_by(reference=reference)
    tickets.update({"status": m.Ticket.status}, synchronize_session=False)
    return tickets.one_or_none()


def _with_customer(s: Session) -> Query:
    """Tickets with their customer: the ticket's own, else its order's."""
    customer = aliased(m.Customer)
    return (
        s.query(m.Ticket, customer)
        .outerjoin(m.Order, m.Order.number == m.Ticket.order_number)
        .outerjoin(
            customer, customer.id == func.coalesce(m.Ticket.customer_id, m.Order.customer_id)
        )
    )


def _views(s: Session, rows: Iterable[Tuple[m.Ticket, Optional[m.Customer]]]) -> List[CaseView]:
    rows = list(rows)
    names = _names(s, {u for t, _ in rows for u in (t.assignee, t.assigned_by, t.closed_by) if u})
    return [_view(ticket, customer, names) for ticket, customer in rows]


def _names(s: Session, usernames: Iterable[str]) -> Dict[str, str]:
    wanted = sorted(set(usernames))
    if not wanted:
        return {}
    return dict(s.query(m.Agent.username, m.Agent.name).filter(m.Agent.username.in_(wanted)).all())


def _colleague(username: Optional[str], names: Dict[str, str]) -> Optional[Colleague]:
    return Colleague(username, names.get(username, username)) if username else None


def _view(t: m.Ticket, c: Optional[m.Customer], names: Dict[str, str]) -> CaseView:
    known = c if c is not None and c.deleted_at is None else None
    return CaseView(
        reference=t.reference,
        kind=t.kind,
        priority=t.priority,
        status=t.status,
        order_number=t.order_number,
        conversation_id=t.conversation_id,
        summary=t.summary,
        created_at=t.created_at,
        customer_name=f"{known.first_name} {known.last_name}" if known else None,
        customer_email=known.email if known else None,
        team=t.team or team_of(t.kind),
        assignee=_colleague(t.assignee, names),
        assigned_by=_colleague(t.assigned_by, names),
        assigned_at=t.assigned_at,
        closed_by=_colleague(t.closed_by, names),
        closed_at=t.closed_at,
    )
