"""`make nlu-report`: intent quality on the project's own test set, never trained on.

Parses every message of `tests/data/nlu_test.yml` with the current trained model (the
whole NLU pipeline, fallback included) and prints accuracy, macro-F1, out-of-scope recall,
in-scope accuracy, the weakest intents and the most frequent confusions. A message the
model falls back on (`nlu_fallback`) counts as wrong, as it does for a customer. Order
numbers and e-mail addresses are scored as (type, value) pairs against the test set's
annotations.

Then which intents a change moved: each model's per-intent figures are saved in
`results/nlu-report/<model>.json`, and the intents whose F1 moved by 0.02 or more since the
earlier model are listed, the largest drop first (`bench/nlu_change.py`). The earlier model
is the last one reported, else the previous archive in models/; `--before` names a model
archive or a saved report instead. `python -m bench.nlu_validation` (also run by
`make nlu-report`) gives the cross-validation figures and the thresholds tuned on
validation data.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from sklearn.metrics import accuracy_score, f1_score

from bench import nlu_change
from bench.report import print_table
from bot.training import MODELS, ROOT, ensure_trained, load_agent

TEST_SET = ROOT / "tests" / "data" / "nlu_test.yml"
REPORTS = ROOT / "results" / "nlu-report"  # per model: its per-intent figures (bench.nlu_change)
OUT_OF_SCOPE = "out_of_scope"
NOTHING_EARLIER = (
    "no earlier model or report to compare with: "
    "run make nlu-report before changing the data next time"
)


SCORED_ENTITIES = ("order_id", "email")
Entities = Set[Tuple[str, str]]


def entity_pairs(entities: List[Dict[str, object]]) -> Entities:
    return {
        (str(e["entity"]), str(e["value"]))
        for e in entities or []
        if e.get("entity") in SCORED_ENTITIES
    }


def examples(path: Path) -> List[Tuple[str, str, Entities]]:
    from rasa.shared.nlu.training_data.loading import load_data

    return [
        (m.get("text"), m.get("intent"), entity_pairs(m.get("entities")))
        for m in load_data(str(path)).intent_examples
    ]


def predict(archive: Path, texts: List[str]) -> List[Tuple[str, Entities]]:
    agent = load_agent(archive)

    async def parse_all() -> List[Tuple[str, Entities]]:
        parses = [await agent.parse_message(text) for text in texts]
        return [(p["intent"]["name"], entity_pairs(p.get("entities"))) for p in parses]

    return asyncio.run(parse_all())


def entity_scores(gold: List[Entities], found: List[Entities]) -> Dict[str, float]:
    right = sum(len(g & f) for g, f in zip(gold, found))
    precision = right / max(1, sum(map(len, found)))
    recall = right / max(1, sum(map(len, gold)))
    return {
        "entity_precision": precision,
        "entity_recall": recall,
        "entity_f1": 2 * precision * recall / max(1e-9, precision + recall),
    }


def summary(gold: List[str], predicted: List[str]) -> Dict[str, Any]:
    pairs = list(zip(gold, predicted))
    in_scope = [(g, p) for g, p in pairs if g != OUT_OF_SCOPE]
    oos = [(g, p) for g, p in pairs if g == OUT_OF_SCOPE]
    labels = sorted(set(gold))
    per_intent = f1_score(gold, predicted, labels=labels, average=None, zero_division=0)
    return {
        "accuracy": accuracy_score(gold, predicted),
        "macro_f1": f1_score(gold, predicted, labels=labels, average="macro", zero_division=0),
        "in_scope_accuracy": sum(g == p for g, p in in_scope) / max(1, len(in_scope)),
        "out_of_scope_recall": sum(p == OUT_OF_SCOPE for _, p in oos) / max(1, len(oos)),
        "fallback_rate": sum(p == "nlu_fallback" for p in predicted) / max(1, len(predicted)),
        "per_intent_f1": dict(zip(labels, map(float, per_intent))),
        "confusions": Counter((g, p) for g, p in pairs if g != p).most_common(15),
    }


def shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def intent_report(
    archive: Path, test_set: Path, gold: Sequence[str], predicted: Sequence[str]
) -> nlu_change.Report:
    return nlu_change.intent_report(
        gold,
        predicted,
        model=nlu_change.model_name(archive),
        model_mtime=archive.stat().st_mtime,
        test_set=shown(test_set),
        test_set_sha256=nlu_change.file_digest(test_set),
    )


def earlier_report(
    before: Optional[Path],
    reports: Path,
    current: nlu_change.Report,
    test_set: Path,
    texts: List[str],
    gold: List[str],
) -> Optional[nlu_change.Report]:
    """The run to compare the current model's with: `before` (a saved report, or a model
    archive to evaluate now), else the one `nlu_change.choose_before` finds; None if none."""
    digest = current["test_set_sha256"]
    path = before or nlu_change.choose_before(reports, MODELS, current["model"], digest)
    if path is None:
        print(f"\n{NOTHING_EARLIER}")
        return None
    if path.suffix == ".json":
        report = nlu_change.load_report(path)
        if report is None:
            raise SystemExit(f"{shown(path)}: not a report saved by this version of nlu_report")
        if report.get("test_set_sha256") != digest:
            print(
                f"\nnote: {shown(path)} was made on another version of {shown(test_set)}: "
                "F1 may have moved with the test lines, not the model"
            )
        return report
    print(f"\nevaluating the earlier model {shown(path)} on the test set...", flush=True)
    try:
        predicted = [intent for intent, _ in predict(path, texts)]
    except Exception as error:  # e.g. a model the current component code no longer loads
        print(f"could not evaluate {shown(path)} ({type(error).__name__}: {error})")
        return None
    report = intent_report(path, test_set, gold, predicted)
    print(f"its figures: {shown(nlu_change.save_report(reports, report))}")
    return report


def print_change(before: nlu_change.Report, after: nlu_change.Report) -> None:
    rows = nlu_change.compare(before, after)
    print(f"\nF1 per intent on the test set, {before['model']} -> {after['model']}")
    if rows:
        print(
            f"(F1 before -> after, change, test lines: the intents whose F1 moved by "
            f"{nlu_change.MOVED:.2f} or more, the largest drop first; then new and removed ones)"
        )
        print_table(nlu_change.table_rows(rows), heading="intent")
    print(nlu_change.summary_line(rows, before, after))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--test-set", type=Path, default=TEST_SET)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "nlu-test.json")
    parser.add_argument("--model", type=Path, help="a trained model (default: the current)")
    parser.add_argument(
        "--before",
        type=Path,
        help="the earlier run to compare with: a model archive (evaluated now) or a report "
        f"saved in {shown(REPORTS)} (default: the saved report of the latest other model, "
        "else the latest other model in models/)",
    )
    parser.add_argument(
        "--reports", type=Path, default=REPORTS, help="where per-model figures are saved"
    )
    args = parser.parse_args()
    if args.before is not None and not args.before.is_file():
        parser.error(f"--before {args.before}: no such file")
    texts, gold, gold_entities = zip(*examples(args.test_set))
    archive = args.model or ensure_trained()
    predicted, found = zip(*predict(archive, list(texts)))
    report = {
        **summary(list(gold), list(predicted)),
        **entity_scores(list(gold_entities), list(found)),
    }
    rows = {
        f"{name.replace('_', ' ')}": f"{report[name]:.3f}"
        for name in (
            "accuracy",
            "macro_f1",
            "in_scope_accuracy",
            "out_of_scope_recall",
            "fallback_rate",
            "entity_precision",
            "entity_recall",
            "entity_f1",
        )
    }
    rows["order numbers and e-mails annotated"] = str(sum(map(len, gold_entities)))
    rows["messages"] = str(len(gold))
    weakest = sorted(report["per_intent_f1"].items(), key=lambda item: item[1])[:10]
    rows.update({f"F1 {intent}": f"{f1:.3f}" for intent, f1 in weakest})
    rows.update({f"confused {g} -> {p}": str(n) for (g, p), n in report["confusions"]})
    print_table(rows)
    nlu_change.write_atomically(
        args.out,
        json.dumps(
            {**report, "confusions": [[g, p, n] for (g, p), n in report["confusions"]]}, indent=1
        ),
    )
    print(f"\nfull report: {args.out}")
    current = intent_report(archive, args.test_set, gold, predicted)
    print(f"per-intent figures: {shown(nlu_change.save_report(args.reports, current))}")
    before = earlier_report(
        args.before, args.reports, current, args.test_set, list(texts), list(gold)
    )
    if before is not None:
        print_change(before, current)


if __name__ == "__main__":
    main()
