"""The shop database's migrations (store/migrations/) on SQLite and PostgreSQL: they make
what the models say and what create_all made before them, adopt a database create_all made
(rows kept), bring stored handoff transcripts to heard.contract's shape (and back), change
nothing the second time, and let two servers start at once."""

from __future__ import annotations

import multiprocessing
import os
import queue
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from heard.contract import transcript_line
from store import migrate, models
from store.console import ConsoleRecords
from store.repository import Repository, engine_for
from store.seed import seed
from tests.harness import ROOT

NOW = datetime(2026, 11, 25, 10)
CONSOLE_TABLES = {"console_agents", "console_sessions", "handoff_takeovers"}
OLD_LINES = [  # a handoff's transcript as Heard stored it before revision 0002
    {"speaker": "customer", "text": "Where is my parcel?", "at": "2025-11-25T10:00:00+00:00"},
    {"speaker": "heard", "text": "Let me check.", "at": None},
    {"speaker": "agent", "text": "Hi, I'm Sam.", "at": "2025-11-25T10:05:30+00:00"},
]
LINES = [  # the same lines in heard.contract's shape
    {
        "sender": "customer",
        "text": "Where is my parcel?",
        "time": 1764064800.0,
        "agent": None,
        "buttons": [],
    },
    {"sender": "heard", "text": "Let me check.", "time": 0.0, "agent": None, "buttons": []},
    {"sender": "agent", "text": "Hi, I'm Sam.", "time": 1764065130.0, "agent": None, "buttons": []},
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request, tmp_path) -> str:
    """An empty database on each backend (PostgreSQL's is emptied again afterwards)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/heard.db"
    return request.getfixturevalue("empty_postgres_url")


@pytest.fixture
def engine(url):
    engine = engine_for(url)
    yield engine
    engine.dispose()


def schema(engine) -> dict:
    """Every table as the database describes it: columns, keys, indexes, constraints (and
    on SQLite the CREATE statements themselves); alembic_version left out."""
    inspector = sa.inspect(engine)
    tables = {}
    for name in sorted(set(inspector.get_table_names()) - {"alembic_version"}):
        key = inspector.get_pk_constraint(name)
        tables[name] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], c.get("default"))
                for c in inspector.get_columns(name)
            ],
            "primary_key": (key.get("name"), tuple(key["constrained_columns"])),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(name)
            ),
            "unique": sorted(
                (u["name"] or "", tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(name)
            ),
            "foreign_keys": sorted(
                (
                    tuple(f["constrained_columns"]),
                    f["referred_table"],
                    tuple(f["referred_columns"]),
                    f.get("options", {}).get("ondelete"),
                )
                for f in inspector.get_foreign_keys(name)
            ),
        }
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            tables["sqlite_master"] = sorted(
                (kind, name, " ".join((sql or "").split()))
                for kind, name, sql in connection.execute(
                    sa.text(
                        "SELECT type, name, sql FROM sqlite_master "
                        "WHERE tbl_name != 'alembic_version'"
                    )
                )
            )
    return tables


def rows(engine) -> dict:
    """Every row of every shop table the database has."""
    present = set(sa.inspect(engine).get_table_names())
    with engine.connect() as connection:
        return {
            table.name: sorted(map(tuple, connection.execute(table.select())), key=repr)
            for table in models.Base.metadata.sorted_tables
            if table.name in present
        }


def versions(engine) -> list:
    with engine.connect() as connection:
        return list(
            connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
        )


def made_before_migrations(engine, console: bool = True) -> None:
    """The database as the code before migrations left it: create_all of the shop's
    tables (and the console's, once the console had run), no alembic_version, and rows."""
    tables = [
        t for t in models.Base.metadata.sorted_tables if console or t.name not in CONSOLE_TABLES
    ]
    models.Base.metadata.create_all(engine, tables=tables)
    repo = Repository(engine, clock=lambda: NOW)
    seed(repo)
    handoff = repo.create_handoff(
        "old-conversation",
        "rest",
        "customer_request",
        2,
        "summary",
        OLD_LINES,
        [{"emotion": "anger", "intensity": 0.8}],
    )
    repo.record_resolution("old-conversation", "rest", "track_order", True, 1)
    if console:
        records = ConsoleRecords(engine)
        sam = records.add_agent("sam", "Sam Rivera", "$argon2id$not-a-real-hash", NOW)
        records.start_session("a" * 64, sam.id, NOW, NOW.replace(hour=18))
        assert records.take(handoff.reference, sam, NOW)


def test_an_empty_database_gets_the_models_schema(url, engine):
    assert migrate.upgrade(url) == migrate.head()
    assert versions(engine) == [migrate.head()]
    assert migrate.differences(engine) == []
    assert set(sa.inspect(engine).get_table_names()) == (
        set(models.Base.metadata.tables) | {"alembic_version"}
    )


def test_the_migrations_make_what_create_all_makes(url, engine):
    """Tables, columns, keys, indexes and constraints, named the same (on SQLite the same
    CREATE statements): a database made before migrations is one the baseline makes."""
    migrate.upgrade(url)
    migrated = schema(engine)
    models.Base.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE alembic_version"))
    assert not sa.inspect(engine).get_table_names()
    models.Base.metadata.create_all(engine)
    assert schema(engine) == migrated


@pytest.mark.parametrize("console", [True, False], ids=["with-console", "never-ran-console"])
def test_a_database_made_before_migrations_keeps_its_rows_and_reaches_head(url, engine, console):
    made_before_migrations(engine, console)
    before = rows(engine)
    assert before["customers"] and before["handoffs"]
    assert migrate.upgrade(url) == migrate.head()
    assert versions(engine) == [migrate.head()]
    assert migrate.differences(engine) == []  # the console's tables made when missing
    after = rows(engine)
    assert after == {
        **before,
        "handoffs": with_transcript(before["handoffs"], LINES),
        **({} if console else {name: [] for name in CONSOLE_TABLES}),
    }
    repo = Repository(engine)  # and the shop works on it as before
    assert repo.verify_identity("2345678", "jane.doe@example.com").number == "2345678"
    assert repo.waiting_handoffs() == (0 if console else 1)


def with_transcript(handoff_rows: list, lines: list) -> list:
    at = [column.name for column in models.Handoff.__table__.columns].index("transcript")
    return [row[:at] + (lines,) + row[at + 1 :] for row in handoff_rows]


def transcripts(engine) -> dict:
    with engine.connect() as connection:
        return dict(
            connection.execute(sa.select(models.Handoff.reference, models.Handoff.transcript)).all()
        )


def run_alembic(engine, do, revision: str) -> None:
    """An Alembic command (`command.downgrade`, `command.stamp`) as store.migrate runs one."""
    with engine.connect() as connection, connection.begin():
        do(migrate.config(connection), revision)


def test_stored_transcripts_take_the_contracts_shape_and_back(url, engine):
    """Revision 0002 rewrites every stored transcript, however many (it reads them in
    batches), a line already rewritten included; its downgrade gives back the old lines."""
    migrate.upgrade(url, "0001")
    handoffs = [
        {
            "reference": f"HO-{i:06d}",
            "conversation_id": f"c-{i}",
            "channel": "rest",
            "reason": "customer_request",
            "priority": 3,
            "status": "waiting",
            "summary": "",
            "transcript": OLD_LINES,
            "emotion_timeline": [],
            "created_at": NOW,
        }
        for i in range(1200)
    ]
    handoffs[-1]["transcript"] = [OLD_LINES[0], LINES[1]]  # partly rewritten already
    with engine.begin() as connection:
        connection.execute(models.Handoff.__table__.insert(), handoffs)
    last = handoffs[-1]["reference"]
    assert migrate.upgrade(url) == migrate.head()
    upgraded = transcripts(engine)
    assert upgraded == {
        **{h["reference"]: LINES for h in handoffs[:-1]},
        last: [LINES[0], LINES[1]],
    }
    # The line the code writes today for the same message.
    assert LINES[0] == transcript_line(
        {"event": "user", "text": "Where is my parcel?", "timestamp": 1764064800.0}
    )
    run_alembic(engine, command.stamp, "0001")  # as if it had not run: running it again
    assert migrate.upgrade(url) == migrate.head()  # changes nothing
    assert transcripts(engine) == upgraded
    run_alembic(engine, command.downgrade, "0001")
    assert versions(engine) == ["0001"]
    assert transcripts(engine) == {
        **{h["reference"]: OLD_LINES for h in handoffs[:-1]},
        last: [OLD_LINES[0], OLD_LINES[1]],
    }


TICKET_DESK_COLUMNS = ["team", "assignee", "assigned_by", "assigned_at", "closed_by", "closed_at"]


def ticket_columns(engine) -> list:
    return [c["name"] for c in sa.inspect(engine).get_columns("tickets")]


def test_tickets_get_the_consoles_columns_empty_and_lose_them_again(url, engine):
    """Revision 0003 adds who has, reassigned and closed a ticket (empty on every row it
    finds) and the status index; its downgrade removes them and keeps every ticket, so the
    schema is 0002's again, and upgrading after that works."""
    migrate.upgrade(url, "0002")
    at_0002 = schema(engine)
    ticket = {
        "reference": "TK-ABC234",
        "kind": "damage",
        "priority": "high",
        "status": "open",
        "summary": "Damaged item on order 3456789",
        "conversation_id": "c-1",
        "created_at": NOW,
    }
    with engine.begin() as connection:
        connection.execute(sa.table("tickets", *map(sa.column, ticket)).insert(), [ticket])
    assert migrate.upgrade(url, "0003") == "0003"
    assert ticket_columns(engine)[-6:] == TICKET_DESK_COLUMNS
    assert "ix_tickets_status" in {i["name"] for i in sa.inspect(engine).get_indexes("tickets")}
    (row,) = rows(engine)["tickets"]
    assert row[-6:] == (None,) * 6 and "TK-ABC234" in row and NOW in row

    run_alembic(engine, command.downgrade, "0002")
    assert versions(engine) == ["0002"]
    assert schema(engine) == at_0002
    assert not set(TICKET_DESK_COLUMNS) & set(ticket_columns(engine))
    with engine.connect() as connection:
        kept = connection.execute(sa.text("SELECT reference, status FROM tickets")).all()
    assert kept == [("TK-ABC234", "open")]
    assert migrate.upgrade(url) == migrate.head() and migrate.differences(engine) == []


def test_upgrading_twice_changes_nothing(url, engine):
    migrate.upgrade(url)
    seed(Repository(engine))
    first = (schema(engine), rows(engine), versions(engine))
    assert migrate.upgrade(url) == migrate.head()
    assert (schema(engine), rows(engine), versions(engine)) == first


def _upgrade_at_once(start, url: str, results) -> None:
    """One starting server (a thread or a process): waits for the other, then migrates."""
    start.wait()
    try:
        results.put(migrate.upgrade(url))
    except Exception as error:  # reported by the test
        results.put(f"{type(error).__name__}: {error}")


def _migrated_once(url: str) -> None:
    engine = engine_for(url)
    try:
        assert versions(engine) == [migrate.head()]
        assert migrate.differences(engine) == []
    finally:
        engine.dispose()


# A lock wait ends in an error after 20 s, so a race fails a test instead of hanging it.
NO_ENDLESS_WAITS = "?options=-c%20lock_timeout%3D20s"


@pytest.mark.postgres
def test_two_upgrades_at_once_in_one_process_both_succeed(empty_postgres_url):
    """Two threads upgrading an empty database at the same moment (the tests' servers, a
    console command beside a start): both end at head, the schema made once."""
    start, results = threading.Barrier(2), queue.Queue()
    threads = [
        threading.Thread(
            target=_upgrade_at_once,
            daemon=True,
            args=(start, empty_postgres_url + NO_ENDLESS_WAITS, results),
        )
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [results.get(timeout=1) for _ in threads] == [migrate.head()] * 2
    _migrated_once(empty_postgres_url)


@pytest.mark.postgres
def test_two_servers_starting_at_once_both_migrate(empty_postgres_url):
    """Two processes upgrading an empty database at the same moment: the advisory lock
    makes the second wait and find the work done (without it, one fails on a table the
    other is making)."""
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Barrier(2), spawn.Queue()
    servers = [
        spawn.Process(
            target=_upgrade_at_once, args=(start, empty_postgres_url + NO_ENDLESS_WAITS, results)
        )
        for _ in range(2)
    ]
    for server in servers:
        server.start()
    try:
        assert [results.get(timeout=90) for _ in servers] == [migrate.head()] * 2
    finally:
        for server in servers:
            server.join(timeout=30)
    _migrated_once(empty_postgres_url)


@pytest.mark.postgres
def test_an_upgrade_waits_for_the_lock_another_holds(empty_postgres_url):
    holder = sa.create_engine(empty_postgres_url, future=True)
    done = threading.Event()
    try:
        with holder.connect() as connection:
            connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": migrate.LOCK_KEY})
            thread = threading.Thread(
                target=lambda: (migrate.upgrade(empty_postgres_url), done.set())
            )
            thread.start()
            time.sleep(1)
            assert not done.is_set(), "the upgrade didn't wait for the migration lock"
            connection.execute(
                sa.text("SELECT pg_advisory_unlock(:key)"), {"key": migrate.LOCK_KEY}
            )
            thread.join(timeout=60)
        assert done.is_set()
    finally:
        holder.dispose()


def test_the_console_leaves_the_schema_to_the_migrations(tmp_path):
    """The console's objects on an empty database make no tables: only the migrations do."""
    from web.agents import Agents
    from web.handoff_queue import HandoffQueue
    from web.sessions import Sessions

    engine = engine_for(f"sqlite:///{tmp_path}/heard.db")
    Agents(engine), Sessions(engine), HandoffQueue(engine)
    assert sa.inspect(engine).get_table_names() == []
    engine.dispose()


def test_starting_migrates_before_seeding(tmp_path, monkeypatch):
    """`python -m bot run | seed` (their shared start) and the tests' servers migrate."""
    from bot.__main__ import seed as start
    from bot.servers import Servers

    old = f"sqlite:///{tmp_path}/old.db"
    made_before_migrations(engine_for(old), console=False)
    monkeypatch.setenv("DATABASE_URL", old)
    start()
    Servers.in_folder(Path("unused-model.tar.gz"), tmp_path)
    for database in (old, f"sqlite:///{tmp_path}/heard.db"):
        engine = engine_for(database)
        assert versions(engine) == [migrate.head()] and migrate.differences(engine) == []
        engine.dispose()


def test_the_command(tmp_path):
    database = f"sqlite:///{tmp_path}/heard.db"
    result = subprocess.run(
        [sys.executable, "-m", "store", "migrate", "--url", database],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "DATABASE_URL": "sqlite:////nonexistent/x.db"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"database: {database} at revision {migrate.head()} (head)\n"
    assert versions(engine_for(database)) == [migrate.head()]


def test_revisions_are_numbered_in_order():
    names = sorted(p.name for p in (migrate.SCRIPTS / "versions").glob("[0-9]*.py"))
    assert names[0] == "0001_baseline.py"
    assert migrate.next_revision_id() == f"{len(names) + 1:04d}"
