"""Rasa's SQL tracker store read and written as a database: its `events` table (the dashboard
reads it, retention deletes from it), the engine inside a running server's tracker store,
and an engine on the store an endpoints file names, as Rasa would make it."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine

# Rasa's `SQLTrackerStore.SQLEvent` table, every column (the tests compare the two).
EVENTS = sa.table(
    "events",
    sa.column("id", sa.Integer),
    sa.column("sender_id", sa.String),
    sa.column("type_name", sa.String),
    sa.column("timestamp", sa.Float),
    sa.column("intent_name", sa.String),
    sa.column("action_name", sa.String),
    sa.column("data", sa.Text),
)
# Rasa's tracker stores hand their work to the store they wrap in this attribute.
_WRAPPED = "_tracker_store"


def tracker_engine(store: Any) -> Optional[Engine]:
    """The SQL engine inside Rasa's tracker store wrappers, None for other stores."""
    for _ in range(5):  # FailSafeTrackerStore -> AwaitableTrackerStore -> SQLTrackerStore
        if isinstance(getattr(store, "engine", None), Engine):
            return store.engine
        store = getattr(store, _WRAPPED, None)
    return None


def engine_from_endpoints(endpoints: Path, root: Path) -> Engine:
    """An engine on the SQL tracker store `endpoints` names, with Rasa's own URL and engine
    settings. A relative SQLite path is `root`'s, where the Rasa server runs."""
    with warnings.catch_warnings():  # Rasa's deprecation notices, nothing to act on here
        warnings.simplefilter("ignore", DeprecationWarning)
        from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs, validate_port
        from rasa.utils.endpoints import read_endpoint_config

    config = read_endpoint_config(str(endpoints), "tracker_store")
    if config is None or (config.type or "").lower() != "sql":
        raise ValueError(
            f"reading the conversations needs the SQL tracker store; {endpoints} names none"
        )
    # login_db is only where Rasa connects to create `db`, so it is left out.
    settings = {
        name: config.kwargs[name]
        for name in ("dialect", "port", "db", "username", "password", "query")
        if name in config.kwargs
    }
    settings["port"] = validate_port(settings.get("port"))
    if settings.get("dialect", "sqlite") == "sqlite":
        settings["db"] = str(root / settings.get("db", "rasa.db"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        url = SQLTrackerStore.get_db_url(host=config.url, **settings)
    return sa.create_engine(url, future=True, **create_engine_kwargs(url))
