"""Waiting in tests, always with a time limit."""

from __future__ import annotations

import asyncio
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


async def until(
    condition: Callable[[], Any], timeout: float, what: str, every: float = 0.02
) -> None:
    """Waits in the event loop until `condition()` holds; fails saying `what` did not
    happen once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout:g} s")
        await asyncio.sleep(every)
