"""Training examples for the emotion model: Heard's own messages and GoEmotions."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import List, Optional, Tuple

import yaml

from bot.emotion.labels import GOEMOTIONS_TO_HEARD, LABELS

Example = Tuple[str, str]  # (text, label)


class EmotionDataError(ValueError):
    """Training or evaluation data that cannot be used; the message says where and why."""


def load_domain_examples(path: Path) -> List[Example]:
    """`emotions: {label: [text, ...]}` from a YAML file."""
    try:
        content = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise EmotionDataError(f"cannot read emotion examples from {path}: {error}") from error
    table = (content or {}).get("emotions")
    if not isinstance(table, dict):
        raise EmotionDataError(f"{path}: expected a top-level 'emotions:' mapping")
    unknown = set(table) - set(LABELS)
    if unknown:
        raise EmotionDataError(f"{path}: unknown labels {sorted(unknown)}; use {list(LABELS)}")
    return [(str(text), label) for label, texts in table.items() for text in texts or []]


def load_tsv(path: Path) -> List[Example]:
    """`text<TAB>label` lines, as kept for evaluation sets."""
    examples = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            text, sep, label = line.rpartition("\t")
            if not sep or label not in LABELS:
                raise EmotionDataError(
                    f"{path}:{number}: expected 'text<TAB>label' with a label in {list(LABELS)}"
                )
            examples.append((text, label))
    return examples


def load_goemotions(folder: Path, split: str = "train") -> List[Example]:
    """GoEmotions rows mapped to Heard's labels; ambiguous and unmapped rows left out."""
    names = (folder / "labels.txt").read_text(encoding="utf-8").split()
    examples = []
    with open(folder / f"{split}.tsv", encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            mapped = {GOEMOTIONS_TO_HEARD.get(names[int(i)]) for i in row[1].split(",")}
            label = mapped.pop() if len(mapped) == 1 else None
            if label is not None:
                examples.append((row[0], label))
    return examples


def goemotions_location(candidate: Optional[str] = None) -> Path:
    """Where GoEmotions is looked for: `candidate` when set, else the project's data
    setting (`heard.datasets.goemotions_dir()`: HEARD_DATA_DIR, default datasets/)."""
    if candidate:
        return Path(candidate)
    from heard.datasets import goemotions_dir

    return goemotions_dir()


def goemotions_folder(candidate: Optional[str] = None) -> Optional[Path]:
    """The GoEmotions folder when it holds the files, else None (training goes on without)."""
    folder = goemotions_location(candidate)
    return (
        folder if (folder / "train.tsv").is_file() and (folder / "labels.txt").is_file() else None
    )
