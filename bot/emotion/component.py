"""The Rasa NLU component that puts `emotion` into every parse result."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.emotion.data import (
    goemotions_folder,
    goemotions_location,
    load_domain_examples,
    load_goemotions,
)
from bot.emotion.intensity import Voice, voice_from_metadata, with_voice
from bot.emotion.model import EMBEDDING_SIZE, EmotionModel

logger = logging.getLogger(__name__)
EMOTION = "emotion"
MODEL_DIR = "sklearn"  # inside the component's model storage
NEUTRAL = {
    "name": "neutral",
    "confidence": 1.0,
    "intensity": 0.0,
    "ranking": [{"name": "neutral", "confidence": 1.0}],
    "cues": [],
}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class EmotionClassifier(GraphComponent):
    """Classifies the customer's emotion (seven labels) and how strongly it is felt."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # Heard's own labelled customer-service messages.
            "training_file": "data/emotions.yml",
            # GoEmotions folder (train.tsv, labels.txt); None: heard.datasets.goemotions_dir()
            # (HEARD_DATA_DIR, default datasets/). Training goes on without it.
            "goemotions_path": None,
            # How many GoEmotions rows to use at most (0 = none, -1 = all).
            "goemotions_limit": -1,
            # Heard's examples as a whole weigh this much x GoEmotions as a whole.
            "domain_weight": 0.8,
            # Inverse regularisation strength of the logistic regression.
            "C": 3.0,
            # How much the network on the sentence embedding counts next to the regression
            # (0: TF-IDF alone, no embeddings). Chosen on held-out training data.
            "embedding_weight": 0.8,
            "max_iter": 300,
            "random_seed": 42,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[EmotionModel] = None,
    ) -> None:
        unknown = set(config) - set(self.get_default_config())
        if unknown:
            raise InvalidConfigException(
                f"EmotionClassifier: unknown option(s) {sorted(unknown)}; "
                f"known options are {sorted(self.get_default_config())}"
            )
        self._config = config
        self._storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "EmotionClassifier":
        return cls(config, model_storage, resource)

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """Retrain when the example files change: Rasa does not read them itself."""
        digest = hashlib.sha256()
        paths = [Path(config.get("training_file", cls.get_default_config()["training_file"]))]
        folder = goemotions_folder(config.get("goemotions_path"))
        if folder and config.get("goemotions_limit", -1) != 0:
            paths.append(folder / "train.tsv")
        for path in paths:
            digest.update(str(path).encode())
            digest.update(path.read_bytes() if path.is_file() else b"missing")
        return digest.hexdigest()

    def general_examples(self) -> list:
        limit = self._config["goemotions_limit"]
        if limit == 0:
            logger.info("emotion.train.goemotions disabled (goemotions_limit: 0)")
            return []
        folder = goemotions_folder(self._config["goemotions_path"])
        if not folder:
            logger.warning(
                "emotion.train.goemotions not found in %s (train.tsv, labels.txt): training "
                "on %s alone; get it with `python -m bot.emotion download` or point "
                "HEARD_DATA_DIR at a folder holding goemotions/",
                goemotions_location(self._config["goemotions_path"]),
                self._config["training_file"],
            )
            return []
        rows = load_goemotions(folder, "train")
        rows = rows if limit < 0 else rows[:limit]
        logger.info("emotion.train.goemotions rows=%d from %s", len(rows), folder)
        return rows

    def train(self, training_data: TrainingData) -> Resource:
        self._model = EmotionModel.train(
            load_domain_examples(Path(self._config["training_file"])),
            self.general_examples(),
            domain_weight=self._config["domain_weight"],
            c=self._config["C"],
            max_iter=self._config["max_iter"],
            seed=self._config["random_seed"],
            embedding_weight=self._config["embedding_weight"],
        )
        with self._storage.write_to(self._resource) as directory:
            self._model.save(Path(directory) / MODEL_DIR)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "EmotionClassifier":
        with model_storage.read_from(resource) as directory:
            model = EmotionModel.load(Path(directory) / MODEL_DIR)
        return cls(config, model_storage, resource, model)

    def process(self, messages: List[Message]) -> List[Message]:
        model = self._model
        spoken = [m for m in messages if (m.get(TEXT) or "").strip()] if model else []
        results = (
            model.predict([m.get(TEXT) for m in spoken], [_sentence_vector(m) for m in spoken])
            if model and spoken
            else []
        )
        found = {id(m): result.as_dict() for m, result in zip(spoken, results)}
        for message in messages:
            value = found.get(id(message), NEUTRAL)
            message.set(EMOTION, _add_voice(value, _voice(message)), add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


def _sentence_vector(message: Message) -> Optional[np.ndarray]:
    """The message's all-MiniLM-L6-v2 vector from nlu.encoder.SentenceEncoder, which runs
    before this component in config.yml; None without it (or with other dense features
    beside it): the model then encodes the text itself."""
    _, sentence = message.get_dense_features(TEXT)
    if sentence is None or sentence.features.shape != (1, EMBEDDING_SIZE):
        return None
    return sentence.features[0]


def _voice(message: Message) -> Optional[Voice]:
    """The caller's voice (calls only); malformed metadata is logged and ignored."""
    metadata = message.get("metadata")
    voice = voice_from_metadata(metadata)
    if voice is None and isinstance(metadata, Mapping) and metadata.get("voice") is not None:
        logger.warning("emotion.voice.ignored malformed voice metadata: %.200r", metadata["voice"])
    return voice


def _add_voice(emotion: Dict[str, Any], voice: Optional[Voice]) -> Dict[str, Any]:
    """A new emotion dict: intensity moved by the voice, the voice's cues added."""
    if voice is None:
        return emotion
    return {
        **emotion,
        "intensity": with_voice(emotion["intensity"], emotion["name"], voice),
        "cues": list(emotion["cues"]) + list(voice.cues),
    }
