"""Every test story against one trained model, without stopping at the first failure
(`make check` runs it after training): each failed story with what was predicted instead,
and each customer line whose intent is wrong with the model's top 3 and the training
examples nearest to it, so one retrain shows every boundary a change moved.

Two traps of `rasa test core` are closed here: the model is the exact archive asked for
(Rasa quietly takes the newest one when the path doesn't exist), and a stories file whose
name doesn't start with `test_` (Rasa evaluates none of its stories and passes) fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Sequence, Tuple

import numpy as np
import yaml

from heard.paths import ROOT

STORIES = ROOT / "tests" / "test_stories.yml"
ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)")  # "[1234567](order_id)" -> "1234567"
RANKED = 3  # intents shown for a wrong line
FALLBACK = "nlu_fallback"  # predicted when no intent is sure enough; not in the ranking shown
NEAREST = 4  # training examples shown for a wrong line


@dataclass(frozen=True)
class Line:
    story: str
    text: str
    intent: str


@dataclass(frozen=True)
class WrongIntent:
    line: Line
    ranking: List[Tuple[str, float]]  # the model's top intents, best first
    nearest: List[Tuple[str, str, float]]  # training (text, intent, cosine), nearest first


def misnamed_story_files(folder: Path) -> List[Path]:
    """YAML files under `folder` holding `stories:` whose name lacks Rasa's `test_` prefix:
    `rasa test` would evaluate none of their stories and still pass."""
    found = []
    for path in sorted(folder.rglob("*")):
        if path.suffix not in (".yml", ".yaml") or path.name.startswith("test_"):
            continue
        try:
            content = yaml.safe_load(path.read_text())
        except yaml.YAMLError:
            continue
        if isinstance(content, dict) and "stories" in content:
            found.append(path)
    return found


def customer_lines(stories_yaml: str) -> List[Line]:
    """Every user step of the stories with its text (annotations removed) and intent."""
    lines = []
    for story in (yaml.safe_load(stories_yaml) or {}).get("stories") or []:
        for step in story.get("steps") or []:
            if "user" in step and step.get("intent"):
                text = ANNOTATION.sub(r"\1", str(step["user"])).strip()
                lines.append(Line(story["story"], text, step["intent"]))
    return lines


def nearest(
    vector: np.ndarray, examples: np.ndarray, labels: Sequence[Tuple[str, str]], count: int
) -> List[Tuple[str, str, float]]:
    """The `count` labelled examples whose (unit) vectors are nearest `vector` by cosine."""
    scores = examples @ vector
    best = np.argsort(-scores, kind="stable")[:count]
    return [(labels[i][0], labels[i][1], float(scores[i])) for i in best]


def failed_stories(failed_yaml: str) -> List[Tuple[str, List[str]]]:
    """Rasa's failed_test_stories.yml as (story, its "# predicted:" comments)."""
    found: List[Tuple[str, List[str]]] = []
    for raw in failed_yaml.splitlines():
        line = raw.strip()
        if line.startswith("- story:"):
            found.append((line.removeprefix("- story:").strip(), []))
        elif "# predicted:" in line and found:
            found[-1][1].append(line[line.index("# predicted:") + 2 :])
    return found


def training_examples(root: Path) -> List[Tuple[str, str]]:
    """The project's own NLU examples (data/), as (text, intent). Only its NLU files:
    data/ holds others (emotions.yml) that Rasa's `load_data` refuses."""
    from rasa.shared.data import get_data_files, is_nlu_file
    from rasa.shared.importers.utils import training_data_from_paths

    files = get_data_files([str(root / "data")], is_nlu_file)
    data = training_data_from_paths(files, "en")
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def wrong_intents(agent: Any, lines: List[Line], root: Path) -> List[WrongIntent]:
    """The lines the model gives another intent, with its ranking and their neighbours."""

    async def parse_all() -> List[Dict[str, Any]]:
        return [await agent.parse_message(line.text) for line in lines]

    parses = asyncio.run(parse_all())
    wrong = [
        (line, parse)
        for line, parse in zip(lines, parses)
        if parse["intent"]["name"] != line.intent
    ]
    if not wrong:
        return []
    from nlu.encoder import SentenceEncoder

    # Only the intents in contention: the expected ones and those ranked above them. All
    # 5,000 examples would take a minute and more to encode on 2 cores.
    rankings = [
        [
            (r["name"], float(r["confidence"]))
            for r in parse["intent_ranking"]
            if r["name"] != FALLBACK
        ][:RANKED]
        for _, parse in wrong
    ]
    contending = {line.intent for line, _ in wrong} | {n for r in rankings for n, _ in r}
    labels = [(text, intent) for text, intent in training_examples(root) if intent in contending]
    encoder = SentenceEncoder({})
    examples = encoder.encode([text for text, _ in labels])
    vectors = encoder.encode([line.text for line, _ in wrong])
    return [
        WrongIntent(line, ranking, nearest(vector, examples, labels, NEAREST))
        for (line, _), ranking, vector in zip(wrong, rankings, vectors)
    ]


def report(failed: List[Tuple[str, List[str]]], wrong: List[WrongIntent], total: int) -> str:
    lines = [f"stories: {total - len(failed)} of {total} pass"]
    for story, predicted in failed:
        lines.append(f"  FAILED {story}")
        lines.extend(f"    {p}" for p in predicted)
    for item in wrong:
        lines.append(f'  wrong intent: "{item.line.text}" ({item.line.story})')
        lines.append(f"    expected {item.line.intent}; the model's top {RANKED}:")
        lines.extend(f"      {name:28} {confidence:.2f}" for name, confidence in item.ranking)
        lines.append("    nearest training examples of those intents:")
        lines.extend(
            f'      {score:.2f} {intent:28} "{text}"' for text, intent, score in item.nearest
        )
    return "\n".join(lines)


def run(model: Path, stories: Path = STORIES, root: Path = ROOT) -> Tuple[bool, str]:
    """Evaluates every story of `stories` with `model`: (all passed, the report)."""
    if not model.is_file():
        return False, f"stories: no model at {model} (train first)"
    misnamed = misnamed_story_files(root / "tests")
    if misnamed:
        names = ", ".join(str(p.relative_to(root)) for p in misnamed)
        return False, f"stories: rename to test_*.yml or Rasa tests none of them: {names}"
    from bot.training import load_agent

    with _quiet(), tempfile.TemporaryDirectory() as out:
        from rasa.core.test import test  # its import warns (matplotlib)

        agent = load_agent(model)
        asyncio.run(test(str(stories), agent, out_directory=out, e2e=True, disable_plotting=True))
        summary = json.loads((Path(out) / "story_report.json").read_text())
        failed_file = Path(out) / "failed_test_stories.yml"
        failed = failed_stories(failed_file.read_text()) if failed_file.exists() else []
        total = int(summary.get("conversation_accuracy", {}).get("total", 0))
        if total == 0:
            return False, f"stories: Rasa evaluated no story of {stories}"
        wrong = wrong_intents(agent, customer_lines(stories.read_text()), root)
    return not failed and not wrong, report(failed, wrong, total)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """No progress bars (Rasa draws most unless LOG_LEVEL is WARNING or ERROR, and the
    stories' one always, on stderr) and no library warnings around the report: the data's
    own were `make validate`'s."""
    level = os.environ.get("LOG_LEVEL")
    os.environ["LOG_LEVEL"] = "WARNING"
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        if level is None:
            os.environ.pop("LOG_LEVEL", None)
        else:
            os.environ["LOG_LEVEL"] = level
