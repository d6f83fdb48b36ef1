"""heard/settings.py: every variable parsed and checked in one place, the README's table
generated from it, and the servers refusing to start on a wrong one."""

from __future__ import annotations

import ast
import dataclasses
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from heard import settings
from heard.settings import BY_NAME, LOADED, VARIABLES, Settings, SettingsError
from tests.harness import ROOT

NAMES = [variable.name for variable in LOADED]

# At least one wrong value for each variable the servers load; the message names it.
BAD = {
    "DATABASE_URL": ["mysql://heard:pw@db/heard", "var/heard.db", "postgres://h/heard"],
    "HEARD_STAFFED_HOURS": ["Mon-Fri", "Mon-Fri 17:00-09:00", "Funday 09:00-17:00"],
    "HEARD_CONSOLE_SESSION_HOURS": ["eight", "0", "-1", "1000"],
    "VOSK_MODEL_PATH": ["https://alphacephei.com/vosk/models/model.zip"],
    "HEARD_API_TOKEN": ["short", "a token with spaces in it", "x" * 257, "tok&en=1234567890abcdef"],
    "HEARD_MAX_MESSAGE_CHARS": ["lots", "10", "20001"],
    "HEARD_MAX_REQUEST_BYTES": ["99999999999", "64k"],
    "HEARD_SESSION_MAX_TURNS": ["2", "twenty"],
    "HEARD_RETENTION_DAYS": ["0", "-5", "3651", "1.5", "ninety", "90d"],
    "HEARD_LOG_PERSONAL_DATA": ["yes", "true", "2"],
    "HEARD_DATA_DIR": ["https://example.com/datasets", str(ROOT / "README.md")],
    "REDIS_URL": ["http://cache:6379", "localhost:6379", "redis://"],
    "HEARD_REPLICAS": ["0", "65", "two"],
    "TICKET_LOCK_LIFETIME": ["0", "3601", "sixty", ""],
    "TRACKER_DB_HOST": ["db host", "postgres://db"],
    "TRACKER_DB_PORT": ["0", "65536", "fivefourthreetwo"],
    "TRACKER_DB_NAME": ["heard-tracker", "1db"],
    "TRACKER_DB_USER": ["heard user"],
    "TRACKER_DB_PASSWORD": ["pass\tword"],
    "ACTION_ENDPOINT_URL": ["actions:5055/webhook", "ftp://actions/webhook"],
}
SECRET = "hunter2secretpassword"


def defaults() -> Settings:
    return settings.load({})


def test_the_readme_table_is_generated_from_the_settings_table():
    """To change it: edit heard/settings.py, then paste `python -m heard.settings --markdown`
    over the table under README.md's "### Settings"."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("\n### Settings\n") :]
    start = section.index("\n| variable |") + 1
    lines = []
    for line in section[start:].splitlines(keepends=True):
        if not line.startswith("|"):
            break
        lines.append(line)
    assert "".join(lines) == settings.markdown()


def test_the_command_prints_the_table():
    out = subprocess.run(
        [sys.executable, "-m", "heard.settings", "--markdown"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert out == settings.markdown()


def test_every_variable_is_a_settings_field_or_build_only():
    assert [v.field for v in LOADED] == [f.name for f in dataclasses.fields(Settings)]
    assert len(BY_NAME) == len(VARIABLES)
    # PYTHON: read by the Makefile (scripts/find_python.sh) before any Python of Heard runs.
    assert settings.BUILD_ONLY == ("PYTHON",)
    assert "${PYTHON:-}" in (ROOT / "scripts" / "find_python.sh").read_text()
    with pytest.raises(KeyError, match="make only"):
        settings.read("PYTHON")


def test_the_defaults():
    assert defaults() == Settings(
        database_url="sqlite:///var/heard.db",
        staffed_hours=settings.StaffedHours.parse("Mon-Sat 08:00-20:00"),
        console_session_lifetime=timedelta(hours=8),
        vosk_model_path=None,
        api_token=None,
        max_message_chars=2_000,
        max_request_bytes=65_536,
        session_max_turns=20,
        retention_days=90,
        log_personal_data=False,
        data_dir=ROOT / "datasets",
        redis_url=None,
        replicas=1,
        ticket_lock_lifetime=60,
        tracker_db_host=None,
        tracker_db_port=5432,
        tracker_db_name="heard_tracker",
        tracker_db_user="heard",
        tracker_db_password="",
        action_endpoint_url=None,
    )


@pytest.mark.parametrize("variable", LOADED, ids=lambda v: v.name)
def test_each_default_parses_to_the_value_unset_gives(variable):
    unset = getattr(defaults(), variable.field)
    if variable.default is None:
        assert variable.shown_default, "a variable without a default says what unset means"
        assert unset == variable.unset
    else:
        assert variable.parse(variable.default, variable.name) == unset
        assert settings.load({variable.name: variable.default}) == defaults()
    if variable.blank_is_unset:
        assert settings.load({variable.name: "  "}) == defaults()


def test_every_loaded_variable_has_bad_values_in_this_test():
    assert sorted(BAD) == sorted(NAMES)


@pytest.mark.parametrize("name, raw", [(n, raw) for n, values in BAD.items() for raw in values])
def test_a_bad_value_is_refused_naming_the_variable(name, raw):
    with pytest.raises(SettingsError) as raised:
        settings.load({name: raw})
    assert len(raised.value.problems) == 1
    assert raised.value.problems[0].startswith(name)
    with pytest.raises(ValueError, match=name):  # one variable at a time, as modules do
        settings.read(name, {name: raw})


@pytest.mark.parametrize(
    "name, raw",
    [
        ("DATABASE_URL", f"mysql://heard:{SECRET}@db/heard"),
        ("REDIS_URL", f"http://:{SECRET}@cache:6379"),
        ("HEARD_API_TOKEN", f"{SECRET} with a space"),
    ],
)
def test_messages_repeat_nothing_secret(name, raw):
    with pytest.raises(SettingsError) as raised:
        settings.load({name: raw})
    assert SECRET not in str(raised.value)


def test_settings_repr_shows_no_secrets():
    loaded = settings.load(
        {
            "DATABASE_URL": f"postgresql://heard:{SECRET}@db/heard",
            "REDIS_URL": f"redis://:{SECRET}@cache:6379/0",
            "HEARD_API_TOKEN": SECRET,
        }
    )
    assert SECRET not in repr(loaded)


@pytest.mark.parametrize(
    "name, raw, value",
    [
        (
            "DATABASE_URL",
            "postgresql+psycopg2://u:pw@h:5432/heard",
            "postgresql+psycopg2://u:pw@h:5432/heard",
        ),
        ("DATABASE_URL", " sqlite:////tmp/x.db ", "sqlite:////tmp/x.db"),
        ("HEARD_CONSOLE_SESSION_HOURS", "0.5", timedelta(minutes=30)),
        ("VOSK_MODEL_PATH", "~/vosk", Path("~/vosk").expanduser()),
        ("HEARD_API_TOKEN", "abc-DEF_123.456~xyz", "abc-DEF_123.456~xyz"),
        ("HEARD_RETENTION_DAYS", "OFF", None),
        ("HEARD_RETENTION_DAYS", " 365 ", 365),
        ("HEARD_LOG_PERSONAL_DATA", "1", True),
        ("HEARD_LOG_PERSONAL_DATA", "0", False),
        ("REDIS_URL", "rediss://:pw@cache:6380/1", "rediss://:pw@cache:6380/1"),
        ("REDIS_URL", "unix:///run/redis.sock", "unix:///run/redis.sock"),
        ("HEARD_REPLICAS", "1", 1),
        ("TICKET_LOCK_LIFETIME", "3600", 3600),
    ],
)
def test_good_values(name, raw, value):
    assert settings.read(name, {name: raw}) == value


def test_the_modules_read_through_the_table():
    """The readers modules kept (some take an environ of their own) parse with it."""
    from bot import retention
    from heard import datasets, limits
    from heard.staffed_hours import StaffedHours
    from web.sessions import lifetime_from

    environ = {
        "HEARD_MAX_MESSAGE_CHARS": "300",
        "HEARD_RETENTION_DAYS": "off",
        "HEARD_CONSOLE_SESSION_HOURS": "2",
        "HEARD_DATA_DIR": "/tmp/sets",
    }
    assert limits.max_message_chars(environ) == 300
    assert retention.retention_days(environ) is None
    assert lifetime_from(environ) == timedelta(hours=2)
    assert datasets.data_dir(environ) == Path("/tmp/sets").resolve()
    assert StaffedHours is settings.StaffedHours
    assert defaults().max_message_chars == limits.DEFAULT_MAX_MESSAGE_CHARS


def test_several_bad_variables_are_all_reported():
    environ = {
        "HEARD_MAX_MESSAGE_CHARS": "abc",
        "HEARD_STAFFED_HOURS": "always",
        "DATABASE_URL": "mysql://db/heard",
        "HEARD_REPLICAS": "100",
        "TICKET_LOCK_LIFETIME": "0",
        "HEARD_SESSION_MAX_TURNS": "20",
    }
    with pytest.raises(SettingsError) as raised:
        settings.load(environ)
    named = [problem.split(":")[0].split()[0] for problem in raised.value.problems]
    assert sorted(named) == sorted(set(environ) - {"HEARD_SESSION_MAX_TURNS"})
    report = raised.value.report()
    assert report.startswith("error: 5 settings are wrong:\n  ")
    assert all(problem in report for problem in raised.value.problems)


def test_one_bad_variable_is_one_line():
    with pytest.raises(SettingsError) as raised:
        settings.load({"HEARD_MAX_MESSAGE_CHARS": "abc"})
    assert raised.value.report() == (
        "error: HEARD_MAX_MESSAGE_CHARS must be a whole number, not 'abc'"
    )


def test_more_than_one_replica_needs_redis():
    with pytest.raises(SettingsError) as raised:
        settings.load({"HEARD_REPLICAS": "2"})
    assert raised.value.problems == [
        "HEARD_REPLICAS is 2, but more than one replica needs REDIS_URL for the lock store "
        "and shared state"
    ]
    shared = settings.load({"HEARD_REPLICAS": "2", "REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert (shared.replicas, shared.redis_url) == (2, "redis://127.0.0.1:6379/0")
    assert settings.load({"REDIS_URL": "redis://127.0.0.1:6379/0"}).replicas == 1


def test_a_wrong_redis_url_is_reported_once_with_replicas():
    with pytest.raises(SettingsError) as raised:
        settings.load({"HEARD_REPLICAS": "2", "REDIS_URL": "http://cache"})
    assert [p.split()[0] for p in raised.value.problems] == ["REDIS_URL"]


def test_current_is_parsed_once_and_again_when_the_environment_changes(monkeypatch):
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    first = settings.current()
    assert settings.current() is first  # cached
    monkeypatch.setenv("HEARD_MAX_MESSAGE_CHARS", "300")
    assert settings.current().max_message_chars == 300
    assert settings.read("HEARD_MAX_MESSAGE_CHARS") == 300
    monkeypatch.setenv("HEARD_REPLICAS", "many")
    with pytest.raises(SettingsError, match="HEARD_REPLICAS"):
        settings.current()
    # A module reading another variable goes on; the servers refuse to start.
    assert settings.read("HEARD_MAX_MESSAGE_CHARS") == 300
    with pytest.raises(ValueError, match="HEARD_REPLICAS"):
        settings.read("HEARD_REPLICAS")


# --- No product module reads the environment but heard/settings.py -----------------------

PACKAGES = ("actions", "bot", "heard", "nlu", "store", "voice", "web")
# The only other files that may touch os.environ, and why. None reads a variable of the
# settings table, except the pairs in STILL_READ.
ALLOWED = {
    "heard/settings.py": "the one place Heard's variables are read",
    "bot/rasa_main.py": "sets the maths libraries' thread counts before numpy loads, and "
    "SANIC_REQUEST_MAX_SIZE, which Sanic reads itself",
    "bot/__main__.py": "sets RASA_TELEMETRY_ENABLED, SQLALCHEMY_SILENCE_UBER_WARNING and "
    "TF_CPP_MIN_LOG_LEVEL defaults for itself and the servers it starts",
    "bot/story_check.py": "sets Rasa's LOG_LEVEL while it runs the stories (no progress bars)",
    "bot/training.py": "passes the environment on to the `rasa train` it runs",
    "bot/servers.py": "passes the environment on to the servers it starts",
}
STILL_READ = set()  # reads not yet moved to the settings module: none
ENV_FUNCTIONS = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


def _product_files():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "node_modules" not in path.parts:
                yield path.relative_to(ROOT).as_posix(), path


def _environment_uses(tree: ast.AST):
    """(line, what, variable read or None) for each touch of the environment."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            for alias in node.names:
                if alias.name in ENV_FUNCTIONS:
                    yield node.lineno, f"from os import {alias.name}", None
        touches_os = (
            isinstance(node, ast.Attribute)
            and node.attr in ENV_FUNCTIONS
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        )
        # environ.get("NAME") / environ["NAME"] on a parameter called environ or env
        named_environ = isinstance(node, ast.Name) and node.id in ("environ", "env")
        if not (touches_os or named_environ):
            continue
        parent, read = parents.get(node), None
        if isinstance(parent, ast.Subscript) and isinstance(parent.slice, ast.Constant):
            read = parent.slice.value
        elif isinstance(parent, ast.Attribute) and isinstance(parents.get(parent), ast.Call):
            args = parents[parent].args
            if args and isinstance(args[0], ast.Constant):
                read = args[0].value
        elif (
            isinstance(parent, ast.Call)
            and parent.func is node
            and parent.args
            and isinstance(parent.args[0], ast.Constant)
        ):  # os.getenv("NAME")
            read = parent.args[0].value
        if touches_os or read in BY_NAME:
            yield node.lineno, ast.unparse(parent if read else node), read


def test_no_product_module_reads_the_environment_but_the_settings_module():
    wrong = []
    for name, path in _product_files():
        for line, what, read in _environment_uses(ast.parse(path.read_text(), str(path))):
            if name == "heard/settings.py":
                continue
            if read in BY_NAME and (name, read) not in STILL_READ:
                wrong.append(f"{name}:{line}: {what} (read it through heard.settings)")
            elif name not in ALLOWED and read not in BY_NAME:
                wrong.append(f"{name}:{line}: {what} (only heard/settings.py reads it)")
    assert wrong == []


def test_the_check_finds_reads():
    code = (
        "import os\nfrom os import getenv\n"
        "a = os.environ.get('DATABASE_URL')\nb = os.getenv('HOME')\n"
        "def f(environ):\n    return environ['HEARD_REPLICAS']\n"
    )
    found = [(line, read) for line, _, read in _environment_uses(ast.parse(code))]
    assert sorted(found) == [(2, None), (3, "DATABASE_URL"), (4, "HOME"), (6, "HEARD_REPLICAS")]


# --- Servers refuse to start on a wrong setting ------------------------------------------


def _environment(**changes):
    env = {k: v for k, v in os.environ.items() if k not in BY_NAME}
    return {**env, "RASA_TELEMETRY_ENABLED": "false", **changes}


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "bot", "run"],
        ["-m", "actions", "--actions", "actions", "--port", "1"],
        ["-m", "web", "agents", "list"],
    ],
    ids=["bot run", "action server", "web agents"],
)
def test_a_server_start_with_a_bad_setting_exits_2_saying_why(command):
    done = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=_environment(HEARD_MAX_MESSAGE_CHARS="abc"),
    )
    assert done.returncode == 2
    assert "error: HEARD_MAX_MESSAGE_CHARS must be a whole number, not 'abc'" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_bot_run_lists_every_bad_setting():
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=_environment(HEARD_REPLICAS="2", HEARD_STAFFED_HOURS="never"),
    )
    assert done.returncode == 2
    assert "error: 2 settings are wrong:" in done.stderr
    assert "HEARD_STAFFED_HOURS: staffed hours 'never'" in done.stderr
    assert "more than one replica needs REDIS_URL" in done.stderr


def test_the_rasa_server_refuses_before_rasa_loads():
    """Rasa reads TICKET_LOCK_LIFETIME when it is imported: the check comes first."""
    done = subprocess.run(
        [sys.executable, "-m", "bot.rasa_main", "run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=_environment(TICKET_LOCK_LIFETIME="sixty"),
    )
    assert done.returncode == 2
    assert "error: TICKET_LOCK_LIFETIME must be a whole number, not 'sixty'" in done.stderr
    assert "Traceback" not in done.stderr
