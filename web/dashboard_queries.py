"""Reads the dashboard's records: customer messages from Rasa's SQL tracker store,
handoffs, ratings and the actions' records of requests (resolutions) from the shop
database."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from actions.store import models as shop
from web.dashboard import Conversation, Filters, conversations_from, figures

# Rasa's SQLTrackerStore table (rasa/core/tracker_store.py, SQLEvent), the columns we read.
EVENTS = sa.table("events", sa.column("id", sa.Integer), sa.column("sender_id", sa.String),
                  sa.column("type_name", sa.String), sa.column("timestamp", sa.Float),
                  sa.column("intent_name", sa.String), sa.column("data", sa.Text))


def tracker_engine(store: Any) -> Optional[Engine]:
    """The SQL engine inside Rasa's tracker store wrappers, None for other stores."""
    for _ in range(5):  # FailSafeTrackerStore -> AwaitableTrackerStore -> SQLTrackerStore
        if isinstance(getattr(store, "engine", None), Engine):
            return store.engine
        store = getattr(store, "_tracker_store", None)
    return None


def conversations(tracker: Engine, filters: Filters) -> List[Conversation]:
    """Conversations whose first customer message is in the date range (every channel)."""
    start, end = filters.window
    users = EVENTS.c.type_name == "user"
    first = (sa.select(EVENTS.c.sender_id, sa.func.min(EVENTS.c.timestamp).label("first"))
             .where(users).group_by(EVENTS.c.sender_id)
             .having(sa.and_(sa.func.min(EVENTS.c.timestamp) >= start,
                             sa.func.min(EVENTS.c.timestamp) < end))
             .subquery())
    query = (sa.select(EVENTS.c.sender_id, EVENTS.c.timestamp, EVENTS.c.intent_name,
                       EVENTS.c.data)
             .join(first, first.c.sender_id == EVENTS.c.sender_id)
             .where(users).order_by(EVENTS.c.sender_id, EVENTS.c.id))
    with tracker.connect() as connection:
        rows = [(sender, time, intent, json.loads(data or "{}"))
                for sender, time, intent, data in connection.execute(query)]
    return conversations_from(rows)


def _since(filters: Filters) -> datetime:
    # The shop stores naive UTC times; nothing about a conversation precedes its start.
    return datetime.fromtimestamp(filters.window[0], timezone.utc).replace(tzinfo=None)


def handoffs(shop_db: Engine, filters: Filters) -> List[Tuple[str, str]]:
    query = (sa.select(shop.Handoff.conversation_id, shop.Handoff.reason)
             .where(shop.Handoff.created_at >= _since(filters)))
    with shop_db.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]


def ratings(shop_db: Engine, filters: Filters) -> List[Tuple[str, int]]:
    query = (sa.select(shop.Feedback.conversation_id, shop.Feedback.rating)
             .where(shop.Feedback.created_at >= _since(filters)))
    with shop_db.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]


def resolutions(shop_db: Engine, filters: Filters) -> List[Tuple[str, bool]]:
    """(conversation id, resolved) of the requests the actions recorded, each pair once."""
    query = (sa.select(shop.Resolution.conversation_id, shop.Resolution.resolved)
             .where(shop.Resolution.created_at >= _since(filters)).distinct())
    with shop_db.connect() as connection:
        return [(conversation_id, bool(done)) for conversation_id, done in
                connection.execute(query)]


def dashboard(tracker: Engine, shop_db: Engine, filters: Filters) -> Dict[str, Any]:
    return figures(conversations(tracker, filters), handoffs(shop_db, filters),
                   ratings(shop_db, filters), filters, resolutions(shop_db, filters))
