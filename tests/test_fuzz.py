"""A smaller `make fuzz` against the shared servers: no 5xx, no silence, no data changed."""

from __future__ import annotations

import pytest

from bench.fuzz import fuzz

pytestmark = pytest.mark.slow


def test_bad_input_never_breaks_or_silences_the_servers(live):
    report = fuzz(live.servers, live.repo, count=300, seed=7, seconds=300)
    print(report.table())  # shown when the test fails
    assert report.problems() == []
