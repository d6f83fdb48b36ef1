"""Rasa's SQL tracker store as a database (`rasa_seam.tracker_events`): the `events` table is
Rasa's, a running store's engine is found inside Rasa's wrappers, and an endpoints file's
store is reached as Rasa reaches it."""

from __future__ import annotations

import asyncio
import json

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import (
    AwaitableTrackerStore,
    FailSafeTrackerStore,
    InMemoryTrackerStore,
    SQLTrackerStore,
    create_engine_kwargs,
    validate_port,
)
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_seam.tracker_events import EVENTS, engine_from_endpoints, tracker_engine
from tests.rasa_source import digest


def test_the_events_table_is_rasas():
    rasas = SQLTrackerStore.SQLEvent.__table__
    assert EVENTS.name == rasas.name
    assert [(c.name, type(c.type)._type_affinity) for c in EVENTS.columns] == [
        (c.name, type(c.type)._type_affinity) for c in rasas.columns
    ]


def test_what_rasa_stores_is_read_back_through_the_table(tmp_path):
    store = FailSafeTrackerStore(
        AwaitableTrackerStore(
            SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
        )
    )
    tracker = DialogueStateTracker("someone", [])
    tracker.update(UserUttered("where is my order", {"name": "track_order"}, timestamp=5.0))
    asyncio.run(store.save(tracker))
    engine = tracker_engine(store)
    with engine.connect() as connection:
        rows = connection.execute(sa.select(EVENTS).where(EVENTS.c.type_name == "user")).all()
    ((_, sender, kind, at, intent, action, data),) = rows
    assert (sender, kind, at, intent, action) == ("someone", "user", 5.0, "track_order", None)
    assert json.loads(data)["text"] == "where is my order"


def test_only_sql_stores_have_an_engine():
    assert tracker_engine(AwaitableTrackerStore(InMemoryTrackerStore(Domain.empty()))) is None
    assert tracker_engine(object()) is None


def test_the_store_an_endpoints_file_names_is_reached_as_rasa_does(tmp_path):
    path = tmp_path / "endpoints.yml"
    path.write_text("tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: var/tracker.db\n")
    assert engine_from_endpoints(path, tmp_path).url.database == str(
        tmp_path / "var" / "tracker.db"
    )
    path.write_text(
        "tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: db.example\n"
        "  port: 5433\n  db: heard\n  username: heard\n  login_db: postgres\n"
    )
    url = engine_from_endpoints(path, tmp_path).url
    assert (url.drivername, url.host, url.port, url.database, url.username) == (
        "postgresql",
        "db.example",
        5433,
        "heard",
        "heard",
    )
    path.write_text("tracker_store:\n  type: redis\n")
    with pytest.raises(ValueError, match="needs the SQL tracker store"):
        engine_from_endpoints(path, tmp_path)


# How Rasa makes its store's URL and engine, which engine_from_endpoints repeats.
ENGINE_SETTINGS = {
    SQLTrackerStore.get_db_url: "d82cd514e506db15",
    create_engine_kwargs: "dff5f092362096da",
    validate_port: "b47fd211f35c5b6b",
}


@pytest.mark.parametrize("code, expected", ENGINE_SETTINGS.items())
def test_rasas_engine_settings_are_unchanged(code, expected):
    assert digest(code) == expected
