"""The Rasa NLU component that puts `emotion` into every parse result."""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.emotion.data import goemotions_folder, load_domain_examples, load_goemotions
from bot.emotion.intensity import Voice, voice_from_metadata, with_voice
from bot.emotion.model import EmotionModel

logger = logging.getLogger(__name__)
EMOTION = "emotion"
NEUTRAL = {"name": "neutral", "confidence": 1.0, "intensity": 0.0,
           "ranking": [{"name": "neutral", "confidence": 1.0}], "cues": []}


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class EmotionClassifier(GraphComponent):
    """Classifies the customer's emotion (seven labels) and how strongly it is felt."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # Heard's own labelled customer-service messages.
            "training_file": "data/emotions.yml",
            # GoEmotions folder (train.tsv, labels.txt); skipped when absent.
            "goemotions_path": "../shared/data/goemotions",
            # How many GoEmotions rows to use at most (0 = none, -1 = all).
            "goemotions_limit": -1,
            # Share of the general (GoEmotions) classifier in the blended probabilities.
            "general_weight": 0.2,
            "epochs": 10,
            "general_epochs": 6,
            "ngram_size": 2,
            "random_seed": 42,
        }

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage,
                 resource: Resource, model: Optional[EmotionModel] = None) -> None:
        unknown = set(config) - set(self.get_default_config())
        if unknown:
            raise InvalidConfigException(
                f"EmotionClassifier: unknown option(s) {sorted(unknown)}; "
                f"known options are {sorted(self.get_default_config())}")
        self._config = config
        self._storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage,
               resource: Resource, execution_context: ExecutionContext) -> "EmotionClassifier":
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
        folder = goemotions_folder(self._config["goemotions_path"])
        limit = self._config["goemotions_limit"]
        if not folder or limit == 0:
            logger.info("emotion.train.goemotions skipped (not found or disabled)")
            return []
        rows = load_goemotions(folder, "train")
        rows = rows if limit < 0 else rows[:limit]
        logger.info("emotion.train.goemotions rows=%d", len(rows))
        return rows

    def train(self, training_data: TrainingData) -> Resource:
        self._model = EmotionModel.train(
            load_domain_examples(Path(self._config["training_file"])),
            self.general_examples(), general_weight=self._config["general_weight"],
            epochs=self._config["epochs"], general_epochs=self._config["general_epochs"],
            seed=self._config["random_seed"], ngram_size=self._config["ngram_size"])
        with self._storage.write_to(self._resource) as directory:
            self._model.save(Path(directory) / "spacy")
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "EmotionClassifier":
        with model_storage.read_from(resource) as directory:
            model = EmotionModel.load(Path(directory) / "spacy")
        return cls(config, model_storage, resource, model)

    def process(self, messages: List[Message]) -> List[Message]:
        texts = [m.get(TEXT) or "" for m in messages]
        results = self._model.predict(texts) if self._model else []
        for index, message in enumerate(messages):
            value = results[index].as_dict() if texts[index].strip() and results else NEUTRAL
            message.set(EMOTION, _add_voice(value, _voice(message)), add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


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
    return {**emotion, "intensity": with_voice(emotion["intensity"], emotion["name"], voice),
            "cues": list(emotion["cues"]) + list(voice.cues)}
