"""Which intents a change to the NLU moved: per-intent F1 on the test set, before and after.

`python -m bench.nlu_report` saves, for every model it evaluates, the per-intent figures on
the never-trained test set as `results/nlu-report/<model>.json` (the model's name without
`.tar.gz`), then compares the current model's with an earlier one's (`choose_before`):
the intents whose F1 moved by `MOVED` or more, the largest drop first. No model is needed
here: the comparison and the choice of the earlier model are pure, and tested as such.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from sklearn.metrics import f1_score, precision_recall_fscore_support

MOVED = 0.02  # an intent whose F1 moved by this much or more is listed
FORMAT = 1  # of the saved reports; one of another format is not compared with
FALLBACK = "nlu_fallback"  # predicted, never a test line's intent: not an intent to score
ARCHIVE_SUFFIX = ".tar.gz"
_EPSILON = 1e-9  # 0.92 - 0.90 is 0.0199999... in floating point

Report = Dict[str, Any]


def model_name(archive: Path) -> str:
    """`models/heard-6d7cdd3df0c3.tar.gz` -> `heard-6d7cdd3df0c3` (the report's file stem)."""
    name = archive.name
    return name[: -len(ARCHIVE_SUFFIX)] if name.endswith(ARCHIVE_SUFFIX) else archive.stem


def report_path(reports: Path, archive: Path) -> Path:
    return reports / f"{model_name(archive)}.json"


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def intent_report(
    gold: Sequence[str],
    predicted: Sequence[str],
    *,
    model: str,
    model_mtime: float,
    test_set: str,
    test_set_sha256: str,
) -> Report:
    """What is saved of one model's run on the test set. Per intent: F1, precision, recall,
    test lines (`support`) and how many lines were predicted as it; the intents are the test
    set's and any other the model predicted (a new intent without test lines shows up with
    F1 0 and the lines it took). Macro-F1 is over the test set's intents, as in the report."""
    labels = sorted((set(gold) | set(predicted)) - {FALLBACK})
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=labels, average=None, zero_division=0
    )
    predicted_counts = Counter(predicted)
    gold_labels = sorted(set(gold))
    return {
        "format": FORMAT,
        "model": model,
        "model_mtime": model_mtime,
        "test_set": test_set,
        "test_set_sha256": test_set_sha256,
        "messages": len(gold),
        "accuracy": sum(g == p for g, p in zip(gold, predicted)) / max(1, len(gold)),
        "macro_f1": float(
            f1_score(gold, predicted, labels=gold_labels, average="macro", zero_division=0)
        )
        if gold
        else 0.0,
        "intents": {
            label: {
                "f1": float(f1[i]),
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "support": int(support[i]),
                "predicted": predicted_counts[label],
            }
            for i, label in enumerate(labels)
        },
    }


def write_atomically(path: Path, text: str) -> None:
    """The whole text or the old file, never half of it (a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as out:
            out.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as open() would make it, not mkstemp's 0600
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save_report(reports: Path, report: Report) -> Path:
    path = reports / f"{report['model']}.json"
    write_atomically(path, json.dumps(report, indent=1, sort_keys=True) + "\n")
    return path


def load_report(path: Path) -> Optional[Report]:
    """A saved report, or None when it can't be read or is of another format."""
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(report, dict) or report.get("format") != FORMAT:
        return None
    if not isinstance(report.get("intents"), dict):
        return None
    return report


def choose_before(
    reports: Path, models: Path, current: str, test_set_sha256: str
) -> Optional[Path]:
    """The earlier run to compare `current` (a model name) with: the saved report of another
    model on the same test set, that of the most recently trained model; failing that, the
    most recently trained other `heard-*.tar.gz` archive in `models` (to evaluate); else
    None. Reports made on another version of the test set are passed over: their figures
    would move with the test lines, not with the model."""
    saved = []
    for path in reports.glob("*.json") if reports.is_dir() else []:
        report = load_report(path)
        if (
            report is None
            or report.get("model") == current
            or report.get("test_set_sha256") != test_set_sha256
        ):
            continue
        saved.append((float(report.get("model_mtime") or path.stat().st_mtime), path.name, path))
    if saved:
        return max(saved)[2]
    archives = [
        (path.stat().st_mtime, path.name, path)
        for path in (models.glob(f"heard-*{ARCHIVE_SUFFIX}") if models.is_dir() else [])
        if model_name(path) != current
    ]
    return max(archives)[2] if archives else None


@dataclass(frozen=True)
class Row:
    """One intent in the comparison; `before` or `after` is None for an intent only the
    other run has (removed, or new)."""

    intent: str
    before: Optional[float]
    after: Optional[float]
    support_before: int
    support_after: int
    predicted_before: int = 0
    predicted_after: int = 0

    @property
    def change(self) -> Optional[float]:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before

    @property
    def status(self) -> str:
        if self.before is None:
            return "new"
        if self.after is None:
            return "removed"
        return "dropped" if self.after < self.before else "rose"


def compare(before: Report, after: Report, moved: float = MOVED) -> List[Row]:
    """The intents whose F1 moved by `moved` or more, the largest drop first, then the
    largest rise; then the intents only `after` has (new), then those only `before` has
    (removed), by name."""
    old: Dict[str, Dict[str, Any]] = before["intents"]
    new: Dict[str, Dict[str, Any]] = after["intents"]

    def row(intent: str) -> Row:
        b, a = old.get(intent), new.get(intent)
        return Row(
            intent=intent,
            before=None if b is None else float(b["f1"]),
            after=None if a is None else float(a["f1"]),
            support_before=int(b["support"]) if b else 0,
            support_after=int(a["support"]) if a else 0,
            predicted_before=int(b.get("predicted", 0)) if b else 0,
            predicted_after=int(a.get("predicted", 0)) if a else 0,
        )

    rows = [row(intent) for intent in sorted(set(old) | set(new))]
    moved_rows = sorted(
        (r for r in rows if r.change is not None and abs(r.change) >= moved - _EPSILON),
        key=lambda r: (r.change, r.intent),
    )
    return (
        moved_rows
        + [r for r in rows if r.status == "new"]
        + [r for r in rows if r.status == "removed"]
    )


def _lines(before: int, after: int) -> str:
    return str(after) if before == after else f"{before} -> {after}"


def table_rows(rows: List[Row]) -> Dict[str, str]:
    """`bench.report.print_table` rows: intent -> F1 before -> after, change, test lines
    (and, for a new or removed intent, how many test lines were predicted as it)."""

    def f1(value: Optional[float]) -> str:
        return "    -" if value is None else f"{value:.3f}"

    out = {}
    for r in rows:
        change = r.status if r.change is None else f"{r.change:+.3f}"
        if r.change is None:  # new or removed: the figures of the run that has it
            support, predicted = (
                (r.support_after, r.predicted_after)
                if r.status == "new"
                else (r.support_before, r.predicted_before)
            )
            lines = f"{support} test lines, predicted for {predicted}"
        else:
            lines = f"{_lines(r.support_before, r.support_after)} test lines"
        out[r.intent] = f"{f1(r.before)} -> {f1(r.after)}  {change:>7}  {lines}"
    return out


def summary_line(rows: List[Row], before: Report, after: Report, moved: float = MOVED) -> str:
    changed = sum(r.change is not None for r in rows)
    counts = [f"{changed} intent{'s' * (changed != 1)} moved by {moved:.2f} or more"]
    counts += [
        f"{n} {status}"
        for status in ("new", "removed")
        if (n := sum(r.status == status for r in rows))
    ]
    return (
        f"{', '.join(counts)}; accuracy {before['accuracy']:.3f} -> {after['accuracy']:.3f}, "
        f"macro-F1 {before['macro_f1']:.3f} -> {after['macro_f1']:.3f}"
    )
