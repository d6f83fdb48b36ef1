"""How many failed console sign-ins are allowed, and for how long a pair must wait."""
from web.login_throttle import LoginThrottle

KEY = LoginThrottle.key(" Sam ", "10.0.0.1")


def test_five_failures_within_the_window_make_the_pair_wait():
    throttle = LoginThrottle(max_failures=5, window=900)
    for second in range(5):
        assert throttle.wait(KEY, second) is None
        throttle.failed(KEY, second)
    assert throttle.wait(KEY, 10) == 890  # until the first failure leaves the window
    assert throttle.wait(KEY, 900) is None  # the first one has left it: one more try


def test_other_addresses_and_usernames_are_not_affected():
    throttle = LoginThrottle(max_failures=2, window=900)
    for second in range(2):
        throttle.failed(KEY, second)
    assert throttle.wait(KEY, 5) is not None
    assert throttle.wait(LoginThrottle.key("sam", "10.0.0.2"), 5) is None
    assert throttle.wait(LoginThrottle.key("dana", "10.0.0.1"), 5) is None
    assert LoginThrottle.key("SAM", "10.0.0.1") == KEY  # the same user, however typed


def test_a_success_clears_the_count_and_old_failures_are_forgotten():
    throttle = LoginThrottle(max_failures=2, window=100)
    throttle.failed(KEY, 0)
    throttle.succeeded(KEY)
    throttle.failed(KEY, 1)
    assert throttle.wait(KEY, 2) is None
    throttle.failed(KEY, 150)
    assert throttle.wait(KEY, 151) is None  # the failure at 1 is forgotten
