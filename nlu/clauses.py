"""An NLU component that reads each clause of a message on its own, for two requests in one
message ("cancel the headphones and tell me where my shoes are").

The intent classifier gives one intent per message. This component splits a message into
clauses (at sentence ends, and at "and"/"also"/"then" before a new verb or question) and
classifies each clause with a logistic regression on the same sentence vectors, trained on
the same examples. The result goes out as `clauses`: [{"text", "intent", "confidence"}],
only when there are two or more; the actions decide what counts as a second request.

config.yml, after the intent classifier:  - name: nlu.clauses.ClauseReader
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.encoder import SentenceEncoder

WEIGHTS_FILE = "clauses.npz"
# A new clause starts after a sentence end, or at "and"/"also"/"then"/"plus" followed by
# what starts a request. Bounded repetitions: linear time.
_STARTS = (
    r"(?:can|could|would|will|please|pls|tell|let|i|i'd|i'm|i'll|what|where|when|how|"
    r"why|is|are|do|does|did|cancel|change|send|check|track|refund|give|show|update|"
    r"delete|close|reset|unsubscribe|sign|find|get|also|then|my)\b"
)
_SPLIT = re.compile(
    rf"[.;!?]{{1,5}}\s{{1,10}}|,?\s{{1,10}}(?:and|also|plus|then|and also|and then)"
    rf"\s{{1,10}}(?={_STARTS})",
    re.I,
)
MIN_WORDS = 2  # a clause of one word ("thanks") is not a request
MAX_CLAUSES = 4
# A longer message tells one story (and costs an encoder pass per clause): read as a whole.
MAX_MESSAGE_WORDS = 40


def clauses(text: str) -> List[str]:
    """The message's clauses of at least MIN_WORDS words, at most MAX_CLAUSES; none for a
    message of more than MAX_MESSAGE_WORDS words."""
    if len((text or "").split()) > MAX_MESSAGE_WORDS:
        return []
    parts = [p.strip(" ,") for p in _SPLIT.split(text or "")]
    return [p for p in parts if len(p.split()) >= MIN_WORDS][:MAX_CLAUSES]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class ClauseReader(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"C": 5.0, "max_iter": 3000, "random_seed": 42}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        weights: Optional[Dict[str, np.ndarray]] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self._weights = weights
        self._encoder: Optional[SentenceEncoder] = None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "ClauseReader":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.linear_model import LogisticRegression

        rows = [
            (m.get_dense_features(TEXT)[1], m.get(INTENT)) for m in training_data.intent_examples
        ]
        rows = [(f.features[0], intent) for f, intent in rows if f is not None and intent]
        if not rows:
            raise ValueError(
                "ClauseReader needs the SentenceEncoder's sentence features before it in config.yml"
            )
        model = LogisticRegression(
            C=float(self._config["C"]),
            max_iter=int(self._config["max_iter"]),
            random_state=int(self._config["random_seed"]),
        )
        model.fit(np.stack([x for x, _ in rows]), [y for _, y in rows])
        with self._storage.write_to(self._resource) as directory:
            np.savez(
                Path(directory) / WEIGHTS_FILE,
                coef=model.coef_,
                intercept=model.intercept_,
                classes=np.array(model.classes_),
            )
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "ClauseReader":
        with model_storage.read_from(resource) as directory:
            path = Path(directory) / WEIGHTS_FILE
            with np.load(path, allow_pickle=False) as saved:
                weights = {key: saved[key] for key in ("coef", "intercept", "classes")}
        return cls(config, model_storage, resource, weights)

    def process(self, messages: List[Message]) -> List[Message]:
        weights = self._weights
        for message in messages:
            parts = clauses(message.get(TEXT) or "") if weights else []
            if weights and len(parts) >= 2:
                message.set("clauses", self._read(parts, weights), add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def _read(self, parts: List[str], weights: Dict[str, np.ndarray]) -> List[Dict[str, Any]]:
        if self._encoder is None:
            self._encoder = SentenceEncoder({})
        scores = self._encoder.encode(parts) @ weights["coef"].T + weights["intercept"]
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        probabilities = scores / scores.sum(axis=1, keepdims=True)
        best = probabilities.argmax(axis=1)
        return [
            {
                "text": part,
                "intent": str(weights["classes"][i]),
                "confidence": round(float(probabilities[row, i]), 3),
            }
            for row, (part, i) in enumerate(zip(parts, best))
        ]
