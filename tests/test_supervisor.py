"""`python -m bot run` restarts a server that exits, with a growing delay."""

from __future__ import annotations

import os
import signal
import threading
import urllib.request
from pathlib import Path

import pytest

from bot.servers import Servers, free_port
from bot.supervisor import restart_delay, supervise
from tests.waiting import eventually

SHORT, LONG = 5.0, 400.0  # seconds a run lasted: a crash, and a run long enough to count as stable


@pytest.mark.parametrize(
    "uptimes, delay",
    [
        ([], 1),
        ([SHORT], 1),
        ([SHORT, SHORT], 2),
        ([SHORT] * 3, 4),
        ([SHORT] * 6, 32),
        ([SHORT] * 7, 60),  # 64, capped
        ([SHORT] * 500, 60),
        ([SHORT, SHORT, LONG], 1),  # up for a while: back to the first delay
        ([LONG, SHORT, SHORT], 2),  # only the crashes since then count
        ([SHORT, SHORT, 300.0], 1),  # exactly `stable`
        ([SHORT, SHORT, 299.0], 4),
    ],
)
def test_restart_delay(uptimes, delay):
    assert restart_delay(uptimes) == delay


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.mark.slow
def test_a_killed_action_server_is_restarted(tmp_path):
    servers = Servers(
        Path("unused"),
        action_port=free_port(),
        log_dir=tmp_path / "log",
        environment={"DATABASE_URL": f"sqlite:///{tmp_path}/heard.db"},
    )
    health = f"{servers.action_url}/health"
    lines = []
    stopped = threading.Event()
    supervisor = threading.Thread(target=supervise, args=(servers, stopped, lines.append, 0.1))
    servers.start_actions()
    supervisor.start()
    try:
        assert eventually(lambda: answers(health), 60), "the action server never started"
        first = servers.by_name["actions"]
        os.killpg(first.pid, signal.SIGKILL)
        assert eventually(lambda: servers.by_name["actions"] is not first, 5)
        assert lines == ["supervisor: the action server exited (code -9); restarting in 1 s"]
        assert eventually(lambda: answers(health), 60), "the restarted server never answered"
    finally:
        stopped.set()
        supervisor.join(timeout=5)
        servers.stop()
    assert not supervisor.is_alive()
