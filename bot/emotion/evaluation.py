"""Scores of an emotion model on labelled messages: per label, macro, confusions, speed."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from bot.emotion.data import Example
from bot.emotion.labels import LABELS
from heard.contract import NEGATIVE_EMOTIONS


@dataclass(frozen=True)
class Report:
    per_label: Dict[str, Tuple[float, float, float, int]]  # precision, recall, f1, support
    macro_f1: float
    accuracy: float
    negative_accuracy: float  # negative vs not negative
    confusion: Dict[str, Dict[str, int]]  # gold -> predicted -> count
    messages_per_second: float
    p95_ms: float
    p50_ms: float = 0.0


def score(gold: Sequence[str], predicted: Sequence[str]) -> Tuple[Dict, float, float, float, Dict]:
    """(per label, macro-F1, accuracy, negative-vs-not accuracy, confusion) of `predicted`
    against `gold`; an undefined ratio (nothing predicted or nothing to find) counts 0."""
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=LABELS, zero_division=0
    )
    per_label = {
        label: (float(p), float(r), float(f), int(n))
        for label, p, r, f, n in zip(LABELS, precision, recall, f1, support)
    }
    # Macro over the labels the messages have: one no message has would only add a 0.
    present = [label for label in LABELS if per_label[label][3]]
    macro = float(
        f1_score(gold, predicted, labels=present, average="macro", zero_division=0)
        if present
        else 0.0
    )
    accuracy = float(accuracy_score(gold, predicted)) if gold else 0.0
    negative = (
        float(
            accuracy_score(
                [g in NEGATIVE_EMOTIONS for g in gold], [p in NEGATIVE_EMOTIONS for p in predicted]
            )
        )
        if gold
        else 0.0
    )
    matrix = confusion_matrix(gold, predicted, labels=LABELS)
    confusion = {
        g: {p: int(matrix[i][j]) for j, p in enumerate(LABELS)} for i, g in enumerate(LABELS)
    }
    return per_label, macro, accuracy, negative, confusion


def evaluate(model, examples: Sequence[Example]) -> Report:
    """Scores `model` (an EmotionModel) and times it one message at a time, as in a parse."""
    texts = [text for text, _ in examples]
    timings: List[float] = []
    predicted = []
    for text in texts:
        start = time.perf_counter()
        predicted.append(model.predict_one(text).name)
        timings.append(time.perf_counter() - start)
    gold = [label for _, label in examples]
    per_label, macro, accuracy, negative, confusion = score(gold, predicted)
    timings.sort()
    return Report(
        per_label,
        macro,
        accuracy,
        negative,
        confusion,
        len(texts) / sum(timings) if timings else 0.0,
        1000 * timings[int(0.95 * (len(timings) - 1))] if timings else 0.0,
        1000 * timings[int(0.5 * (len(timings) - 1))] if timings else 0.0,
    )


def format_report(report: Report) -> str:
    lines = [f"{'label':<12} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}"]
    for label, (p, r, f, n) in report.per_label.items():
        lines.append(f"{label:<12} {p:>9.3f} {r:>7.3f} {f:>6.3f} {n:>8d}")
    lines += [
        "",
        f"macro-F1                      {report.macro_f1:.3f}",
        f"accuracy                      {report.accuracy:.3f}",
        f"negative vs not, accuracy     {report.negative_accuracy:.3f}",
        f"messages per second           {report.messages_per_second:.0f}",
        f"latency p50 / p95 per message {report.p50_ms:.2f} / {report.p95_ms:.2f} ms",
        "",
        "confusion matrix (rows: true label, columns: predicted)",
        " " * 12 + "".join(f"{label[:6]:>7}" for label in LABELS),
    ]
    for gold in LABELS:
        lines.append(f"{gold:<12}" + "".join(f"{report.confusion[gold][p]:>7d}" for p in LABELS))
    return "\n".join(lines)
