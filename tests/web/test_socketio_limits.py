"""The widget's socket.io channel with hostile clients: clear errors, bounded packets.
One tab serves every case (closing a polling client takes the server's ping interval)."""

from __future__ import annotations

import pytest

from tests.web.web_client import Widget, wait_for

pytestmark = pytest.mark.slow

MALFORMED = [
    ("just a string", "session"),
    ({"message": "hi"}, "session"),
    ({"message": "hi", "session_id": "../../etc/passwd"}, "session"),
    ({"message": 42, "session_id": None}, "session"),
    ({"message": 42}, "message"),
    ({"message": ["hi"]}, "message"),
    ({"message": "hi", "message_id": "x" * 100}, "message_id"),
]


@pytest.fixture(scope="module")
def tab(live):
    tab = Widget(live.servers.rasa_url)
    tab.client.on("heard_error", tab._recorder("heard_error"))
    tab.open()
    yield tab
    tab.close()


@pytest.mark.parametrize("data, problem", MALFORMED, ids=repr)
def test_malformed_messages_get_an_error_event_and_no_reply(tab, data, problem):
    tab.clear()
    if isinstance(data, dict) and "session_id" not in data and problem != "session":
        data = {**data, "session_id": tab.session_id}
    tab.client.emit("user_uttered", data)
    (error,) = wait_for(lambda: tab.of("heard_error"), what="heard_error")
    assert error["status"] == 400 and problem in error["error"]
    tab.say("hi")  # the connection still works, and only the good message was answered
    wait_for(tab.texts, what="the reply to hi")
    assert len(tab.of("heard_error")) == 1


def test_a_long_message_gets_a_polite_reply(tab):
    tab.clear()
    tab.say("where is my parcel " * 500)
    (reply,) = wait_for(tab.texts, what="the reply")
    assert "send me the main point" in reply


def test_a_packet_over_the_limit_is_refused_unread(live, tab):
    """Over polling, Sanic refuses the oversized POST with 413 before engine.io reads it
    (the client's connection is then broken: it is the last test on this tab)."""
    tab.clear()
    tab.say("where is my order 2345678? " + "x" * 200_000)
    other = Widget(live.servers.rasa_url).open()
    try:
        other.say("hi")
        wait_for(other.texts, what="another customer's reply")  # the server kept going
    finally:
        other.close()
    assert not tab.texts()  # the oversized message was never processed
