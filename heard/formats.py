"""Formats of what customers type, as patterns that run in linear time.

Python 3.10's `re` has no possessive quantifiers, so every repetition is bounded, and a
match may only start where a run of address characters starts (the lookbehind): a long
run of letters is then tried once, not once per position (which was quadratic).
"""
from __future__ import annotations

import re

# Also the `email` regex feature in data/nlu.yml (a test keeps the two identical).
EMAIL = r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}"
EMAIL_RE = re.compile(EMAIL)
ORDER_NUMBER_RE = re.compile(r"(?<!\d)\d{6,8}(?!\d)")
# A conversation id from a client (REST `sender`): no paths, no spaces, bounded.
CONVERSATION_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """The text with lone UTF-16 surrogates (valid JSON escapes such as "\\udc80", but not
    characters: UTF-8 can't encode them, and spaCy failed on them) replaced by U+FFFD."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def valid_conversation_id(value: object) -> bool:
    return (isinstance(value, str) and CONVERSATION_ID_RE.fullmatch(value) is not None
            and ".." not in value)
