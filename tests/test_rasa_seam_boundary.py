"""Rasa's internals are touched in `rasa_seam/` only (where the seam sits in the import graph
is tests/test_architecture.py's)."""

from __future__ import annotations

import re

from heard.paths import ROOT

OUTSIDE = ("actions", "bench", "bot", "heard", "nlu", "store", "voice", "web")
# Rasa internals by how code reaches them: the server app's context, the tracker store
# wrappers' inner store, the events table's model, the lock's internals, a replaced method.
INTERNALS = re.compile(
    r"\.ctx\.(agent|input_channels)\b|ctx, \"(agent|input_channels)\"|\b_tracker_store\b"
    r"|\bSQLEvent\b|\bTicketLock\b|_ticket_for_ticket_number"
    r"|\b(MessageProcessor|RemoteAction|ActionSessionStart|SQLTrackerStore|Event)\.\w+ = "
)


def test_rasa_internals_are_touched_in_the_seam_only():
    found = [
        (str(path.relative_to(ROOT)), line.strip())
        for folder in OUTSIDE
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "node_modules" not in path.parts
        for line in path.read_text().splitlines()
        if INTERNALS.search(line)
    ]
    assert not found, f"reach Rasa's internals through rasa_seam: {found}"
