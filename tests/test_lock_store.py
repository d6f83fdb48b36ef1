"""The conversation lock shared by Rasa replicas, against a real Redis server."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import redis
from rasa.core.lock_store import LockStore
from rasa.utils.endpoints import EndpointConfig

from rasa_seam.lock_store import AtomicRedisLockStore


@pytest.fixture
def replicas(redis_url):
    """Two lock stores on one Redis, as two Rasa replicas have; an empty Redis per test."""
    redis.Redis.from_url(redis_url).flushdb()
    return [
        AtomicRedisLockStore(url=redis_url, lease_seconds=0.9, poll_seconds=0.01) for _ in range(2)
    ]


def test_tickets_issued_at_once_by_two_replicas_are_all_different(replicas):
    issued, start = [], threading.Barrier(8)

    def issue(store):
        start.wait(timeout=10)
        for _ in range(50):
            issued.append(store.issue_ticket("c1"))

    threads = [threading.Thread(target=issue, args=(replicas[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(issued) == 400
    assert sorted(issued) == list(range(400))  # Rasa's GET-then-SET hands out duplicates


def test_turns_of_one_conversation_on_two_replicas_run_one_at_a_time(replicas):
    running, overlaps, counter = [0], [0], [0]

    async def turn(store):
        async with store.lock("c1"):
            running[0] += 1
            overlaps[0] += running[0] > 1
            seen = counter[0]
            await asyncio.sleep(0.01)  # the turn's work, with other turns waiting
            counter[0] = seen + 1
            running[0] -= 1

    async def main():
        await asyncio.wait_for(
            asyncio.gather(*(turn(replicas[i % 2]) for i in range(20))), timeout=30
        )

    asyncio.run(main())
    assert (counter[0], overlaps[0]) == (20, 0)


def test_a_turn_longer_than_the_lease_keeps_the_conversation(replicas):
    first, second = replicas
    order = []

    async def slow():
        async with first.lock("c1"):
            order.append("slow starts")
            await asyncio.sleep(2.0)  # more than two leases of 0.9 s
            order.append("slow ends")

    async def quick():
        await asyncio.sleep(0.2)
        async with second.lock("c1"):
            order.append("quick")

    async def main():
        await asyncio.wait_for(asyncio.gather(slow(), quick()), timeout=30)

    asyncio.run(main())
    assert order == ["slow starts", "slow ends", "quick"]


def test_a_killed_replicas_ticket_frees_the_conversation_within_one_lease(replicas):
    dead, live = replicas
    dead.issue_ticket("c1")  # and never renewed, as when its server is killed -9

    async def main():
        started = time.monotonic()
        async with live.lock("c1"):
            return time.monotonic() - started

    waited = asyncio.run(asyncio.wait_for(main(), timeout=10))
    assert 0.5 < waited < 2.0  # the lease is 0.9 s


def test_the_lock_is_gone_from_redis_when_no_turn_waits(replicas, redis_url):
    async def main():
        async with replicas[0].lock("c1"):
            pass

    asyncio.run(main())
    assert redis.Redis.from_url(redis_url).keys("*") == []


def test_endpoints_yml_makes_it_with_its_options(redis_url):
    config = EndpointConfig(
        url=redis_url,
        type="rasa_seam.lock_store.AtomicRedisLockStore",
        key_prefix="heard",
        lease_seconds=4,
    )
    store = LockStore.create(config)
    assert isinstance(store, AtomicRedisLockStore)
    assert (store.key_prefix, store.lease_seconds) == ("heard:lock:", 4.0)


@pytest.mark.parametrize(
    "options, problem",
    [
        ({"url": "localhost"}, "redis://"),
        ({"url": "redis://127.0.0.1:1/0", "poll_seconds": 20}, "poll_seconds"),
    ],
)
def test_bad_options_are_refused_with_the_reason(options, problem):
    with pytest.raises(ValueError, match=problem):
        AtomicRedisLockStore(EndpointConfig(type="x", **options))
