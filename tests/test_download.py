"""heard.download.fetch against a loopback server: a file arrives whole or not at all, and
every failure names the URL and what to do instead."""

from __future__ import annotations

import hashlib
import io
import socket
import time
from typing import Any, Dict

import pytest

from heard.download import DownloadError, fetch
from tests.loopback import LoopbackServer

BODY = b"train.tsv contents " * 1000
INSTEAD = "set SOME_PATH to a copy you have"


@pytest.fixture
def server():
    with LoopbackServer() as loopback:
        yield loopback


def leftovers(folder):
    return sorted(path.name for path in folder.iterdir())


def failure(url, target, **options) -> str:
    """The message of the DownloadError that fetching `url` raises."""
    options.setdefault("max_bytes", 10**6)
    with pytest.raises(DownloadError) as raised:
        fetch(url, target, instead=INSTEAD, **options)
    message = str(raised.value)
    assert url in message and INSTEAD in message
    return message


def test_a_download_lands_whole_with_its_digest(server, tmp_path):
    url = server.serve("data.tsv", BODY)
    shown = io.StringIO()
    digest = fetch(
        url,
        tmp_path / "data.tsv",
        max_bytes=len(BODY),
        progress=shown,
        sha256=hashlib.sha256(BODY).hexdigest().upper(),
    )  # either case
    assert digest == hashlib.sha256(BODY).hexdigest()
    assert (tmp_path / "data.tsv").read_bytes() == BODY
    assert leftovers(tmp_path) == ["data.tsv"]  # no temporary file
    assert "data.tsv 100%" in shown.getvalue() and shown.getvalue().endswith("\n")


@pytest.mark.parametrize(
    "case, reason",
    [
        ("wrong digest", "not the expected"),
        ("announced too long", f"announced {len(BODY)} bytes, more than the 1000 allowed"),
        ("too long, unannounced", "more than the 1000 bytes allowed arrived"),
        ("truncated", "truncated"),
        ("missing", "HTTP Error 404"),
    ],
)
def test_a_bad_download_leaves_the_old_file_alone(server, tmp_path, case, reason):
    target = tmp_path / "data.tsv"
    target.write_bytes(b"the copy from last week")
    url = server.serve("data.tsv", BODY[:900])
    options: Dict[str, Any] = {"max_bytes": 1000}
    if case == "wrong digest":
        options["sha256"] = "0" * 64
    elif case == "announced too long":
        server.routes["/data.tsv"] = BODY
    elif case == "too long, unannounced":
        server.routes["/data.tsv"] = BODY
        server.lengths["/data.tsv"] = None
    elif case == "truncated":
        server.lengths["/data.tsv"] = 950
    else:
        url = server.url("elsewhere.tsv")
    assert reason in failure(url, target, **options)
    assert target.read_bytes() == b"the copy from last week"
    assert leftovers(tmp_path) == ["data.tsv"]


def test_a_server_that_stops_sending_times_out(server, tmp_path):
    url = server.serve("data.tsv", BODY)
    server.stalls.add("/data.tsv")
    started = time.monotonic()
    assert "timed out" in failure(url, tmp_path / "data.tsv", timeout=0.5)
    assert time.monotonic() - started < 5
    assert leftovers(tmp_path) == []


def test_offline_says_what_to_do_instead(tmp_path):
    with socket.socket() as unused:  # a port nobody listens on
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}/data.tsv"
    assert "Connection refused" in failure(url, tmp_path / "data.tsv", timeout=5)
    assert leftovers(tmp_path) == []


def test_only_web_addresses_are_fetched(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("not for download")
    assert "not an http(s) URL" in failure(secret.as_uri(), tmp_path / "copy")
    assert leftovers(tmp_path) == ["secret"]
