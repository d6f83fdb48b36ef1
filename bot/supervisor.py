"""Restarts Heard's servers when they exit, backing off when one keeps failing."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable, Deque, Dict, Sequence

from bot.servers import Servers

LABELS = {"actions": "action server", "rasa": "Rasa server"}  # "rasa-2" is a "rasa"


def restart_delay(
    uptimes: Sequence[float], first: float = 1.0, cap: float = 60.0, stable: float = 300.0
) -> float:
    """Seconds to wait before restarting a server, given how long each of its runs lasted
    (oldest first): `first` after one short run, doubled for each earlier short run in a
    row, at most `cap`; a run of `stable` seconds or more resets it."""
    delay = 0.0
    for uptime in reversed(uptimes):  # from the run that just ended backwards
        if uptime >= stable:
            break
        delay = min(cap, 2 * delay or first)
    return delay or first


def supervise(
    servers: Servers,
    stopped: threading.Event,
    log: Callable[[str], None] = print,
    poll: float = 0.5,
) -> None:
    """Restarts a server that exits, after `restart_delay`, until `stopped` is set."""
    started = {name: time.monotonic() for name in servers.by_name}
    uptimes: Dict[str, Deque[float]] = {name: deque(maxlen=32) for name in servers.by_name}
    due: Dict[str, float] = {}  # name -> when to restart it
    while not stopped.wait(poll):
        now = time.monotonic()
        for name, process in list(servers.by_name.items()):
            if name in due:
                if now >= due[name]:
                    servers.restart(name)
                    started[name] = time.monotonic()
                    del due[name]
                continue
            with servers.lock:  # not while a rolling restart replaces it on purpose
                exited = process is servers.by_name[name] and process.poll() is not None
            if exited:
                uptimes[name].append(now - started[name])
                delay = restart_delay(uptimes[name])
                label = LABELS.get(name.split("-")[0], name)
                log(
                    f"supervisor: the {label} exited "
                    f"(code {process.returncode}); restarting in {delay:g} s"
                )
                due[name] = now + delay
