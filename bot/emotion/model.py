"""One scikit-learn classifier over Heard's seven emotions, with intensity on top.

TF-IDF features (word 1-2-grams with negated words marked, and char_wb 2-5-grams,
sublinear term frequency) feed one multinomial logistic regression, trained on Heard's own
customer-service examples and, when present, GoEmotions' Reddit comments mapped to the
seven labels. Both sources speak differently ("thanks for nothing" is sarcasm in a shop's
chat), so the regression sees every feature twice ("frustratingly easy domain
adaptation", Daume III 2007): a shared copy, learnt from both sources, and a shop copy,
present only for shop messages, that learns what is specific to them. Which copy applies
to a new message is decided by a small source model on the same features (the probability
that it reads like a shop's chat scales the shop copy): customer messages get the shop's
corrections, Reddit-like comments the shared weights alone. Without GoEmotions it is a
plain logistic regression on Heard's examples. Classes are balanced within each source,
and Heard's examples as a whole weigh `domain_weight` x GoEmotions as a whole.

Next to it, a small neural network reads the message's all-MiniLM-L6-v2 sentence embedding
(nlu/encoder.py), trained on both sources, and its class-balanced log-probabilities are
added to the regression's scores, times `embedding_weight`. As a model of its own it adds
more than the embedding does as extra regression features (on held-out parts of the
training data: GoEmotions macro-F1 +0.023, against +0.007 as features). Training is
deterministic (lbfgs, and the network's seed).
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple

import joblib
import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import FeatureUnion, Pipeline

from bot.emotion.data import Example
from bot.emotion.intensity import cues, intensity
from bot.emotion.labels import LABELS
from nlu.gist import gist

MAX_CHARS = 2000  # longer messages are judged on their start; keeps a parse fast
# Below this the classifier is guessing (other scripts, emoji only, noise): call it neutral.
MIN_CONFIDENCE = 0.25
MODEL_FILE = "emotion.joblib"
META_FILE = "emotion.json"
FORMAT = 3  # 1 was the spaCy blend, 2 TF-IDF alone
EMBEDDING_SIZE = 384  # all-MiniLM-L6-v2
ENCODE_BATCH = 64  # texts per ONNX call when encoding many


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


def _truncate(text: str) -> str:
    return text[:MAX_CHARS]


def _normalise(text: str) -> str:
    # Exclamation marks are intensity cues, not signs of one emotion: happy and furious
    # customers both use them. The vectorisers lowercase (capitals are a cue too). Order
    # numbers and e-mail addresses come mostly in calm answers: read without them (the
    # gist, as the sentence vector), "late again, 4567890 omar@..." stays upset.
    return re.sub(r"!+", " ", gist(_truncate(text)))


_NEGATOR = re.compile(r"^(not|no|never|nothing|nobody|nor|cannot|without|\w+n't)$")
_CLAUSE_END = re.compile(r"^[.,;:!?]+$|^(but|however|though|and)$")
_TOKEN = re.compile(r"\w[\w']*|[^\w\s]")


def mark_negation(text: str) -> str:
    """Lowercased, with the words after a negator up to the clause's end marked "not_":
    "not happy at all" -> "not not_happy not_at not_all"; "no worries" -> "no not_worries".
    The word features then tell "happy" from "not happy"."""
    out, negated = [], False
    for token in _TOKEN.findall(text.lower().replace("\u2019", "'")):
        if _CLAUSE_END.match(token):
            negated = False
            out.append(token)
        elif _NEGATOR.match(token):
            negated = True
            out.append(token)
        else:
            out.append(f"not_{token}" if negated else token)
    return " ".join(out)


def build_features(negation: bool = True) -> FeatureUnion:
    words = TfidfVectorizer(
        analyzer="word",
        ngram_range=(1, 2),
        sublinear_tf=True,
        min_df=2,
        token_pattern=r"\S+",
        dtype=np.float32,
        preprocessor=mark_negation if negation else _lower_tokens,
    )
    chars = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(2, 5),
        sublinear_tf=True,
        min_df=2,
        max_features=200_000,
        dtype=np.float32,
    )
    return FeatureUnion([("words", words), ("chars", chars)])


class ShopAdaptedClassifier(BaseEstimator, ClassifierMixin):
    """Logistic regression on [x, g * x]: g is 1 for Heard's examples and 0 for general
    ones in training, and at prediction the source model's probability that x reads like a
    shop's chat. With one source only, a plain logistic regression on x."""

    def __init__(self, C: float = 3.0, max_iter: int = 300, gate_C: float = 1.0):
        self.C = C
        self.max_iter = max_iter
        self.gate_C = gate_C

    def fit(self, X, y, sample_weight=None, shop=None):
        shop = np.ones(X.shape[0], dtype=bool) if shop is None else np.asarray(shop, bool)
        self.two_sources_ = bool(shop.any() and not shop.all())
        features = X.shape[1]
        if self.two_sources_:
            self.gate_ = LogisticRegression(
                C=self.gate_C, max_iter=self.max_iter, class_weight="balanced"
            ).fit(X, shop)
            X = sparse.hstack([X, sparse.diags(shop.astype(np.float32)) @ X], format="csr")
        self.classifier_ = LogisticRegression(C=self.C, max_iter=self.max_iter).fit(
            X, y, sample_weight=sample_weight
        )
        self.classes_ = self.classifier_.classes_
        # The same regressions as column-major weight matrices, so that one message costs
        # a sparse row times a dense matrix (sklearn would copy the transposed weights):
        # [x, g x] . [W_shared; W_shop] = x . W_shared + g (x . W_shop).
        coef = self.classifier_.coef_
        self.shared_ = np.ascontiguousarray(coef[:, :features].T)
        self.shop_ = np.ascontiguousarray(coef[:, features:].T) if self.two_sources_ else None
        if self.two_sources_:
            self.gate_weights_ = np.ascontiguousarray(self.gate_.coef_.ravel())
            self.gate_intercept_ = float(self.gate_.intercept_[0])  # classes_: False, True
        return self

    def shop_probability(self, X) -> np.ndarray:
        if not self.two_sources_:
            return np.ones(X.shape[0])
        return 1.0 / (1.0 + np.exp(-(X @ self.gate_weights_ + self.gate_intercept_)))

    def decision_function(self, X):
        scores = np.asarray(X @ self.shared_) + self.classifier_.intercept_
        if self.two_sources_:
            scores += self.shop_probability(X)[:, None] * np.asarray(X @ self.shop_)
        return scores

    def predict_proba(self, X):
        return softmax(self.decision_function(X))

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def softmax(scores: np.ndarray) -> np.ndarray:
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


@lru_cache(maxsize=1)
def _sentence_encoder():
    from nlu.encoder import SentenceEncoder  # Rasa's imports only when there's text to encode

    return SentenceEncoder({})


def encode(texts: Sequence[str]) -> np.ndarray:
    """all-MiniLM-L6-v2 sentence vectors, as nlu.encoder.SentenceEncoder gives the pipeline:
    in batches of similar length (little padding), on every core (onnxruntime runs without
    the GIL, one thread per call)."""
    encoder = _sentence_encoder()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    batches = [order[start : start + ENCODE_BATCH] for start in range(0, len(order), ENCODE_BATCH)]
    vectors = np.zeros((len(texts), EMBEDDING_SIZE), dtype=np.float32)
    with ThreadPoolExecutor(max_workers=max(1, min(len(batches), os.cpu_count() or 1))) as pool:
        encoded = pool.map(lambda rows: encoder.encode([texts[i] for i in rows]), batches)
        for rows, batch in zip(batches, encoded):
            vectors[rows] = batch
    return vectors


class EmbeddingHead:
    """A one-hidden-layer network on the sentence embedding. Its scores are log-probabilities
    less the training prior: classes count as balanced, as in the regression."""

    def __init__(self, seed: int = 42):
        self.seed = seed

    def fit(self, vectors: np.ndarray, labels: Sequence[str]) -> "EmbeddingHead":
        self.mean_ = vectors.mean(axis=0)  # centred inputs train faster and better
        self.network_ = MLPClassifier(
            hidden_layer_sizes=(512,),
            alpha=1e-2,
            early_stopping=True,
            max_iter=200,
            random_state=self.seed,
        ).fit(vectors - self.mean_, labels)
        counts = Counter(labels)
        self.log_prior_ = np.log([counts[c] / len(labels) for c in self.network_.classes_])
        return self

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        probabilities = self.network_.predict_proba(vectors - self.mean_)
        return np.log(np.clip(probabilities, 1e-12, None)) - self.log_prior_


def build_pipeline(c: float, max_iter: int, negation: bool = True) -> Pipeline:
    return Pipeline(
        [
            ("features", build_features(negation)),
            ("classifier", ShopAdaptedClassifier(C=c, max_iter=max_iter)),
        ]
    )


def decision_function(pipeline: Pipeline, docs: List[str]) -> np.ndarray:
    """`pipeline.decision_function(docs)`, stacking the feature union's parts directly: for
    a message or two, its joblib dispatch cost more than the features (a twentieth of a
    turn's CPU). The union has no weights, so the sum is the same."""
    union, classifier = pipeline.named_steps["features"], pipeline.steps[-1][1]
    features = sparse.hstack([part.transform(docs) for _, part in union.transformer_list])
    return classifier.decision_function(features.tocsr())


def _lower_tokens(text: str) -> str:
    return " ".join(_TOKEN.findall(text.lower()))


def balanced_weights(labels: Sequence[str]) -> np.ndarray:
    """Per example, so that every label present carries the same total weight (mean 1)."""
    counts = Counter(labels)
    return np.array([len(labels) / (len(counts) * counts[label]) for label in labels])


def sample_weights(
    domain: Sequence[Example], general: Sequence[Example], domain_weight: float
) -> np.ndarray:
    """Classes balanced within each source; the domain examples' total weight is
    `domain_weight` x the general examples' total (or all of it without general data)."""
    own = balanced_weights([label for _, label in domain])
    if not general:
        return own
    other = balanced_weights([label for _, label in general])
    return np.concatenate([other, own * domain_weight * len(general) / len(domain)])


def embedding_rows(general: int, domain: int, domain_weight: float) -> np.ndarray:
    """Rows of [general..., domain...] for the embedding network, which takes no sample
    weights: GoEmotions once and Heard's examples repeated, so that they weigh about
    `domain_weight` x GoEmotions as in the regression."""
    copies = max(1, round(domain_weight * general / domain)) if general else 1
    return np.concatenate(
        [np.arange(general), np.tile(np.arange(general, general + domain), copies)]
    )


class EmotionModel:
    """The fitted TF-IDF pipeline and embedding network (None with `embedding_weight` 0);
    `predict` adds the confidence rule, cues and intensity."""

    def __init__(
        self,
        pipeline: Pipeline,
        head: Optional[EmbeddingHead] = None,
        embedding_weight: float = 0.0,
    ):
        self.pipeline = pipeline
        self.head = head
        self.embedding_weight = embedding_weight
        self.labels = tuple(pipeline.classes_)

    @classmethod
    def train(
        cls,
        examples: Sequence[Example],
        general_examples: Sequence[Example] = (),
        domain_weight: float = 0.8,
        c: float = 3.0,
        max_iter: int = 300,
        seed: int = 42,
        embedding_weight: float = 0.8,
    ) -> "EmotionModel":
        missing = [
            label
            for label in LABELS
            if label not in Counter(e[1] for e in list(examples) + list(general_examples))
        ]
        if missing or not examples:
            raise ValueError(f"no training examples for {missing or 'the domain'}")
        general = list(general_examples)
        data = general + list(examples)
        with ThreadPoolExecutor(max_workers=1) as background:
            # The encoder and the regression each keep one core busy: run them side by side.
            vectors = (
                background.submit(encode, [_truncate(t) for t, _ in data])
                if embedding_weight
                else None
            )
            pipeline = build_pipeline(c, max_iter)
            pipeline.fit(
                [_normalise(t) for t, _ in data],
                [label for _, label in data],
                classifier__sample_weight=sample_weights(examples, general, domain_weight),
                classifier__shop=[False] * len(general) + [True] * len(examples),
            )
        for _, vectoriser in pipeline.named_steps["features"].transformer_list:
            vectoriser.stop_words_ = None  # the pruned n-grams: only needed for inspection
        if vectors is None:
            return cls(pipeline)
        rows = embedding_rows(len(general), len(examples), domain_weight)
        labels = np.array([label for _, label in data])
        head = EmbeddingHead(seed).fit(vectors.result()[rows], labels[rows])
        return cls(pipeline, head, embedding_weight)

    def probabilities(
        self, texts: List[str], vectors: Optional[Sequence[Optional[np.ndarray]]] = None
    ) -> np.ndarray:
        """`vectors[i]`: the sentence embedding of texts[i] when the pipeline has it, or None."""
        scores = decision_function(self.pipeline, [_normalise(t) for t in texts])
        if self.head is not None:
            scores += self.embedding_weight * self.head.scores(_embeddings(texts, vectors))
        return softmax(scores)

    def predict(
        self, texts: Iterable[str], vectors: Optional[Sequence[Optional[np.ndarray]]] = None
    ) -> List[EmotionResult]:
        texts = list(texts)
        if not texts:
            return []
        results = []
        for text, row in zip(texts, self.probabilities(texts, vectors)):
            cats = dict(zip(self.labels, (float(p) for p in row)))
            ranking = tuple(sorted(cats.items(), key=lambda kv: (-kv[1], LABELS.index(kv[0]))))
            name, confidence = ranking[0]
            if confidence < MIN_CONFIDENCE:
                name, confidence = "neutral", cats["neutral"]
            found = cues(text)
            results.append(
                EmotionResult(
                    name,
                    confidence,
                    intensity(text, name, confidence, found),
                    ranking,
                    found.names(),
                )
            )
        return results

    def predict_one(self, text: str) -> EmotionResult:
        return self.predict([text])[0]

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        joblib.dump(
            {
                "pipeline": self.pipeline,
                "head": self.head,
                "embedding_weight": self.embedding_weight,
            },
            path / MODEL_FILE,
            compress=3,
        )
        (path / META_FILE).write_text(json.dumps({"format": FORMAT, "labels": self.labels}))

    @classmethod
    def load(cls, path: Path) -> "EmotionModel":
        meta = json.loads((path / META_FILE).read_text())
        if meta.get("format") != FORMAT:
            raise ValueError(
                f"{path}: emotion model format {meta.get('format')}, expected "
                f"{FORMAT}; retrain with `make train`"
            )
        return cls(**joblib.load(path / MODEL_FILE))


def _embeddings(
    texts: Sequence[str], given: Optional[Sequence[Optional[np.ndarray]]]
) -> np.ndarray:
    """The given sentence vectors; the texts without one are encoded here."""
    vectors: List[Optional[np.ndarray]] = list(given) if given is not None else [None] * len(texts)
    missing = [i for i, vector in enumerate(vectors) if vector is None]
    if missing:
        for i, vector in zip(missing, encode([_truncate(texts[i]) for i in missing])):
            vectors[i] = vector
    return np.vstack([v for v in vectors if v is not None])
