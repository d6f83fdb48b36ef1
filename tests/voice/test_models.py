"""ensure_model against a loopback HTTP server serving fake model archives."""

from __future__ import annotations

import hashlib
import io
import logging
import socket
import zipfile

import pytest

from tests.loopback import LoopbackServer
from voice import models
from voice.models import ensure_model

TOP = "vosk-model-fake-0.1"


def make_zip(top: str = TOP, stored: bool = False) -> bytes:
    buf = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buf, "w", method) as zf:
        zf.writestr(f"{top}/am/final.mdl", b"acoustic model " * 200)
        zf.writestr(f"{top}/conf/model.conf", "--beam=10.0\n")
        zf.writestr(f"{top}/graph/Gr.fst", b"graph")
    return buf.getvalue()


@pytest.fixture
def server():
    with LoopbackServer() as loopback:
        yield loopback


@pytest.fixture(autouse=True)
def no_env_override(monkeypatch):
    monkeypatch.delenv("VOSK_MODEL_PATH", raising=False)


def leftovers(dest):
    return sorted(p.name for p in dest.iterdir()) if dest.exists() else []


def voice_off_lines(caplog):
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("voice off:")]


def test_download_unpacks_into_place(server, tmp_path):
    body = make_zip()
    url = server.serve(f"{TOP}.zip", body)
    shown = io.StringIO()
    path = ensure_model(tmp_path / "vosk", url, hashlib.sha256(body).hexdigest(), progress=shown)
    assert path == tmp_path / "vosk" / TOP
    assert (path / "am" / "final.mdl").read_bytes() == b"acoustic model " * 200
    assert leftovers(tmp_path / "vosk") == [TOP]  # no partial folder, no zip
    assert "100%" in shown.getvalue() and shown.getvalue().endswith("\n")  # a finished line


def test_existing_model_is_not_downloaded_again(server, tmp_path):
    url = server.serve(f"{TOP}.zip", make_zip())
    first = ensure_model(tmp_path, url)
    second = ensure_model(tmp_path, url)
    assert first == second
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "case",
    [
        "garbage",
        "truncated_archive",
        "crc_mismatch",
        "wrong_top_folder",
        "sha256_mismatch",
        "short_body",
        "http_404",
        "zip_bomb",
    ],
)
def test_bad_downloads_leave_nothing_behind(server, tmp_path, caplog, case):
    good = make_zip(stored=True)
    body, sha = good, None
    if case == "garbage":
        body = b"<html>captive portal</html>"
    elif case == "truncated_archive":
        body = good[: len(good) // 2]
    elif case == "crc_mismatch":
        i = good.index(b"acoustic model") + 3  # stored, so the bytes are the file's data
        body = good[:i] + b"X" + good[i + 1 :]
    elif case == "wrong_top_folder":
        body = make_zip(top="something-else")
    elif case == "sha256_mismatch":
        sha = "0" * 64
    elif case == "zip_bomb":  # 50 MB of zeros in a 50 KB archive
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(f"{TOP}/am/final.mdl", bytes(50 * 10**6))
        body = buffer.getvalue()
    url = server.serve(f"{TOP}.zip", body)
    if case == "short_body":
        server.lengths[f"/{TOP}.zip"] = len(body) + 1000
    if case == "http_404":
        url = server.url("missing.zip")
    dest = tmp_path / "vosk"
    assert ensure_model(dest, url, sha) is None
    assert leftovers(dest) == []
    assert len(voice_off_lines(caplog)) == 1


def test_unreachable_url_switches_voice_off_with_one_line(tmp_path, caplog):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/{TOP}.zip"
    assert ensure_model(tmp_path / "vosk", url, timeout=5) is None
    lines = voice_off_lines(caplog)
    assert len(lines) == 1 and "\n" not in lines[0]
    assert url in lines[0] and "VOSK_MODEL_PATH" in lines[0]
    assert [r.levelno for r in caplog.records if r.getMessage() == lines[0]] == [logging.WARNING]
    assert leftovers(tmp_path / "vosk") == []


def test_env_override_wins_without_network(tmp_path, monkeypatch):
    model = tmp_path / "my-model"
    (model / "am").mkdir(parents=True)
    monkeypatch.setenv("VOSK_MODEL_PATH", str(model))
    assert ensure_model(tmp_path / "vosk", "http://127.0.0.1:1/never.zip") == model


def test_env_override_to_nothing_switches_voice_off(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("VOSK_MODEL_PATH", str(tmp_path / "nope"))
    assert ensure_model(tmp_path / "vosk") is None
    assert len(voice_off_lines(caplog)) == 1


def test_cli_download(server, tmp_path, capsys):
    url = server.serve(f"{TOP}.zip", make_zip())
    assert models.main(["download", "--dest", str(tmp_path), "--url", url]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(tmp_path / TOP)
    assert "100%" in err  # the progress display


def test_cli_download_failure_exits_non_zero(server, tmp_path):
    missing = server.url("missing.zip")
    assert models.main(["download", "--dest", str(tmp_path), "--url", missing]) == 1
