"""The console's sign-in throttle on two replicas behind a load balancer: with REDIS_URL
(a real Redis) failures on either count together; without it each replica counts its own,
as `make run`'s one server does. The replicas are Sanic apps with Heard's console channel
on one seeded database; every wait is bounded."""

from __future__ import annotations

import asyncio
import uuid
from typing import List

import aiohttp
import pytest
from sanic import Sanic

from tests.web.replicas import Replica, within
from web.console_channel import ConsoleInput

LOGIN = "/console/api/login"


@pytest.fixture
def database(repo, tmp_path, monkeypatch) -> str:
    monkeypatch.setattr(Sanic, "test_mode", True)  # two apps in one process (replicas.py)
    return f"sqlite:///{tmp_path}/heard.db"  # the seeded database of the `repo` fixture


async def sign_ins(database: str, replicas_in_turn: List[int]) -> List[int]:
    """Wrong passwords for one new username, sent to replicas 0 and 1 in the order given;
    the status of each answer."""
    replicas = [Replica([ConsoleInput(database)]) for _ in range(2)]
    username = f"guess-{uuid.uuid4().hex[:8]}"
    statuses = []
    try:
        for replica in replicas:
            await replica.start()
        async with aiohttp.ClientSession() as http:
            for index in replicas_in_turn:
                answer = await within(
                    http.post(
                        replicas[index].url + LOGIN,
                        json={"username": username, "password": "a wrong guess"},
                    ),
                    f"sign-in on replica {index}",
                )
                statuses.append(answer.status)
                answer.release()
    finally:
        for replica in replicas:
            await replica.stop()
    return statuses


def test_with_redis_failures_on_either_replica_count_together(database, redis_url, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    statuses = asyncio.run(within(sign_ins(database, [0, 1, 0, 1, 0, 1, 0]), "sign-ins", 60))
    assert statuses == [401] * 5 + [429, 429]


def test_without_redis_each_replica_counts_its_own(database, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    statuses = asyncio.run(within(sign_ins(database, [0, 1, 0, 1, 0, 1, 0]), "sign-ins", 60))
    assert statuses == [401] * 7
    statuses = asyncio.run(within(sign_ins(database, [0] * 6), "sign-ins", 60))
    assert statuses == [401] * 5 + [429]
