"""A client for the running servers, as a web page or a phone gateway would use them."""

from __future__ import annotations

import json
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Dict, List

from bot.servers import Servers
from store import models
from store.repository import Repository

# The actions' log of completed requests (for the dashboard): answering a question writes
# to it, which is no change to the shop's data.
ACTIVITY_LOG = ("resolutions",)


def snapshot(repo: Repository) -> Dict[str, list]:
    """Every row of every shop table (not the activity log): equal snapshots mean nothing
    was changed."""
    with repo.engine.connect() as connection:
        return {
            table.name: sorted(map(tuple, connection.execute(table.select())), key=repr)
            for table in models.Base.metadata.sorted_tables
            if table.name not in ACTIVITY_LOG
        }


def post(url: str, payload, timeout: float = 30.0):
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


@dataclass
class Live:
    servers: Servers
    repo: Repository

    def parse(self, text: str) -> dict:
        return post(self.servers.api_url("/model/parse"), {"text": text})

    def conversation(self) -> "Chat":
        return Chat(self, f"test-{uuid.uuid4().hex[:8]}")


@dataclass
class Chat:
    live: Live
    sender: str

    def say(self, text: str) -> List[str]:
        replies = post(
            f"{self.live.servers.rasa_url}/webhooks/rest/webhook",
            {"sender": self.sender, "message": text},
        )
        return [r.get("text", "") for r in replies]

    def append_events(self, events: List[dict]) -> None:
        """Writes `events` into the conversation's stored history (Rasa's tracker API)."""
        post(self.live.servers.api_url(f"/conversations/{self.sender}/tracker/events"), events)

    def tracker(self) -> dict:
        """The conversation as Rasa stores it, every session."""
        url = self.live.servers.api_url(f"/conversations/{self.sender}/tracker")
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.load(response)
