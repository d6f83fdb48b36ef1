"""Slows password guessing at the console: too many failed sign-ins from one address for
one username within a window, and that pair must wait until the window has passed.

Keyed by (username, address), so one attacker can't lock a colleague out from elsewhere.
Kept in memory: the console runs in the one Rasa server process.
"""
from __future__ import annotations

from collections import defaultdict, deque
from typing import Deque, Dict, Optional, Tuple

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60

Key = Tuple[str, str]


class LoginThrottle:
    def __init__(self, max_failures: int = MAX_FAILURES, window: float = WINDOW_SECONDS):
        self.max_failures = max_failures
        self.window = window
        self._failures: Dict[Key, Deque[float]] = defaultdict(deque)

    @staticmethod
    def key(username: str, address: str) -> Key:
        return username.strip().lower(), address

    def _recent(self, key: Key, now: float) -> Deque[float]:
        times = self._failures[key]
        while times and now - times[0] >= self.window:
            times.popleft()
        if not times:
            del self._failures[key]  # nothing kept for pairs that stopped failing
            return deque()
        return times

    def wait(self, key: Key, now: float) -> Optional[float]:
        """Seconds this pair must wait before trying again, or None when it may try now."""
        times = self._recent(key, now)
        if len(times) < self.max_failures:
            return None
        return times[0] + self.window - now

    def failed(self, key: Key, now: float) -> None:
        self._recent(key, now)
        self._failures[key].append(now)

    def succeeded(self, key: Key) -> None:
        self._failures.pop(key, None)
