"""Heard's one way to reach Redis: the state replicas behind a load balancer must share.

With `REDIS_URL` set, the console's sign-in throttle, Twilio call transfers and the
widget's socket.io rooms are shared through it (the lock store reads it from
endpoints.yml). Unset, each keeps its state in the process, as `make run` does.

Connections are made lazily (constructing a client opens no socket), and every command
has a timeout, so a Redis outage shows as an error on the request that needed it instead
of a hung worker.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import redis

from heard import settings

REDIS_URL_VAR = "REDIS_URL"
CONNECT_TIMEOUT_SECONDS = 2.0
COMMAND_TIMEOUT_SECONDS = 2.0
HEALTH_CHECK_SECONDS = 30
SOCKETIO_CHANNEL = "heard:socketio"


def redis_url() -> Optional[str]:
    """THE place Heard's shared state asks for `REDIS_URL` (from heard/settings.py, which
    parses and checks it; each call sees the current environment, so tests can set it).
    None when unset or blank: nothing is shared, every replica keeps its own state."""
    return settings.read(REDIS_URL_VAR)


_OPTIONS: Dict[str, Any] = {
    "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
    "socket_timeout": COMMAND_TIMEOUT_SECONDS,
    "socket_keepalive": True,
    "health_check_interval": HEALTH_CHECK_SECONDS,  # PING a connection idle this long
}


def client(url: str) -> redis.Redis:
    """A thread-safe client (with its own connection pool) for short commands; async code
    calls it in a worker thread (asyncio.to_thread), so it works from any event loop."""
    return redis.Redis.from_url(url, **_OPTIONS)


def socketio_manager(url: str, channel: Optional[str] = None):
    """python-socketio's Redis client manager: an emit to a room on one replica reaches the
    room's sockets on every replica (all must use one `channel`, SOCKETIO_CHANNEL). Its
    subscriber blocks reading until something is published, so it gets no command timeout
    (only the connect timeout and keepalive)."""
    from socketio import AsyncRedisManager

    options = {"socket_connect_timeout": CONNECT_TIMEOUT_SECONDS, "socket_keepalive": True}
    return AsyncRedisManager(url, channel=channel or SOCKETIO_CHANNEL, redis_options=options)
