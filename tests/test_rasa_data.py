"""Rasa's own checks: the training data validates, and the test stories predict exactly."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.harness import ROOT

pytestmark = pytest.mark.slow


def rasa(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rasa", *args], cwd=cwd, capture_output=True, text=True, timeout=900
    )


def test_training_data_validates():
    result = rasa("data", "validate", "--fail-on-warnings")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_test_stories_predict_every_intent_and_action(trained_model, tmp_path):
    """--e2e runs the NLU on each story's user text too, so intents and entities count."""
    result = rasa(
        "test",
        "core",
        "--model",
        str(trained_model),
        "--stories",
        "tests/test_stories.yml",
        "--e2e",
        "--fail-on-prediction-errors",
        "--out",
        str(tmp_path),
    )
    wrong = [
        line for line in result.stdout.splitlines() if "predicted" in line
    ]  # WrongPrediction and "# predicted:" lines
    assert result.returncode == 0, "\n".join(wrong) or result.stdout[-3000:]
