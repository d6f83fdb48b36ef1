"""The widget's socket.io channel on two replicas sharing one Redis (real, no mocks): a tab
connected to replica A gets what replica B sends into its session's room (an agent's push,
Heard's reply), and only that tab. Both replicas are Sanic apps with Heard's channel,
served on loopback in the test's event loop; the tabs are python-socketio clients (polling,
like the other widget tests). Every wait is bounded."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, List, Tuple

import pytest
import redis
import socketio
from rasa.core.channels.socketio import SocketIOOutput
from sanic import Sanic

from heard import redis_client
from heard.limits import max_request_bytes
from tests.web.replicas import Replica, within
from web.socketio_channel import AGENT_STATUS_EVENT, ERROR_EVENT, HeardSocketIOInput

SHIPPED = {
    "user_message_evt": "user_uttered",
    "bot_message_evt": "bot_uttered",
    "session_persistence": True,
}  # credentials.yml's section


def widget_replica() -> Replica:
    channel = HeardSocketIOInput.from_credentials(SHIPPED)
    replica = Replica([channel])  # builds the channel's socket.io server
    # A closing polling client waits for its pending poll, which the server no longer
    # answers: it gives up after ping interval + timeout (3 s here instead of 45).
    channel.sio.eio.ping_interval, channel.sio.eio.ping_timeout = 1, 2
    replica.channel = channel
    return replica


class Tab:
    """A widget tab: a socket.io client that records what it is sent."""

    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.events: List[Tuple[str, Any]] = []
        self.arrived = asyncio.Event()
        for name in ("session_confirm", "bot_uttered", AGENT_STATUS_EVENT, ERROR_EVENT):
            self.client.on(name, self._recorder(name))

    def _recorder(self, name: str):
        async def record(data=None):
            self.events.append((name, data))
            self.arrived.set()

        return record

    async def next(self, name: str, what: str) -> Any:
        async def arrival():
            while True:
                found = self.of(name)
                if found:
                    return found[0]
                self.arrived.clear()
                await self.arrived.wait()

        return await within(arrival(), what)

    def of(self, name: str) -> List[Any]:
        return [data for event, data in self.events if event == name]

    async def open(self, url: str, session_id: str) -> None:
        await within(
            self.client.connect(url, transports=["polling"], socketio_path="/socket.io"),
            f"connecting to {url}",
        )
        await self.client.emit("session_request", {"session_id": session_id})
        assert await self.next("session_confirm", "session_confirm") == session_id


async def subscribed(url: str, channel: str, replicas: int) -> None:
    """Waits until `replicas` servers listen on the channel (a replica's manager subscribes
    after its first connection): until then a publish would reach nobody."""
    client = redis.asyncio.Redis.from_url(url)
    try:

        async def listening():
            while dict(await client.pubsub_numsub(channel)).get(channel.encode(), 0) < replicas:
                await asyncio.sleep(0.02)

        await within(listening(), f"{replicas} replica(s) subscribed to {channel}")
    finally:
        await client.close()


@pytest.fixture
def channel(monkeypatch, redis_url) -> str:
    """REDIS_URL set, and a socket.io channel of this test's own on the suite's Redis."""
    name = f"test:{uuid.uuid4().hex}:socketio"
    monkeypatch.setattr(Sanic, "test_mode", True)  # two apps in one process (replicas.py)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setattr(redis_client, "SOCKETIO_CHANNEL", name)
    return name


async def two_replicas(redis_url: str, channel: str) -> None:
    a, b = widget_replica(), widget_replica()
    for replica in (a, b):
        assert isinstance(replica.channel.sio.manager, socketio.AsyncRedisManager)
        assert replica.channel.sio.eio.max_http_buffer_size == max_request_bytes()
    mine, other = Tab(), Tab()
    session, other_session = str(uuid.uuid4()), str(uuid.uuid4())
    try:
        await a.start()
        await b.start()
        await mine.open(a.url, session)
        await other.open(a.url, other_session)
        await subscribed(redis_url, channel, 1)

        # The console's push, on replica B.
        await within(
            b.channel.push(session, AGENT_STATUS_EVENT, {"status": "agent_joined"}), "B's push"
        )
        pushed = await mine.next(AGENT_STATUS_EVENT, "the push from replica B on the tab on A")
        assert pushed == {"status": "agent_joined"}

        # Heard's reply, from a turn replica B handled.
        await within(
            SocketIOOutput(b.channel.sio, b.channel.bot_message_evt).send_text_message(
                session, "Your parcel is on its way."
            ),
            "B's reply",
        )
        reply = await mine.next("bot_uttered", "Heard's reply from replica B on the tab on A")
        assert reply == {"text": "Your parcel is on its way."}

        # Only the session's room: the other tab's first event is the one sent to it.
        await within(
            b.channel.push(other_session, AGENT_STATUS_EVENT, {"status": "mine"}),
            "B's push to the other session",
        )
        assert await other.next(AGENT_STATUS_EVENT, "the other tab's push") == {"status": "mine"}
        assert other.of("bot_uttered") == [] and len(other.of(AGENT_STATUS_EVENT)) == 1

        # Heard's own checks still answer on the socket's replica.
        await mine.client.emit("user_uttered", "just a string")
        error = await mine.next(ERROR_EVENT, "heard_error for a malformed message")
        assert error["status"] == 400 and "session" in error["error"]
    finally:
        await within(
            asyncio.gather(
                *(tab.client.disconnect() for tab in (mine, other) if tab.client.connected)
            ),
            "the tabs closing",
        )
        await a.stop()
        await b.stop()


def test_a_tab_on_one_replica_gets_what_another_replica_sends_its_session(redis_url, channel):
    asyncio.run(within(two_replicas(redis_url, channel), "the two-replica scenario", 60))


def test_without_redis_the_server_keeps_its_rooms_in_the_process(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    replica = widget_replica()
    assert type(replica.channel.sio.manager) is socketio.AsyncManager
    assert replica.channel.sio.eio.max_http_buffer_size == max_request_bytes()
