"""Baseline: the shop database as create_all made it before migrations.

Written out, not derived from store/models.py, so it stays what it was when the models
change. A database made before migrations already has some or all of these tables (the
console's three only once the console or `python -m web agents` had run): only the missing
ones are created, so running this revision on it is what stamping it at baseline means.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = (
    "customers",
    "orders",
    "order_items",
    "payments",
    "refunds",
    "vouchers",
    "tickets",
    "handoffs",
    "account_actions",
    "outbound_emails",
    "newsletter_subscriptions",
    "feedback",
    "resolutions",
    "console_agents",
    "console_sessions",
    "handoff_takeovers",
)  # in the order their foreign keys need


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), nullable=False)


def _money(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=False)  # store.models.Money: cents


def _table(existing: set, name: str, *elements, indexes=()) -> None:
    """Creates table `name` with its indexes ((column, unique) pairs, named as create_all
    names them), unless the database has it already."""
    if name in existing:
        return
    op.create_table(name, *elements)
    for column, unique in indexes:
        op.create_index(f"ix_{name}_{column}", name, [column], unique=unique)


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    _table(
        existing,
        "customers",
        _id(),
        sa.Column("first_name", sa.String(length=80), nullable=False),
        sa.Column("last_name", sa.String(length=80), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("account_type", sa.String(length=20), nullable=False),
        sa.Column("default_address", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        indexes=[("email", True)],
    )
    _table(
        existing,
        "orders",
        sa.Column("number", sa.String(length=8), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        _money("total"),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("carrier", sa.String(length=40), nullable=True),
        sa.Column("tracking_code", sa.String(length=40), nullable=True),
        sa.Column("shipping_address", sa.Text(), nullable=False),
        sa.Column("payment_method", sa.String(length=30), nullable=False),
        sa.Column("placed_at", sa.DateTime(), nullable=False),
        sa.Column("shipped_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("promised_date", sa.Date(), nullable=False),
        sa.Column("estimated_date", sa.Date(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("number"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        indexes=[("customer_id", False)],
    )
    _table(
        existing,
        "order_items",
        _id(),
        sa.Column("order_number", sa.String(length=8), nullable=False),
        sa.Column("product", sa.String(length=120), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        _money("unit_price"),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["order_number"], ["orders.number"]),
        indexes=[("order_number", False)],
    )
    _table(
        existing,
        "payments",
        _id(),
        sa.Column("order_number", sa.String(length=8), nullable=False),
        _money("amount"),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("captured_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["order_number"], ["orders.number"]),
        indexes=[("order_number", False)],
    )
    _table(
        existing,
        "refunds",
        _id(),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("order_number", sa.String(length=8), nullable=False),
        _money("amount"),
        sa.Column("reason", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expected_by", sa.Date(), nullable=False),
        sa.Column("paid_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
        sa.ForeignKeyConstraint(["order_number"], ["orders.number"]),
        indexes=[("order_number", False)],
    )
    _table(
        existing,
        "vouchers",
        _id(),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("order_number", sa.String(length=8), nullable=False),
        _money("amount"),
        sa.Column("reason", sa.String(length=60), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
        sa.ForeignKeyConstraint(["order_number"], ["orders.number"]),
        indexes=[("order_number", False)],
    )
    _table(
        existing,
        "tickets",
        _id(),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("order_number", sa.String(length=8), nullable=True),
        sa.Column("conversation_id", sa.String(length=120), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.ForeignKeyConstraint(["order_number"], ["orders.number"]),
    )
    _table(
        existing,
        "handoffs",
        _id(),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("conversation_id", sa.String(length=120), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("order_number", sa.String(length=8), nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("transcript", sa.JSON(), nullable=False),
        sa.Column("emotion_timeline", sa.JSON(), nullable=False),
        sa.Column("callback_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.ForeignKeyConstraint(["order_number"], ["orders.number"]),
        indexes=[("conversation_id", False)],
    )
    _table(
        existing,
        "account_actions",
        _id(),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
    )
    _table(
        existing,
        "outbound_emails",
        _id(),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    _table(
        existing,
        "newsletter_subscriptions",
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("subscribed", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("email"),
    )
    _table(
        existing,
        "feedback",
        _id(),
        sa.Column("conversation_id", sa.String(length=120), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("emotion_start", sa.String(length=20), nullable=True),
        sa.Column("emotion_end", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        indexes=[("conversation_id", False)],
    )
    _table(
        existing,
        "resolutions",
        _id(),
        sa.Column("conversation_id", sa.String(length=120), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=True),
        sa.Column("request", sa.String(length=60), nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "conversation_id", "turn", "request", name="uq_resolutions_conversation_turn_request"
        ),
        indexes=[("conversation_id", False)],
    )
    _table(
        existing,
        "console_agents",
        _id(),
        sa.Column("username", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    _table(
        existing,
        "console_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
        sa.ForeignKeyConstraint(["agent_id"], ["console_agents.id"], ondelete="CASCADE"),
        indexes=[("agent_id", False), ("expires_at", False)],
    )
    _table(
        existing,
        "handoff_takeovers",
        sa.Column("handoff_reference", sa.String(length=20), nullable=False),
        sa.Column("agent_username", sa.String(length=40), nullable=False),
        sa.Column("agent_name", sa.String(length=80), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.Column("released_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("handoff_reference"),
    )


def downgrade() -> None:
    for name in reversed(TABLES):  # an empty database again: every row goes
        op.drop_table(name)
