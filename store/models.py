"""SQLAlchemy tables of the shop database: customers, orders, everything Heard records
and the agent console's agents, sign-ins and takeovers. Alembic (store/migrations/) makes
them; a change here needs a revision (README, *Database migrations*)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship
from sqlalchemy.types import TypeDecorator

# SQLAlchemy 1.4 ships no type information (no sqlalchemy2-stubs here): Any lets mypy
# accept the declarative classes below as subclasses.
Base: Any = declarative_base()


class Money(TypeDecorator):
    """Amounts kept as integer cents: exact on every backend, SQLite included."""

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else int((Decimal(value) * 100).to_integral_value())

    def process_result_value(self, value, dialect):
        return None if value is None else (Decimal(value) / 100).quantize(Decimal("0.01"))


class Customer(Base):
    __tablename__ = "customers"
    id = Column(Integer, primary_key=True)
    first_name = Column(String(80), nullable=False)
    last_name = Column(String(80), nullable=False)
    email = Column(String(254), nullable=False, unique=True, index=True)
    phone = Column(String(40))
    account_type = Column(String(20), nullable=False, default="personal")
    default_address = Column(Text)
    created_at = Column(DateTime, nullable=False)
    deleted_at = Column(DateTime)
    orders = relationship("Order", back_populates="customer", order_by="Order.placed_at")


class Order(Base):
    __tablename__ = "orders"
    number = Column(String(8), primary_key=True)  # 6 to 8 digits, easy to say on a phone
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    status = Column(String(20), nullable=False)
    total = Column(Money(), nullable=False)
    currency = Column(String(3), nullable=False, default="EUR")
    carrier = Column(String(40))
    tracking_code = Column(String(40))
    shipping_address = Column(Text, nullable=False)
    payment_method = Column(String(30), nullable=False, default="card")
    placed_at = Column(DateTime, nullable=False)
    shipped_at = Column(DateTime)
    delivered_at = Column(DateTime)
    promised_date = Column(Date, nullable=False)
    estimated_date = Column(Date)
    cancelled_at = Column(DateTime)
    customer = relationship("Customer", back_populates="orders")
    items = relationship(
        "OrderItem", back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )
    payments = relationship(
        "Payment",
        back_populates="order",
        cascade="all, delete-orphan",
        order_by="Payment.captured_at",
    )


class OrderItem(Base):
    __tablename__ = "order_items"
    id = Column(Integer, primary_key=True)
    order_number = Column(String(8), ForeignKey("orders.number"), nullable=False, index=True)
    product = Column(String(120), nullable=False)
    quantity = Column(Integer, nullable=False, default=1)
    unit_price = Column(Money(), nullable=False)
    order = relationship("Order", back_populates="items")


class Payment(Base):
    __tablename__ = "payments"
    id = Column(Integer, primary_key=True)
    order_number = Column(String(8), ForeignKey("orders.number"), nullable=False, index=True)
    amount = Column(Money(), nullable=False)
    status = Column(String(20), nullable=False, default="captured")  # captured, refunded
    captured_at = Column(DateTime, nullable=False)
    order = relationship("Order", back_populates="payments")


class Refund(Base):
    __tablename__ = "refunds"
    id = Column(Integer, primary_key=True)
    reference = Column(String(20), nullable=False, unique=True)
    order_number = Column(String(8), ForeignKey("orders.number"), nullable=False, index=True)
    amount = Column(Money(), nullable=False)
    reason = Column(String(60), nullable=False)
    status = Column(String(20), nullable=False, default="requested")  # requested, approved, paid
    created_at = Column(DateTime, nullable=False)
    expected_by = Column(Date, nullable=False)
    paid_at = Column(DateTime)


class Voucher(Base):
    __tablename__ = "vouchers"
    id = Column(Integer, primary_key=True)
    code = Column(String(20), nullable=False, unique=True)
    order_number = Column(String(8), ForeignKey("orders.number"), nullable=False, index=True)
    amount = Column(Money(), nullable=False)
    reason = Column(String(60), nullable=False)
    created_at = Column(DateTime, nullable=False)


class Ticket(Base):
    __tablename__ = "tickets"
    id = Column(Integer, primary_key=True)
    reference = Column(String(20), nullable=False, unique=True)
    # The problem: double_charge, payment_question, refund_overdue, damage, not_received,
    # order_change, complaint, review, safety (heard/cases.py). One is open per order and
    # problem, or per conversation without an order (Repository.open_ticket).
    kind = Column(String(30), nullable=False)
    priority = Column(String(10), nullable=False, default="normal")  # low, normal, high, urgent
    status = Column(String(20), nullable=False, default="open", index=True)  # open, closed
    customer_id = Column(Integer, ForeignKey("customers.id"))
    order_number = Column(String(8), ForeignKey("orders.number"))
    conversation_id = Column(String(120))
    summary = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False)
    # Set by the agent console (store/tickets.py; revision 0003), so appended in that order.
    # Agents are named by username without a foreign key: a case record outlives the
    # colleague's sign-in, as a takeover does.
    team = Column(String(40))  # None: its kind's team (heard.cases.CASE_TEAMS)
    assignee = Column(String(40))  # the agent (username) within the team who has it, if any
    assigned_by = Column(String(40))  # who last reassigned it, and when
    assigned_at = Column(DateTime)
    closed_by = Column(String(40))
    closed_at = Column(DateTime)


class Handoff(Base):
    __tablename__ = "handoffs"
    id = Column(Integer, primary_key=True)
    reference = Column(String(20), nullable=False, unique=True)
    conversation_id = Column(String(120), nullable=False, index=True)
    channel = Column(String(40), nullable=False)
    customer_id = Column(Integer, ForeignKey("customers.id"))
    order_number = Column(String(8), ForeignKey("orders.number"))
    reason = Column(String(40), nullable=False)
    priority = Column(Integer, nullable=False)  # 1 = most urgent
    status = Column(String(20), nullable=False, default="waiting")
    summary = Column(Text, nullable=False)
    transcript = Column(JSON, nullable=False)
    emotion_timeline = Column(JSON, nullable=False)
    callback_at = Column(DateTime)
    created_at = Column(DateTime, nullable=False)


class AccountAction(Base):
    __tablename__ = "account_actions"
    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"))
    kind = Column(String(30), nullable=False)  # password_reset, edit, switch_plan, delete...
    detail = Column(Text)
    created_at = Column(DateTime, nullable=False)


class OutboundEmail(Base):
    """Mail Heard queued for the shop's mailer: reset links, invoices, confirmations."""

    __tablename__ = "outbound_emails"
    id = Column(Integer, primary_key=True)
    to_address = Column(String(254), nullable=False)
    kind = Column(String(30), nullable=False)
    subject = Column(String(200), nullable=False)
    created_at = Column(DateTime, nullable=False)


class NewsletterSubscription(Base):
    __tablename__ = "newsletter_subscriptions"
    email = Column(String(254), primary_key=True)
    subscribed = Column(Boolean, nullable=False)
    updated_at = Column(DateTime, nullable=False)


class Feedback(Base):
    __tablename__ = "feedback"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(120), nullable=False, index=True)
    channel = Column(String(40))
    customer_id = Column(Integer, ForeignKey("customers.id"))
    rating = Column(Integer, nullable=False)
    emotion_start = Column(String(20))
    emotion_end = Column(String(20))
    created_at = Column(DateTime, nullable=False)


class Resolution(Base):
    """What became of a customer's request, as the action that handled it decided: the
    dashboard's resolution rate. `resolved` is True when the request was completed (a
    refusal by policy is an answer, so completed too), False when it ended without. A turn
    (the number of customer messages so far) records each request once, however often the
    action is called again for it (Repository.record_resolution)."""

    __tablename__ = "resolutions"
    __table_args__ = (
        UniqueConstraint(
            "conversation_id", "turn", "request", name="uq_resolutions_conversation_turn_request"
        ),
    )
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(120), nullable=False, index=True)
    channel = Column(String(40))
    request = Column(String(60), nullable=False)  # the intent, e.g. track_order
    resolved = Column(Boolean, nullable=False)
    turn = Column(Integer, nullable=False)
    created_at = Column(DateTime, nullable=False)


# --- the agent console (web/): who may sign in, their sign-ins, who took which handoff ---


class Agent(Base):
    __tablename__ = "console_agents"
    id = Column(Integer, primary_key=True)
    username = Column(String(40), nullable=False, unique=True)
    name = Column(String(80), nullable=False)
    password_hash = Column(String(200), nullable=False)  # argon2id, never the password
    created_at = Column(DateTime, nullable=False)


class AgentSession(Base):
    __tablename__ = "console_sessions"
    token_hash = Column(String(64), primary_key=True)  # sha256 of the cookie's token
    agent_id = Column(
        Integer, ForeignKey("console_agents.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at = Column(DateTime, nullable=False)
    expires_at = Column(DateTime, nullable=False, index=True)


class Takeover(Base):
    """Which agent took a handoff (the handoff's own row keeps its status)."""

    __tablename__ = "handoff_takeovers"
    handoff_reference = Column(String(20), primary_key=True)
    agent_username = Column(String(40), nullable=False)
    agent_name = Column(String(80), nullable=False)
    taken_at = Column(DateTime, nullable=False)
    released_at = Column(DateTime)
