"""`make bench` (emotion part): accuracy, speed and size of the emotion detector.

Uses the current trained model: the emotion model alone, one message at a time (encoding
each message's sentence embedding itself); the whole in-process parse, timing the emotion
component inside it (where it reads the pipeline's embedding); and the component's size on
disk.
"""

from __future__ import annotations

import asyncio
import statistics
import tarfile
import time
from pathlib import Path
from typing import Dict, List

from bench.report import percentile, print_table
from bot.emotion.__main__ import model_from_archive
from bot.emotion.component import EmotionClassifier
from bot.emotion.data import load_goemotions, load_tsv
from bot.emotion.evaluation import evaluate
from bot.training import ROOT, ensure_trained
from heard.datasets import goemotions_dir


def parse_times(archive: Path, texts: List[str]) -> List[float]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(archive))
    for text in texts[:20]:  # warm-up
        asyncio.run(agent.parse_message(text))
    times = []
    for text in texts:
        start = time.perf_counter()
        asyncio.run(agent.parse_message(text))
        times.append((time.perf_counter() - start) * 1000)
    return times


def component_size_mb(archive: Path) -> float:
    with tarfile.open(archive) as tar:
        return sum(m.size for m in tar.getmembers() if "EmotionClassifier" in m.name) / 1e6


def main() -> None:
    archive = ensure_trained()
    model = model_from_archive(archive)
    domain = load_tsv(ROOT / "tests" / "data" / "emotion_domain_test.tsv")
    rows: Dict[str, str] = {}
    report = evaluate(model, domain)
    rows["domain held-out: macro-F1"] = f"{report.macro_f1:.3f}"
    rows["domain held-out: negative vs not accuracy"] = f"{report.negative_accuracy:.3f}"
    if (goemotions_dir() / "dev.tsv").is_file():
        general = evaluate(model, load_goemotions(goemotions_dir(), "dev"))
        rows["GoEmotions dev (7 labels): macro-F1"] = f"{general.macro_f1:.3f}"
    rows["emotion alone, encoding too: p50 / p95 per message"] = (
        f"{report.p50_ms:.2f} / {report.p95_ms:.2f} ms"
    )
    rows["emotion alone, encoding too: messages per second"] = f"{report.messages_per_second:.0f}"

    texts = [text for text, _ in domain]
    spent: List[float] = []
    original = EmotionClassifier.process

    def timed(self, messages):  # the component's own time inside each real parse
        start = time.perf_counter()
        result = original(self, messages)
        spent.append((time.perf_counter() - start) * 1000)
        return result

    EmotionClassifier.process = timed
    try:
        parses = parse_times(archive, texts)
    finally:
        EmotionClassifier.process = original
    spent = spent[-len(texts) :]  # without the warm-up
    rows["in-process parse p50 / p95"] = (
        f"{statistics.median(parses):.1f} / {percentile(parses, 0.95):.1f} ms"
    )
    rows["emotion component within a parse p50 / p95"] = (
        f"{statistics.median(spent):.2f} / {percentile(spent, 0.95):.2f} ms"
    )
    rows["emotion model on disk"] = f"{component_size_mb(archive):.1f} MB"

    print_table(rows)


if __name__ == "__main__":
    main()
