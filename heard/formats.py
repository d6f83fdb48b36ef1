"""Formats of what customers type, as patterns that run in linear time.

Python 3.10's `re` has no possessive quantifiers, so every repetition is bounded, and a
match may only start where a run of address characters starts (the lookbehind): a long
run of letters is then tried once, not once per position (which was quadratic).
"""

from __future__ import annotations

import re

from heard.contract import CONVERSATION_ID, EMAIL, ORDER_NUMBER, WIDGET_SESSION_ID

EMAIL_RE = re.compile(EMAIL)
ORDER_NUMBER_RE = re.compile(rf"(?<!\d){ORDER_NUMBER}(?!\d)")
CONVERSATION_ID_RE = re.compile(CONVERSATION_ID)
WIDGET_SESSION_ID_RE = re.compile(WIDGET_SESSION_ID)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """The text with lone UTF-16 surrogates (valid JSON escapes such as "\\udc80", but not
    characters: UTF-8 can't encode them, and spaCy failed on them) replaced by U+FFFD."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def valid_conversation_id(value: object) -> bool:
    return (
        isinstance(value, str)
        and CONVERSATION_ID_RE.fullmatch(value) is not None
        and ".." not in value
    )


def valid_widget_session_id(value: object) -> bool:
    return isinstance(value, str) and WIDGET_SESSION_ID_RE.fullmatch(value) is not None


def mask_email(address: str) -> str:
    """j***@example.com: enough for the customer (or a colleague at a shared screen) to
    recognise, not to harvest."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"
