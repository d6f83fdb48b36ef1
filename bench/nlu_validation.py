"""Cross-validation of the intent classifier and the tuning of its thresholds.

Never reads the test set (`tests/data/nlu_test.yml`). The validation data are:
- out-of-fold predictions on the training data, loaded the way training loads it
  (config.yml's importers: data/ plus the CLINC150 out_of_scope sample), k folds;
- CLINC150's *val* split (never trained on): rows of the intents reviewed as out of scope
  (`bot.clinc150.OUT_OF_SCOPE`) and `oos_val`, predicted by a model trained on all the
  training data, as further out_of_scope messages;
- seeded noise (keyboard mashes, random letters), which should fall back: no intent fits.

The classifier mirrors config.yml's: MiniLM sentence vectors (nlu.encoder) and a linear
SVC with Platt probabilities and balanced classes (Rasa's SklearnIntentClassifier),
followed by Rasa's FallbackClassifier and Heard's NoiseGate (nlu/noise_gate.py).

The thresholds are chosen by a stated cost, not by accuracy alone (which is best with no
fallback at all): per message, the right intent scores +1, a fallback 0 and a wrong intent
-1, because a wrong flow costs the customer more than being asked again. Then, among the
messages that fall back, offering the two most likely requests as buttons helps when the
right one is among them and is noise otherwise; the floor on their summed probability is
the one that maximises helped minus not helped.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import List, Sequence, Tuple

import numpy as np
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import SVC

from bench.report import print_table
from bot.training import ROOT
from nlu.noise_gate import is_noise, vocabulary, words

CONFIG = ROOT / "config.yml"
OUT_OF_SCOPE = "out_of_scope"
FALLBACK = "nlu_fallback"
THRESHOLDS = [round(0.05 * i, 2) for i in range(0, 15)]
AMBIGUITIES = [0.0, 0.02, 0.05, 0.1]
FLOORS = [round(0.05 * i, 2) for i in range(0, 17)]
CONFIRM_PRECISION = 0.95  # writes made without asking that must be what was asked for


def pipeline_option(component: str, option: str):
    from rasa.shared.utils.io import read_yaml_file

    for item in read_yaml_file(str(CONFIG))["pipeline"]:
        if item["name"] == component:
            return item.get(option)
    raise KeyError(f"{component} is not in config.yml's pipeline")


def training_examples() -> List[Tuple[str, str]]:
    from rasa.shared.importers.importer import TrainingDataImporter

    importer = TrainingDataImporter.load_from_config(
        str(CONFIG), domain_path=str(ROOT / "domain.yml"), training_data_paths=[str(ROOT / "data")]
    )
    return [
        (m.get("text"), m.get("intent"))
        for m in importer.get_nlu_data().nlu_examples
        if m.get("text") and m.get("intent")
    ]


def clinc_val_out_of_scope() -> List[str]:
    from bot.clinc150 import OUT_OF_SCOPE as OUT_INTENTS
    from heard import datasets

    path = datasets.clinc150_file()
    if not path.is_file():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return [text for text, intent in data["val"] if intent in OUT_INTENTS] + [
        text for text, _ in data["oos_val"]
    ]


def noise_messages(count: int, seed: int = 42) -> List[str]:
    """Keyboard mashes and random letters, one to four words: what a slipped hand, a pocket
    or a speech recogniser hearing a cough sends."""
    rng = np.random.default_rng(seed)
    rows = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
    letters = "abcdefghijklmnopqrstuvwxyz"

    def word() -> str:
        if rng.random() < 0.5:
            row = rows[rng.integers(len(rows))]
            start = int(rng.integers(len(row) - 2))
            return row[start : start + int(rng.integers(3, len(row) - start + 1))]
        return "".join(rng.choice(list(letters), int(rng.integers(2, 9))))

    return [" ".join(word() for _ in range(int(rng.integers(1, 5)))) for _ in range(count)]


def embed(texts: Sequence[str]) -> np.ndarray:
    from nlu.encoder import SentenceEncoder

    encoder = SentenceEncoder({})
    return np.vstack([encoder.encode(texts[i : i + 64]) for i in range(0, len(texts), 64)])


def classifier(c: float) -> SVC:
    return SVC(C=c, kernel="linear", probability=True, class_weight="balanced", random_state=42)


def decide(
    probs: np.ndarray,
    labels: np.ndarray,
    threshold: float,
    ambiguity: float,
    gated: np.ndarray = None,
) -> np.ndarray:
    """Rasa's FallbackClassifier on a probability matrix, then the noise gate."""
    order = np.argsort(-probs, axis=1)
    top = probs[np.arange(len(probs)), order[:, 0]]
    second = probs[np.arange(len(probs)), order[:, 1]]
    fallback = (top < threshold) | (top - second < ambiguity)
    if gated is not None:
        fallback |= gated
    return np.where(fallback, FALLBACK, labels[order[:, 0]])


def utility(gold: np.ndarray, predicted: np.ndarray) -> float:
    right = (gold == predicted).sum()
    wrong = ((gold != predicted) & (predicted != FALLBACK)).sum()
    return float(right - wrong) / len(gold)


def offer_gain(
    gold: np.ndarray,
    probs: np.ndarray,
    labels: np.ndarray,
    fell_back: np.ndarray,
    floor: float,
    offerable: set,
) -> Tuple[int, int]:
    """(helped, not helped) among fallbacks when the top two requests are offered at
    summed probability >= floor."""
    helped = noise = 0
    for row in np.flatnonzero(fell_back):
        first, second = np.argsort(-probs[row])[:2]
        pair = {labels[first], labels[second]}
        if not pair <= offerable or probs[row, first] + probs[row, second] < floor:
            continue
        if gold[row] in pair:
            helped += 1
        else:
            noise += 1
    return helped, noise


def confirm_threshold(
    gold: np.ndarray,
    probs: np.ndarray,
    predicted: np.ndarray,
    writes: Sequence[str],
    precision: float,
) -> Tuple[float, float, float]:
    """(t, right share of unasked writes, share of right writes asked about): the lowest
    confidence t from which a write is made without asking, so that at least `precision`
    of those writes are what the customer asked for."""
    top = probs.max(axis=1)
    is_write = np.isin(predicted, list(writes))
    right = is_write & (gold == predicted)
    for t in FLOORS:
        unasked = is_write & (top >= t)
        if unasked.any() and (gold[unasked] == predicted[unasked]).mean() >= precision:
            asked_right = (right & (top < t)).sum() / max(1, right.sum())
            return t, float((gold[unasked] == predicted[unasked]).mean()), float(asked_right)
    return 1.0, 1.0, 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "results" / "nlu-validation.json"))
    args = parser.parse_args()
    os.environ.setdefault("HEARD_DATA_DIR", str(ROOT / "datasets"))
    from actions.clarify import OFFERABLE

    texts, gold = zip(*training_examples())
    gold = np.array(gold)
    extra_oos = clinc_val_out_of_scope()
    noisy = noise_messages(300)
    vectors = embed(list(texts) + extra_oos + noisy)
    train_x, val_x = vectors[: len(texts)], vectors[len(texts) :]
    c = max(pipeline_option("SklearnIntentClassifier", "C") or [1])
    labels = np.array(sorted(set(gold)))
    probs = np.zeros((len(texts), len(labels)))
    folds = StratifiedKFold(args.folds, shuffle=True, random_state=42)
    for train, held in folds.split(train_x, gold):
        model = classifier(c).fit(train_x[train], gold[train])
        columns = np.searchsorted(labels, model.classes_)
        probs[np.ix_(held, columns)] = model.predict_proba(train_x[held])
    model = classifier(c).fit(train_x, gold)
    columns = np.searchsorted(labels, model.classes_)
    val_probs = np.zeros((len(val_x), len(labels)))
    val_probs[:, columns] = model.predict_proba(val_x)
    probs = np.vstack([probs, val_probs])
    gold = np.concatenate(
        [gold, np.full(len(extra_oos), OUT_OF_SCOPE), np.full(len(noisy), FALLBACK)]
    )

    known = vocabulary() | {word for text in texts for word in words(text)}
    gated = np.array([is_noise(text, [], known) for text in list(texts) + extra_oos + noisy])
    raw = labels[probs.argmax(axis=1)]
    in_scope = (gold != OUT_OF_SCOPE) & (gold != FALLBACK)
    oos = gold == OUT_OF_SCOPE
    real = gold != FALLBACK
    rows = {
        "validation messages": f"{len(gold)} ({len(extra_oos)} CLINC150 val, {len(noisy)} noise)",
        f"{args.folds}-fold accuracy, no fallback": f"{accuracy_score(gold[real], raw[real]):.3f}",
        f"{args.folds}-fold macro-F1, no fallback": f"{f1_score(gold[real], raw[real], average='macro'):.3f}",
        "out-of-scope recall, no fallback": f"{(raw[oos] == OUT_OF_SCOPE).mean():.3f}",
    }
    grid = []
    for threshold in THRESHOLDS:
        for ambiguity in AMBIGUITIES:
            predicted = decide(probs, labels, threshold, ambiguity, gated)
            grid.append((utility(gold, predicted), threshold, ambiguity, predicted))
    score, threshold, ambiguity, predicted = max(grid, key=lambda g: g[0])
    fell_back = predicted == FALLBACK
    rows.update(
        {
            "chosen fallback threshold": f"{threshold}",
            "chosen ambiguity threshold": f"{ambiguity}",
            "utility (+1 right, 0 fallback, -1 wrong)": f"{score:.3f}",
            "accuracy with fallback": f"{accuracy_score(gold, predicted):.3f}",
            "in-scope accuracy with fallback": f"{(predicted[in_scope] == gold[in_scope]).mean():.3f}",
            "out-of-scope recall with fallback": f"{(predicted[oos] == OUT_OF_SCOPE).mean():.3f}",
            "noise that falls back": f"{(predicted[~real] == FALLBACK).mean():.3f}",
            "real messages the noise gate stops": f"{gated[real].sum()} of {real.sum()}",
            "fallback rate": f"{fell_back.mean():.3f}",
        }
    )
    gains = [
        (offer_gain(gold, probs, labels, fell_back, floor, OFFERABLE), floor) for floor in FLOORS
    ]
    (helped, noise), floor = max(gains, key=lambda g: (g[0][0] - g[0][1], g[1]))
    rows.update(
        {
            "chosen offer floor (top two summed)": f"{floor}",
            "fallbacks offered the right request": f"{helped} of {fell_back.sum()}",
            "fallbacks offered two wrong requests": f"{noise}",
        }
    )
    from actions.context import UNSURE_WRITES

    confirm, right, asked = confirm_threshold(
        gold, probs, predicted, UNSURE_WRITES, CONFIRM_PRECISION
    )
    rows.update(
        {
            "chosen confirm-before-writing threshold": f"{confirm}",
            "unasked writes that were asked for": f"{right:.3f}",
            "wanted writes asked about first": f"{asked:.3f}",
        }
    )
    print_table(rows)
    out = {
        "threshold": threshold,
        "ambiguity_threshold": ambiguity,
        "offer_floor": floor,
        "confirm_below": confirm,
        "table": rows,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)
    print(f"\nfull report: {args.out}")


if __name__ == "__main__":
    main()
