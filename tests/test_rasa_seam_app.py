"""Rasa's server app as Heard reaches it (`rasa_seam.app`, `rasa_seam.readiness`,
`rasa_seam.command_line`): where Rasa keeps the agent and the channels, the health routes,
readiness, the `rasa` program, and the agent's API the console uses."""

from __future__ import annotations

import asyncio
import inspect
from importlib.metadata import entry_points
from types import SimpleNamespace

import pytest
import rasa.__main__
import sqlalchemy as sa
from rasa import server as rasa_server
from rasa.core import agent as rasa_agent
from rasa.core import run as rasa_run
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.lock_store import LockStore
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import AwaitableTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from sanic import Sanic

from bot.servers import free_port
from rasa_seam import command_line, readiness
from rasa_seam.app import agent_of, input_channels_of, parse_with_metadata
from rasa_seam.lock_store import AtomicRedisLockStore
from tests.rasa_source import digest


@pytest.fixture
def sanic_test_mode(monkeypatch):
    monkeypatch.setattr(Sanic, "test_mode", True)  # Rasa's apps have fixed names


def test_the_app_keeps_the_agent_where_rasas_server_puts_it(sanic_test_mode):
    agent = Agent()
    assert agent_of(rasa_server.create_app(agent=agent)) is agent


def test_the_app_keeps_the_channels_and_the_loaded_agent_where_rasa_run_puts_them(
    sanic_test_mode, monkeypatch
):
    channel = RestInput()
    app = readiness.configure_app(input_channels=[channel], enable_api=True)
    assert input_channels_of(app) == [channel]
    with pytest.raises(LookupError):
        agent_of(app)  # `rasa run` loads the model when the server starts
    assert readiness.app_problems(app) == [readiness.NOT_LOADED]
    loaded = Agent()

    async def load_agent(**_):
        return loaded

    monkeypatch.setattr(rasa_agent, "load_agent", load_agent)
    asyncio.run(rasa_run.load_agent_on_start("models", None, None, app, None))
    assert agent_of(app) is loaded


def test_the_app_has_the_health_routes(sanic_test_mode):
    app = readiness.configure_app(enable_api=False)
    paths = {route.path for route in app.router.routes}
    assert {"health/live", "health/ready"} <= paths


def test_an_app_without_channels_has_none():
    assert input_channels_of(SimpleNamespace(ctx=SimpleNamespace())) == []


class _Agent:
    def __init__(self, tracker_store, lock_store):
        self.tracker_store, self.lock_store = tracker_store, lock_store

    def is_ready(self):
        return True


def test_readiness_names_each_store_that_does_not_answer(tmp_path, redis_url):
    store = AwaitableTrackerStore(
        SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    )
    answering = AtomicRedisLockStore(url=redis_url)
    silent = AtomicRedisLockStore(url=f"redis://127.0.0.1:{free_port()}/0")
    assert readiness.readiness_problems(Agent()) == [readiness.NOT_LOADED]
    assert readiness.readiness_problems(_Agent(store, answering)) == []
    assert readiness.readiness_problems(_Agent(store, silent)) == [
        "the lock store does not answer (ConnectionError)"
    ]
    inner = store._tracker_store  # now its database server is gone
    inner.engine = sa.create_engine(f"postgresql://heard@127.0.0.1:{free_port()}/heard")
    assert readiness.readiness_problems(_Agent(store, answering)) == [
        "the tracker store does not answer (OperationalError)"
    ]


def test_the_command_line_is_rasas_program():
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "rasa"]
    assert script.value == "rasa.__main__:main"
    assert command_line.main is rasa.__main__.main


# The agent's API that web/conversations.py uses: Rasa's own HTTP API uses it the same way.
AGENT_API = [
    (
        Agent.execute_action,
        ["self", "sender_id", "action", "output_channel", "policy", "confidence"],
    ),
    (TrackerStore.retrieve_full_tracker, ["self", "conversation_id"]),
    (
        TrackerStore.get_or_create_tracker,
        ["self", "sender_id", "max_event_history", "append_action_listen"],
    ),
    (TrackerStore.save, ["self", "tracker"]),
    (LockStore.lock, ["self", "conversation_id", "lock_lifetime", "wait_time_in_seconds"]),
]


@pytest.mark.parametrize("method, parameters", AGENT_API)
def test_the_agent_api_the_console_uses_is_unchanged(method, parameters):
    assert list(inspect.signature(method).parameters) == parameters


def test_executing_an_action_still_runs_it_through_the_processor_with_the_agents_nlg():
    assert digest(Agent.execute_action) == "cc4b8b17975a77bb"


def test_a_parse_with_metadata_goes_through_the_agents_processor():
    """`Agent.parse_message` takes text only: a call's voice cues reach the NLU through the
    processor's `parse_message`, which takes the whole message."""
    seen = []

    class Processor:
        async def parse_message(self, message):
            seen.append(message)
            return {"text": message.text, "metadata": message.metadata}

    agent = Agent()
    message = UserMessage("where is my order", sender_id="call-1", metadata={"voice": {}})
    with pytest.raises(LookupError):  # no model loaded: Rasa's agent has no processor
        asyncio.run(parse_with_metadata(agent, message))
    agent.processor = Processor()
    parsed = asyncio.run(parse_with_metadata(agent, message))
    assert seen == [message] and parsed["metadata"] == {"voice": {}}
    assert list(inspect.signature(MessageProcessor.parse_message).parameters)[:2] == [
        "self",
        "message",
    ]
