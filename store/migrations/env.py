"""Alembic's environment for the shop database. store/migrate.py runs it on a connection
it holds (config.attributes["connection"]), inside its transaction and, on PostgreSQL, its
lock; the target is store/models.py. Online only: a revision may inspect the database."""

from alembic import context

from store import models
from store.migrate import include_name


def render_item(type_, obj, autogen_context):
    """Money is an INTEGER of cents in the database: revisions say so, not import models."""
    if type_ == "type" and isinstance(obj, models.Money):
        return "sa.Integer()"
    return False  # alembic's own rendering


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None or context.is_offline_mode():
        raise SystemExit("run migrations with: python -m store migrate [--url URL]")
    # Batch operations, so a revision's ALTERs also work on SQLite (it recreates tables).
    context.configure(
        connection=connection,
        target_metadata=models.Base.metadata,
        compare_type=True,
        include_name=include_name,
        render_item=render_item,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
