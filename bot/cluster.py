"""`make cluster`: the production topology (bot/topology.py) on this machine, on loopback.

PostgreSQL, Redis and nginx from Debian's packages, then the action servers and the Rasa
replicas, each restarted by the supervisor if it exits. Everything lives in one folder
(var/cluster by default): databases, logs, nginx's files. Ctrl-C stops it all.
"""

from __future__ import annotations

import functools
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Callable, Dict, List, Optional

import yaml

from bot.servers import Servers, _end
from bot.topology import DB_USER, ENDPOINTS, FAIL_TIMEOUT, SHOP_DB, TRACKER_DB, Topology
from heard import settings

PACKAGES = "postgresql redis-server nginx"
LOCK_STORE = "rasa_seam.lock_store.AtomicRedisLockStore"


class ClusterError(RuntimeError):
    pass


def postgres_bin() -> Optional[Path]:
    """Debian's PostgreSQL server programs (initdb, postgres), newest version first."""
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    return None


def missing_programs() -> List[str]:
    found = {
        "PostgreSQL": postgres_bin(),
        "redis-server": shutil.which("redis-server"),
        "nginx": shutil.which("nginx")
        or (Path("/usr/sbin/nginx") if Path("/usr/sbin/nginx").exists() else None),
    }
    return [name for name, path in found.items() if not path]


def replica_problem(endpoints: Dict, replicas: int) -> Optional[str]:
    """Why these endpoints can't serve `replicas` Rasa servers sharing a tracker store."""
    lock_type = ((endpoints or {}).get("lock_store") or {}).get("type")
    if replicas > 1 and lock_type != LOCK_STORE:
        return (
            f"{replicas} replicas share the tracker store, so the endpoints need "
            f"lock_store: type: {LOCK_STORE} (Redis); with {lock_type or 'no lock store'} "
            f"two replicas run one conversation's turns at once and lose some"
        )
    return None


def endpoints_problem(path: Path, replicas: int) -> Optional[str]:
    return replica_problem(yaml.safe_load(path.read_text()), replicas)


class Cluster:
    def __init__(self, topology: Topology, log: Callable[[str], None] = print) -> None:
        self.topology = topology
        self.log = log
        self.folder = topology.folder
        self.servers = Servers(
            topology.model, log_dir=self.folder / "log", api_token=topology.api_token
        )
        self.infra: Dict[str, subprocess.Popen] = {}

    # PostgreSQL refuses to run as root: as root, its files and process are its own user's.
    def _as_postgres(self) -> Optional[str]:
        return "postgres" if os.geteuid() == 0 else None

    def _infra(self, name: str, command: List[str], user: Optional[str] = None) -> None:
        with open(self.folder / "log" / f"{name}.log", "ab") as log:
            self.infra[name] = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, user=user
            )

    def start_postgres(self) -> None:
        bin_dir, user = postgres_bin(), self._as_postgres()
        if bin_dir is None:
            raise ClusterError("PostgreSQL's server is not installed (apt-get install postgresql)")
        data, sockets = self.folder / "postgres", self.folder / "postgres-sockets"
        if user:
            self.folder.chmod(0o755)  # its user must reach its folders inside (mkdtemp: 700)
            closed = [p for p in self.folder.parents if not p.stat().st_mode & 0o001]
            if closed:
                raise ClusterError(
                    f"PostgreSQL runs as the user {user}, who can't enter "
                    f"{closed[0]}: choose a folder it can reach"
                )
        for path in (data, sockets):
            path.mkdir(exist_ok=True)
            if user:
                shutil.chown(path, user, user)
        if not (data / "PG_VERSION").exists():
            made = subprocess.run(
                [str(bin_dir / "initdb"), "-D", str(data), "-U", DB_USER, "--auth=trust"],
                user=user,
                capture_output=True,
                text=True,
            )
            if made.returncode:
                raise ClusterError(f"initdb failed:\n{made.stderr}")
        self._infra(
            "postgres",
            [
                str(bin_dir / "postgres"),
                "-D",
                str(data),
                "-p",
                str(self.topology.postgres_port),
                "-k",
                str(sockets),
                "-c",
                "listen_addresses=127.0.0.1",
            ],
            user=user,
        )
        self._wait("PostgreSQL", self._postgres_answers, 30)
        import psycopg2

        connection = psycopg2.connect(
            host="127.0.0.1", port=self.topology.postgres_port, user=DB_USER, dbname="postgres"
        )
        connection.autocommit = True  # CREATE DATABASE runs outside a transaction
        try:
            with connection.cursor() as cursor:
                for name in (SHOP_DB, TRACKER_DB):
                    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                    if cursor.fetchone() is None:
                        cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()

    def _postgres_answers(self) -> bool:
        import psycopg2

        try:
            psycopg2.connect(
                host="127.0.0.1",
                port=self.topology.postgres_port,
                user=DB_USER,
                dbname="postgres",
                connect_timeout=2,
            ).close()
            return True
        except psycopg2.OperationalError:
            return False

    def start_redis(self) -> None:
        """Redis with an append-only file, so a restart keeps the conversations' locks."""
        folder = self.folder / "redis"
        folder.mkdir(exist_ok=True)
        server = shutil.which("redis-server")
        if server is None:
            raise ClusterError("Redis is not installed (apt-get install redis-server)")
        self._infra(
            "redis",
            [
                server,
                "--port",
                str(self.topology.redis_port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(folder),
                "--appendonly",
                "yes",
                "--save",
                "",
            ],
        )
        self._wait("Redis", self._redis_answers, 15)

    def _redis_answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.topology.redis_url, socket_timeout=2).ping())
        except redis.RedisError:
            return False

    def restart_redis(self) -> None:
        _end(self.infra.pop("redis"), 10)
        self.start_redis()

    def start_nginx(self) -> None:
        prefix = self.folder / "nginx"
        prefix.mkdir(exist_ok=True)
        conf = prefix / "nginx.conf"
        conf.write_text(self.topology.nginx_conf())
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        checked = subprocess.run(
            [nginx, "-t", "-q", "-p", str(prefix), "-c", str(conf)], capture_output=True, text=True
        )
        if checked.returncode:
            raise ClusterError(f"nginx refused its configuration:\n{checked.stderr}")
        self._infra("nginx", [nginx, "-p", str(prefix), "-c", str(conf)])

    def prepare_shop_database(self) -> None:
        from store.migrate import upgrade
        from store.repository import Repository
        from store.seed import seed

        upgrade(self.topology.database_url)
        repository = Repository.from_url(self.topology.database_url)
        seed(repository)
        repository.engine.dispose()

    def start(self) -> None:
        missing = missing_programs()
        if missing:
            raise ClusterError(
                f"not installed: {', '.join(missing)} (as root: apt-get install {PACKAGES})"
            )
        problem = endpoints_problem(ENDPOINTS, self.topology.replicas)
        if problem:
            raise ClusterError(problem)
        (self.folder / "log").mkdir(parents=True, exist_ok=True)
        try:
            self.start_postgres()
            self.start_redis()
            self.prepare_shop_database()
            for service in self.topology.services():
                self.servers.launch(
                    service.name, [sys.executable, *service.command], service.environment
                )
            self.start_nginx()
            self.wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def service_urls(self) -> Dict[str, str]:
        return {
            service.name: f"http://127.0.0.1:{service.port}{service.health}"
            for service in self.topology.services()
        }

    def wait_until_ready(self, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        for name, url in [
            *self.service_urls().items(),
            ("nginx", f"{self.topology.public_url}/health/ready"),
        ]:
            self._wait(name, functools.partial(ready, url), max(1.0, deadline - time.monotonic()))

    def wait_ready(self, name: str, timeout: float = 300.0) -> None:
        self._wait(name, lambda: ready(self.service_urls()[name]), timeout)

    def _wait(self, name: str, check: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            dead = [
                n for n, p in {**self.infra, **self.servers.by_name}.items() if p.poll() is not None
            ]
            if dead or time.monotonic() > deadline:
                why = f"{', '.join(dead)} exited" if dead else f"not ready in {timeout:.0f} s"
                raise ClusterError(f"{name}: {why}; see the logs in {self.folder / 'log'}")
            time.sleep(0.5)

    def rolling_restart(self, names: Optional[List[str]] = None) -> None:
        """Restarts the Rasa replicas one after the other: nginx sends everything to the
        others meanwhile. The next one goes down only once this one is ready and nginx's
        pause for it is over (were both paused, nginx would refuse requests)."""
        for name in names or [
            s.name for s in self.topology.services() if s.name.startswith("rasa-")
        ]:
            self.servers.restart(name, grace=30)
            self.wait_ready(name)
            time.sleep(FAIL_TIMEOUT + 1)

    def kill(self, name: str) -> None:
        """kill -9 of one of Heard's processes (the supervisor starts it again)."""
        os.killpg(self.servers.by_name[name].pid, signal.SIGKILL)

    def stop(self) -> None:
        if "nginx" in self.infra:
            _end(self.infra.pop("nginx"), 10)
        self.servers.stop(grace=30)  # a replica finishes its turns in flight first
        for name in ("redis", "postgres"):
            if name in self.infra:
                process = self.infra.pop(name)
                if name == "postgres" and process.poll() is None:
                    process.send_signal(signal.SIGINT)  # PostgreSQL's "fast" shutdown
                _end(process, 30)


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except OSError:
        return False


def main(folder: Path, replicas: int = 2, action_servers: int = 2) -> int:
    import threading

    from bot.supervisor import supervise
    from bot.training import ensure_trained

    known = settings.at_start()  # a wrong setting stops here, with the reasons
    topology = Topology(
        folder=folder,
        model=ensure_trained(),
        replicas=replicas,
        action_servers=action_servers,
        api_token=known.api_token or secrets.token_urlsafe(24),
    )
    cluster = Cluster(topology)
    print(
        f"starting PostgreSQL, Redis, {action_servers} action servers, {replicas} Rasa "
        f"replicas and nginx in {folder} ...",
        flush=True,
    )
    try:
        cluster.start()
    except ClusterError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    rasas = ", ".join(topology.rasa_url(i) for i in range(replicas))
    print(
        f"\nHeard is running as a cluster.\n"
        f"  everything, through nginx: {topology.public_url}\n"
        f"    chat: POST {topology.public_url}/webhooks/rest/webhook, widget: "
        f"{topology.public_url}/shop/, console: {topology.public_url}/console/\n"
        f"  Rasa replicas: {rasas} (API token {topology.api_token})\n"
        f"  action servers, through nginx: http://127.0.0.1:{topology.actions_port}\n"
        f"  PostgreSQL: {topology.database_url} (tracker store: database {TRACKER_DB})\n"
        f"  Redis: {topology.redis_url}\n"
        f"  logs: {folder / 'log'}\n"
        f"Press Ctrl-C to stop.",
        flush=True,
    )
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    supervise(cluster.servers, stopped, log=lambda line: print(line, file=sys.stderr, flush=True))
    print("\nstopping...", flush=True)
    cluster.stop()
    print("stopped.")
    return 0
