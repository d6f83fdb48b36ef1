"""heard/redis_client.py: REDIS_URL decides whether state is shared; clients time out."""

import pytest

from heard import redis_client


@pytest.mark.parametrize("value", [None, "", "  "])
def test_unset_or_blank_means_nothing_is_shared(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("REDIS_URL", raising=False)
    else:
        monkeypatch.setenv("REDIS_URL", value)
    assert redis_client.redis_url() is None


def test_a_set_url_is_used_and_its_client_answers_with_timeouts(monkeypatch, redis_url):
    monkeypatch.setenv("REDIS_URL", redis_url)
    assert redis_client.redis_url() == redis_url
    client = redis_client.client(redis_client.redis_url())
    assert client.ping()
    options = client.connection_pool.connection_kwargs
    assert options["socket_timeout"] == options["socket_connect_timeout"] == 2.0


def test_a_url_that_is_not_redis_is_refused(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "http://cache:6379")
    with pytest.raises(ValueError, match="REDIS_URL"):
        redis_client.redis_url()


def test_every_replica_uses_one_socketio_channel(redis_url):
    one, two = (redis_client.socketio_manager(redis_url) for _ in range(2))
    assert one.channel == two.channel == redis_client.SOCKETIO_CHANNEL
    assert one.redis_url == redis_url
