"""How many failed console sign-ins are allowed, and for how long a pair must wait: the same
table for the in-process throttle and the one in Redis (real Redis, no mocks), and replicas
sharing the Redis one."""

import uuid

import pytest

from heard import redis_client
from web.login_throttle import LoginThrottle, RedisLoginThrottle, throttle_for

KEY = LoginThrottle.key(" Sam ", "10.0.0.1")


@pytest.fixture
def namespace() -> str:
    return f"test:{uuid.uuid4().hex}:"  # the suite's Redis is shared: a fresh prefix per test


@pytest.fixture(params=["memory", "redis"])
def make(request, namespace):
    """Builds a throttle of the parametrized kind; Redis ones all share `namespace`."""
    if request.param == "memory":
        return LoginThrottle
    client = redis_client.client(request.getfixturevalue("redis_url"))
    return lambda **options: RedisLoginThrottle(client, namespace=namespace, **options)


def test_five_failures_within_the_window_make_the_pair_wait(make):
    throttle = make(max_failures=5, window=900)
    for second in range(5):
        assert throttle.wait(KEY, second) is None
        throttle.failed(KEY, second)
    assert throttle.wait(KEY, 10) == 890  # until the first failure leaves the window
    assert throttle.wait(KEY, 900) is None  # the first one has left it: one more try


def test_other_addresses_and_usernames_are_not_affected(make):
    throttle = make(max_failures=2, window=900)
    for second in range(2):
        throttle.failed(KEY, second)
    assert throttle.wait(KEY, 5) is not None
    assert throttle.wait(LoginThrottle.key("sam", "10.0.0.2"), 5) is None
    assert throttle.wait(LoginThrottle.key("dana", "10.0.0.1"), 5) is None
    assert LoginThrottle.key("SAM", "10.0.0.1") == KEY  # the same user, however typed


def test_a_success_clears_the_count_and_old_failures_are_forgotten(make):
    throttle = make(max_failures=2, window=100)
    throttle.failed(KEY, 0)
    throttle.succeeded(KEY)
    throttle.failed(KEY, 1)
    assert throttle.wait(KEY, 2) is None
    throttle.failed(KEY, 150)
    assert throttle.wait(KEY, 151) is None  # the failure at 1 is forgotten


def test_failures_at_the_same_moment_all_count(make):
    throttle = make(max_failures=3, window=60)
    for _ in range(3):
        throttle.failed(KEY, 7.5)
    assert throttle.wait(KEY, 7.5) == 60


def test_without_a_time_each_uses_its_own_clock(make):
    throttle = make(max_failures=1, window=60)
    throttle.failed(KEY)
    wait = throttle.wait(KEY)
    assert wait is not None and 59 < wait <= 60


def test_replicas_on_one_redis_count_the_same_failures(redis_url, namespace):
    """Two replicas, each with its own client: failures on either make the pair wait on
    both, and a success on one clears it for both."""
    one, two = (
        RedisLoginThrottle(
            redis_client.client(redis_url), max_failures=4, window=900, namespace=namespace
        )
        for _ in range(2)
    )
    for second in range(2):
        one.failed(KEY, second)
        two.failed(KEY, second + 0.5)
    assert one.wait(KEY, 10) == two.wait(KEY, 10) == 890
    two.succeeded(KEY)
    assert one.wait(KEY, 10) is None


def test_the_redis_key_hides_the_pair_and_expires_after_the_window(redis_url, namespace):
    client = redis_client.client(redis_url)
    throttle = RedisLoginThrottle(client, max_failures=5, window=900, namespace=namespace)
    throttle.failed(KEY)
    (name,) = client.keys(namespace + "*")
    assert b"sam" not in name and b"10.0.0.1" not in name
    assert 895_000 < client.pttl(name) <= 900_000


def test_redis_is_used_only_when_a_url_is_given(redis_url):
    assert isinstance(throttle_for(None), LoginThrottle)
    shared = throttle_for(redis_url)
    assert isinstance(shared, RedisLoginThrottle)
    assert shared.window == 15 * 60 and shared.max_failures == 5
