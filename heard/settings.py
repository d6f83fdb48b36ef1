"""Every environment variable Heard reads, parsed and checked in one place.

`VARIABLES` is the table: each variable's name, its default (as a user would write it),
the parser that checks and converts it (a ValueError saying what is wrong, naming the
variable), and its meaning. README.md's "### Settings" table is generated from it
(`python -m heard.settings --markdown`; tests/test_settings.py keeps the two equal).

Each server's start (`python -m bot run`, `bot.rasa_main`, `python -m actions`, the
`python -m web` command line) loads them all first and refuses to start, with exit code 2
and every wrong variable on stderr, before it does anything else (`at_start`). Code reads
its value with `read(NAME)` (or `current().field`): the settings of this process, parsed
once; parsed again only when the environment changed since, which only tests do
(monkeypatch). `read(NAME, environ)` parses one variable from a mapping of the caller's.

Standard library only: every process may import it before anything else is loaded.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from heard.paths import ROOT
from heard.staffed_hours import DEFAULT_STAFFED_HOURS, StaffedHours

DEFAULT_DATA_DIR = ROOT / "datasets"
DEFAULT_DATABASE_URL = "sqlite:///var/heard.db"
DATABASE_DIALECTS = ("sqlite", "postgresql")  # what store/ runs on (INSERT ... ON CONFLICT)
REDIS_SCHEMES = ("redis", "rediss", "unix")
_TOKEN = re.compile(r"[A-Za-z0-9._~-]{16,256}")  # URL-safe: it goes into ?token=...


class SettingsError(ValueError):
    """One or more variables are wrong; `problems` has one line for each, naming it."""

    def __init__(self, problems: List[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))

    def report(self) -> str:
        """What a server prints on stderr before it exits with code 2."""
        if len(self.problems) == 1:
            return f"error: {self.problems[0]}"
        lines = "".join(f"\n  {problem}" for problem in self.problems)
        return f"error: {len(self.problems)} settings are wrong:{lines}"


# Parsers: the value as set (spaces around it removed) and the variable's name -> the
# value, or ValueError with the reason, naming the variable. Nothing secret is repeated
# back (URLs can carry passwords; the token is one).


def _whole_number(low: int, high: int) -> Callable[[str, str], int]:
    def parse(raw: str, name: str) -> int:
        if not raw:  # only where blank_is_unset is False: Rasa fails on an empty one
            raise ValueError(f"{name} is set but empty: unset it, or give a whole number")
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
        if not low <= value <= high:
            raise ValueError(f"{name} must be between {low} and {high}, not {value}")
        return value

    return parse


def _scheme(raw: str) -> str:
    """How a URL is named in a message: its scheme only, never the rest."""
    scheme, separator, _ = raw.partition("://")
    return f"a {scheme}:// URL" if separator and scheme.isascii() else "a value without ://"


def parse_database_url(raw: str, name: str = "DATABASE_URL") -> str:
    scheme, separator, _ = raw.partition("://")
    if not separator or scheme.split("+", 1)[0].lower() not in DATABASE_DIALECTS:
        hint = " (SQLAlchemy says postgresql://)" if scheme.lower() == "postgres" else ""
        raise ValueError(
            f"{name} must be a sqlite:/// or postgresql:// URL, not {_scheme(raw)}{hint}"
        )
    return raw


def parse_staffed_hours(raw: str, name: str = "HEARD_STAFFED_HOURS") -> StaffedHours:
    try:
        return StaffedHours.parse(raw)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None


def parse_session_hours(raw: str, name: str = "HEARD_CONSOLE_SESSION_HOURS") -> timedelta:
    try:
        hours = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of hours, not {raw!r}") from None
    if not 0 < hours <= 24 * 7:
        raise ValueError(f"{name} must be more than 0 and at most 168 hours")
    return timedelta(hours=hours)


def parse_folder(raw: str, name: str) -> Path:
    if "://" in raw:
        raise ValueError(f"{name} must be a folder on this machine, not {_scheme(raw)}")
    return Path(raw).expanduser()


def parse_data_dir(raw: str, name: str = "HEARD_DATA_DIR") -> Path:
    path = parse_folder(raw, name).resolve()
    if path.exists() and not path.is_dir():
        raise ValueError(f"{name} must be a folder, not the file {str(path)!r}")
    return path


def parse_api_token(raw: str, name: str = "HEARD_API_TOKEN") -> str:
    if not _TOKEN.fullmatch(raw):
        raise ValueError(
            f"{name} must be 16 to 256 letters, digits or - _ . ~ (it goes into "
            f"URLs); the value set has {len(raw)} characters"
        )
    return raw


def parse_retention_days(
    raw: str, name: str = "HEARD_RETENTION_DAYS", default: int = 90, most: int = 3650
) -> Optional[int]:
    """Days a conversation is kept after its last event; None for "off" (kept forever)."""
    raw = raw.strip()
    if not raw:
        return default
    if raw.lower() == "off":
        return None
    try:
        days = int(raw)
    except ValueError:
        days = 0
    if not 1 <= days <= most:
        raise ValueError(
            f"{name} must be a whole number of days from 1 to {most}, or off, not {raw!r}"
        )
    return days


def parse_switch(raw: str, name: str) -> bool:
    if raw not in ("0", "1"):
        raise ValueError(f"{name} must be 1 (on) or 0 (off), not {raw!r}")
    return raw == "1"


def parse_redis_url(raw: str, name: str = "REDIS_URL") -> str:
    scheme, separator, rest = raw.partition("://")
    if not separator or scheme.lower() not in REDIS_SCHEMES:
        raise ValueError(f"{name} must be a redis://, rediss:// or unix:// URL, not {_scheme(raw)}")
    if not rest:
        raise ValueError(f"{name} names no server after {scheme}://")
    return raw


def _text(raw: str, name: str) -> str:
    return raw


def parse_password(raw: str, name: str) -> str:
    if any(ord(c) < 32 for c in raw):
        raise ValueError(f"{name} must not hold control characters (a line break?)")
    return raw


def parse_host(raw: str, name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,253}", raw):
        raise ValueError(
            f"{name} must be a host name or address, not {len(raw)} characters of something else"
        )
    return raw


def parse_name(raw: str, name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", raw):
        raise ValueError(f"{name} must be a PostgreSQL name: letters, digits and '_'")
    return raw


def parse_action_endpoint(raw: str, name: str = "ACTION_ENDPOINT_URL") -> str:
    scheme, separator, rest = raw.partition("://")
    if not separator or scheme.lower() not in ("http", "https") or not rest:
        raise ValueError(f"{name} must be the action servers' http(s):// URL, not {_scheme(raw)}")
    return raw


@dataclass(frozen=True)
class Variable:
    name: str
    field: Optional[str]  # the `Settings` attribute; None: not read by the servers
    default: Optional[str]  # what unset means, as a user would write it; None: `unset`
    parse: Callable[[str, str], Any]
    meaning: str  # README's "meaning" column
    shown_default: Optional[str] = None  # README's "default" column, when not `default`
    unset: Any = None  # the value when unset and `default` is None
    blank_is_unset: bool = True  # an empty value means unset (False: it is parsed)

    def readme_row(self) -> str:
        shown = self.shown_default or f"`{self.default}`"
        return f"| `{self.name}` | {shown} | {self.meaning} |"


VARIABLES: Tuple[Variable, ...] = (
    Variable(
        "DATABASE_URL",
        "database_url",
        DEFAULT_DATABASE_URL,
        parse_database_url,
        "the shop database, `sqlite:///...` or `postgresql://...`; e.g. "
        "`postgresql://user:pw@host/heard`",
    ),
    Variable(
        "HEARD_STAFFED_HOURS",
        "staffed_hours",
        DEFAULT_STAFFED_HOURS,
        parse_staffed_hours,
        "when human agents are in (shop time); outside them a handoff books a callback",
    ),
    Variable(
        "HEARD_CONSOLE_SESSION_HOURS",
        "console_session_lifetime",
        "8",
        parse_session_hours,
        "how long an agent console sign-in lasts (hours, more than 0, at most 168)",
    ),
    Variable(
        "VOSK_MODEL_PATH",
        "vosk_model_path",
        None,
        parse_folder,
        "the speech-recognition model for calls (any Vosk model folder); a folder "
        "that holds none switches voice off, text chat runs on",
        shown_default="`models/vosk/vosk-model-small-en-us-0.15`",
    ),
    Variable(
        "HEARD_API_TOKEN",
        "api_token",
        None,
        parse_api_token,
        "the token Rasa's HTTP API (`/model/parse`, `/conversations/...`) requires: it "
        "reads every conversation (16 to 256 letters, digits or `-_.~`)",
        shown_default="random per run (printed by `make run`)",
    ),
    Variable(
        "PYTHON",
        None,
        None,
        _text,
        "the Python 3.10 interpreter for `.venv` (read by `make` only)",
        shown_default="found automatically",
    ),
    Variable(
        "HEARD_MAX_MESSAGE_CHARS",
        "max_message_chars",
        "2000",
        _whole_number(50, 20_000),
        "longer messages are not parsed or stored; Heard asks for the main point (50 to 20000)",
    ),
    Variable(
        "HEARD_MAX_REQUEST_BYTES",
        "max_request_bytes",
        "65536",
        _whole_number(4_096, 16 * 1024 * 1024),
        "larger HTTP bodies get 413 before "
        "they are read; larger socket.io packets close the connection (4096 to "
        "16777216)",
    ),
    Variable(
        "HEARD_SESSION_MAX_TURNS",
        "session_max_turns",
        "20",
        _whole_number(5, 10_000),
        "customer messages per session: a longer conversation goes on in a new session "
        "that keeps everything (slots, an open question, a colleague's takeover), so no "
        "turn's work grows with the conversation (`rasa_seam/sessions.py`; 5 to 10000)",
    ),
    Variable(
        "HEARD_RETENTION_DAYS",
        "retention_days",
        "90",
        parse_retention_days,
        "days a conversation is kept after its last message (1 to 3650); `off` keeps "
        "everything. See *Retention*",
    ),
    Variable(
        "HEARD_LOG_PERSONAL_DATA",
        "log_personal_data",
        "0",
        parse_switch,
        "`1` keeps e-mail addresses and order numbers in log lines (debugging on your "
        "own machine only)",
        shown_default="`0` (off)",
    ),
    Variable(
        "HEARD_DATA_DIR",
        "data_dir",
        None,
        parse_data_dir,
        "where training finds the public data sets: `goemotions/` (train.tsv, "
        "labels.txt) and `clinc150/` (clinc150.json); absent ones are skipped",
        shown_default="`datasets/` in the project (git-ignored); `make` uses "
        "`../shared/data` when it exists",
        unset=DEFAULT_DATA_DIR,
    ),
    Variable(
        "REDIS_URL",
        "redis_url",
        None,
        parse_redis_url,
        "the Redis where Rasa servers sharing the tracker store keep their short-lived "
        "state: the conversations' locks, socket.io messages, the console's sign-in "
        "throttle, call transfers (`redis://`, `rediss://` or `unix://`)",
        shown_default="unset: one server, keeping that state in its memory",
    ),
    Variable(
        "HEARD_REPLICAS",
        "replicas",
        "1",
        _whole_number(1, 64),
        "how many Rasa servers share the tracker store (1 to 64); more than 1 needs `REDIS_URL`",
    ),
    Variable(
        "TICKET_LOCK_LIFETIME",
        "ticket_lock_lifetime",
        "60",
        _whole_number(1, 3600),
        "Rasa's own variable: seconds a turn may hold its conversation's lock in Rasa's "
        "in-memory lock store, on one server (1 to 3600; not empty); the Redis lock "
        "store renews a shorter lease instead (`lease_seconds`)",
        blank_is_unset=False,
    ),
    # Read by Rasa where deploy/endpoints.yml names them (the replicas' endpoints).
    Variable(
        "TRACKER_DB_HOST",
        "tracker_db_host",
        None,
        parse_host,
        "replicas (`deploy/endpoints.yml`): the PostgreSQL host of the tracker store",
        shown_default="unset (one server: `endpoints.yml`'s SQLite file)",
    ),
    Variable(
        "TRACKER_DB_PORT", "tracker_db_port", "5432", _whole_number(1, 65_535), "replicas: its port"
    ),
    Variable(
        "TRACKER_DB_NAME", "tracker_db_name", "heard_tracker", parse_name, "replicas: its database"
    ),
    Variable("TRACKER_DB_USER", "tracker_db_user", "heard", parse_name, "replicas: its user"),
    Variable(
        "TRACKER_DB_PASSWORD",
        "tracker_db_password",
        None,
        parse_password,
        "replicas: its password",
        shown_default="unset (no password)",
        unset="",
    ),
    Variable(
        "ACTION_ENDPOINT_URL",
        "action_endpoint_url",
        None,
        parse_action_endpoint,
        "replicas: where the action servers are (nginx in front of them), e.g. "
        "`http://127.0.0.1:5054/webhook`",
        shown_default="unset (one server: `endpoints.yml`'s `http://localhost:5055/webhook`)",
    ),
)
BY_NAME: Dict[str, Variable] = {variable.name: variable for variable in VARIABLES}
LOADED: Tuple[Variable, ...] = tuple(v for v in VARIABLES if v.field is not None)
BUILD_ONLY = tuple(v.name for v in VARIABLES if v.field is None)  # read by make, not Python


@dataclass(frozen=True)
class Settings:
    database_url: str = field(repr=False)  # may hold a password
    staffed_hours: StaffedHours
    console_session_lifetime: timedelta
    vosk_model_path: Optional[Path]  # None: the default model, downloaded when missing
    api_token: Optional[str] = field(repr=False)  # None: a random one per run
    max_message_chars: int
    max_request_bytes: int
    session_max_turns: int
    retention_days: Optional[int]  # None: off
    log_personal_data: bool
    data_dir: Path
    redis_url: Optional[str] = field(repr=False)  # None: one server, state in its memory
    replicas: int
    ticket_lock_lifetime: int
    tracker_db_host: Optional[str]
    tracker_db_port: int
    tracker_db_name: str
    tracker_db_user: str
    tracker_db_password: str = field(repr=False)
    action_endpoint_url: Optional[str]


def _parse(variable: Variable, environ: Mapping[str, str]) -> Any:
    raw = environ.get(variable.name)
    if raw is not None and (raw.strip() or not variable.blank_is_unset):
        return variable.parse(raw.strip(), variable.name)
    if variable.default is None:
        return variable.unset
    return variable.parse(variable.default, variable.name)


def load(environ: Mapping[str, str] = os.environ) -> Settings:
    """All of them, or one SettingsError naming every wrong variable and why."""
    values: Dict[str, Any] = {}
    problems: List[str] = []
    for variable in LOADED:
        assert variable.field is not None  # LOADED holds only the variables with a field
        try:
            values[variable.field] = _parse(variable, environ)
        except ValueError as error:
            problems.append(str(error))
    if values.get("replicas", 1) > 1 and "redis_url" in values and not values["redis_url"]:
        problems.append(
            f"HEARD_REPLICAS is {values['replicas']}, but more than one replica "
            f"needs REDIS_URL for the lock store and shared state"
        )
    if problems:
        raise SettingsError(problems)
    return Settings(**values)


_current: Optional[Tuple[Tuple[Optional[str], ...], Settings]] = None


def current() -> Settings:
    """This process's settings: parsed on first use, and again only when one of the
    variables changed since (servers never change theirs; tests do, with monkeypatch)."""
    global _current
    seen = {variable.name: os.environ.get(variable.name) for variable in LOADED}
    key = tuple(seen.values())
    cached = _current
    if cached is None or cached[0] != key:
        cached = (key, load({name: raw for name, raw in seen.items() if raw is not None}))
        _current = cached
    return cached[1]


def read(name: str, environ: Optional[Mapping[str, str]] = None) -> Any:
    """One variable's value: from this process's settings (`current()`), or parsed from
    `environ` when given. A SettingsError (a ValueError) names it when it is wrong."""
    variable = BY_NAME[name]
    if variable.field is None:
        raise KeyError(f"{name} is read by make only, not by Heard's Python code")
    if environ is None:
        try:
            return getattr(current(), variable.field)
        except SettingsError:
            # Another variable is wrong: the servers refuse to start on it; a command that
            # needs only this one goes on.
            environ = os.environ
    try:
        return _parse(variable, environ)
    except ValueError as error:
        raise SettingsError([str(error)]) from None


def at_start(environ: Optional[Mapping[str, str]] = None) -> Settings:
    """A server's first step: its settings, or exit code 2 with every wrong one on stderr."""
    try:
        return current() if environ is None else load(environ)
    except SettingsError as error:
        print(error.report(), file=sys.stderr, flush=True)
        raise SystemExit(2) from None


def markdown() -> str:
    """README.md's settings table."""
    rows = [variable.readme_row() for variable in VARIABLES]
    return "\n".join(["| variable | default | meaning |", "|---|---|---|", *rows]) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m heard.settings",
        description="Check this environment's settings (exit code 2 when one is wrong), or "
        "print README.md's table of them.",
    )
    parser.add_argument("--markdown", action="store_true", help="print the README table")
    args = parser.parse_args(argv)
    if args.markdown:
        sys.stdout.write(markdown())
        return 0
    try:
        load()
    except SettingsError as error:
        print(error.report(), file=sys.stderr)
        return 2
    print(f"settings: all {len(LOADED)} variables are valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
