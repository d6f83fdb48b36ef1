"""Which Origin headers the console accepts (the server-level refusal is in test_console_api)."""

from __future__ import annotations

import pytest

from web.http import same_origin


@pytest.mark.parametrize(
    "origin, host, accepted",
    [
        (None, "localhost:5005", True),  # same-origin GETs carry no Origin
        ("", "localhost:5005", True),
        ("http://localhost:5005", "localhost:5005", True),
        ("https://heard.example", "heard.example", True),
        ("http://localhost:8000", "localhost:5005", False),  # same site, other origin
        ("http://evil.example", "localhost:5005", False),
        ("null", "localhost:5005", False),  # sandboxed frames and file:// pages
        ("http://localhost:5005.evil.example", "localhost:5005", False),
        ("http://localhost:5005", None, False),
    ],
)
def test_same_origin(origin, host, accepted):
    assert same_origin(origin, host) is accepted
