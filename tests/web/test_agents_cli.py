"""`python -m web agents`: adding, listing and removing console agents, clear errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text

from tests.harness import ROOT


@pytest.fixture
def database(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/heard.db"


def agents(database: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "web", "agents", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "DATABASE_URL": database},
    )


def stored(database: str):
    with create_engine(database).connect() as connection:
        return connection.execute(
            text("select username, name, password_hash from console_agents order by username")
        ).all()


def test_add_stores_an_argon2_hash_not_the_password(database):
    result = agents(
        database,
        "add",
        "sam",
        "--name",
        "Sam Rivera",
        "--password-stdin",
        stdin="correct horse battery\n",
    )
    assert result.returncode == 0, result.stderr
    assert "sam" in result.stdout and "Sam Rivera" in result.stdout
    [(username, name, password_hash)] = stored(database)
    assert (username, name) == ("sam", "Sam Rivera")
    assert password_hash.startswith("$argon2id$")
    assert "correct horse battery" not in password_hash


def test_list_and_remove(database):
    for username, name in (("sam", "Sam Rivera"), ("kim", "Kim Lee")):
        agents(
            database,
            "add",
            username,
            "--name",
            name,
            "--password-stdin",
            stdin="a long enough password\n",
        )
    listed = agents(database, "list")
    assert listed.returncode == 0
    assert [line.split("\t")[:2] for line in listed.stdout.splitlines()] == [
        ["kim", "Kim Lee"],
        ["sam", "Sam Rivera"],
    ]
    removed = agents(database, "remove", "kim")
    assert removed.returncode == 0 and "removed" in removed.stdout
    assert [row[0] for row in stored(database)] == ["sam"]


def test_list_when_there_are_none(database):
    result = agents(database, "list")
    assert result.returncode == 0 and "no agents yet" in result.stdout


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (("add", "sam", "--name", "Sam", "--password-stdin"), "short\n", "at least 10 characters"),
        (
            ("add", "Sam Rivera", "--name", "Sam", "--password-stdin"),
            "long enough pw\n",
            "a username has 3 to 40 characters",
        ),
        (
            ("add", "sam", "--name", "  ", "--password-stdin"),
            "long enough pw\n",
            "a display name has 1 to 80 characters",
        ),
        (("remove", "nobody"), "", "there is no agent called 'nobody'"),
    ],
)
def test_mistakes_get_one_clear_line_and_change_nothing(database, args, stdin, message):
    result = agents(database, *args, stdin=stdin)
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {message}" or message in result.stderr
    assert "Traceback" not in result.stderr
    assert stored(database) == []


def test_a_duplicate_username_is_refused(database):
    agents(
        database,
        "add",
        "sam",
        "--name",
        "Sam Rivera",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    result = agents(
        database,
        "add",
        "sam",
        "--name",
        "Other Sam",
        "--password-stdin",
        stdin="another long password\n",
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "error: an agent called 'sam' already exists"
    assert [row[1] for row in stored(database)] == ["Sam Rivera"]


def test_without_a_terminal_or_stdin_option_it_stops_cleanly(database):
    """getpass reads the terminal; with none and empty input the command gives up."""
    result = subprocess.run(
        [sys.executable, "-m", "web", "agents", "add", "sam", "--name", "Sam"],
        input="",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database},
        timeout=120,
        start_new_session=True,
    )  # no controlling terminal
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert stored(database) == []


def test_a_database_that_cannot_be_opened_is_reported_without_its_password(tmp_path):
    (tmp_path / "a-file").write_text("")
    result = agents(f"sqlite:///{tmp_path}/a-file/heard.db", "list")
    assert result.returncode == 1
    assert result.stderr.startswith("error: the database at") and "Traceback" not in result.stderr
    result = agents("postgresql://heard:s3cret@127.0.0.1:1/heard", "list")
    assert result.returncode == 1 and "s3cret" not in result.stderr
    assert "Traceback" not in result.stderr
