"""The only way actions touch the database: one session per operation, plain views out."""

from __future__ import annotations

import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Callable, ContextManager, Iterator, List, Optional, Tuple

from sqlalchemy import create_engine, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from store import models as m

TICKET_SUMMARY_LIMIT = 20_000
# INSERT ... ON CONFLICT DO NOTHING on the backends Heard runs on (SQLite 3.24+, PostgreSQL).
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def database_url() -> str:
    """DATABASE_URL, checked by `heard.settings` (default sqlite:///var/heard.db)."""
    from heard import settings

    return settings.read("DATABASE_URL")


def utcnow() -> datetime:
    return datetime.utcnow().replace(microsecond=0)


@dataclass(frozen=True)
class CustomerView:
    id: int
    first_name: str
    last_name: str
    email: str
    account_type: str
    phone: Optional[str]
    default_address: Optional[str]


@dataclass(frozen=True)
class OrderView:
    number: str
    status: str
    total: Decimal
    currency: str
    carrier: Optional[str]
    tracking_code: Optional[str]
    shipping_address: str
    payment_method: str
    placed_at: datetime
    shipped_at: Optional[datetime]
    delivered_at: Optional[datetime]
    promised_date: date
    estimated_date: Optional[date]
    items: Tuple[Tuple[str, int, Decimal], ...]  # (product, quantity, unit price)
    payments: Tuple[Tuple[Decimal, str, datetime], ...]  # (amount, status, captured at)
    customer: CustomerView

    @property
    def items_text(self) -> str:
        return ", ".join(f"{q} x {p}" if q > 1 else p for p, q, _ in self.items)


@dataclass(frozen=True)
class RefundView:
    reference: str
    order_number: str
    amount: Decimal
    status: str
    created_at: datetime
    expected_by: date
    paid_at: Optional[datetime]


@dataclass(frozen=True)
class TicketView:
    reference: str
    kind: str
    priority: str
    status: str
    created_at: datetime


@dataclass(frozen=True)
class HandoffView:
    reference: str
    conversation_id: str
    channel: str
    reason: str
    priority: int
    status: str
    summary: str
    transcript: list
    emotion_timeline: list
    customer_id: Optional[int]
    order_number: Optional[str]
    callback_at: Optional[datetime]
    created_at: datetime


def _customer_view(c: m.Customer) -> CustomerView:
    return CustomerView(
        c.id, c.first_name, c.last_name, c.email, c.account_type, c.phone, c.default_address
    )


def _order_view(o: m.Order) -> OrderView:
    return OrderView(
        number=o.number,
        status=o.status,
        total=Decimal(o.total),
        currency=o.currency,
        carrier=o.carrier,
        tracking_code=o.tracking_code,
        shipping_address=o.shipping_address,
        payment_method=o.payment_method,
        placed_at=o.placed_at,
        shipped_at=o.shipped_at,
        delivered_at=o.delivered_at,
        promised_date=o.promised_date,
        estimated_date=o.estimated_date,
        items=tuple((i.product, i.quantity, Decimal(i.unit_price)) for i in o.items),
        payments=tuple((Decimal(p.amount), p.status, p.captured_at) for p in o.payments),
        customer=_customer_view(o.customer),
    )


def _refund_view(r: m.Refund) -> RefundView:
    return RefundView(
        r.reference,
        r.order_number,
        Decimal(r.amount),
        r.status,
        r.created_at,
        r.expected_by,
        r.paid_at,
    )


def _ticket_view(t: m.Ticket) -> TicketView:
    return TicketView(t.reference, t.kind, t.priority, t.status, t.created_at)


def _with_follow_up(summary: str, addition: str, now: datetime) -> str:
    """A ticket's summary with what a repeat said, when it says something new (bounded, so
    a customer repeating themselves can't grow it without end)."""
    if addition in summary or len(summary) >= TICKET_SUMMARY_LIMIT:
        return summary
    return f"{summary}\nAgain on {now:%Y-%m-%d %H:%M}: {addition}"


def _handoff_view(h: m.Handoff) -> HandoffView:
    return HandoffView(
        h.reference,
        h.conversation_id,
        h.channel,
        h.reason,
        h.priority,
        h.status,
        h.summary,
        list(h.transcript),
        list(h.emotion_timeline),
        h.customer_id,
        h.order_number,
        h.callback_at,
        h.created_at,
    )


def _reference(prefix: str) -> str:
    # Short, unambiguous and easy to read out on the phone (no 0/O or 1/I).
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return prefix + "-" + "".join(secrets.choice(alphabet) for _ in range(6))


def _lock_order(s: Session, number: str) -> None:
    """Holds the order until the transaction ends, so that two conversations acting on it
    at once take turns and the second sees what the first did. A no-op update locks on
    every backend: PostgreSQL locks the row, SQLite the database (it has no FOR UPDATE)."""
    s.query(m.Order).filter_by(number=number).update(
        {"status": m.Order.status}, synchronize_session=False
    )


def engine_for(url: str) -> Engine:
    """An engine on the shop database; a relative SQLite file's folder is made first."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    return create_engine(url, future=True, pool_pre_ping=True)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One short unit of work: committed at the end, rolled back on any error."""
    session = Session(bind=engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


class Repository:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow):
        self.engine = engine
        self.clock = clock

    @classmethod
    def from_url(cls, url: str, clock: Callable[[], datetime] = utcnow) -> "Repository":
        """On a database `store.migrate.upgrade` has brought to the current schema."""
        return cls(engine_for(url), clock)

    @classmethod
    def from_env(cls) -> "Repository":
        return cls.from_url(database_url())

    def session(self) -> ContextManager[Session]:
        return session_scope(self.engine)

    # --- customers and identity -------------------------------------------------------

    def is_empty(self) -> bool:
        with self.session() as s:
            return s.query(m.Customer.id).first() is None

    def find_order(self, number: str) -> Optional[OrderView]:
        with self.session() as s:
            order = s.get(m.Order, number)
            return _order_view(order) if order else None

    def verify_identity(self, number: str, email: str) -> Optional[OrderView]:
        """The order, only when the e-mail is the one on it (case-insensitive)."""
        with self.session() as s:
            order = s.get(m.Order, number)
            if (
                order is None
                or order.customer.deleted_at is not None
                or order.customer.email.lower() != email.strip().lower()
            ):
                return None
            return _order_view(order)

    def customer_by_email(self, email: str) -> Optional[CustomerView]:
        with self.session() as s:
            c = (
                s.query(m.Customer)
                .filter(func.lower(m.Customer.email) == email.strip().lower())
                .filter(m.Customer.deleted_at.is_(None))
                .one_or_none()
            )
            return _customer_view(c) if c else None

    def create_customer(self, first_name: str, last_name: str, email: str) -> bool:
        """Creates the account; False when the e-mail already has one (never told to the user)."""
        if self.customer_by_email(email):
            return False
        with self.session() as s:
            s.add(
                m.Customer(
                    first_name=first_name,
                    last_name=last_name,
                    email=email.strip(),
                    account_type="personal",
                    created_at=self.clock(),
                )
            )
        return True

    def update_customer(self, customer_id: int, **fields: str) -> None:
        allowed = {"first_name", "last_name", "phone", "default_address", "account_type"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"cannot update {sorted(unknown)}")
        with self.session() as s:
            customer = s.get(m.Customer, customer_id)
            for name, value in fields.items():
                setattr(customer, name, value)
            s.add(
                m.AccountAction(
                    customer_id=customer_id,
                    kind="edit",
                    detail=", ".join(sorted(fields)),
                    created_at=self.clock(),
                )
            )

    def delete_customer(self, customer_id: int) -> None:
        """Closes the account: personal data removed, orders kept for accounting."""
        with self.session() as s:
            customer = s.get(m.Customer, customer_id)
            customer.deleted_at = self.clock()
            customer.email = f"deleted-{customer_id}@invalid"
            customer.phone = None
            customer.default_address = None
            s.add(m.AccountAction(customer_id=customer_id, kind="delete", created_at=self.clock()))

    def record_account_action(
        self, customer_id: Optional[int], kind: str, detail: Optional[str] = None
    ) -> None:
        with self.session() as s:
            s.add(
                m.AccountAction(
                    customer_id=customer_id, kind=kind, detail=detail, created_at=self.clock()
                )
            )

    def queue_email(self, to_address: str, kind: str, subject: str) -> None:
        with self.session() as s:
            s.add(
                m.OutboundEmail(
                    to_address=to_address, kind=kind, subject=subject, created_at=self.clock()
                )
            )

    def set_newsletter(self, email: str, subscribed: bool) -> None:
        key = email.strip().lower()
        with self.session() as s:
            row = s.get(m.NewsletterSubscription, key)
            if row is None:
                s.add(
                    m.NewsletterSubscription(
                        email=key, subscribed=subscribed, updated_at=self.clock()
                    )
                )
            else:
                row.subscribed = subscribed
                row.updated_at = self.clock()

    # --- orders ------------------------------------------------------------------------

    def cancel_order(self, number: str, fee: Decimal) -> RefundView:
        """Cancels the order and refunds what was paid, less the fee."""
        with self.session() as s:
            order = s.get(m.Order, number)
            if order.status not in ("processing", "delayed") or order.shipped_at is not None:
                raise ValueError(f"order {number} can no longer be cancelled")
            order.status = "cancelled"
            order.cancelled_at = self.clock()
            refund = self._add_refund(s, order, Decimal(order.total) - fee, "cancellation")
            return _refund_view(refund)

    def update_shipping_address(self, number: str, address: str) -> None:
        with self.session() as s:
            order = s.get(m.Order, number)
            if order.status != "processing":
                raise ValueError(f"order {number} has left the warehouse")
            order.shipping_address = address

    # --- refunds, vouchers, payments ---------------------------------------------------

    def _add_refund(self, s: Session, order: m.Order, amount: Decimal, reason: str) -> m.Refund:
        now = self.clock()
        refund = m.Refund(
            reference=_reference("RF"),
            order_number=order.number,
            amount=amount,
            reason=reason,
            status="approved",
            created_at=now,
            expected_by=(now + timedelta(days=7)).date(),
        )
        s.add(refund)
        s.flush()
        return refund

    def create_refund(self, number: str, amount: Decimal, reason: str) -> RefundView:
        """An order is refunded once per reason: asking again returns that refund."""
        with self.session() as s:
            _lock_order(s, number)
            order = s.get(m.Order, number)
            earlier = s.query(m.Refund).filter_by(order_number=number, reason=reason).first()
            return _refund_view(earlier or self._add_refund(s, order, amount, reason))

    def refunds_for(self, number: str) -> List[RefundView]:
        with self.session() as s:
            rows = (
                s.query(m.Refund).filter_by(order_number=number).order_by(m.Refund.created_at).all()
            )
            return [_refund_view(r) for r in rows]

    def issue_voucher(self, number: str, amount: Decimal, reason: str) -> Tuple[str, bool]:
        """(code, created): a voucher for this order and reason is issued only once."""
        with self.session() as s:
            existing = s.query(m.Voucher).filter_by(order_number=number, reason=reason).first()
            if existing:
                return existing.code, False
            code = _reference("GW")
            s.add(
                m.Voucher(
                    code=code,
                    order_number=number,
                    amount=amount,
                    reason=reason,
                    created_at=self.clock(),
                )
            )
            return code, True

    # --- tickets, handoffs, feedback, resolutions -------------------------------------

    def open_ticket(
        self,
        kind: str,
        summary: str,
        priority: str = "normal",
        customer_id: Optional[int] = None,
        order_number: Optional[str] = None,
        conversation_id: Optional[str] = None,
    ) -> Tuple[TicketView, bool]:
        """(ticket, created): a problem (`kind`) has one open ticket per order, from any
        conversation, or per conversation when there is no order. A repeat gets the open
        ticket back, its words added to the summary when they are new."""
        with self.session() as s:
            if order_number:
                _lock_order(s, order_number)
            same = s.query(m.Ticket).filter_by(kind=kind, status="open")
            same = (
                same.filter_by(order_number=order_number)
                if order_number
                else same.filter_by(conversation_id=conversation_id)
            )
            ticket = same.order_by(m.Ticket.id).first()
            if ticket:
                ticket.summary = _with_follow_up(ticket.summary, summary, self.clock())
                return _ticket_view(ticket), False
            ticket = m.Ticket(
                reference=_reference("TK"),
                kind=kind,
                priority=priority,
                summary=summary,
                customer_id=customer_id,
                order_number=order_number,
                conversation_id=conversation_id,
                created_at=self.clock(),
            )
            s.add(ticket)
            s.flush()
            return _ticket_view(ticket), True

    def raise_ticket_priority(self, reference: str, priority: str) -> None:
        with self.session() as s:
            s.query(m.Ticket).filter_by(reference=reference).one().priority = priority

    def waiting_handoffs(self) -> int:
        with self.session() as s:
            return s.query(m.Handoff).filter_by(status="waiting").count()

    def waiting_handoff(self, conversation_id: str) -> Optional[HandoffView]:
        """The conversation's handoff still waiting for a colleague, if there is one."""
        with self.session() as s:
            row = (
                s.query(m.Handoff)
                .filter_by(conversation_id=conversation_id, status="waiting")
                .order_by(m.Handoff.created_at)
                .first()
            )
            return _handoff_view(row) if row else None

    def create_handoff(
        self,
        conversation_id: str,
        channel: str,
        reason: str,
        priority: int,
        summary: str,
        transcript: list,
        emotion_timeline: list,
        customer_id: Optional[int] = None,
        order_number: Optional[str] = None,
        callback_at: Optional[datetime] = None,
    ) -> HandoffView:
        with self.session() as s:
            handoff = m.Handoff(
                reference=_reference("HO"),
                conversation_id=conversation_id,
                channel=channel,
                reason=reason,
                priority=priority,
                summary=summary,
                transcript=transcript,
                emotion_timeline=emotion_timeline,
                customer_id=customer_id,
                order_number=order_number,
                callback_at=callback_at,
                created_at=self.clock(),
            )
            s.add(handoff)
            s.flush()
            return _handoff_view(handoff)

    def record_feedback(
        self,
        conversation_id: str,
        channel: Optional[str],
        rating: int,
        emotion_start: Optional[str],
        emotion_end: Optional[str],
        customer_id: Optional[int] = None,
    ) -> None:
        if not 1 <= rating <= 5:
            raise ValueError("rating must be 1 to 5")
        with self.session() as s:
            s.add(
                m.Feedback(
                    conversation_id=conversation_id,
                    channel=channel,
                    rating=rating,
                    emotion_start=emotion_start,
                    emotion_end=emotion_end,
                    customer_id=customer_id,
                    created_at=self.clock(),
                )
            )

    def record_resolution(
        self, conversation_id: str, channel: str, request: str, resolved: bool, turn: int
    ) -> None:
        """What became of the customer's `request` (its intent) in `turn` (the number of
        customer messages so far): resolved when the action completed it. Recorded once: a
        retried action call, even one racing the first, leaves the existing row as it is."""
        insert = _INSERTS[self.engine.dialect.name](m.Resolution).values(
            conversation_id=conversation_id,
            channel=channel,
            request=request,
            resolved=resolved,
            turn=turn,
            created_at=self.clock(),
        )
        with self.session() as s:
            s.execute(
                insert.on_conflict_do_nothing(index_elements=["conversation_id", "turn", "request"])
            )

    def count(self, model: type) -> int:
        with self.session() as s:
            return s.query(model).count()
