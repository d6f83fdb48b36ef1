"""Input limits and formats: settings checked at start-up, patterns in linear time."""

from __future__ import annotations

import time

import pytest
import yaml

from heard import formats, limits
from tests.harness import ROOT


def test_defaults():
    assert limits.max_message_chars({}) == 2_000
    assert limits.max_request_bytes({}) == 65_536
    assert limits.session_max_turns({}) == 20


@pytest.mark.parametrize(
    "environ, error",
    [
        ({"HEARD_MAX_MESSAGE_CHARS": "lots"}, "whole number"),
        ({"HEARD_MAX_MESSAGE_CHARS": "10"}, "between"),
        ({"HEARD_MAX_REQUEST_BYTES": "99999999999"}, "between"),
        ({"HEARD_SESSION_MAX_TURNS": "2"}, "between"),
        ({"HEARD_SESSION_MAX_TURNS": "twenty"}, "whole number"),
    ],
)
def test_bad_settings_fail_clearly(environ, error):
    with pytest.raises(ValueError, match=error) as raised:
        limits.check(environ)
    assert next(iter(environ)) in str(raised.value)


def test_the_nlu_email_feature_is_the_linear_pattern():
    nlu = yaml.safe_load((ROOT / "data" / "nlu.yml").read_text())["nlu"]
    (email,) = [entry for entry in nlu if entry.get("regex") == "email"]
    assert email["examples"].strip() == f"- {formats.EMAIL}"


@pytest.mark.parametrize(
    "text, found",
    [
        ("it's jane.doe@example.com thanks", "jane.doe@example.com"),
        ("JANE+shop@mail.example.co.uk.", "JANE+shop@mail.example.co.uk"),
        ("no address here", None),
        ("jane@localhost", None),
    ],
)
def test_email_pattern_finds_addresses(text, found):
    match = formats.EMAIL_RE.search(text)
    assert (match.group() if match else None) == found


SHAPES = [
    "a" * 1_000_000,
    "a@" * 500_000,
    "a." * 500_000,
    "a@b" + "-b" * 500_000,
    "a" * 500_000 + "@" + "b" * 500_000,
    ("x" * 60 + "@") * 16_000,
]


@pytest.mark.parametrize("text", SHAPES, ids=lambda t: repr(t[:6]))
def test_email_pattern_is_linear_on_a_megabyte(text):
    started = time.perf_counter()
    formats.EMAIL_RE.findall(text)
    # The quadratic pattern took more than 10 minutes on a megabyte.
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    "value, valid",
    [
        ("test-1a2b3c4d", True),
        ("CA" + "0" * 32, True),
        ("user:42.chat", True),
        ("", False),
        ("../../etc/passwd", False),
        ("a b", False),
        ("a" * 129, False),
        ("x..y", False),
        (42, False),
        (None, False),
        ("-leading", False),
    ],
)
def test_conversation_ids(value, valid):
    assert formats.valid_conversation_id(value) is valid


@pytest.mark.parametrize(
    "value, valid",
    [
        ("1a2b3c4d-0000-4e5f-8a9b-0123456789ab", True),
        ("1A2B3C4D00004E5F8A9B0123456789AB", True),
        ("test-1a2b3c4d", False),
        ("user1", False),
        ("1a2b3c4d-0000-4e5f-8a9b-0123456789a", False),
        ("1a2b3c4d-0000-4e5f-8a9b-0123456789abc", False),
        ("g" * 32, False),
        (None, False),
    ],
)
def test_widget_session_ids_are_uuids_and_conversation_ids(value, valid):
    assert formats.valid_widget_session_id(value) is valid
    assert not valid or formats.valid_conversation_id(value)
