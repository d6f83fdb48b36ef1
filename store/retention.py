"""Deletes the shop database's records of conversations retention removed: handoffs (with
who took them), ratings and resolutions. bot/retention.py decides which conversations and
from when; this only deletes, in one transaction per call."""

from __future__ import annotations

from datetime import datetime
from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store import models as m

# The shop's records of a conversation, by the name retention reports them under.
RECORDS = {"handoffs": m.Handoff, "ratings": m.Feedback, "resolutions": m.Resolution}


def _rows(model, conversation_ids: Sequence[str], before: datetime):
    return sa.and_(model.conversation_id.in_(conversation_ids), model.created_at < before)


def count_records(shop_db: Engine, model, conversation_ids: Sequence[str], before: datetime) -> int:
    """How many rows `delete_records` would delete (a dry run)."""
    with shop_db.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count())
            .select_from(model)
            .where(_rows(model, conversation_ids, before))
        ).scalar_one()


def delete_records(
    shop_db: Engine, model, conversation_ids: Sequence[str], before: datetime
) -> int:
    """Deletes `model`'s rows of these conversations created before `before` (naive UTC);
    a handoff's takeover goes with it. Returns how many rows of `model` went."""
    rows = _rows(model, conversation_ids, before)
    with shop_db.begin() as connection:
        if model is m.Handoff:
            connection.execute(
                sa.delete(m.Takeover).where(
                    m.Takeover.handoff_reference.in_(sa.select(m.Handoff.reference).where(rows))
                )
            )
        return connection.execute(sa.delete(model).where(rows)).rowcount
