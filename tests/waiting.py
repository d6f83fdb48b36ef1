"""Waiting in tests, always with a time limit."""
from __future__ import annotations

import time
from typing import Any, Callable


def eventually(condition: Callable[[], Any], timeout: float, every: float = 0.05) -> bool:
    """Whether `condition()` became true within `timeout` seconds (checked `every` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True
