"""`make nlu-report`: intent quality on the project's own test set, never trained on.

Parses every message of `tests/data/nlu_test.yml` with the current trained model (the
whole NLU pipeline, fallback included) and prints accuracy, macro-F1, out-of-scope recall,
in-scope accuracy, the weakest intents and the most frequent confusions. A message the
model falls back on (`nlu_fallback`) counts as wrong, as it does for a customer.
"""
from __future__ import annotations

import argparse
import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Dict, List, Tuple

from sklearn.metrics import accuracy_score, f1_score

from bench.report import print_table
from bot.training import ROOT, ensure_trained

TEST_SET = ROOT / "tests" / "data" / "nlu_test.yml"
OUT_OF_SCOPE = "out_of_scope"


def examples(path: Path) -> List[Tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    return [(m.get("text"), m.get("intent")) for m in load_data(str(path)).intent_examples]


def predict(archive: Path, texts: List[str]) -> List[str]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(archive))

    async def parse_all() -> List[str]:
        return [(await agent.parse_message(text))["intent"]["name"] for text in texts]

    return asyncio.run(parse_all())


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
    texts, gold = zip(*examples(args.test_set))
    report = summary(list(gold), predict(args.model or ensure_trained(), list(texts)))
    rows = {f"{name.replace('_', ' ')}": f"{report[name]:.3f}" for name in (
        "accuracy", "macro_f1", "in_scope_accuracy", "out_of_scope_recall", "fallback_rate")}
    rows["messages"] = str(len(gold))
    weakest = sorted(report["per_intent_f1"].items(), key=lambda item: item[1])[:10]
    rows.update({f"F1 {intent}": f"{f1:.3f}" for intent, f1 in weakest})
    rows.update({f"confused {g} -> {p}": str(n) for (g, p), n in report["confusions"]})
    print_table(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**report, "confusions": [
        [g, p, n] for (g, p), n in report["confusions"]]}, indent=1))
    print(f"\nfull report: {args.out}")


if __name__ == "__main__":
    main()
