"""Rasa's SQL tracker store, with loads and saves that don't grow with the conversation.

It finds a conversation's current session through two indexes, with a query that can use
them (Rasa's read every event of the conversation, all sessions, on every load and save).
On a SQLite file it keeps its connections in a pool and writes ahead to a log (WAL) with
`synchronous=NORMAL`, so a commit doesn't wait for the disk: a turn survives a crash of
the server, only a power cut can lose the last turns (PostgreSQL, for production, is
unchanged).
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted

logger = logging.getLogger(__name__)

_original = {
    "event_query": SQLTrackerStore._event_query,  # replaced whole: pinned by the tests
    "store_init": SQLTrackerStore.__init__,
}
_EVENT = SQLTrackerStore.SQLEvent
# Rasa's table has an index on sender_id only. These join its metadata when this module
# is imported (new databases get them with the table); init_store adds them to old ones.
SESSION_INDEXES = (
    sa.Index("heard_events_session_start", _EVENT.sender_id, _EVENT.type_name, _EVENT.timestamp),
    sa.Index("heard_events_sender_time", _EVENT.sender_id, _EVENT.timestamp),
)


def event_query(
    self: SQLTrackerStore, session: Any, sender_id: str, fetch_events_from_all_sessions: bool
) -> Any:
    """Rasa's query for a conversation's events (all sessions, or from the latest
    `session_started` on), without the `OR ... IS NULL` that kept databases from using an
    index on the time: the same rows, since Rasa gives every event a time."""
    query = session.query(_EVENT).filter(_EVENT.sender_id == sender_id)
    if not fetch_events_from_all_sessions:
        start = (
            session.query(sa.func.max(_EVENT.timestamp))
            .filter(_EVENT.sender_id == sender_id, _EVENT.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        query = query.filter(_EVENT.timestamp >= sa.func.coalesce(start, -1e300))
    return query.order_by(_EVENT.id)


def _write_ahead(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def init_store(self: SQLTrackerStore, *args: Any, **kwargs: Any) -> None:
    """Rasa's `SQLTrackerStore.__init__`, then a pooled SQLite engine and the indexes."""
    _original["store_init"](self, *args, **kwargs)
    if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (
        None,
        "",
        ":memory:",
    ):  # each pooled connection to memory would be a new one
        # SQLAlchemy 1.4 opens a new SQLite connection for every load and save (NullPool):
        # a tenth of a turn's CPU under load. A pool keeps them; each is used by one
        # thread at a time, so they may move between threads.
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(
            url, poolclass=sa.pool.QueuePool, connect_args={"check_same_thread": False}
        )
        sa.event.listen(self.engine, "connect", _write_ahead)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
    for index in SESSION_INDEXES:
        try:
            index.create(self.engine, checkfirst=True)
        except (sa.exc.OperationalError, sa.exc.ProgrammingError) as error:
            # Another server starting at the same time may have just made it.
            logger.warning("heard.tracker_store.index %s: %s", index.name, type(error).__name__)


def install() -> None:
    SQLTrackerStore._event_query = event_query
    SQLTrackerStore.__init__ = init_store
