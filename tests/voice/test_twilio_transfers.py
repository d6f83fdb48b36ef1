"""Pending Twilio transfers: asked for on one replica's stream, dialled by whichever replica
Twilio's /after reaches, once. In the process without REDIS_URL, in Redis (real, no mocks)
with it."""

import asyncio
import time
import uuid
from types import SimpleNamespace

import pytest
from sanic.request import RequestParameters

from bot.servers import free_port
from heard import redis_client
from tests.voice.twiml import verbs
from voice.channels.twilio import (
    TRANSFER_TTL_SECONDS,
    MemoryTransfers,
    RedisTransfers,
    TwilioMediaStreamsInput,
    TwilioTransport,
    transfers_for,
)

CALL_SID = "CA0123456789abcdef0123456789abcdef"
NUMBER = "+15550199"
AFTER = "/webhooks/twilio_voice/after"
DIAL, HANG_UP = [("Dial", NUMBER)], [("Hangup", "")]


@pytest.fixture
def namespace() -> str:
    return f"test:{uuid.uuid4().hex}:"  # the suite's Redis is shared: a fresh prefix per test


def redis_store(url: str, namespace: str, **options) -> RedisTransfers:
    return RedisTransfers(redis_client.client(url), namespace=namespace, **options)


def test_in_the_process_a_transfer_is_taken_once():
    store = MemoryTransfers()
    store.put(CALL_SID, NUMBER)
    assert store.take("CA" + "f" * 32) is None
    assert store.take(CALL_SID) == NUMBER
    assert store.take(CALL_SID) is None


def test_in_the_process_a_transfer_nobody_took_expires():
    now = [0.0]
    store = MemoryTransfers(ttl=60, clock=lambda: now[0])
    store.put(CALL_SID, NUMBER)
    now[0] = 60
    assert store.take(CALL_SID) is None
    store.put(CALL_SID, NUMBER)
    now[0] = 200
    store.put("CA" + "e" * 32, NUMBER)  # forgets the one /after never asked for
    assert CALL_SID not in store._numbers


def test_in_redis_a_transfer_put_on_one_replica_is_taken_once_on_another(redis_url, namespace):
    here, there = redis_store(redis_url, namespace), redis_store(redis_url, namespace)
    here.put(CALL_SID, NUMBER)
    ttl = redis_client.client(redis_url).pttl(namespace + CALL_SID)
    assert TRANSFER_TTL_SECONDS * 1000 - 5_000 < ttl <= TRANSFER_TTL_SECONDS * 1000
    assert there.take(CALL_SID) == NUMBER
    assert there.take(CALL_SID) is None
    assert here.take(CALL_SID) is None


def test_in_redis_a_transfer_nobody_took_expires(redis_url, namespace):
    store = redis_store(redis_url, namespace, ttl=0.05)
    store.put(CALL_SID, NUMBER)
    client = redis_client.client(redis_url)
    for _ in range(100):  # at most 1 s
        if not client.exists(namespace + CALL_SID):
            break
        time.sleep(0.01)
    assert store.take(CALL_SID) is None


def test_redis_is_used_only_when_a_url_is_given(redis_url):
    assert isinstance(transfers_for(None), MemoryTransfers)
    assert isinstance(transfers_for(redis_url), RedisTransfers)


# Two replicas of the channel -------------------------------------------------------------


class Stream:
    closed = False

    async def close(self, *args) -> None:
        self.closed = True


def replica() -> TwilioMediaStreamsInput:
    return TwilioMediaStreamsInput.from_credentials(
        {
            "stt": "scripted",
            "scripted_dir": "/tmp",
            "insecure_dev_mode": True,
            "transfer_number": NUMBER,
        }
    )


def after(channel: TwilioMediaStreamsInput) -> list:
    """The verbs of the TwiML /after answers for the call."""
    req = SimpleNamespace(
        scheme="http",
        host="internal:5005",
        path=AFTER,
        query_string="",
        form=RequestParameters({"CallSid": [CALL_SID]}),
        headers={},
    )
    return verbs(asyncio.run(asyncio.wait_for(channel.after(req), 5)).body)


def transfer(channel: TwilioMediaStreamsInput) -> Stream:
    stream = Stream()
    transport = TwilioTransport(stream, "MZ" + "0" * 32, CALL_SID, channel)
    assert asyncio.run(asyncio.wait_for(transport.transfer({"reference": "HO-ABCDEF"}), 5))
    return stream


def test_with_redis_the_other_replica_dials_the_transfer_once(redis_url, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    streaming, answering = replica(), replica()
    assert transfer(streaming).closed  # the stream ends; Twilio asks /after elsewhere
    assert after(answering) == DIAL
    assert after(answering) == HANG_UP and after(streaming) == HANG_UP


def test_without_redis_only_the_replica_that_streamed_knows(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    streaming, answering = replica(), replica()
    transfer(streaming)
    assert after(answering) == HANG_UP
    assert after(streaming) == DIAL


def test_when_redis_is_down_the_caller_hears_the_transfer_failed(monkeypatch, caplog):
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")  # nobody there
    channel = replica()
    stream = Stream()
    transport = TwilioTransport(stream, "MZ" + "0" * 32, CALL_SID, channel)
    assert not asyncio.run(asyncio.wait_for(transport.transfer({"reference": "HO-1"}), 10))
    assert not stream.closed  # the call goes on: Heard says it couldn't transfer
    assert after(channel) == HANG_UP
    assert "transfer_not_stored" in caplog.text and "transfer_not_read" in caplog.text
