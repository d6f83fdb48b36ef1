"""Start, wait for and stop Heard's two servers: the action server and the Rasa server."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from heard import settings
from heard.paths import ROOT


@dataclass
class Servers:
    model: Path
    rasa_port: int = 5005
    action_port: int = 5055
    endpoints: Path = ROOT / "endpoints.yml"
    credentials: Path = ROOT / "credentials.yml"
    log_dir: Path = ROOT / "var" / "log"
    environment: Dict[str, str] = field(default_factory=dict)  # e.g. DATABASE_URL
    # Rasa's HTTP API (trackers, parse) reads every conversation: it needs this token.
    api_token: str = field(
        default_factory=lambda: settings.read("HEARD_API_TOKEN") or secrets.token_urlsafe(24)
    )
    by_name: Dict[str, subprocess.Popen] = field(default_factory=dict)  # "actions", "rasa"
    launched: Dict[str, Tuple[List[str], Dict[str, str]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)  # held while one restarts

    @classmethod
    def in_folder(cls, model: Path, folder: Path, credentials: Optional[str] = None) -> "Servers":
        """Servers of their own (tests, benchmarks): free ports, and a seeded shop database,
        tracker store, logs and (given `credentials` as YAML text) channels in `folder`."""
        from store.migrate import upgrade
        from store.repository import Repository
        from store.seed import seed

        database = f"sqlite:///{folder}/heard.db"
        upgrade(database)  # as `python -m bot run` does before it seeds
        seed(Repository.from_url(database))
        rasa_port, action_port = free_port(), free_port()
        endpoints = folder / "endpoints.yml"
        endpoints.write_text(
            f"action_endpoint:\n  url: http://localhost:{action_port}/webhook\n"
            f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {folder}/tracker.db\n"
        )
        channels = ROOT / "credentials.yml"
        if credentials is not None:
            channels = folder / "credentials.yml"
            channels.write_text(credentials)
        return cls(
            model,
            rasa_port=rasa_port,
            action_port=action_port,
            endpoints=endpoints,
            credentials=channels,
            log_dir=folder / "log",
            environment={"DATABASE_URL": database},
        )

    @property
    def database_url(self) -> str:
        return self.environment["DATABASE_URL"]

    @property
    def processes(self) -> List[subprocess.Popen]:
        return list(self.by_name.values())  # in start order: the action server first

    def _spawn(self, name: str, module: str, args: List[str]) -> subprocess.Popen:
        return self.launch(name, [sys.executable, "-m", module, *args])

    def launch(
        self, name: str, command: List[str], environment: Optional[Dict[str, str]] = None
    ) -> subprocess.Popen:
        """Starts process `name`, logging to its file, with `environment` over ours."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.launched[name] = (command, environment or {})
        env = {
            **os.environ,
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "RASA_TELEMETRY_ENABLED": "false",
            **self.environment,
            **(environment or {}),
        }
        with open(self.log_dir / f"{name}.log", "ab") as log:  # the child keeps its own copy
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        self.by_name[name] = process
        return process

    def restart(self, name: str, grace: float = 10.0) -> subprocess.Popen:
        """Starts server `name` ("actions" or "rasa") again with the same command, after
        ending the old one and whatever it left in its process group (it could hold the
        port)."""
        with self.lock:
            old = self.by_name[name]
            _end(old, grace)
            return self.launch(name, *self.launched[name])

    def start_actions(self) -> None:
        self._spawn("actions", "actions", ["--actions", "actions", "--port", str(self.action_port)])

    def start(self) -> None:
        self.start_actions()
        self._spawn(
            "rasa",
            "bot.rasa_main",
            [
                "run",
                "--enable-api",
                f"--auth-token={self.api_token}",  # it may start with "-"
                "--cors",
                "*",
                "--port",
                str(self.rasa_port),
                "--model",
                str(self.model),
                "--credentials",
                str(self.credentials),
                "--endpoints",
                str(self.endpoints),
            ],
        )

    @property
    def rasa_url(self) -> str:
        return f"http://localhost:{self.rasa_port}"

    def api_url(self, path: str) -> str:
        """A URL of Rasa's HTTP API, with the token it requires."""
        return f"{self.rasa_url}{path}?token={self.api_token}"

    @property
    def action_url(self) -> str:
        return f"http://localhost:{self.action_port}"

    def wait_until_ready(self, timeout: float = 180.0) -> None:
        """Both answer their health checks, or a clear error (with the log to read)."""
        checks = {
            "action server": f"{self.action_url}/health",
            "Rasa server": self.api_url("/status"),
        }
        deadline = time.monotonic() + timeout
        for name, url in checks.items():
            while not _answers(url):
                dead = [p for p in self.processes if p.poll() is not None]
                if dead or time.monotonic() > deadline:
                    self.stop()
                    why = "exited" if dead else f"did not answer within {timeout:.0f} s"
                    raise RuntimeError(f"the {name} {why}; see the logs in {self.log_dir}")
                time.sleep(0.5)

    def stop(self, grace: float = 10.0) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes:
            _end(process, max(0.1, deadline - time.monotonic()))
        self.by_name.clear()


def _end(process: subprocess.Popen, grace: float) -> None:
    """Ends `process` and whatever it left in its group (it could hold the port): SIGTERM,
    then SIGKILL after `grace` seconds."""
    with contextlib.suppress(ProcessLookupError):  # the whole group is gone already
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False
