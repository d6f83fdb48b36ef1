"""How the tests pin the Rasa code Heard relies on: a short digest of its source, so that a
Rasa upgrade that changes it fails the test that names it."""

from __future__ import annotations

import hashlib
import inspect


def digest(code: object) -> str:
    """The first 16 hex digits of the SHA-256 of the source of `code` (function or class)."""
    return hashlib.sha256(inspect.getsource(code).encode()).hexdigest()[:16]
