"""What the sentence encoder reads of a message (nlu/gist.py)."""

import time

import pytest

from nlu.gist import gist


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "hi, my order 2345678 hasn't come yet, email jane.doe@example.com",
            "my order hasn't come yet, email",
        ),
        (
            "hey team! I want to cancel order #1234567 asap, thanks a lot!",
            "I want to cancel order asap, thanks a lot!",
        ),
        (
            "good morning, where is my parcel? thank you so much",
            "where is my parcel? thank you so much",
        ),
        ("hi there", "hi there"),  # nothing would be left: a greeting stays a greeting
        ("no, thanks", "no, thanks"),
        ("never mind, thanks", "never mind, thanks"),
        ("2345678", "order number"),
        ("tim.w@example.org", "e-mail address"),  # an unusual address reads like any other
        ("#2345678, jane.doe@example.com", "order number e-mail address"),
        ("hi", "hi"),
        ("see https://example.com/orders/1 please help me", "see please help me"),
    ],
)
def test_gist(text, expected):
    assert gist(text) == expected


@pytest.mark.parametrize(
    "text", ["1 " * 50_000, "." * 100_000, ", " * 50_000 + "thanks", "hi " * 30_000, "a@" * 30_000]
)
def test_gist_runs_in_linear_time(text):
    start = time.perf_counter()
    gist(text)
    assert time.perf_counter() - start < 1.0  # quadratic would take minutes
