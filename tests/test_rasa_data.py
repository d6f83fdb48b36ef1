"""Rasa's own checks: the training data validates, and the test stories predict exactly."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot import story_check
from tests.harness import ROOT

pytestmark = pytest.mark.slow


def test_training_data_validates():
    """Rasa's own verdict (`make check` is stricter: `python -m bot validate`)."""
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "data", "validate", "--fail-on-warnings"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_test_stories_predict_every_intent_and_action(trained_model):
    """Every story with the NLU run on its user text too (`rasa test core --e2e`), all of
    them at once: a failure lists every wrong story and intent, not the first only."""
    passed, report = story_check.run(trained_model)
    assert passed, report
    assert "stories: " in report and " pass" in report
