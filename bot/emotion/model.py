"""A spaCy text classifier over Heard's seven emotions, with intensity on top."""
from __future__ import annotations

import json
import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import spacy
from spacy.language import Language
from spacy.training import Example as SpacyExample
from spacy.util import compounding, fix_random_seed, minibatch

from bot.emotion.data import Example
from bot.emotion.intensity import cues, intensity
from bot.emotion.labels import LABELS

MAX_CHARS = 2000  # longer messages are judged on their start; keeps a parse fast
# Below this the classifier is guessing (other scripts, emoji, noise): call it neutral.
MIN_CONFIDENCE = 0.25


@dataclass(frozen=True)
class EmotionResult:
    name: str
    confidence: float
    intensity: float
    ranking: Tuple[Tuple[str, float], ...]
    cues: Tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "confidence": round(self.confidence, 4),
            "intensity": self.intensity,
            "ranking": [{"name": n, "confidence": round(c, 4)} for n, c in self.ranking],
            "cues": list(self.cues),
        }


def _normalise(text: str) -> str:
    # Capitals and exclamation marks are intensity cues, not signs of one emotion: happy
    # and furious customers both shout. The classifier reads the words.
    return re.sub(r"!+", " ", text[:MAX_CHARS].lower())


def balance(examples: Sequence[Example], rng: random.Random) -> List[Example]:
    """Oversample each label up to the largest one, so rare emotions are not drowned."""
    by_label = {label: [e for e in examples if e[1] == label] for label in LABELS}
    largest = max(len(v) for v in by_label.values())
    balanced: List[Example] = []
    for items in by_label.values():
        if items:
            balanced.extend(items)
            balanced.extend(rng.choices(items, k=largest - len(items)))
    return balanced


def train_classifier(examples: Sequence[Example], epochs: int, seed: int, ngram_size: int,
                     dropout: float = 0.2) -> Language:
    """A spaCy bag-of-n-grams text classifier over the seven labels, seeded."""
    missing = [label for label in LABELS if label not in Counter(e[1] for e in examples)]
    if missing:
        raise ValueError(f"no training examples for {missing}")
    fix_random_seed(seed)
    rng = random.Random(seed)
    nlp = spacy.blank("en")
    textcat = nlp.add_pipe("textcat", config={"model": {
        "@architectures": "spacy.TextCatBOW.v2", "exclusive_classes": True,
        "ngram_size": ngram_size, "no_output_layer": False}})
    for label in LABELS:
        textcat.add_label(label)
    data = [
        SpacyExample.from_dict(nlp.make_doc(_normalise(text)),
                               {"cats": {l: float(l == label) for l in LABELS}})
        for text, label in balance(examples, rng)
    ]
    optimizer = nlp.initialize(lambda: data[:500])
    for _ in range(epochs):
        rng.shuffle(data)
        for batch in minibatch(data, size=compounding(8.0, 64.0, 1.5)):
            nlp.update(batch, sgd=optimizer, drop=dropout)
    return nlp


class EmotionModel:
    """Heard's own customer-service classifier, optionally blended with a general one.

    The general classifier (trained on GoEmotions' Reddit comments) knows far more ways
    people express feelings, but Reddit is not a shop's chat: on Heard's held-out
    customer messages it scores a macro-F1 of 0.30 alone. Blending its probabilities in
    with a small weight keeps the domain accuracy and adds some robustness.
    """

    def __init__(self, domain: Language, general: Optional[Language] = None,
                 general_weight: float = 0.0):
        self.domain = domain
        self.general = general
        self.general_weight = general_weight if general is not None else 0.0

    @classmethod
    def train(cls, examples: Sequence[Example], general_examples: Sequence[Example] = (),
              general_weight: float = 0.2, epochs: int = 10, general_epochs: int = 6,
              seed: int = 42, ngram_size: int = 2) -> "EmotionModel":
        domain = train_classifier(examples, epochs, seed, ngram_size)
        general = (train_classifier(general_examples, general_epochs, seed, ngram_size)
                   if general_examples else None)
        return cls(domain, general, general_weight)

    def _probabilities(self, texts: List[str]) -> List[Dict[str, float]]:
        normalised = [_normalise(t) for t in texts]
        domain = [doc.cats for doc in self.domain.pipe(normalised)]
        if not self.general_weight:
            return domain
        w = self.general_weight
        general = [doc.cats for doc in self.general.pipe(normalised)]
        return [{label: (1 - w) * d[label] + w * g[label] for label in LABELS}
                for d, g in zip(domain, general)]

    def predict(self, texts: Iterable[str]) -> List[EmotionResult]:
        texts = list(texts)
        results = []
        for text, cats in zip(texts, self._probabilities(texts)):
            ranking = tuple(sorted(cats.items(), key=lambda kv: kv[1], reverse=True))
            name, confidence = ranking[0]
            if confidence < MIN_CONFIDENCE:
                name, confidence = "neutral", cats["neutral"]
            found = cues(text)
            results.append(EmotionResult(name, confidence,
                                         intensity(text, name, confidence, found), ranking,
                                         found.names()))
        return results

    def predict_one(self, text: str) -> EmotionResult:
        return self.predict([text])[0]

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.domain.to_disk(path / "domain")
        if self.general is not None:
            self.general.to_disk(path / "general")
        (path / "blend.json").write_text(json.dumps({"general_weight": self.general_weight}))

    @classmethod
    def load(cls, path: Path) -> "EmotionModel":
        general = spacy.load(path / "general") if (path / "general").exists() else None
        blend = json.loads((path / "blend.json").read_text())
        return cls(spacy.load(path / "domain"), general, blend["general_weight"])
