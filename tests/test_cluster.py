"""The production topology on loopback (`make cluster`), and the short `make bench-cluster`:
conversations, double-sends, simultaneous turns, kill -9 of a replica and of an action
server, a Redis restart and a rolling restart, with nothing lost, doubled or wrong."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path

import pytest
import yaml

from bench import cluster as bench
from bot.cluster import Cluster, missing_programs, replica_problem
from bot.topology import ENDPOINTS, Topology


@pytest.mark.parametrize(
    "lock_store, replicas, refused",
    [
        (None, 1, False),
        (None, 2, True),
        ({"type": "redis", "url": "localhost"}, 2, True),  # Rasa's own: tickets not atomic
        ({"type": "rasa_seam.lock_store.AtomicRedisLockStore", "url": "redis://x"}, 2, False),
    ],
)
def test_replicas_sharing_a_tracker_store_need_heards_redis_lock(lock_store, replicas, refused):
    endpoints = {"tracker_store": {"type": "SQL"}}
    if lock_store:
        endpoints["lock_store"] = lock_store
    assert bool(replica_problem(endpoints, replicas)) is refused


def test_a_replica_without_the_redis_lock_refuses_to_start(tmp_path):
    import os
    import sys

    from bot.topology import ROOT

    env = {**os.environ, "HEARD_REPLICAS": "2", "REDIS_URL": "redis://127.0.0.1:1/0"}
    started = subprocess.run(
        [sys.executable, "-m", "bot.rasa_main", "run", "--endpoints", str(ROOT / "endpoints.yml")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode == 2
    assert "HEARD_REPLICAS=2" in started.stderr and "lock_store" in started.stderr
    assert "Traceback" not in started.stderr


def test_the_deployed_endpoints_have_the_lock_store():
    assert replica_problem(yaml.safe_load(ENDPOINTS.read_text()), 2) is None


def test_nginx_accepts_the_clusters_configuration(tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if "nginx" in missing_programs():
        pytest.skip("nginx not installed (apt-get install nginx; .ci/run installs it)")
    topology = Topology(folder=tmp_path, model=tmp_path / "model.tar.gz", api_token="t")
    (tmp_path / "nginx").mkdir()
    (tmp_path / "log").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(topology.nginx_conf())
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path / "nginx"), "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stderr


@pytest.fixture(scope="module")
def cluster(trained_model):
    missing = missing_programs()
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (.ci/run installs them)")
    folder = Path(tempfile.mkdtemp(prefix="heard-cluster-"))  # pytest's are closed to others
    running = Cluster(bench.topology_in(folder, trained_model), log=lambda line: None)
    running.start()
    try:
        yield running
    finally:
        running.stop()
        shutil.rmtree(folder, ignore_errors=True)


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


@pytest.mark.slow
def test_every_process_is_ready_and_nginx_reaches_them(cluster):
    for url in cluster.service_urls().values():
        assert get(url)["status"] == "ready"
    assert get(f"{cluster.topology.public_url}/health/ready")["status"] == "ready"
    assert get(f"{cluster.topology.public_url}/health/live")["status"] == "live"


@pytest.mark.slow
def test_load_and_faults_lose_double_and_mistake_nothing(cluster):
    rows = {}
    figures = bench.run(
        cluster, {"turns": 300, "clients": 6, "rolling_clients": 4}, rows, throughput_phase=False
    )
    print("\n".join(f"{name}: {value}" for name, value in rows.items()))
    verdict, rolling = figures["verdict"], figures["rolling"]
    assert figures["turns"] >= 300
    assert (verdict.lost, verdict.duplicated, verdict.wrong, verdict.unanswered) == (0, 0, 0, 0), (
        verdict.examples
    )
    assert (rolling.lost, rolling.duplicated, rolling.wrong, rolling.unanswered) == (0, 0, 0, 0), (
        rolling.examples
    )
