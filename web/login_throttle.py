"""Slows password guessing at the console: too many failed sign-ins from one address for
one username within a window, and that pair must wait until the window has passed.

Keyed by (username, address), so one attacker can't lock a colleague out from elsewhere.
Two implementations with one interface (`wait`, `failed`, `succeeded`; `now` defaults to
the implementation's clock): `LoginThrottle` keeps the failures in the process (one Rasa
server, `make run`); `RedisLoginThrottle` keeps them in Redis, so every replica behind a
load balancer counts the same failures. `throttle_for` picks one from REDIS_URL.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
import uuid
from collections import defaultdict, deque
from typing import Deque, Dict, Optional, Tuple, Union

import redis

from heard import redis_client

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60

Key = Tuple[str, str]


def key(username: str, address: str) -> Key:
    return username.strip().lower(), address


class LoginThrottle:
    """In the process; times from `time.monotonic` unless given."""

    key = staticmethod(key)

    def __init__(self, max_failures: int = MAX_FAILURES, window: float = WINDOW_SECONDS):
        self.max_failures = max_failures
        self.window = window
        self._failures: Dict[Key, Deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()  # the console calls it from worker threads

    def _recent(self, key: Key, now: float) -> Deque[float]:
        times = self._failures[key]
        while times and now - times[0] >= self.window:
            times.popleft()
        if not times:
            del self._failures[key]  # nothing kept for pairs that stopped failing
            return deque()
        return times

    def wait(self, key: Key, now: Optional[float] = None) -> Optional[float]:
        """Seconds this pair must wait before trying again, or None when it may try now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._recent(key, now)
            if len(times) < self.max_failures:
                return None
            return times[0] + self.window - now

    def failed(self, key: Key, now: Optional[float] = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._recent(key, now)
            self._failures[key].append(now)

    def succeeded(self, key: Key) -> None:
        with self._lock:
            self._failures.pop(key, None)


class RedisLoginThrottle:
    """In Redis, shared by every replica; times are wall-clock (`time.time`) unless given,
    since replicas' monotonic clocks don't agree.

    One sorted set per pair, named after a hash of it (no usernames or addresses in key
    names), holding the times of its failures as scores. A failure is recorded in one
    MULTI transaction (drop the failures outside the window, add this one, expire the set a
    window after it), so concurrent failures on different replicas all count; `wait` reads
    the set's failures inside the window in one transaction too."""

    key = staticmethod(key)

    def __init__(
        self,
        client: redis.Redis,
        max_failures: int = MAX_FAILURES,
        window: float = WINDOW_SECONDS,
        namespace: str = "heard:login-failures:",
    ):
        self.client = client
        self.max_failures = max_failures
        self.window = window
        self.namespace = namespace

    def _name(self, key: Key) -> str:
        digest = hashlib.sha256("\0".join(key).encode("utf-8", "surrogatepass")).hexdigest()
        return self.namespace + digest

    def wait(self, key: Key, now: Optional[float] = None) -> Optional[float]:
        now = time.time() if now is None else now
        name, after = self._name(key), f"({now - self.window!r}"  # "(": exclusive
        pipe = self.client.pipeline(transaction=True)
        pipe.zcount(name, after, "+inf")
        pipe.zrangebyscore(name, after, "+inf", start=0, num=1, withscores=True)
        count, oldest = pipe.execute()
        if count < self.max_failures:
            return None
        return oldest[0][1] + self.window - now

    def failed(self, key: Key, now: Optional[float] = None) -> None:
        now = time.time() if now is None else now
        name = self._name(key)
        pipe = self.client.pipeline(transaction=True)
        pipe.zremrangebyscore(name, "-inf", repr(now - self.window))  # now - t >= window
        pipe.zadd(name, {uuid.uuid4().hex: now})  # a member per failure, even at one time
        pipe.pexpire(name, max(1, math.ceil(self.window * 1000)))
        pipe.execute()

    def succeeded(self, key: Key) -> None:
        self.client.delete(self._name(key))


Throttle = Union[LoginThrottle, RedisLoginThrottle]


def throttle_for(url: Optional[str]) -> Throttle:
    """Shared through Redis when a URL is given (REDIS_URL), else in the process."""
    return RedisLoginThrottle(redis_client.client(url)) if url else LoginThrottle()
