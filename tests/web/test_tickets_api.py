"""The console's ticket calls on the real Rasa server: a ticket on a real conversation,
listed, filtered, opened with its transcript, reassigned and closed (twice: the second
changes nothing), and every bad request answered with a JSON 4xx."""

from __future__ import annotations

import pytest

from tests.web.web_client import new_agent, signed_in

pytestmark = pytest.mark.slow


@pytest.fixture
def chat_ticket(live):
    """A complaint ticket on a REST conversation that said something (no order: one ticket
    per conversation, so it is this test's own)."""
    chat = live.conversation()
    chat.say("hello")
    ticket, created = live.repo.open_ticket(
        "complaint",
        "The courier threw the parcel over the fence.",
        "urgent",
        conversation_id=chat.sender,
    )
    assert created
    return chat, ticket.reference


def listed(console, **filters) -> dict:
    response = console.get("/console/api/tickets", params=filters)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_ticket_is_listed_filtered_and_opened_with_its_conversation(live, chat_ticket):
    chat, reference = chat_ticket
    console = signed_in(live, "Sam Rivera")
    found = listed(console, q=reference)
    assert [t["reference"] for t in found["tickets"]] == [reference] and found["total"] == 1
    row = found["tickets"][0]
    assert (row["kind"], row["priority"], row["status"], row["team"]) == (
        "complaint",
        "urgent",
        "open",
        "customer care",
    )
    assert row["conversation_id"] == chat.sender and "summary" not in row
    assert row["messages_url"] == f"/console/api/tickets/{reference}/messages"

    complaints = listed(console, kind="complaint", priority="urgent", limit=100)
    assert reference in [t["reference"] for t in complaints["tickets"]]
    assert {(t["kind"], t["priority"]) for t in complaints["tickets"]} == {("complaint", "urgent")}
    assert reference not in [t["reference"] for t in listed(console, kind="damage")["tickets"]]
    one = listed(console, limit=1)
    assert len(one["tickets"]) == 1 and one["total"] >= 1 and one["limit"] == 1

    ticket = console.get(f"/console/api/tickets/{reference}").json()
    assert ticket == {
        **row,
        "summary": "The courier threw the parcel over the fence.",
        "age_seconds": ticket["age_seconds"],
    }
    lines = console.get(row["messages_url"]).json()["messages"]
    assert (lines[0]["sender"], lines[0]["text"]) == ("customer", "hello")
    assert lines[-1]["sender"] == "heard"
    later = console.get(row["messages_url"], params={"after": lines[0]["time"]}).json()
    assert later["messages"] == lines[1:]
    bad_after = console.get(row["messages_url"], params={"after": "yesterday"})
    assert bad_after.status_code == 400 and "'after' must be a time" in bad_after.json()["error"]


def test_reassign_then_close_each_idempotent(live, chat_ticket):
    _, reference = chat_ticket
    kim_username, _ = new_agent(live, "Kim Lee")
    console = signed_in(live, "Sam Rivera")
    choices = console.get("/console/api/ticket-choices").json()
    assert {"username": kim_username, "name": "Kim Lee"} in choices["agents"]
    assert "billing" in choices["teams"] and "complaint" in choices["kinds"]
    url = f"/console/api/tickets/{reference}"

    to_billing = console.post(f"{url}/reassign", json={"to": "team:billing"})
    assert to_billing.status_code == 200 and to_billing.json()["changed"] is True
    assert to_billing.json()["ticket"]["team"] == "billing"
    assert to_billing.json()["ticket"]["assigned_by"]["name"] == "Sam Rivera"
    again = console.post(f"{url}/reassign", json={"to": "team:billing"})
    assert again.status_code == 200 and again.json() == {**to_billing.json(), "changed": False}

    to_kim = console.post(f"{url}/reassign", json={"to": f"agent:{kim_username}"})
    assert to_kim.json()["ticket"]["assignee"] == {"username": kim_username, "name": "Kim Lee"}
    assert to_kim.json()["ticket"]["team"] == "billing"  # Kim has it for the team
    nobody = console.post(f"{url}/reassign", json={"to": "agent:nobody-at-all"})
    assert nobody.status_code == 400 and nobody.json() == {
        "error": "There is no agent with that username."
    }

    closed = console.post(f"{url}/close")
    assert closed.status_code == 200 and closed.json()["changed"] is True
    ticket = closed.json()["ticket"]
    assert ticket["status"] == "closed" and ticket["closed_by"]["name"] == "Sam Rivera"
    # A colleague closing it again (a second tab, a retry) changes nothing and says so.
    repeat = signed_in(live, "Kim Lee").post(f"{url}/close")
    assert repeat.status_code == 200 and repeat.json()["changed"] is False
    assert repeat.json()["ticket"]["closed_by"] == ticket["closed_by"]
    assert repeat.json()["ticket"]["closed_at"] == ticket["closed_at"]

    refused = console.post(f"{url}/reassign", json={"to": "team:returns"})
    assert refused.status_code == 409 and "closed" in refused.json()["error"]
    assert listed(console, q=reference)["tickets"] == []  # open tickets by default
    assert [t["reference"] for t in listed(console, q=reference, status="closed")["tickets"]] == [
        reference
    ]


@pytest.mark.parametrize(
    "method, path, kwargs, status, message",
    [
        ("GET", "/console/api/tickets?kind=gift_card", {}, 400, "'kind' must be one of"),
        ("GET", "/console/api/tickets?priority=1", {}, 400, "'priority' must be one of"),
        ("GET", "/console/api/tickets?status=pending", {}, 400, "'status' must be one of"),
        ("GET", "/console/api/tickets?q=%25%27%20or%201%3D1", {}, 400, "'q' is part of"),
        ("GET", "/console/api/tickets?limit=1000", {}, 400, "'limit' must be a whole number"),
        ("GET", "/console/api/tickets?offset=-5", {}, 400, "'offset' must be a whole number"),
        ("GET", "/console/api/tickets/TK-ZZZZZZ", {}, 404, "No ticket"),
        ("GET", "/console/api/tickets/HO-ABCDEF", {}, 404, "No ticket"),
        ("GET", "/console/api/tickets/..%2F..%2Fetc", {}, 404, ""),
        ("GET", "/console/api/tickets/TK-ZZZZZZ/messages", {}, 404, "No ticket"),
        ("POST", "/console/api/tickets/TK-ZZZZZZ/close", {}, 404, "No ticket"),
        (
            "POST",
            "/console/api/tickets/TK-ZZZZZZ/reassign",
            {"json": {"to": "team:billing"}},
            404,
            "No ticket",
        ),
        (
            "POST",
            "/console/api/tickets/TK-ZZZZZZ/reassign",
            {"json": {"to": "team:marketing"}},
            400,
            "There is no team 'marketing'",
        ),
        (
            "POST",
            "/console/api/tickets/TK-ZZZZZZ/reassign",
            {"data": "to=team:billing"},
            400,
            "Say whom to give it to as JSON",
        ),
        (
            "POST",
            "/console/api/tickets/TK-ZZZZZZ/reassign",
            {"json": ["team:billing"]},
            400,
            "Say whom to give it to as JSON",
        ),
        (
            "POST",
            "/console/api/tickets/TK-ZZZZZZ/reassign",
            {"json": {"to": "agent:" + "x" * 500}},
            400,
            "Say whom to give it to as JSON",
        ),
    ],
)
def test_bad_ticket_requests_get_polite_json_errors(live, method, path, kwargs, status, message):
    console = signed_in(live)
    response = console.http.request(method, live.servers.rasa_url + path, timeout=30, **kwargs)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]
    assert "Traceback" not in response.text


def test_ticket_changes_from_another_origin_are_refused(live, chat_ticket):
    _, reference = chat_ticket
    console = signed_in(live)
    refused = console.post(
        f"/console/api/tickets/{reference}/close", headers={"Origin": "http://evil.example"}
    )
    assert refused.status_code == 403 and "error" in refused.json()
    assert console.get(f"/console/api/tickets/{reference}").json()["status"] == "open"


def test_a_huge_reassignment_is_refused_unread(live, chat_ticket):
    _, reference = chat_ticket
    response = signed_in(live).post(
        f"/console/api/tickets/{reference}/reassign",
        data=b'{"to": "' + b"x" * (70 * 1024) + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413 and "error" in response.json()
