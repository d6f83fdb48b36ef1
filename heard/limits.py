"""Limits on what comes from outside: settings (`heard.settings`) checked at start-up."""

from __future__ import annotations

from typing import Mapping, Optional

from heard import settings

MAX_MESSAGE_CHARS_VAR = "HEARD_MAX_MESSAGE_CHARS"
MAX_REQUEST_BYTES_VAR = "HEARD_MAX_REQUEST_BYTES"
SESSION_MAX_TURNS_VAR = "HEARD_SESSION_MAX_TURNS"
# The defaults, from the settings table: 2,000 characters, 64 KiB, 20 messages.
DEFAULT_MAX_MESSAGE_CHARS = settings.read(MAX_MESSAGE_CHARS_VAR, {})
DEFAULT_MAX_REQUEST_BYTES = settings.read(MAX_REQUEST_BYTES_VAR, {})
DEFAULT_SESSION_MAX_TURNS = settings.read(SESSION_MAX_TURNS_VAR, {})


def max_message_chars(environ: Optional[Mapping[str, str]] = None) -> int:
    """Longer messages are answered with a request for the main point, never parsed."""
    return settings.read(MAX_MESSAGE_CHARS_VAR, environ)


def max_request_bytes(environ: Optional[Mapping[str, str]] = None) -> int:
    """Larger HTTP bodies and socket.io packets are refused (413) before they are read."""
    return settings.read(MAX_REQUEST_BYTES_VAR, environ)


def session_max_turns(environ: Optional[Mapping[str, str]] = None) -> int:
    """Customer messages per session (`rasa_seam.sessions`): what bounds the work of a turn."""
    return settings.read(SESSION_MAX_TURNS_VAR, environ)


def check(environ: Optional[Mapping[str, str]] = None) -> None:
    """Raises ValueError naming the bad setting; the servers read them again themselves."""
    max_message_chars(environ)
    max_request_bytes(environ)
    session_max_turns(environ)
