"""Odd, hostile or broken input gets a clear, polite reply, and changes no data."""

from __future__ import annotations

import pytest

from tests.live import snapshot

pytestmark = pytest.mark.slow

STRANGE = [
    "",
    "   \n\t ",
    "a" * 10_000,
    "refund " * 1_500,
    "😡😡😡🤬",
    "где мой заказ",
    "我的订单在哪里？",
    "\x00\x07\x1b[31m hello \x7f",
    "'; DROP TABLE orders; --",
    "<script>alert('x')</script><b>hi</b>",
    "{{7*7}} ${jndi:ldap://x} %s%s%n",
]


def polite(replies):
    return replies and all(r and "Traceback" not in r and "Exception" not in r for r in replies)


@pytest.mark.parametrize("text", STRANGE, ids=[repr(t[:12]) for t in STRANGE])
def test_strange_messages_get_a_polite_reply_and_change_nothing(live, text):
    before = snapshot(live.repo)
    replies = live.conversation().say(text)
    assert polite(replies), replies
    assert snapshot(live.repo) == before


@pytest.mark.parametrize(
    "order, expected",
    [
        ("12345", "6 to 8 digits"),  # malformed
        ("#12-34", "6 to 8 digits"),
        ("99999999", "e-mail"),  # well-formed but unknown: asked for the e-mail like any other
    ],
)
def test_bad_order_numbers(live, order, expected):
    before = snapshot(live.repo)
    chat = live.conversation()
    chat.say("I want to track my order")
    replies = chat.say(order)
    assert any(expected in r for r in replies), replies
    if expected == "e-mail":
        replies = chat.say("someone@example.com")
        assert any("couldn't match" in r for r in replies)
    assert snapshot(live.repo) == before


def test_wrong_email_reveals_nothing_and_changes_nothing(live):
    before = snapshot(live.repo)
    unknown, known = live.conversation(), live.conversation()
    for chat in (unknown, known):
        chat.say("where is order 1234567")
    a = unknown.say("nobody-here@example.com")
    b = known.say("omar.haddad@example.com")  # exists, but not this order's
    assert a[0] == b[0] and "couldn't match" in a[0]  # the same words either way
    assert len(a) == len(b) and all("order number" in r for r in (a[-1], b[-1]))
    assert snapshot(live.repo) == before


def test_sql_looking_email_is_just_a_wrong_email(live):
    chat = live.conversation()
    chat.say("cancel order 6789012")  # other tests cancel 1234567 on this shared database
    replies = chat.say("x' OR '1'='1")
    assert any("e-mail address" in r for r in replies)
    assert live.repo.find_order("6789012").status == "processing"


@pytest.mark.parametrize(
    "path, body",
    [
        ("/conversations/test-anyone/tracker", None),
        ("/model/parse", b'{"text": "hi"}'),
        ("/status", None),
    ],
)
def test_rasas_http_api_needs_the_token(live, path, body):
    """Rasa's API reads (and writes) any conversation: without the token it refuses."""
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{live.servers.rasa_url}{path}", data=body, timeout=10)
    assert refused.value.code == 401
    with urllib.request.urlopen(live.servers.api_url("/status"), timeout=10) as response:
        assert response.status == 200
