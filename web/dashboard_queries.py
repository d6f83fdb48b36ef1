"""Reads the dashboard's records: customer messages from Rasa's SQL tracker store (its
`events` table, `rasa_seam.tracker_events`), handoffs, ratings and the actions' records of
requests (resolutions) from the shop database, and the sums retention kept of deleted
conversations (store.retained, beside the tracker's events). Reads only: store/ declares
and writes the tables."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from rasa_seam.tracker_events import EVENTS
from store import models as shop
from store.retained import RETAINED
from web.dashboard import Conversation, Counts, DayChannel, Filters, conversations_from, figures


def conversations(tracker: Engine, filters: Filters) -> List[Conversation]:
    """Conversations whose first customer message is in the date range (every channel)."""
    start, end = filters.window
    first = sa.func.min(EVENTS.c.timestamp)
    senders = (
        sa.select(EVENTS.c.sender_id)
        .where(EVENTS.c.type_name == "user")
        .group_by(EVENTS.c.sender_id)
        .having(sa.and_(first >= start, first < end))
    )
    with tracker.connect() as connection:
        return conversations_of(connection, senders)


def conversations_of(connection: Connection, senders: Any) -> List[Conversation]:
    """The conversations of `senders`: sender ids, or a query of them."""
    query = (
        sa.select(EVENTS.c.sender_id, EVENTS.c.timestamp, EVENTS.c.intent_name, EVENTS.c.data)
        .where(EVENTS.c.type_name == "user", EVENTS.c.sender_id.in_(senders))
        .order_by(EVENTS.c.sender_id, EVENTS.c.id)
    )
    return conversations_from(
        (sender, time, intent, json.loads(data or "{}"))
        for sender, time, intent, data in connection.execute(query)
    )


def _since(filters: Filters) -> datetime:
    # The shop stores naive UTC times; nothing about a conversation precedes its start.
    return datetime.fromtimestamp(filters.window[0], timezone.utc).replace(tzinfo=None)


def shop_records(
    shop_db: Engine, which: Callable[[Any], Any]
) -> Tuple[List[Tuple[str, str]], List[Tuple[str, int]], List[Tuple[str, bool]]]:
    """Handoffs (conversation id, reason), ratings (conversation id, rating) and the
    actions' records of requests (conversation id, resolved; each pair once), of the rows
    `which(model)` picks."""
    queries = (
        sa.select(shop.Handoff.conversation_id, shop.Handoff.reason).where(which(shop.Handoff)),
        sa.select(shop.Feedback.conversation_id, shop.Feedback.rating).where(which(shop.Feedback)),
        sa.select(shop.Resolution.conversation_id, shop.Resolution.resolved)
        .where(which(shop.Resolution))
        .distinct(),
    )
    with shop_db.connect() as connection:
        handoffs, ratings, resolutions = (
            [tuple(row) for row in connection.execute(query)] for query in queries
        )
    return (
        handoffs,
        ratings,
        [(conversation_id, bool(done)) for conversation_id, done in resolutions],
    )


def retained(tracker: Engine, filters: Filters) -> Dict[DayChannel, Counts]:
    """The Counts retention kept of the deleted conversations of the date range."""
    if not sa.inspect(tracker).has_table(RETAINED.name):  # retention never ran
        return {}
    query = (
        sa.select(
            RETAINED.c.day,
            RETAINED.c.channel,
            RETAINED.c.name,
            RETAINED.c.key,
            sa.func.sum(RETAINED.c.value),
        )
        .where(RETAINED.c.day.between(filters.start, filters.end))
        .group_by(RETAINED.c.day, RETAINED.c.channel, RETAINED.c.name, RETAINED.c.key)
    )
    items: Dict[DayChannel, List[Tuple[str, str, int]]] = {}
    with tracker.connect() as connection:
        for day, channel, name, key, value in connection.execute(query):
            items.setdefault((day.isoformat(), channel), []).append((name, key, int(value)))
    return {group: Counts.from_items(rows) for group, rows in items.items()}


def dashboard(tracker: Engine, shop_db: Engine, filters: Filters) -> Dict[str, Any]:
    since = _since(filters)
    handoffs, ratings, resolutions = shop_records(shop_db, lambda model: model.created_at >= since)
    return figures(
        conversations(tracker, filters),
        handoffs,
        ratings,
        filters,
        resolutions,
        retained(tracker, filters),
    )
