"""Retention: conversations nobody has touched for HEARD_RETENTION_DAYS are deleted.

A conversation (a sender id of Rasa's SQL tracker store) goes when its last event is older
than the retention: all its events, and the shop database's records of it from before
then (handoffs with their transcripts, ratings, resolutions). Its dashboard figures stay,
as the sums in `store.retained.RETAINED`, written in the transaction that deletes
its events: a date range shows the same figures after a run as before, and a second run
finds nothing to add again. Work goes in batches, so no lock is held for long; the output
and the logs carry counts only. `python -m bot retention`, and daily under `make run`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable, List, Mapping, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.servers import ROOT
from rasa_seam.tracker_events import EVENTS, engine_from_endpoints
from store import retained
from store import retention as records
from store.repository import Repository
from web.dashboard import tally
from web.dashboard_queries import conversations_of, shop_records

DAYS_VAR = "HEARD_RETENTION_DAYS"
BATCH = 200  # conversations per transaction (and ids per IN list: well under SQLite's cap)
# The shop's records of a conversation: deleted with it, counted in its sums first.
RECORDS = records.RECORDS


def retention_days(environ: Optional[Mapping[str, str]] = None) -> Optional[int]:
    """HEARD_RETENTION_DAYS: this process's settings, or `environ`'s (`heard.settings`)."""
    from heard import settings

    return settings.read(DAYS_VAR, environ)


def cutoff(now: float, days: int) -> float:
    """Conversations whose last event is before this Unix time are deleted."""
    return now - days * 86_400


@dataclass
class Outcome:
    conversations: int = 0  # deleted from the tracker store
    events: int = 0
    summed: int = 0  # of them, those with customer messages: kept in the dashboard's sums
    handoffs: int = 0  # shop database rows deleted
    ratings: int = 0
    resolutions: int = 0
    finished: bool = True  # False when stopped between batches

    def report(self, days: int, before: float, dry_run: bool) -> str:
        when = datetime.fromtimestamp(before, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        verb = "would delete" if dry_run else "deleted"
        return (
            f"retention ({days} days, last event before {when}): {verb} "
            f"{self.conversations} conversations ({self.events} events; {self.summed} "
            f"kept in the dashboard's sums), {self.handoffs} handoffs, {self.ratings} "
            f"ratings, {self.resolutions} resolutions"
            + ("" if self.finished else "; stopped, the rest comes next run")
        )


class _Changed(Exception):
    """A batch's conversations got an event while it was being deleted: read it again."""


def _purge_batch(
    tracker: Engine, shop_db: Engine, senders: List[str], dry_run: bool, outcome: Outcome
) -> None:
    with tracker.begin() as connection:
        # Counted first: an event stored after this makes the delete's count differ.
        events = connection.execute(
            sa.select(sa.func.count()).select_from(EVENTS).where(EVENTS.c.sender_id.in_(senders))
        ).scalar_one()
        found = conversations_of(connection, senders)
        groups = tally(
            found, *shop_records(shop_db, lambda model: model.conversation_id.in_(senders))
        )
        if not dry_run:
            rows = [
                {
                    "day": date.fromisoformat(day),
                    "channel": channel,
                    "name": name,
                    "key": key,
                    "value": value,
                }
                for (day, channel), counts in groups.items()
                for name, key, value in counts.items()
            ]
            retained.add(connection, rows)
            deleted = connection.execute(
                sa.delete(EVENTS).where(EVENTS.c.sender_id.in_(senders))
            ).rowcount
            if deleted != events:
                raise _Changed  # rolls the sums and the delete back together
    outcome.conversations += len(senders)
    outcome.events += events
    outcome.summed += len(found)


def _purge_tracker(
    tracker: Engine,
    shop_db: Engine,
    before: float,
    dry_run: bool,
    batch: int,
    stopped: threading.Event,
    outcome: Outcome,
) -> None:
    last = sa.func.max(EVENTS.c.timestamp)
    after = ""  # sender ids go in order, so a run reads the events table once
    while not stopped.is_set():
        query = (
            sa.select(EVENTS.c.sender_id)
            .where(EVENTS.c.sender_id > after)
            .group_by(EVENTS.c.sender_id)
            .having(last < before)
            .order_by(EVENTS.c.sender_id)
            .limit(batch)
        )
        with tracker.connect() as connection:
            senders = list(connection.execute(query).scalars())
        if not senders:
            return
        try:
            _purge_batch(tracker, shop_db, senders, dry_run, outcome)
        except _Changed:
            continue  # the same page again: a conversation that became active drops out
        after = senders[-1]
    outcome.finished = False


def _purge_records(
    tracker: Engine, shop_db: Engine, model, before: float, dry_run: bool, batch: int
) -> int:
    """Deletes the rows of `model` from before the cutoff whose conversation has no event
    since then: those of the conversations just deleted, and any a stopped or failed run
    left behind."""
    since = datetime.fromtimestamp(before, timezone.utc).replace(tzinfo=None)  # naive UTC
    after, removed = "", 0
    while True:
        with shop_db.connect() as connection:
            ids = list(
                connection.execute(
                    sa.select(model.conversation_id)
                    .distinct()
                    .where(model.created_at < since, model.conversation_id > after)
                    .order_by(model.conversation_id)
                    .limit(batch)
                ).scalars()
            )
        if not ids:
            return removed
        after = ids[-1]
        with tracker.connect() as connection:
            active = set(
                connection.execute(
                    sa.select(EVENTS.c.sender_id)
                    .distinct()
                    .where(EVENTS.c.sender_id.in_(ids), EVENTS.c.timestamp >= before)
                ).scalars()
            )
        gone = [i for i in ids if i not in active]
        if gone:
            removed += (records.count_records if dry_run else records.delete_records)(
                shop_db, model, gone, since
            )


def purge(
    tracker: Engine,
    shop_db: Engine,
    before: float,
    dry_run: bool = False,
    batch: int = BATCH,
    stopped: Optional[threading.Event] = None,
) -> Outcome:
    """Deletes the conversations whose last event is before `before` (a Unix time), keeping
    their sums, then the shop's records of them; with `dry_run`, only counts. `stopped`
    ends it between batches."""
    stopped = stopped or threading.Event()
    outcome = Outcome()
    if not sa.inspect(tracker).has_table(EVENTS.name):  # Rasa never stored a conversation here
        return outcome
    if not dry_run:
        retained.create(tracker)
    _purge_tracker(tracker, shop_db, before, dry_run, batch, stopped, outcome)
    # Only after every old conversation is summed: its sums need the records.
    for field, model in RECORDS.items():
        if stopped.is_set():
            outcome.finished = False
            break
        setattr(outcome, field, _purge_records(tracker, shop_db, model, before, dry_run, batch))
    return outcome


def tracker_store_engine(endpoints: Path) -> Engine:
    """An engine on the SQL tracker store `endpoints` names, as the Rasa server (which runs
    in the project's folder) reaches it."""
    return engine_from_endpoints(endpoints, ROOT)


def run(
    days: int,
    endpoints: Path,
    database_url: str,
    dry_run: bool = False,
    stopped: Optional[threading.Event] = None,
) -> str:
    """One retention run on the tracker store and shop database the servers use; what it
    did, in one line of counts."""
    before = cutoff(time.time(), days)
    tracker = tracker_store_engine(endpoints)
    shop_db = Repository.from_url(database_url).engine
    try:
        return purge(tracker, shop_db, before, dry_run, stopped=stopped).report(
            days, before, dry_run
        )
    finally:
        tracker.dispose()
        shop_db.dispose()


def every_day(
    job: Callable[[], None],
    stopped: threading.Event,
    log: Callable[[str], None],
    first: float = 60.0,
    interval: float = 86_400.0,
) -> None:
    """Runs `job` `first` seconds from now, then every `interval`, until `stopped` is set.
    A failed run is logged (its kind and the database's message, never the statement or
    its values: they hold conversation ids) and the next one comes as planned."""
    delay = first
    while not stopped.wait(delay):
        try:
            job()
        except Exception as error:  # the supervisor and its servers go on regardless
            reason = getattr(error, "orig", None) or error
            log(
                f"retention: failed ({type(error).__name__}: {str(reason)[:200]}); "
                f"trying again in {interval / 3600:g} h"
            )
        delay = interval


def start_daily(
    days: int,
    endpoints: Path,
    database_url: str,
    stopped: threading.Event,
    log: Callable[[str], None],
    first: float = 60.0,
    interval: float = 86_400.0,
) -> threading.Thread:
    """The daily run beside `make run`'s supervisor (a daemon thread: never holds up exit)."""
    thread = threading.Thread(
        target=every_day,
        name="retention",
        daemon=True,
        args=(
            lambda: log(run(days, endpoints, database_url, stopped=stopped)),
            stopped,
            log,
            first,
            interval,
        ),
    )
    thread.start()
    return thread
