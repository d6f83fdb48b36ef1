"""`make nlu-report`: intent quality on the project's own test set, never trained on.

Parses every message of `tests/data/nlu_test.yml` with the current trained model (the
whole NLU pipeline, fallback included) and prints accuracy, macro-F1, out-of-scope recall,
in-scope accuracy, the weakest intents and the most frequent confusions. A message the
model falls back on (`nlu_fallback`) counts as wrong, as it does for a customer. Order
numbers and e-mail addresses are scored as (type, value) pairs against the test set's
annotations. `python -m bench.nlu_validation` (also run by `make nlu-report`) gives the
cross-validation figures and the thresholds tuned on validation data.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Dict, List, Set, Tuple

from sklearn.metrics import accuracy_score, f1_score

from bench.report import print_table
from bot.training import ROOT, ensure_trained

TEST_SET = ROOT / "tests" / "data" / "nlu_test.yml"
OUT_OF_SCOPE = "out_of_scope"


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
    from rasa.core.agent import Agent

    agent = Agent.load(str(archive))

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


def summary(gold: List[str], predicted: List[str]) -> Dict[str, object]:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--test-set", type=Path, default=TEST_SET)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "nlu-test.json")
    parser.add_argument("--model", type=Path, help="a trained model (default: the current)")
    args = parser.parse_args()
    texts, gold, gold_entities = zip(*examples(args.test_set))
    predicted, found = zip(*predict(args.model or ensure_trained(), list(texts)))
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
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {**report, "confusions": [[g, p, n] for (g, p), n in report["confusions"]]}, indent=1
        )
    )
    print(f"\nfull report: {args.out}")


if __name__ == "__main__":
    main()
