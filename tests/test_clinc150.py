"""CLINC150 as out_of_scope examples: the reviewed intents, the bounded seeded sample, the
importer in config.yml, and training without the file."""

from __future__ import annotations

import json
import logging

import pytest

from bot import clinc150
from heard import datasets
from tests.harness import ROOT

SHARED_DOMAINS = ROOT.parent / "shared" / "data" / "clinc150" / "domains.json"


def fake_clinc150(per_intent: int = 30) -> dict:
    """A small clinc150.json: two OUT intents, two OVERLAP ones, oos rows, val/test rows."""
    train = []
    for intent in ("weather", "timer", "order_status", "greeting"):
        train += [[f"{intent} request number {n}", intent] for n in range(per_intent)]
    train.append(["where is my order", "weather"])  # mislabelled in the set; also below
    train.append(["where is my order", "order_status"])
    train.append(["hello Heard", "timer"])  # the project's own greet example
    return {
        "train": train,
        "val": [["val weather request", "weather"]],
        "test": [["test weather request", "weather"]],
        "oos_train": [[f"odd request {n}", "oos"] for n in range(20)],
        "oos_val": [["val odd request", "oos"]],
    }


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path / "sets"))
    clinc150._reported.clear()
    return tmp_path / "sets"


def write(data_dir, data) -> None:
    path = datasets.clinc150_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def test_every_intent_is_reviewed_and_the_shop_overlaps_are_never_out_of_scope():
    assert len(clinc150.REVIEWED) == 150
    assert set(clinc150.REVIEWED.values()) == {clinc150.OUT, clinc150.OVERLAP}
    for intent in (
        "order_status",
        "order",
        "pay_bill",
        "bill_balance",
        "card_declined",
        "damaged_card",
        "cancel",
        "greeting",
        "goodbye",
        "thank_you",
        "are_you_a_bot",
        "yes",
        "no",
        "what_can_i_ask_you",
    ):
        assert intent not in clinc150.OUT_OF_SCOPE, intent
    for intent in ("weather", "timer", "recipe", "book_flight", "routing", "play_music"):
        assert intent in clinc150.OUT_OF_SCOPE, intent
    assert len(clinc150.OUT_OF_SCOPE) == 108


@pytest.mark.skipif(not SHARED_DOMAINS.is_file(), reason="needs ../shared/data/clinc150")
def test_the_review_covers_exactly_the_official_intents():
    domains = json.loads(SHARED_DOMAINS.read_text())
    assert set(clinc150.REVIEWED) == {i for intents in domains.values() for i in intents}


def test_the_sample_is_bounded_seeded_and_drops_overlapping_intents():
    data = fake_clinc150()
    texts = clinc150.sample(data, per_intent=5, oos=7, seed=1)
    assert len([t for t in texts if t.startswith("weather")]) == 5
    assert len([t for t in texts if t.startswith("timer")]) == 5
    assert len([t for t in texts if t.startswith("odd")]) == 7
    assert not any(t.startswith(("order_status", "greeting")) for t in texts)
    assert "where is my order" not in texts  # also under an overlapping intent
    assert not any("val" in t or "test" in t for t in texts)  # train and oos_train only
    assert clinc150.sample(data, per_intent=5, oos=7, seed=1) == texts  # seeded
    assert clinc150.sample(data, per_intent=5, oos=7, seed=2) != texts
    shuffled = dict(data, train=list(reversed(data["train"])))
    assert clinc150.sample(shuffled, per_intent=5, oos=7, seed=1) == texts  # order-proof
    assert len(clinc150.sample(data, per_intent=100, oos=100)) == 2 * 30 + 1 + 20


def test_the_projects_own_examples_are_left_out():
    texts = clinc150.sample(fake_clinc150(), per_intent=100, exclude=["HELLO  heard"])
    assert "hello Heard" not in texts


def test_a_malformed_file_is_an_error_not_a_silent_empty_sample():
    with pytest.raises(ValueError, match="train"):
        clinc150.sample({"train": [["only text"]]})


def load_project_importer():
    from rasa.shared.importers.importer import TrainingDataImporter

    return TrainingDataImporter.load_from_config(
        str(ROOT / "config.yml"), str(ROOT / "domain.yml"), [str(ROOT / "data")]
    )


def out_of_scope(importer) -> list:
    return [
        m.get("text")
        for m in importer.get_nlu_data().intent_examples
        if m.get("intent") == "out_of_scope"
    ]


def test_config_yml_adds_the_sample_to_data(data_dir, caplog):
    write(data_dir, fake_clinc150())
    with caplog.at_level(logging.INFO, logger="bot.clinc150"):
        importer = load_project_importer()
        nlu = importer.get_nlu_data()
    intents = {m.get("intent") for m in nlu.intent_examples}
    assert {"track_order", "greet", "out_of_scope"} <= intents  # data/ is still read
    texts = out_of_scope(importer)
    assert "what's the weather like today" in texts  # data/nlu.yml's own
    added = [t for t in texts if t.startswith(("weather request", "timer request", "odd"))]
    from rasa.shared.utils.io import read_yaml_file

    [options] = [
        i
        for i in read_yaml_file(ROOT / "config.yml")["importers"]
        if i["name"] == "bot.clinc150.Clinc150Importer"
    ]
    per_intent, oos = options["examples_per_intent"], options["oos_examples"]
    assert 0 < per_intent < 30 and oos >= 20  # below what the fake file holds
    assert len(added) == 2 * per_intent + 20  # two OUT intents, all 20 oos_train rows
    assert "hello Heard" not in texts
    assert f"{len(added)} out_of_scope examples from" in caplog.text


def test_training_data_without_the_file_logs_one_line(data_dir, caplog):
    with caplog.at_level(logging.INFO, logger="bot.clinc150"):
        importer = load_project_importer()
        importer.get_nlu_data()
        importer.get_nlu_data("en")
        load_project_importer().get_nlu_data()
    lines = [r for r in caplog.records if r.name == "bot.clinc150"]
    assert len(lines) == 1
    message = lines[0].getMessage()
    assert "not found" in message and "python -m bot.datasets download" in message
    assert out_of_scope(importer)  # data/nlu.yml's own examples still there
