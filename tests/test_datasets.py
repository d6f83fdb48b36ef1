"""`python -m bot.datasets download`: both data sets from a loopback server standing in for
their official sources; checks, the move into place, offline, and the fingerprint."""

from __future__ import annotations

import functools
import http.server
import json
import threading

import pytest

from bot import datasets as command
from bot import training
from bot.emotion import download as goemotions
from heard import datasets


def full_clinc150() -> dict:
    """A tiny data_full.json in the official layout (with the oos_test split)."""
    return {
        "train": [["what's the weather", "weather"], ["set a timer", "timer"]],
        "val": [["is it sunny", "weather"]],
        "test": [["timer for 5", "timer"]],
        "oos_train": [["odd one", "oos"]],
        "oos_val": [["odd two", "oos"]],
        "oos_test": [["odd three", "oos"]],
    }


@pytest.fixture
def source(tmp_path, monkeypatch):
    """A loopback web server with both official folders; the command points at it."""
    root = tmp_path / "remote"
    emotions, clinc = root / "goemotions", root / "clinc"
    emotions.mkdir(parents=True)
    clinc.mkdir()
    (emotions / "emotions.txt").write_text("anger\njoy\nneutral\n")
    for split in ("train", "dev", "test"):
        (emotions / f"{split}.tsv").write_text("grr\t0\ta\nyay\t1\tb\nfine\t2\tc\n")
    (clinc / "data_full.json").write_text(json.dumps(full_clinc150()))
    (clinc / "domains.json").write_text(json.dumps({"utility": ["weather", "timer"]}))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/"
    monkeypatch.setattr(goemotions, "SOURCE", url + "goemotions/")
    monkeypatch.setattr(command, "CLINC150_SOURCE", url + "clinc/")
    yield root
    server.shutdown()


def test_download_puts_both_data_sets_where_training_reads_them(
    source, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path / "sets"))
    assert command.main(["download"]) == 0
    assert sorted(p.name for p in datasets.goemotions_dir().iterdir()) == [
        "dev.tsv",
        "labels.txt",
        "test.tsv",
        "train.tsv",
    ]
    assert sorted(p.name for p in datasets.clinc150_file().parent.iterdir()) == [
        "clinc150.json",
        "domains.json",
    ]
    saved = json.loads(datasets.clinc150_file().read_text())
    expected = full_clinc150()
    del expected["oos_test"]  # as in ../shared/data
    assert saved == expected
    assert not list((tmp_path / "sets").glob(".*"))  # no staging folders left
    out = capsys.readouterr().out
    assert "100%" in out and "CLINC150 saved" in out
    assert command.main(["download"]) == 0  # already there: nothing fetched again
    assert "CLINC150 is already in" in capsys.readouterr().out


def test_dest_elsewhere_says_how_to_use_it(source, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path / "sets"))
    assert command.main(["download", "--dest", str(tmp_path / "other")]) == 0
    assert (tmp_path / "other" / "clinc150" / "clinc150.json").is_file()
    assert f"set HEARD_DATA_DIR={tmp_path / 'other'}" in capsys.readouterr().out


def test_into_an_existing_folder_keeps_what_is_there(source, tmp_path):
    dest = tmp_path / "clinc150"
    dest.mkdir()
    (dest / "LICENSE").write_text("CC BY 3.0")
    assert command.download_clinc150(dest, command.CLINC150_SOURCE) == 0
    assert sorted(p.name for p in dest.iterdir()) == ["LICENSE", "clinc150.json", "domains.json"]


@pytest.mark.parametrize("damage", ["missing", "not json", "unknown intent", "no rows"])
def test_a_bad_clinc150_download_leaves_nothing_behind(source, tmp_path, capsys, damage):
    full = source / "clinc" / "data_full.json"
    if damage == "missing":
        full.unlink()  # the server answers 404
    elif damage == "not json":
        full.write_text("<html>rate limited</html>")
    else:
        data = full_clinc150()
        if damage == "unknown intent":
            data["train"].append(["book a flight", "book_flight"])
        else:
            data["val"] = []
        full.write_text(json.dumps(data))
    dest = tmp_path / "sets" / "clinc150"
    assert command.download_clinc150(dest, command.CLINC150_SOURCE) == 1
    assert not dest.exists()
    assert not list(dest.parent.iterdir())  # the staging folder is gone too
    assert "could not download CLINC150" in capsys.readouterr().err


def test_offline_download_says_so_and_how_to_place_the_files(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(goemotions, "SOURCE", "http://127.0.0.1:9/")
    monkeypatch.setattr(command, "CLINC150_SOURCE", "http://127.0.0.1:9/")
    dest = tmp_path / "sets"
    assert command.main(["download", "--dest", str(dest)]) == 1
    err = capsys.readouterr().err
    assert "Offline?" in err and "by hand" in err and "data_full.json" in err
    # Each failure names what could not be fetched.
    assert "http://127.0.0.1:9/train.tsv" in err and "http://127.0.0.1:9/data_full.json" in err
    assert "Training works without it" in err
    assert not (dest / "goemotions").exists() and not (dest / "clinc150").exists()


def test_the_fingerprint_follows_the_data_sets_training_reads(source, tmp_path, monkeypatch):
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path / "sets"))
    assert list(training.dataset_files()) == []
    assert command.main(["download"]) == 0
    assert list(training.dataset_files()) == [
        datasets.goemotions_dir() / "labels.txt",
        datasets.goemotions_dir() / "train.tsv",
        datasets.clinc150_file(),
    ]
    root = tmp_path / "project"
    root.mkdir()
    (root / "config.yml").write_text("a")
    inputs = [root / "config.yml", *training.dataset_files()]
    before = training.fingerprint(inputs, root)
    moved = tmp_path / "moved"
    (tmp_path / "sets").rename(moved)  # the same files elsewhere: the same model
    monkeypatch.setenv(datasets.ENV_VAR, str(moved))
    assert training.fingerprint([root / "config.yml", *training.dataset_files()], root) == before
    datasets.clinc150_file().write_text(json.dumps({"train": []}))
    assert training.fingerprint([root / "config.yml", *training.dataset_files()], root) != before
