"""`python -m bot.emotion evaluate` and `download`: scores, formats and failure modes."""

from __future__ import annotations

import functools
import http.server
import threading

import pytest

from bot.emotion import download
from bot.emotion.__main__ import examples_from, main
from bot.emotion.evaluation import format_report, score
from bot.emotion.labels import LABELS


def test_score_against_hand_computed_figures():
    gold = ["anger", "anger", "joy", "joy", "neutral", "sadness"]
    pred = ["anger", "joy", "joy", "joy", "anger", "sadness"]
    per_label, macro, accuracy, negative, confusion = score(gold, pred)
    assert per_label["anger"][:3] == pytest.approx((0.5, 0.5, 0.5))
    assert per_label["joy"][:3] == pytest.approx((2 / 3, 1.0, 0.8))
    assert per_label["neutral"][:3] == (0.0, 0.0, 0.0)
    assert macro == pytest.approx((0.5 + 0.8 + 0.0 + 1.0) / 4)  # labels present only
    assert accuracy == pytest.approx(4 / 6)
    assert negative == pytest.approx(4 / 6)  # anger->joy and neutral->anger cross the line
    assert confusion["anger"]["joy"] == 1 and confusion["neutral"]["anger"] == 1


def test_report_lists_every_label():
    from bot.emotion.evaluation import Report

    per_label, macro, accuracy, negative, confusion = score(["joy"], ["joy"])
    text = format_report(Report(per_label, macro, accuracy, negative, confusion, 100.0, 1.5))
    assert all(label in text for label in LABELS)
    assert "macro-F1" in text and "confusion matrix" in text


def test_examples_from_reads_both_formats(tmp_path):
    plain = tmp_path / "set.tsv"
    plain.write_text("where is it\tneutral\nTHIS IS A JOKE\tanger\n")
    assert examples_from(plain) == [("where is it", "neutral"), ("THIS IS A JOKE", "anger")]
    (tmp_path / "labels.txt").write_text("anger\nannoyance\ncuriosity\nneutral\n")
    split = tmp_path / "dev.tsv"
    split.write_text("so mad\t0\tid1\nmeh\t1\tid2\nhm?\t2\tid3\nboth\t0,3\tid4\nok\t3\tid5\n")
    assert examples_from(split) == [
        ("so mad", "anger"),
        ("meh", "frustration"),
        ("ok", "neutral"),
    ]  # unmapped and ambiguous rows left out


def test_evaluate_explains_bad_input_instead_of_crashing(tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("no label here\n")
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"")
    assert main(["evaluate", str(bad), "--model", str(model)]) == 2
    assert "expected 'text<TAB>label'" in capsys.readouterr().err
    assert main(["evaluate", str(bad), "--model", str(tmp_path / "none.tar.gz")]) == 2
    assert "run `make train` first" in capsys.readouterr().err


@pytest.fixture
def source(tmp_path):
    """A loopback web server standing in for the official GoEmotions folder."""
    folder = tmp_path / "remote"
    folder.mkdir()
    (folder / "emotions.txt").write_text("anger\njoy\nneutral\n")
    for split in ("train", "dev", "test"):
        (folder / f"{split}.tsv").write_text("grr\t0\ta\nyay\t1\tb\nfine\t2\tc\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


def test_download_fetches_checks_and_moves_into_place(source, tmp_path, capsys):
    _, url = source
    dest = tmp_path / "data" / "goemotions"
    assert download.download_goemotions(dest, url) == 0
    assert sorted(p.name for p in dest.iterdir()) == [
        "dev.tsv",
        "labels.txt",
        "test.tsv",
        "train.tsv",
    ]
    assert "100%" in capsys.readouterr().out


def test_a_broken_download_leaves_nothing_behind(source, tmp_path, capsys):
    folder, url = source
    (folder / "dev.tsv").unlink()  # the server answers 404 for it
    dest = tmp_path / "goemotions"
    assert download.download_goemotions(dest, url) == 1
    assert not dest.exists()
    assert "could not download GoEmotions" in capsys.readouterr().err


def test_download_defaults_to_the_data_setting(tmp_path, monkeypatch):
    called = []
    monkeypatch.setattr(download, "download_goemotions", lambda dest: called.append(dest) or 0)
    monkeypatch.setenv("HEARD_DATA_DIR", str(tmp_path))
    assert main(["download"]) == 0
    assert main(["download", "--dest", str(tmp_path / "mine")]) == 0
    assert called == [tmp_path.resolve() / "goemotions", tmp_path / "mine"]


def test_offline_download_says_what_to_do(tmp_path, capsys):
    dest = tmp_path / "goemotions"
    assert download.download_goemotions(dest, "http://127.0.0.1:9/") == 1
    err = capsys.readouterr().err
    assert "by hand" in err and "Training works without them" in err
    assert not dest.exists()


@pytest.mark.slow
def test_evaluate_reads_the_emotion_model_inside_the_trained_model(trained_model, tmp_path, capsys):
    labelled = tmp_path / "set.tsv"
    labelled.write_text("I am absolutely furious with you\tanger\nthanks a lot!\tjoy\n")
    assert main(["evaluate", str(labelled), "--model", str(trained_model)]) == 0
    out = capsys.readouterr().out
    assert "macro-F1" in out and "(2 messages)" in out
