"""The action server goes down mid-conversation: the customer gets a polite reply, the
client a 503 it can tell apart, nothing half-done is stored, and a retry carries on."""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest
import requests

from bot.servers import Servers, _answers
from store import models as m
from store.repository import Repository
from tests.live import snapshot

pytestmark = pytest.mark.slow


@pytest.fixture
def servers(trained_model, tmp_path):
    servers = Servers.in_folder(trained_model, tmp_path)
    servers.start()
    try:
        servers.wait_until_ready()
        yield servers
    finally:
        servers.stop()


def say(servers: Servers, sender: str, text: str, message_id: str) -> requests.Response:
    return requests.post(
        f"{servers.rasa_url}/webhooks/rest/webhook",
        timeout=60,
        json={"sender": sender, "message": text, "message_id": message_id},
    )


def user_texts(servers: Servers, sender: str) -> list:
    tracker = requests.get(servers.api_url(f"/conversations/{sender}/tracker"), timeout=30)
    return [e["text"] for e in tracker.json()["events"] if e["event"] == "user"]


def test_an_action_server_outage_is_said_and_the_retry_is_stored_once(servers):
    repo = Repository.from_url(servers.database_url)
    sender = f"test-{uuid.uuid4().hex[:8]}"
    assert say(servers, sender, "where is my order 2345678?", "m1").status_code == 200
    before = snapshot(repo)

    actions = servers.processes[0]
    os.killpg(actions.pid, signal.SIGKILL)
    actions.wait(timeout=10)
    started = time.monotonic()
    down = say(servers, sender, "jane.doe@example.com", "m2")
    assert time.monotonic() - started < 10
    assert down.status_code == 503 and down.headers["Retry-After"] == "30"
    body = down.json()
    assert "trouble looking that up" in body[0]["text"]
    assert body[-1]["custom"] == {"heard_error": "actions_unavailable", "retry_after": 30}
    assert user_texts(servers, sender) == ["where is my order 2345678?"]  # dropped whole

    servers.start_actions()
    deadline = time.monotonic() + 60
    while not _answers(f"{servers.action_url}/health"):
        assert time.monotonic() < deadline, "the action server did not come back"
        time.sleep(0.5)
    retry = say(servers, sender, "jane.doe@example.com", "m2")
    assert retry.status_code == 200
    assert any("Jane" in m.get("text", "") for m in retry.json())
    assert user_texts(servers, sender) == ["where is my order 2345678?", "jane.doe@example.com"]
    assert snapshot(repo) == before
    with repo.session() as s:  # the tracking answered once, so recorded once
        assert [r.request for r in s.query(m.Resolution)] == ["track_order"]
