"""A human agent takes over a widget conversation and hands it back, on the real servers
with real socket.io clients: Heard stays silent meanwhile and resumes afterwards."""

from __future__ import annotations

import json
import urllib.request

import pytest

from store import models as shop
from tests.web.web_client import Widget, handoff_for, signed_in, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def waiting(live):
    """A customer in the widget who asked for a human: (tab, handoff reference)."""
    tab = Widget(live.servers.rasa_url).open()
    tab.say("I want to talk to a human")
    wait_for(lambda: any("ticket number" in t for t in tab.texts()), what="the handoff reply")
    reference = handoff_for(live, tab.session_id).reference
    tab.clear()
    yield tab, reference
    tab.close()


def tracker(live, conversation_id: str) -> dict:
    url = live.servers.api_url(f"/conversations/{conversation_id}/tracker")
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def status_of(live, reference: str) -> str:
    with live.repo.session() as s:
        return s.query(shop.Handoff).filter_by(reference=reference).one().status


def test_an_agent_takes_over_and_hands_back(live, waiting):
    tab, reference = waiting
    other_tab = Widget(live.servers.rasa_url).open(tab.session_id)
    console = signed_in(live, "Sam Rivera")
    listed = console.get("/console/api/queue").json()["handoffs"]
    mine = next(h for h in listed if h["reference"] == reference)
    assert mine["status"] == "waiting" and mine["conversation_id"] == tab.session_id
    assert mine["transcript"][0]["text"] == "I want to talk to a human"

    taken = console.post(f"/console/api/handoffs/{reference}/take")
    assert taken.status_code == 200
    assert (taken.json()["status"], taken.json()["agent"]) == ("taken", "Sam Rivera")
    assert status_of(live, reference) == "taken"
    for widget in (tab, other_tab):
        wait_for(
            lambda widget=widget: (
                {"status": "joined", "agent": "Sam Rivera"} in widget.of("agent_status")
            ),
            what="agent_status joined",
        )

    reply = console.post(
        f"/console/api/handoffs/{reference}/reply",
        json={"text": "Hi, I'm Sam. I'll look at this myself."},
    )
    assert reply.status_code == 200
    expected = {
        "text": "Hi, I'm Sam. I'll look at this myself.",
        "sender": "agent",
        "agent": "Sam Rivera",
    }
    for widget in (tab, other_tab):  # every tab of the session
        wait_for(
            lambda widget=widget: expected in widget.of("bot_uttered"), what="the agent's message"
        )

    history = console.get(f"/widget/history/{tab.session_id}").json()
    assert history["agent"] == "Sam Rivera"
    assert history["messages"][-1]["sender"] == "agent"

    tab.clear()
    other_tab.clear()
    tab.say("where is my order 2345678? this is taking FOREVER")
    seen = wait_for(
        lambda: [
            m
            for m in console.get(f"/console/api/handoffs/{reference}/messages?after=0").json()[
                "messages"
            ]
            if m["sender"] == "customer" and "2345678" in m["text"]
        ],
        what="the customer's message",
    )
    # The tracker is saved after Heard's turn would have run: had Heard answered, its
    # messages would have been sent before the console could see the customer's line.
    assert tab.of("bot_uttered") == [] and other_tab.of("bot_uttered") == []
    state = tracker(live, tab.session_id)
    assert state["paused"] is True
    latest = state["latest_message"]
    assert latest["text"].startswith("where is my order") and "emotion" in latest
    newer = console.get(
        f"/console/api/handoffs/{reference}/messages", params={"after": seen[0]["time"]}
    ).json()["messages"]
    assert newer == []

    released = console.post(f"/console/api/handoffs/{reference}/release")
    assert released.status_code == 200 and released.json()["status"] == "returned"
    assert status_of(live, reference) == "returned"
    wait_for(
        lambda: {"status": "left", "agent": "Sam Rivera"} in tab.of("agent_status"),
        what="agent_status left",
    )
    wait_for(lambda: any("back" in t for t in tab.texts()), what="Heard saying it is back")
    assert tracker(live, tab.session_id)["paused"] is False
    assert reference not in [
        h["reference"] for h in console.get("/console/api/queue").json()["handoffs"]
    ]

    tab.clear()
    tab.say("what is your refund policy?")
    wait_for(lambda: any("30 days" in t for t in tab.texts()), what="Heard answering again")
    history = console.get(f"/widget/history/{tab.session_id}").json()
    assert history["agent"] is None
    senders = [m["sender"] for m in history["messages"]]
    assert senders[0] == "customer" and {"heard", "agent"} <= set(senders)
    other_tab.close()


def test_only_one_agent_has_a_conversation(live, waiting):
    tab, reference = waiting
    sam, kim = signed_in(live, "Sam Rivera"), signed_in(live, "Kim Lee")
    assert (
        kim.post(f"/console/api/handoffs/{reference}/reply", json={"text": "hello"}).status_code
        == 409
    )  # not taken yet
    assert sam.post(f"/console/api/handoffs/{reference}/take").status_code == 200
    refused = kim.post(f"/console/api/handoffs/{reference}/take")
    assert refused.status_code == 409
    assert refused.json() == {"error": "Another agent is already handling this conversation."}
    assert (
        kim.post(f"/console/api/handoffs/{reference}/reply", json={"text": "hello"}).status_code
        == 409
    )
    assert kim.post(f"/console/api/handoffs/{reference}/release").status_code == 409
    assert status_of(live, reference) == "taken"
    assert sam.post(f"/console/api/handoffs/{reference}/take").status_code == 200  # again
    agent_lines = [m for m in tab.of("bot_uttered") if m.get("sender") == "agent"]
    assert agent_lines == []  # Kim's refused replies never reached the customer
    assert sam.post(f"/console/api/handoffs/{reference}/release").status_code == 200
    again = kim.post(f"/console/api/handoffs/{reference}/take")
    assert again.status_code == 409 and "handed back" in again.json()["error"]


def test_malformed_widget_session_ids_get_a_fresh_one(live):
    tab = Widget(live.servers.rasa_url).open("../../not-a-uuid")
    assert tab.session_id != "../../not-a-uuid" and len(tab.session_id) == 36
    tab.say("hello")
    wait_for(lambda: tab.texts(), what="Heard's greeting")
    tab.close()


def test_messages_under_a_malformed_session_id_are_dropped(live):
    tab = Widget(live.servers.rasa_url).open()
    tab.client.emit("user_uttered", {"message": "hello", "session_id": "not-a-uuid"})
    tab.client.emit("user_uttered", {"message": ["not", "text"], "session_id": tab.session_id})
    tab.say("hello")  # the well-formed one, after the two bad ones
    wait_for(lambda: tab.texts(), what="Heard's answer to the well-formed message")
    assert [e for e in tracker(live, "not-a-uuid")["events"] if e["event"] == "user"] == []
    said = [e["text"] for e in tracker(live, tab.session_id)["events"] if e["event"] == "user"]
    assert said == ["hello"]
    tab.close()
