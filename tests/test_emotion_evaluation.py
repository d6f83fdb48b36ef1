"""The emotion report's figures (bot/emotion/evaluation.py) on small hand-checked inputs:
the printed report is pinned to the text the hand-written metrics printed before sklearn."""

from __future__ import annotations

import pytest

from bot.emotion.evaluation import Report, format_report, score
from bot.emotion.labels import LABELS

# (true label, predicted): anxiety is predicted once but no message has it; confusion is
# neither.
PAIRS = [
    ("anger", "anger"),
    ("anger", "frustration"),
    ("anger", "anger"),
    ("frustration", "frustration"),
    ("sadness", "anxiety"),
    ("joy", "joy"),
    ("joy", "neutral"),
    ("neutral", "neutral"),
    ("neutral", "neutral"),
    ("neutral", "joy"),
]
GOLD = [gold for gold, _ in PAIRS]
PREDICTED = [predicted for _, predicted in PAIRS]

PRINTED = """\
label        precision  recall     f1  support
anger            1.000   0.667  0.800        3
frustration      0.500   1.000  0.667        1
sadness          0.000   0.000  0.000        1
anxiety          0.000   0.000  0.000        0
confusion        0.000   0.000  0.000        0
joy              0.500   0.500  0.500        2
neutral          0.667   0.667  0.667        3

macro-F1                      0.527
accuracy                      0.600
negative vs not, accuracy     1.000
messages per second           250
latency p50 / p95 per message 2.50 / 4.00 ms

confusion matrix (rows: true label, columns: predicted)
              anger frustr sadnes anxiet confus    joy neutra
anger             2      1      0      0      0      0      0
frustration       0      1      0      0      0      0      0
sadness           0      0      0      1      0      0      0
anxiety           0      0      0      0      0      0      0
confusion         0      0      0      0      0      0      0
joy               0      0      0      0      0      1      1
neutral           0      0      0      0      0      1      2"""


def test_the_printed_report_is_unchanged():
    report = Report(*score(GOLD, PREDICTED), messages_per_second=250.0, p95_ms=4.0, p50_ms=2.5)
    assert format_report(report) == PRINTED


def test_macro_f1_leaves_out_labels_no_message_has():
    _, macro, _, _, _ = score(GOLD, PREDICTED)
    # anger, frustration, sadness, joy, neutral; anxiety (only predicted) would make it 0.439
    assert macro == pytest.approx((0.8 + 2 / 3 + 0.0 + 0.5 + 2 / 3) / 5)


def test_undefined_ratios_count_zero_and_nothing_scores_zero():
    per_label, _, _, _, _ = score(GOLD, PREDICTED)
    assert per_label["sadness"] == (0.0, 0.0, 0.0, 1)  # never predicted: precision 0, not nan
    assert per_label["anxiety"] == (0.0, 0.0, 0.0, 0)  # never true: recall 0, not nan
    per_label, macro, accuracy, negative, confusion = score([], [])
    assert (macro, accuracy, negative) == (0.0, 0.0, 0.0)
    assert all(figures == (0.0, 0.0, 0.0, 0) for figures in per_label.values())
    assert sum(n for row in confusion.values() for n in row.values()) == 0
    assert list(confusion) == list(LABELS)


def test_gold_and_predicted_of_different_lengths_are_refused():
    with pytest.raises(ValueError):
        score(GOLD, PREDICTED[:-1])
