"""Log records carry no e-mail addresses or order numbers, and have a bounded length."""

from __future__ import annotations

import logging

import pytest

from heard import logs


@pytest.fixture
def captured(monkeypatch):
    """Records of a logger of its own, made by the factory `logs.install` sets."""
    monkeypatch.setattr(logging, "_logRecordFactory", logging.getLogRecordFactory())

    def capture(environ=None):
        logs.install(environ or {})
        records = []
        logger = logging.getLogger("heard.test_logs")
        handler = logging.Handler()
        handler.emit = records.append
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        monkeypatch.setattr(logger, "propagate", False)
        return logger, records, handler

    yield capture
    logging.getLogger("heard.test_logs").handlers.clear()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("mail jane.doe@example.com now", "mail <email> now"),
        ("order 2345678 and #123456", "order <number> and #<number>"),
        ("card 4111111111111111", "card <number>"),
        ("5 items, 12345 points, 2026-11-30", "5 items, 12345 points, 2026-11-30"),
        ("call=CA0123456789abcdef0123456789abcdef", "call=CA0123456789abcdef0123456789abcdef"),
        (
            "session 12345678-90ab-cdef-1234-567890abcdef",
            "session 12345678-90ab-cdef-1234-567890abcdef",
        ),
    ],
)
def test_redact(text, expected):
    assert logs.redact(text) == expected


def test_clip_says_how_much_was_left_out():
    assert logs.clip("abcdef", 10) == "abcdef"
    assert logs.clip("a" * 25, 10) == "a" * 10 + "... [15 more characters left out]"


def test_messages_and_arguments_are_cleaned_and_bounded(captured):
    logger, records, handler = captured()
    logger.warning("user %s said %s", "jane.doe@example.com", "x" * 5_000_000)
    line = handler.format(records[0])
    assert "jane.doe" not in line and "<email>" in line
    assert len(line) < logs.MAX_MESSAGE_CHARS + 100


def test_tracebacks_are_cleaned_and_bounded(captured):
    logger, records, handler = captured()
    try:
        raise ValueError("order 2345678 of jane.doe@example.com " + "y" * 100_000)
    except ValueError:
        logger.exception("failed")
    line = handler.format(records[0])
    assert "2345678" not in line and "jane.doe" not in line
    assert "ValueError" in line and len(line) < logs.MAX_TRACEBACK_CHARS + 200


def test_personal_data_can_be_kept_for_debugging(captured):
    logger, records, handler = captured({"HEARD_LOG_PERSONAL_DATA": "1"})
    logger.warning("order %s", "2345678")
    assert handler.format(records[0]) == "order 2345678"
