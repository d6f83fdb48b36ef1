"""The dashboard's sums of the conversations retention deleted (web/dashboard.py's Counts,
one row per day, channel and count: `name`, and `key` for the counted ones, a reason, an
emotion, an intent). The table lives in the tracker store's database, beside Rasa's
`events`, not in the shop database: bot/retention.py adds the sums in the transaction that
deletes the events they sum up, so a date range's figures stay as they were."""

from __future__ import annotations

from typing import Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

RETAINED = sa.Table(
    "heard_retained_counts",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("day", sa.Date, nullable=False, index=True),
    sa.Column("channel", sa.String(255), nullable=False),
    sa.Column("name", sa.String(40), nullable=False),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("value", sa.Integer, nullable=False),
)


def create(tracker: Engine) -> None:
    """The table, when missing. Rasa makes its own tables in this database (create_all,
    no migrations of ours), so this one is made the same way, the first time it's needed."""
    RETAINED.create(tracker, checkfirst=True)


def add(connection: Connection, rows: Iterable[Mapping]) -> None:
    """Adds sums in the caller's transaction (the one that deletes what they sum up)."""
    rows = list(rows)
    if rows:
        connection.execute(RETAINED.insert(), rows)
