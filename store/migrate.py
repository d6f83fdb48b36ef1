"""Brings a shop database to the current schema with the Alembic revisions in
store/migrations/. Every start that opens the database calls `upgrade` first, so an empty
database, one made before migrations (by create_all, without alembic_version) and one at
an older revision all end at head; at head it changes nothing."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import List, Optional

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.environment import NameFilterParentNames
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from store.repository import engine_for

SCRIPTS = Path(__file__).resolve().parent / "migrations"
# The pg_advisory_lock key two servers starting at once wait on: any fixed bigint of our own.
LOCK_KEY = 0x4865617264  # "Heard"
# Alembic keeps the running migration's context in module globals: one migration at a time
# in a process (threads), the advisory lock between processes.
_ALEMBIC = threading.Lock()


def include_name(name: Optional[str], type_: str, parent_names: NameFilterParentNames) -> bool:
    """Only the shop's tables: Rasa's tracker tables may share the database."""
    from store import models

    return type_ != "table" or name in models.Base.metadata.tables


def config(connection: Optional[Connection] = None) -> Config:
    """Alembic's configuration without an alembic.ini: the scripts, and the connection
    env.py migrates (the URL stays out of ConfigParser, where a "%" in a password breaks)."""
    settings = Config()
    settings.set_main_option("script_location", str(SCRIPTS))
    settings.attributes["connection"] = connection
    return settings


def head() -> Optional[str]:
    """The newest revision; None only when store/migrations/versions/ has none."""
    return ScriptDirectory.from_config(config()).get_current_head()


def current(connection: Connection) -> Optional[str]:
    """The database's revision; None for an empty one or one made before migrations."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(url: str, revision: str = "head") -> Optional[str]:
    """Migrates the database at `url` to `revision`; returns the revision it is then at.
    One transaction: on PostgreSQL, whose DDL is transactional, a failed revision leaves
    nothing half done. There it also holds an advisory lock, so a second server starting
    at the same moment waits, then finds the work done. A database made before migrations
    is adopted by the baseline, which creates only the tables it lacks, keeping every row."""
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            locked = connection.dialect.name == "postgresql"
            if locked:
                connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
                connection.commit()  # the lock is the session's: it outlives this commit
            try:
                with _ALEMBIC, connection.begin():
                    command.upgrade(config(connection), revision)
                return current(connection)
            finally:
                if locked:
                    connection.execute(
                        sa.text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY}
                    )
                    connection.commit()
    finally:
        engine.dispose()


def differences(engine: Engine) -> List[tuple]:
    """What autogenerate would change to make the database match store/models.py, with
    env.py's own options: an empty list when the schema is the models'."""
    from store import models

    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_name}
        )
        return compare_metadata(context, models.Base.metadata)


def next_revision_id() -> str:
    """Revisions are numbered (0001, 0002, ...), so their order reads from the file names."""
    numbers = [
        int(match.group(1))
        for path in (SCRIPTS / "versions").glob("*.py")
        if (match := re.match(r"^(\d{4})_", path.name))
    ]
    return f"{max(numbers, default=0) + 1:04d}"


def revision(url: str, message: str, autogenerate: bool = False) -> Path:
    """A new revision file after head; with `autogenerate`, drafted from what differs
    between the database at `url` (migrate it first) and store/models.py. Read it before
    committing: autogenerate misses renames and server defaults."""
    engine = engine_for(url)
    try:
        with engine.connect() as connection, _ALEMBIC, connection.begin():
            script = command.revision(
                config(connection),
                message=message,
                autogenerate=autogenerate,
                rev_id=next_revision_id(),
            )
    finally:
        engine.dispose()
    # One head and no process_revision_directives: alembic writes exactly one file.
    assert isinstance(script, Script), script
    return Path(script.path)
