"""The project's own NLU test set (tests/data/nlu_test.yml) is complete and independent.

The test set is never trained on. It is only an honest measure of intent accuracy and
out-of-scope recall if none of its examples (nor a near copy of one) is also in the
training data. These checks need no model and run in a few seconds.

When a test example is reported as overlapping, rewrite the TEST example; never edit the
training data to make this pass. The failure messages deliberately show only the test
text, so that fixing the test set does not mean reading the training data.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, Set, Tuple

import pytest

from tests.harness import ROOT

TEST_SET = ROOT / "tests" / "data" / "nlu_test.yml"
DATA_DIR = ROOT / "data"
DOMAIN = ROOT / "domain.yml"
CONFIG = ROOT / "config.yml"

MIN_PER_INTENT = 20
MIN_OUT_OF_SCOPE = 300
OUT_OF_SCOPE = "out_of_scope"
JACCARD_LIMIT = 0.8
ALLOWED_ENTITIES = {"order_id", "email"}

_APOSTROPHE = re.compile(r"['\u2019\u2018`]")
_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower case, punctuation removed (apostrophes joined: "what's" is "whats"),
    whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _APOSTROPHE.sub("", text)
    text = _PUNCT.sub(" ", text).replace("_", " ")
    return _SPACE.sub(" ", text).strip()


def words(text: str) -> FrozenSet[str]:
    return frozenset(normalise(text).split())


# --------------------------------------------------------------------------- loading


def _quiet_rasa() -> None:
    for name in ("rasa", "rasa.shared", "rasa.shared.utils.io"):
        logging.getLogger(name).setLevel(logging.ERROR)


@pytest.fixture(scope="module")
def test_data():
    from rasa.shared.nlu.training_data.loading import load_data

    _quiet_rasa()
    return load_data(str(TEST_SET))


class _Hidden(list):
    """A list whose repr does not print training examples into test reports."""

    def __repr__(self) -> str:
        return f"<{len(self)} training examples>"


def _clinc150_dir() -> Path:
    """Where training reads CLINC150 from: HEARD_DATA_DIR, else the project's datasets/,
    else the shared data folder beside the project (../shared/data)."""
    from heard import datasets

    if datasets.clinc150_file().is_file():
        return datasets.data_dir()
    return ROOT.parent / "shared" / "data"


@pytest.fixture(scope="module")
def training_texts() -> List[Tuple[str, str]]:
    """(text, intent) of every NLU example the model is trained on.

    Loaded the way training loads it: config.yml's importers over the whole data/ folder
    (so files other people add there are covered), which includes the CLINC150
    out_of_scope sample whenever that data set is available.
    """
    from rasa.shared.importers.importer import TrainingDataImporter

    _quiet_rasa()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HEARD_DATA_DIR", str(_clinc150_dir()))
        importer = TrainingDataImporter.load_from_config(
            str(CONFIG), domain_path=str(DOMAIN), training_data_paths=[str(DATA_DIR)]
        )
        nlu = importer.get_nlu_data()
    texts = _Hidden(
        (m.get("text"), m.get("intent") or "") for m in nlu.nlu_examples if m.get("text")
    )
    assert texts, "no NLU training examples found under data/"
    return texts


@pytest.fixture(scope="module")
def domain_intents() -> List[str]:
    """The intents listed in domain.yml's `intents:` section (not Rasa's defaults)."""
    from rasa.shared.utils.io import read_yaml_file

    intents = []
    for item in read_yaml_file(str(DOMAIN)).get("intents") or []:
        intents.append(next(iter(item)) if isinstance(item, dict) else str(item))
    assert intents, "domain.yml lists no intents"
    return intents


# --------------------------------------------------------------------------- helpers


class JaccardIndex:
    """Finds sets with word-set Jaccard similarity >= a threshold, using prefix filtering.

    Words are ranked rarest first. Two sets x, y with J(x, y) >= t must share a word
    among the first |x| - ceil(t * |x|) + 1 words of x and the corresponding prefix of
    y, so only prefixes are indexed and probed; candidates are then verified exactly.
    """

    def __init__(
        self,
        sets: List[FrozenSet[str]],
        threshold: float,
        extra_vocabulary: Iterable[FrozenSet[str]] = (),
    ):
        self.threshold = threshold
        self.sets = sets
        freq: Counter = Counter()
        for s in sets:
            freq.update(s)
        for s in extra_vocabulary:
            freq.update(s)
        self.rank = {w: (n, w) for w, n in freq.items()}
        self.index: Dict[str, List[int]] = defaultdict(list)
        for i, s in enumerate(sets):
            for w in self._prefix(s):
                self.index[w].append(i)

    def _prefix(self, s: FrozenSet[str]) -> List[str]:
        ordered = sorted(s, key=lambda w: self.rank.get(w, (0, w)))
        length = len(s) - math.ceil(self.threshold * len(s) - 1e-9) + 1
        return ordered[:length]

    def best(self, s: FrozenSet[str]) -> Tuple[float, int]:
        """(highest Jaccard >= threshold, its index) or (0.0, -1)."""
        best, best_i = 0.0, -1
        seen: Set[int] = set()
        for w in self._prefix(s):
            for i in self.index.get(w, ()):
                if i in seen:
                    continue
                seen.add(i)
                other = self.sets[i]
                small, large = sorted((len(s), len(other)))
                if small < self.threshold * large:
                    continue
                j = len(s & other) / len(s | other)
                if j >= self.threshold and j > best:
                    best, best_i = j, i
        return best, best_i


# --------------------------------------------------------------------------- tests


def test_every_example_and_entity_is_read(test_data):
    """The loader reads every `- text` line and every [value](entity) annotation."""
    raw = TEST_SET.read_text(encoding="utf-8")
    lines = [ln.strip()[2:] for ln in raw.splitlines() if re.match(r"^\s{4}- ", ln)]
    annotations = sum(len(re.findall(r"\[[^\]]+\]\((\w+)\)", ln)) for ln in lines)
    examples = test_data.intent_examples
    assert len(examples) == len(lines)
    loaded_entities = [e for m in examples for e in (m.get("entities") or [])]
    assert len(loaded_entities) == annotations
    for m in examples:
        text = m.get("text")
        assert "[" not in text and "](" not in text, f"unparsed annotation: {text!r}"
        for e in m.get("entities") or []:
            assert e["entity"] in ALLOWED_ENTITIES, e
            assert text[e["start"] : e["end"]] == e["value"], (text, e)
            if e["entity"] == "order_id":
                assert re.fullmatch(r"\d{6,8}", e["value"]), e
            else:
                assert re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z.]+", e["value"]), e


def test_intents_match_domain(test_data, domain_intents):
    unknown = set(test_data.intents) - set(domain_intents)
    assert not unknown, f"intents not in domain.yml: {sorted(unknown)}"


def test_every_domain_intent_has_enough_examples(test_data, domain_intents):
    counts = Counter(m.get("intent") for m in test_data.intent_examples)
    short = {
        intent: counts.get(intent, 0)
        for intent in domain_intents
        if counts.get(intent, 0) < (MIN_OUT_OF_SCOPE if intent == OUT_OF_SCOPE else MIN_PER_INTENT)
    }
    assert not short, f"too few test examples: {short}"


def test_no_duplicates_inside_test_set(test_data):
    seen: Dict[str, str] = {}
    clashes = []
    for m in test_data.intent_examples:
        key = normalise(m.get("text"))
        if key in seen:
            clashes.append((m.get("text"), seen[key], m.get("intent")))
        seen[key] = m.get("intent")
    assert not clashes, f"repeated test examples: {clashes}"


def test_no_test_example_is_in_training_data(test_data, training_texts):
    train = {normalise(t) for t, _ in training_texts}
    leaked = [
        (m.get("intent"), m.get("text"))
        for m in test_data.intent_examples
        if normalise(m.get("text")) in train
    ]
    assert not leaked, (
        f"{len(leaked)} test examples also appear in the training data "
        f"(rewrite the TEST example): {leaked}"
    )


def test_no_test_example_is_near_duplicate_of_training(test_data, training_texts):
    train_sets = _Hidden(words(t) for t, _ in training_texts)
    test_items = [(m.get("intent"), m.get("text")) for m in test_data.intent_examples]
    test_sets = [words(t) for _, t in test_items]
    index = JaccardIndex(train_sets, JACCARD_LIMIT, extra_vocabulary=test_sets)
    near = []
    for (intent, text), s in zip(test_items, test_sets):
        if not s:
            continue
        score, i = index.best(s)
        if i >= 0:
            near.append((intent, text, round(score, 2), training_texts[i][1]))
    assert not near, (
        f"{len(near)} test examples have word-set Jaccard >= {JACCARD_LIMIT} with a "
        "training example (rewrite the TEST example). "
        "(test intent, test text, similarity, training intent): " + repr(near)
    )


def test_jaccard_index_matches_brute_force():
    """The prefix-filtered index finds exactly what a brute-force scan finds."""
    import random

    rng = random.Random(7)
    vocab = [f"w{i}" for i in range(30)]
    corpus = [frozenset(rng.sample(vocab, rng.randint(1, 8))) for _ in range(400)]
    queries = [frozenset(rng.sample(vocab, rng.randint(1, 8))) for _ in range(200)]
    queries += corpus[:50]
    index = JaccardIndex(corpus, JACCARD_LIMIT, extra_vocabulary=queries)
    for q in queries:
        brute = max(len(q & c) / len(q | c) for c in corpus)
        expected = brute if brute >= JACCARD_LIMIT else 0.0
        assert index.best(q)[0] == pytest.approx(expected), q
