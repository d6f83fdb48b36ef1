"""Stored handoff transcripts in the one line shape every process reads (heard.contract).

A line was {"speaker", "text", "at": ISO 8601 time or None}; it becomes {"sender", "text",
"time": Unix seconds (0.0 when unknown, as the contract reads an event without a time),
"agent": None (old lines never named the colleague), "buttons": []}. Both shapes are
written out here, not imported, so this revision stays what it was when the contract
changes. A line already in the shape it is going to is kept as it is, so a transcript
rewritten before (or in part) is safe to run over again.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from datetime import datetime, timezone
from typing import Any, Callable, Optional

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

HANDOFFS = sa.table("handoffs", sa.column("id", sa.Integer()), sa.column("transcript", sa.JSON()))
BATCH = 500  # rows read at a time: transcripts can be long


def _seconds(at: Any) -> float:
    """An old line's time as Unix seconds; 0.0 when it had none (or no readable one)."""
    try:
        moment = datetime.fromisoformat(at)
    except (TypeError, ValueError):
        return 0.0
    if moment.tzinfo is None:  # Heard wrote these times in UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _iso(seconds: Any) -> Optional[str]:
    if not isinstance(seconds, (int, float)) or not seconds:
        return None
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat(timespec="seconds")


def new_line(line: Any) -> Any:
    if not isinstance(line, dict) or "speaker" not in line:
        return line
    return {
        "sender": line["speaker"],
        "text": line.get("text") or "",
        "time": _seconds(line.get("at")),
        "agent": None,
        "buttons": [],
    }


def old_line(line: Any) -> Any:
    """A colleague's name and a line's buttons have no place in the old shape."""
    if not isinstance(line, dict) or "sender" not in line:
        return line
    return {"speaker": line["sender"], "text": line.get("text") or "", "at": _iso(line.get("time"))}


def _rewrite(convert: Callable[[Any], Any]) -> None:
    """Every stored transcript's lines through `convert`; unchanged rows are not written."""
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(HANDOFFS.c.id, HANDOFFS.c.transcript)
            .where(HANDOFFS.c.id > last)
            .order_by(HANDOFFS.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for row_id, transcript in rows:
            if not isinstance(transcript, list):
                continue
            lines = [convert(line) for line in transcript]
            if lines != transcript:
                connection.execute(
                    HANDOFFS.update().where(HANDOFFS.c.id == row_id).values(transcript=lines)
                )
        last = rows[-1][0]


def upgrade() -> None:
    _rewrite(new_line)


def downgrade() -> None:
    _rewrite(old_line)
