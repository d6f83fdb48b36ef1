"""Splitting a message into clauses for two requests in one message (nlu/clauses.py)."""

import time

import pytest

from nlu.clauses import MAX_CLAUSES, clauses


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "cancel the headphones and tell me where my shoes are",
            ["cancel the headphones", "tell me where my shoes are"],
        ),
        (
            "I want to cancel order 1234567. Also, where is my refund?",
            ["I want to cancel order 1234567", "Also, where is my refund?"],
        ),
        (
            "can you cancel it, and then send me the invoice",
            ["can you cancel it", "then send me the invoice"],
        ),
        ("salt and pepper grinder arrived broken", ["salt and pepper grinder arrived broken"]),
        ("where is my order", ["where is my order"]),
        ("thanks. bye", []),  # one-word clauses are no requests
    ],
)
def test_clauses(text, expected):
    assert clauses(text) == expected


def test_at_most_a_few_clauses_and_none_for_a_long_story():
    assert len(clauses("where is it. " * 10)) == MAX_CLAUSES
    assert clauses("where is it. " * 20) == []  # 60 words: one story


def test_linear_time():
    start = time.perf_counter()
    clauses("and " * 50_000 + "x")
    clauses("." * 100_000)
    assert time.perf_counter() - start < 2.0  # a quadratic split would take minutes
