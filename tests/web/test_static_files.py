"""Which file a static URL may serve (the server-level refusals are in test_console_api)."""

from __future__ import annotations

import os

import pytest

from web import static_files


@pytest.fixture
def root(tmp_path):
    (tmp_path / "site" / "css").mkdir(parents=True)
    (tmp_path / "site" / "index.html").write_text("<p>hi</p>")
    (tmp_path / "site" / "css" / "a.css").write_text("p{}")
    (tmp_path / "site" / ".env").write_text("SECRET=1")
    (tmp_path / "site" / "notes.yml").write_text("x: 1")
    (tmp_path / "secret.txt").write_text("outside")
    os.symlink(tmp_path / "secret.txt", tmp_path / "site" / "link.txt")
    return tmp_path / "site"


@pytest.mark.parametrize(
    "relative, served",
    [
        ("index.html", "index.html"),
        ("css/a.css", "css/a.css"),
        ("../secret.txt", None),
        ("css/../../secret.txt", None),
        ("/etc/passwd", None),
        (".env", None),
        ("css/.hidden", None),
        ("link.txt", None),  # a symlink leading out of the folder
        ("notes.yml", None),  # not a type the site serves
        ("css", None),
        ("css//a.css", None),
        ("..\\secret.txt", None),
        ("index.html\x00.js", None),
        ("", None),
    ],
)
def test_resolve(root, relative, served):
    found = static_files.resolve(root, relative)
    assert (found.relative_to(root.resolve()).as_posix() if found else None) == served


def test_content_types(root):
    assert static_files.content_type(root / "index.html") == "text/html; charset=utf-8"
    assert static_files.content_type(root / "x.JS") == "text/javascript; charset=utf-8"
    assert static_files.content_type(root / "notes.yml") is None
