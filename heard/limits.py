"""Limits on what comes from outside, read from the environment and checked at start-up."""
from __future__ import annotations

import os
from typing import Mapping

MAX_MESSAGE_CHARS_VAR = "HEARD_MAX_MESSAGE_CHARS"
MAX_REQUEST_BYTES_VAR = "HEARD_MAX_REQUEST_BYTES"
DEFAULT_MAX_MESSAGE_CHARS = 2_000
DEFAULT_MAX_REQUEST_BYTES = 64 * 1024
SESSION_MAX_TURNS_VAR = "HEARD_SESSION_MAX_TURNS"
DEFAULT_SESSION_MAX_TURNS = 20


def _int_setting(environ: Mapping[str, str], name: str, default: int, low: int,
                 high: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, not {value}")
    return value


def max_message_chars(environ: Mapping[str, str] = os.environ) -> int:
    """Longer messages are answered with a request for the main point, never parsed."""
    return _int_setting(environ, MAX_MESSAGE_CHARS_VAR, DEFAULT_MAX_MESSAGE_CHARS, 50, 20_000)


def max_request_bytes(environ: Mapping[str, str] = os.environ) -> int:
    """Larger HTTP bodies and socket.io packets are refused (413) before they are read."""
    return _int_setting(environ, MAX_REQUEST_BYTES_VAR, DEFAULT_MAX_REQUEST_BYTES, 4_096,
                        16 * 1024 * 1024)


def session_max_turns(environ: Mapping[str, str] = os.environ) -> int:
    """Customer messages per session (`bot.sessions`): what bounds the work of a turn."""
    return _int_setting(environ, SESSION_MAX_TURNS_VAR, DEFAULT_SESSION_MAX_TURNS, 5, 10_000)


def check(environ: Mapping[str, str] = os.environ) -> None:
    """Raises ValueError naming the bad setting; the servers read them again themselves."""
    max_message_chars(environ)
    max_request_bytes(environ)
    session_max_turns(environ)
