"""Cases (tickets): the kinds of problem, the team that owns each kind, the priorities.

In heard/ because two processes read them: the action server opens cases (and tells the
customer which team has theirs), and the Rasa server's agent console lists and reassigns
them.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

CASE_TEAMS: Dict[str, str] = {
    "double_charge": "billing",
    "payment_question": "billing",
    "refund_overdue": "billing",
    "damage": "returns",
    "not_received": "delivery",
    "order_change": "orders",
    "complaint": "customer care",
    "review": "customer care",
    "safety": "product safety",
}
CASE_PRIORITIES: Tuple[str, ...] = ("low", "normal", "high", "urgent")  # least to most urgent
TEAMS: Tuple[str, ...] = tuple(sorted(set(CASE_TEAMS.values())))


def team_of(kind: str) -> Optional[str]:
    """The team a new case of this kind goes to; None for a kind no team owns."""
    return CASE_TEAMS.get(kind)
