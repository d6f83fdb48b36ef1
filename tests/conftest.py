"""Shared fixtures: fresh databases, a real PostgreSQL server, the trained model, servers."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.servers import free_port
from store.migrate import upgrade
from store.repository import Repository
from store.seed import seed

# A fixed "now": Wednesday 25 November 2026, 10:00 (inside staffed hours).
NOW = datetime(2026, 11, 25, 10, 0, 0)

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")


class Clock:
    """A clock tests can move."""

    def __init__(self, now: datetime = NOW):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def repo(tmp_path, clock) -> Repository:
    """A seeded SQLite database of its own for each test, made by the migrations."""
    url = f"sqlite:///{tmp_path}/heard.db"
    upgrade(url)
    repository = Repository.from_url(url, clock=clock)
    seed(repository)
    return repository


def _postgres_bin() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    return None


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway PostgreSQL cluster on loopback, for the suite only."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        pytest.skip(
            "PostgreSQL server binaries not installed (apt-get install postgresql; "
            ".ci/run installs them)"
        )
    data = Path(tempfile.mkdtemp(prefix="heard-pg-"))
    as_user = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(data, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()

    def run(*args: str) -> None:
        subprocess.run(
            [*as_user, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )

    run(str(bin_dir / "initdb"), "-D", str(data / "db"), "-U", "heard", "--auth=trust")
    run(
        str(bin_dir / "pg_ctl"),
        "-D",
        str(data / "db"),
        "-w",
        "-l",
        str(data / "log"),
        "-o",
        f"-p {port} -k {data} -c listen_addresses=127.0.0.1",
        "start",
    )
    try:
        run(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "heard", "heard")
        yield f"postgresql://heard@127.0.0.1:{port}/heard"
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(data / "db"), "-m", "fast", "stop")
        shutil.rmtree(data, ignore_errors=True)


def empty_postgres(url: str) -> None:
    """Every table of the session's one PostgreSQL database dropped, alembic_version and
    Rasa's too, so the next test starts from an empty database."""
    engine = sa.create_engine(url, future=True)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@pytest.fixture
def empty_postgres_url(postgres_url):
    """The session's PostgreSQL database, empty before the test and again after it."""
    empty_postgres(postgres_url)
    yield postgres_url
    empty_postgres(postgres_url)


@pytest.fixture(scope="session")
def redis_url():
    """A throwaway Redis server on loopback (no persistence), for the suite only."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip(
            "redis-server not installed (apt-get install redis-server; .ci/run installs it)"
        )
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        import redis

        client = redis.Redis(port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("redis-server did not start within 10 s") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model for the current training data, trained once (and reused across runs)."""
    from bot.training import ensure_trained

    return ensure_trained()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_repo(request, tmp_path, clock) -> Repository:
    """A freshly migrated and seeded database on each backend the product supports."""
    url = (
        f"sqlite:///{tmp_path}/heard.db"
        if request.param == "sqlite"
        else request.getfixturevalue("empty_postgres_url")
    )
    upgrade(url)
    repository = Repository.from_url(url, clock=clock)
    seed(repository)
    yield repository
    repository.engine.dispose()


@pytest.fixture(scope="session")
def live(trained_model, tmp_path_factory):
    """The real action server and Rasa server, on their own ports and databases."""
    from bot.servers import Servers
    from tests.live import Live

    servers = Servers.in_folder(trained_model, tmp_path_factory.mktemp("live"))
    servers.start()
    try:
        servers.wait_until_ready()
        yield Live(servers, Repository.from_url(servers.database_url))
    finally:
        servers.stop()
