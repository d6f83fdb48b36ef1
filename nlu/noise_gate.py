"""An NLU component that makes messages without a single word fall back.

A classifier always picks its nearest intent, even for "asdf qwerty zxcv" or a pocket's
"jjjjkk". A message with letters but no known word and no entity is marked `nlu_fallback`,
with nothing else in the ranking, so Heard asks again instead of guessing or offering
buttons. Known words (two letters or more) are the whole words of the sentence encoder's
English vocabulary and every word of the NLU training examples ("refund" is only pieces
in the former). Typos don't trigger it as long as one word is spelt right. A message the
intent classifier could not read at all (empty, only spaces) falls back too: Rasa's
FallbackClassifier fails on a missing intent.

config.yml, after the intent classifier, before FallbackClassifier:
  - name: nlu.noise_gate.NoiseGate
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.encoder import TOKENIZER_PATH

FALLBACK = "nlu_fallback"
WORDS_FILE = "words.json"
_WORD = re.compile(r"[^\W\d_]{2,}")  # letters only, two or more


@lru_cache(maxsize=4)
def vocabulary(path: Path = TOKENIZER_PATH) -> FrozenSet[str]:
    """The whole words (not "##" pieces) of a WordPiece tokenizer.json."""
    vocab = json.loads(path.read_text(encoding="utf-8"))["model"]["vocab"]
    return frozenset(piece for piece in vocab if piece.isalpha() and len(piece) > 1)


def words(text: str) -> List[str]:
    return _WORD.findall((text or "").lower())


def is_noise(text: str, entities: List[Dict[str, Any]], known: FrozenSet[str]) -> bool:
    found = words(text)
    return bool(found) and not entities and not any(word in known for word in found)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class NoiseGate(GraphComponent):
    def __init__(
        self, model_storage: ModelStorage, resource: Resource, trained: FrozenSet[str] = frozenset()
    ) -> None:
        self._storage = model_storage
        self._resource = resource
        self._known = vocabulary() | trained

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "NoiseGate":
        return cls(model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        trained = sorted(
            {
                word
                for example in training_data.training_examples
                for word in words(example.get(TEXT))
            }
        )
        with self._storage.write_to(self._resource) as directory:
            (Path(directory) / WORDS_FILE).write_text(json.dumps(trained), encoding="utf-8")
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "NoiseGate":
        with model_storage.read_from(resource) as directory:
            trained = json.loads((Path(directory) / WORDS_FILE).read_text(encoding="utf-8"))
        return cls(model_storage, resource, frozenset(trained))

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            unread = not (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if unread or is_noise(message.get(TEXT), message.get(ENTITIES) or [], self._known):
                intent = {INTENT_NAME_KEY: FALLBACK, PREDICTED_CONFIDENCE_KEY: 1.0}
                message.set(INTENT, intent, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [intent], add_to_output=True)
        return messages
