"""bench/nlu_change.py: which intents a change moved, and which earlier run to compare with."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench import nlu_change
from bench.nlu_change import (
    FORMAT,
    Row,
    choose_before,
    compare,
    intent_report,
    load_report,
    model_name,
    save_report,
    summary_line,
    table_rows,
    write_atomically,
)

DIGEST = "a" * 64


def report(model: str = "heard-after", mtime: float = 0.0, digest: str = DIGEST, **f1s):
    """A saved report with these per-intent F1s (intent=f1 or intent=(f1, support))."""
    intents = {}
    for intent, value in f1s.items():
        f1, support = value if isinstance(value, tuple) else (value, 10)
        intents[intent] = {"f1": f1, "precision": f1, "recall": f1, "support": support}
        intents[intent]["predicted"] = support
    return {
        "format": FORMAT,
        "model": model,
        "model_mtime": mtime,
        "test_set": "tests/data/nlu_test.yml",
        "test_set_sha256": digest,
        "messages": sum(i["support"] for i in intents.values()),
        "accuracy": 0.9,
        "macro_f1": 0.85,
        "intents": intents,
    }


@pytest.mark.parametrize(
    "before, after, expected",
    [
        pytest.param({}, {}, [], id="nothing at all"),
        pytest.param({"a": 0.9, "b": 0.5}, {"a": 0.9, "b": 0.5}, [], id="nothing moved"),
        pytest.param({"a": 0.9}, {"a": 0.89}, [], id="below the threshold"),
        pytest.param({"a": 0.92}, {"a": 0.90}, [("a", -0.02)], id="exactly the threshold"),
        pytest.param({"a": 0.90}, {"a": 0.92}, [("a", +0.02)], id="a rise of the threshold"),
        pytest.param(
            {"refund": 0.91, "track": 0.80, "cancel": 0.70, "greet": 1.0},
            {"refund": 0.78, "track": 0.95, "cancel": 0.60, "greet": 0.99},
            [("refund", -0.13), ("cancel", -0.10), ("track", +0.15)],
            id="largest drop first, rises last",
        ),
        pytest.param(
            {"b": 0.9, "a": 0.9},
            {"b": 0.8, "a": 0.8},
            [("a", -0.1), ("b", -0.1)],
            id="equal drops by name",
        ),
        pytest.param(
            {"refund": 0.91, "old": 0.5},
            {"refund": 0.78, "zebra": 0.0, "fresh": 0.7},
            [("refund", -0.13), ("fresh", "new"), ("zebra", "new"), ("old", "removed")],
            id="new and removed after the moved ones, by name",
        ),
    ],
)
def test_compare(before, after, expected):
    rows = compare(report("heard-before", **before), report(**after))
    assert [(r.intent, r.status if r.change is None else r.change) for r in rows] == [
        (intent, change if isinstance(change, str) else pytest.approx(change))
        for intent, change in expected
    ]


def test_compare_threshold_is_a_parameter():
    rows = compare(report(a=0.9, b=0.8), report(a=0.85, b=0.7), moved=0.1)
    assert [r.intent for r in rows] == ["b"]


def test_a_new_intent_without_test_lines_shows_how_many_lines_it_took():
    before = report("heard-before", check_refund_policy=(0.91, 20))
    after = report(check_refund_policy=(0.78, 20), ask_warranty=(0.0, 0))
    after["intents"]["ask_warranty"]["predicted"] = 4
    rows = compare(before, after)
    assert [r.status for r in rows] == ["dropped", "new"]
    table = table_rows(rows)
    assert table == {
        "check_refund_policy": "0.910 -> 0.780   -0.130  20 test lines",
        "ask_warranty": "    - -> 0.000      new  0 test lines, predicted for 4",
    }


def test_table_shows_a_changed_number_of_test_lines_and_removed_intents():
    rows = compare(report("b", a=(0.5, 10), gone=(0.7, 3)), report(a=(0.6, 12)))
    assert table_rows(rows) == {
        "a": "0.500 -> 0.600   +0.100  10 -> 12 test lines",
        "gone": "0.700 ->     -  removed  3 test lines, predicted for 3",
    }


def test_summary_line():
    before = {**report("b", a=0.9, old=0.5), "accuracy": 0.871, "macro_f1": 0.852}
    after = {**report(a=0.7, new=0.4), "accuracy": 0.860, "macro_f1": 0.84}
    assert summary_line(compare(before, after), before, after) == (
        "1 intent moved by 0.02 or more, 1 new, 1 removed; "
        "accuracy 0.871 -> 0.860, macro-F1 0.852 -> 0.840"
    )
    same = report(a=0.9)
    assert summary_line([], same, same).startswith("0 intents moved by 0.02 or more; accuracy")


def test_intent_report_scores_each_intent_and_skips_the_fallback():
    gold = ["refund", "refund", "refund", "track", "track"]
    predicted = ["refund", "refund", "warranty", "track", "nlu_fallback"]
    saved = intent_report(
        gold, predicted, model="heard-x", model_mtime=1.5, test_set="t.yml", test_set_sha256="d"
    )
    assert set(saved["intents"]) == {"refund", "track", "warranty"}
    assert saved["intents"]["refund"] == {
        "f1": pytest.approx(0.8),
        "precision": 1.0,
        "recall": pytest.approx(2 / 3),
        "support": 3,
        "predicted": 2,
    }
    assert saved["intents"]["warranty"] == {
        "f1": 0.0,
        "precision": 0.0,
        "recall": 0.0,
        "support": 0,
        "predicted": 1,
    }
    assert saved["accuracy"] == pytest.approx(3 / 5)
    # macro-F1 over the test set's intents only, as the report's own macro-F1
    assert saved["macro_f1"] == pytest.approx((0.8 + 2 / 3) / 2)
    assert (saved["model"], saved["messages"], saved["format"]) == ("heard-x", 5, FORMAT)
    json.dumps(saved)  # plain JSON types only


def test_model_name():
    assert model_name(Path("models/heard-6d7cdd3df0c3.tar.gz")) == "heard-6d7cdd3df0c3"
    assert model_name(Path("elsewhere/model.zip")) == "model"


def test_save_and_load_round_trip_atomically(tmp_path):
    saved = report("heard-1", a=0.5)
    path = save_report(tmp_path / "reports", saved)
    assert path == tmp_path / "reports" / "heard-1.json"
    assert load_report(path) == saved
    assert [p.name for p in path.parent.iterdir()] == ["heard-1.json"]  # no temporary left
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # not the temporary file's 0600


def test_write_atomically_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    path.write_text("old")

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(nlu_change.os, "replace", fail)
    with pytest.raises(OSError):
        write_atomically(path, "new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


@pytest.mark.parametrize("text", ["", "not json", "[]", '{"format": 0, "intents": {}}'])
def test_unreadable_reports_are_none(tmp_path, text):
    path = tmp_path / "r.json"
    path.write_text(text)
    assert load_report(path) is None
    assert load_report(tmp_path / "missing.json") is None


def archive(models: Path, name: str, mtime: float) -> Path:
    models.mkdir(exist_ok=True)
    path = models / f"{name}.tar.gz"
    path.write_bytes(b"")
    os.utime(path, (mtime, mtime))
    return path


@pytest.mark.parametrize(
    "saved, archives, expected",
    [
        pytest.param([], [], None, id="nothing: no comparison"),
        pytest.param([], [("heard-current", 300)], None, id="only the current model"),
        pytest.param(
            [("heard-current", 300, DIGEST)], [], None, id="only the current model's report"
        ),
        pytest.param(
            [],
            [("heard-old", 100), ("heard-older", 50), ("heard-current", 300)],
            "heard-old.tar.gz",
            id="no report: the latest other archive",
        ),
        pytest.param(
            [("heard-older", 50, DIGEST), ("heard-old", 100, DIGEST)],
            [("heard-newer", 200)],
            "heard-old.json",
            id="a saved report before any archive: the latest model's",
        ),
        pytest.param(
            [("heard-old", 100, "b" * 64)],
            [("heard-old", 100)],
            "heard-old.tar.gz",
            id="a report on another test set: the archive, evaluated again",
        ),
        pytest.param(
            [("heard-old", 100, "b" * 64)], [], None, id="only a report on another test set"
        ),
    ],
)
def test_choose_before(tmp_path, saved, archives, expected):
    reports, models = tmp_path / "reports", tmp_path / "models"
    for name, mtime, digest in saved:
        save_report(reports, report(name, mtime, digest, a=0.5))
    for name, mtime in archives:
        archive(models, name, mtime)
    (models / "notes.txt").parent.mkdir(exist_ok=True)
    (models / "notes.txt").write_text("not a model")
    (reports / "broken.json").parent.mkdir(exist_ok=True)
    (reports / "broken.json").write_text("{")
    chosen = choose_before(reports, models, "heard-current", DIGEST)
    assert (chosen.name if chosen else None) == expected


def test_choose_before_orders_reports_by_when_their_model_was_trained(tmp_path):
    """A report of an old model saved just now (`--before` an old archive) is not newer
    than the report of the model trained after it."""
    save_report(tmp_path, report("heard-second", 200, a=0.5))
    save_report(tmp_path, report("heard-first", 100, a=0.5))  # written last
    assert choose_before(tmp_path, tmp_path / "none", "heard-third", DIGEST) == (
        tmp_path / "heard-second.json"
    )


def test_rows_are_frozen():
    row = Row("a", 0.5, 0.6, 1, 1)
    with pytest.raises(AttributeError):
        row.after = 0.7  # type: ignore[misc]


def test_nothing_to_compare_with_is_said_in_one_line(tmp_path, monkeypatch, capsys):
    from bench import nlu_report

    monkeypatch.setattr(nlu_report, "MODELS", tmp_path / "models")
    current = report("heard-current", a=0.5)
    save_report(tmp_path / "reports", current)  # the current model's own: not an earlier one
    found = nlu_report.earlier_report(
        None, tmp_path / "reports", current, tmp_path / "t.yml", [], []
    )
    assert found is None
    assert capsys.readouterr().out == f"\n{nlu_report.NOTHING_EARLIER}\n"
    assert nlu_report.NOTHING_EARLIER == (
        "no earlier model or report to compare with: "
        "run make nlu-report before changing the data next time"
    )


def test_a_report_given_on_another_test_set_is_compared_with_a_note(tmp_path, capsys):
    from bench import nlu_report

    before = save_report(tmp_path, report("heard-before", digest="b" * 64, a=0.9))
    current = report("heard-current", a=0.5)
    found = nlu_report.earlier_report(before, tmp_path, current, tmp_path / "t.yml", [], [])
    assert found == load_report(before)
    assert "made on another version of" in capsys.readouterr().out


def test_a_file_that_is_not_a_report_is_refused(tmp_path):
    from bench import nlu_report

    path = tmp_path / "other.json"
    path.write_text("{}")
    with pytest.raises(SystemExit, match="not a report"):
        nlu_report.earlier_report(path, tmp_path, report(), tmp_path / "t.yml", [], [])


def test_print_change(capsys):
    from bench import nlu_report

    before = report("heard-before", check_refund_policy=(0.91, 20), track=0.9)
    after = report("heard-after", check_refund_policy=(0.78, 20), track=0.9)
    nlu_report.print_change(before, after)
    out = capsys.readouterr().out
    assert "heard-before -> heard-after" in out
    assert "check_refund_policy  0.910 -> 0.780   -0.130  20 test lines" in out
    assert not any(line.startswith("track ") for line in out.splitlines())  # did not move
    assert out.rstrip().endswith("macro-F1 0.850 -> 0.850")


@pytest.mark.slow
def test_report_saves_the_figures_and_compares_with_the_report_given(
    trained_model, tmp_path, monkeypatch, capsys
):
    """The whole of `python -m bench.nlu_report` on the real model and test set, compared
    with a made-up earlier report in which every intent had F1 1.0."""
    from bench import nlu_report

    digest = nlu_change.file_digest(nlu_report.TEST_SET)
    gold = {intent for _, intent, _ in nlu_report.examples(nlu_report.TEST_SET)}
    perfect = report("heard-perfect", digest=digest, **{intent: 1.0 for intent in gold})
    perfect["accuracy"] = perfect["macro_f1"] = 1.0
    before = save_report(tmp_path / "reports", perfect)
    monkeypatch.setattr(
        "sys.argv",
        [
            "nlu_report",
            "--model",
            str(trained_model),
            "--out",
            str(tmp_path / "nlu-test.json"),
            "--reports",
            str(tmp_path / "reports"),
            "--before",
            str(before),
        ],
    )
    nlu_report.main()
    out = capsys.readouterr().out
    saved = load_report(tmp_path / "reports" / f"{model_name(trained_model)}.json")
    assert saved is not None and saved["test_set_sha256"] == digest
    assert set(saved["intents"]) >= gold
    assert f"heard-perfect -> {model_name(trained_model)}" in out
    assert "accuracy 1.000 -> " in out
    assert "processor.message.parse" not in out  # Rasa's debug lines are not printed
