"""Replicas of the Rasa server's web side for tests: Sanic apps with Heard's input channels,
served on loopback in the test's own event loop (no model, no agent), plus a bounded wait."""

from __future__ import annotations

import asyncio
import uuid
from typing import List

from rasa.core.channels.channel import InputChannel, register
from sanic import Sanic

from bot.servers import free_port

WAIT = 10.0


async def within(awaitable, what: str, timeout: float = WAIT):
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except asyncio.TimeoutError:
        raise AssertionError(f"timed out after {timeout} s waiting for {what}") from None


class Replica:
    """One Rasa server's channels on an app of its own. Several in one process need
    `Sanic.test_mode` set (Sanic rewrites its class's methods at each app's start-up, and
    redoes it from the originals only in test mode): monkeypatch it."""

    def __init__(self, channels: List[InputChannel]) -> None:
        self.channels = channels
        self.app = Sanic(f"replica_{uuid.uuid4().hex}")
        register(channels, self.app, route="/webhooks/")
        self.port = free_port()
        self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.server = await within(
            self.app.create_server(
                host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False
            ),
            f"replica on {self.port} listening",
        )
        await self.server.startup()
        await self.server.before_start()
        await self.server.after_start()

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.before_stop()
            await within(self.server.close(), f"replica on {self.port} closing")
            await self.server.after_stop()
