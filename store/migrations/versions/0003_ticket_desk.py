"""Tickets the agent console works on: who has a case, who closed it, and when.

Adds to `tickets` the owning team (empty: its kind's team, as before), the agent who has
it, who last reassigned or closed it and when, and an index on `status` (the console lists
open tickets). Every row keeps its values; the new columns start empty. A column or index
the table has already is left alone, so a database made by create_all of these models
before migrations is adopted as 0001 adopts one.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = (  # in this order, the order store/models.py declares them in
    ("team", sa.String(length=40)),
    ("assignee", sa.String(length=40)),
    ("assigned_by", sa.String(length=40)),
    ("assigned_at", sa.DateTime()),
    ("closed_by", sa.String(length=40)),
    ("closed_at", sa.DateTime()),
)
INDEX = "ix_tickets_status"  # named as create_all names index=True


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    existing = {column["name"] for column in inspector.get_columns("tickets")}
    # ALTER TABLE ADD COLUMN on both backends: SQLite writes the column into the table's
    # CREATE statement where create_all would, so the schema reads the same.
    for name, type_ in COLUMNS:
        if name not in existing:
            op.add_column("tickets", sa.Column(name, type_, nullable=True))
    if INDEX not in {index["name"] for index in inspector.get_indexes("tickets")}:
        op.create_index(INDEX, "tickets", ["status"], unique=False)


def downgrade() -> None:
    """The columns and the index go, and with them who has, closed or reassigned what.
    Statuses stay: a closed ticket stays closed (the older code only looks at open ones)."""
    op.drop_index(INDEX, table_name="tickets")
    # ALTER TABLE DROP COLUMN on both backends (SQLite 3.35+): no copy of the table, and
    # SQLite's CREATE statement reads again as revision 0001 wrote it.
    for name, _ in reversed(COLUMNS):
        op.drop_column("tickets", name)
