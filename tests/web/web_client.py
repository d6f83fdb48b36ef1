"""Clients for the web side of the running servers: a widget over real socket.io (polling:
the pinned engine.io client can't open websockets without extra packages) and the console
over HTTP with its cookie."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, List, Optional, Tuple

import requests
import socketio

from store import models as shop
from web.agents import Agents

WAIT = 20.0


def wait_for(condition: Callable[[], Any], timeout: float = WAIT, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Widget:
    """One browser tab of the chat widget."""

    url: str
    session_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    events: List[Tuple[str, Any]] = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Lock()
        self.client = socketio.Client(reconnection=False)
        for name in ("session_confirm", "bot_uttered", "agent_status"):
            self.client.on(name, self._recorder(name))

    def _recorder(self, name: str):
        def record(data=None):
            with self._lock:
                self.events.append((name, data))

        return record

    def open(self, session_id: Optional[str] = None) -> "Widget":
        self.client.connect(self.url, transports=["polling"], socketio_path="/socket.io")
        self.client.emit("session_request", {"session_id": session_id or self.session_id})
        self.session_id = wait_for(lambda: self.of("session_confirm"), what="session_confirm")[0]
        return self

    def close(self) -> None:
        self.client.disconnect()

    def say(self, text: str) -> None:
        self.client.emit("user_uttered", {"message": text, "session_id": self.session_id})

    def of(self, name: str) -> List[Any]:
        with self._lock:
            return [data for event, data in self.events if event == name]

    def texts(self) -> List[str]:
        return [m.get("text", "") for m in self.of("bot_uttered")]

    def clear(self) -> None:
        with self._lock:
            self.events.clear()


class Console:
    """An agent's browser on the console API (cookies kept like a browser would)."""

    def __init__(self, url: str):
        self.url = url
        self.http = requests.Session()

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.url + path, timeout=30, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.http.post(self.url + path, timeout=60, **kwargs)

    def login(self, username: str, password: str) -> requests.Response:
        return self.post("/console/api/login", json={"username": username, "password": password})


def new_agent(live, name: str = "Sam Rivera") -> Tuple[str, str]:
    """An agent in the live servers' database; returns (username, password)."""
    username = f"agent-{uuid.uuid4().hex[:8]}"
    password = f"pw-{uuid.uuid4().hex}"
    Agents(live.repo.engine).add(username, name, password)
    return username, password


def signed_in(live, name: str = "Sam Rivera") -> Console:
    console = Console(live.servers.rasa_url)
    response = console.login(*new_agent(live, name))
    assert response.status_code == 200, response.text
    return console


def handoff_for(live, conversation_id: str) -> shop.Handoff:
    with live.repo.session() as s:
        return (
            s.query(shop.Handoff)
            .filter_by(conversation_id=conversation_id)
            .order_by(shop.Handoff.id.desc())
            .first()
        )
