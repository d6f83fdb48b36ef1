"""When human agents are in: `HEARD_STAFFED_HOURS`, e.g. 'Mon-Sat 08:00-20:00' (shop time).

Here, not in `actions.policy` (which re-exports it), because `heard.settings` parses the
variable with `StaffedHours.parse` and loads no Heard package with side effects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Tuple

DEFAULT_STAFFED_HOURS = "Mon-Sat 08:00-20:00"
_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@dataclass(frozen=True)
class StaffedHours:
    days: Tuple[int, ...]  # 0 = Monday
    opens: time
    closes: time

    @classmethod
    def parse(cls, spec: str) -> "StaffedHours":
        """'Mon-Fri 09:00-17:00' or 'Mon,Wed,Fri 10:00-16:00'."""
        try:
            day_part, hour_part = spec.split()
            if "-" in day_part:
                first, last = (_DAYS.index(d.lower()) for d in day_part.split("-"))
                days = tuple(range(first, last + 1))
            else:
                days = tuple(_DAYS.index(d.lower()) for d in day_part.split(","))
            opens, closes = (time.fromisoformat(t) for t in hour_part.split("-"))
        except ValueError as error:
            raise ValueError(
                f"staffed hours {spec!r}: expected e.g. 'Mon-Fri 09:00-17:00'"
            ) from error
        if not days or closes <= opens:
            raise ValueError(
                f"staffed hours {spec!r} are never open: days run Mon to Sun "
                f"and the closing time comes after the opening time"
            )
        return cls(days, opens, closes)

    def is_open(self, when: datetime) -> bool:
        return when.weekday() in self.days and self.opens <= when.time() < self.closes

    def next_opening(self, when: datetime) -> datetime:
        for offset in range(8):
            day = (when + timedelta(days=offset)).date()
            opening = datetime.combine(day, self.opens)
            if day.weekday() in self.days and opening > when:
                return opening
        raise ValueError("staffed hours name no day")
