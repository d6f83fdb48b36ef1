"""Heard's changes to Rasa: each still fits the pinned Rasa and behaves as documented."""
from __future__ import annotations

import asyncio
import hashlib
import inspect
import time

import pytest
from jsonschema import ValidationError
from rasa import server as rasa_server
from rasa.core.actions.action import RemoteAction
from rasa.core.processor import MessageProcessor
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig
from sanic.handlers import ErrorHandler

from bot import rasa_seam
from bot.servers import free_port

VALID = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "order_id", "value": "1234567"}],
     "responses": [{"response": "utter_greet"}]},
    {"events": [{"event": "active_loop", "name": None}], "responses": [{"text": "hi"}]},
]
INVALID = [
    {"events": "not a list", "responses": []},
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": [], "responses": ["a string, not an object"]},
]
# Rasa code that Heard's handle_message mirrors step by step: a Rasa upgrade that changes
# it must be read and mirrored again before this hash is updated.
MIRRORED = {"handle_message": "0c41d4780d2d4676", "log_message": "f2f8ec66a291d83d"}


@pytest.fixture
def patched(monkeypatch):
    for cls, name in [(RemoteAction, "_validate_action_result"), (RemoteAction, "run"),
                      (MessageProcessor, "handle_message"),
                      (MessageProcessor, "parse_message"), (ErrorHandler, "default"),
                      (rasa_server, "validate_request_body")]:
        monkeypatch.setattr(cls, name, getattr(cls, name))  # restored after the test
    rasa_seam.install()
    return RemoteAction("action_x", None)


def test_install_replaces_the_methods_rasa_calls(patched):
    assert RemoteAction._validate_action_result is rasa_seam._validate_action_result
    assert RemoteAction.run is rasa_seam._run_remote_action
    assert MessageProcessor.handle_message is rasa_seam.handle_message
    assert MessageProcessor.parse_message is rasa_seam.parse_message
    assert ErrorHandler.default is rasa_seam.json_error_page
    assert rasa_server.validate_request_body is rasa_seam.validate_request_body


@pytest.mark.parametrize("name, digest", MIRRORED.items())
def test_the_mirrored_rasa_code_is_unchanged(name, digest):
    original = rasa_seam._original.get(name) or getattr(MessageProcessor, name)
    assert hashlib.sha256(inspect.getsource(original).encode()).hexdigest()[:16] == digest


def test_the_methods_heard_calls_exist_with_their_signatures():
    for name in ("fetch_tracker_and_update_session", "_handle_message_with_tracker",
                 "run_action_extract_slots", "_run_prediction_loop",
                 "run_anonymization_pipeline", "save_tracker"):
        assert inspect.iscoroutinefunction(getattr(MessageProcessor, name)), name


@pytest.mark.parametrize("result", VALID)
def test_valid_responses_pass(patched, result):
    assert patched._validate_action_result(result) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_responses_raise_rasas_error(patched, result):
    with pytest.raises(ValidationError) as ours:
        patched._validate_action_result(result)
    with pytest.raises(ValidationError) as theirs:
        rasa_seam._original["validate"](patched, result)
    assert ours.value.message == theirs.value.message
    assert "Failed to validate Action server response" in ours.value.message


def test_replies_to_a_message_id_are_those_until_the_next_message():
    events = [UserUttered("hi", message_id="m1"), ActionExecuted("utter_greet"),
              BotUttered("Hello", {"buttons": [{"title": "1", "payload": "1"}]}),
              BotUttered("How can I help?"), ActionExecuted("action_listen"),
              UserUttered("bye", message_id="m2"), BotUttered("Goodbye")]
    assert rasa_seam.replies_to(events, "m1") == [
        {"text": "Hello", "buttons": [{"title": "1", "payload": "1"}]},
        {"text": "How can I help?"}]
    assert rasa_seam.replies_to(events, "m2") == [{"text": "Goodbye"}]
    assert rasa_seam.replies_to(events, "m3") is None


def run_unreachable_action(in_turn: bool):
    action = RemoteAction("action_x", EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook"))
    tracker = DialogueStateTracker("someone", [])

    async def run():
        token = rasa_seam._in_turn.set(in_turn)
        try:
            await action.run(None, None, tracker, Domain.empty())
        finally:
            rasa_seam._in_turn.reset(token)

    asyncio.run(run())


def test_an_unreachable_action_server_is_retried_then_ends_the_turn(patched):
    started = time.monotonic()
    with pytest.raises(rasa_seam.ActionServerUnavailable):
        run_unreachable_action(in_turn=True)
    assert time.monotonic() - started >= sum(rasa_seam.RETRY_PAUSES)  # it did wait and retry


def test_outside_a_turn_rasas_own_error_is_kept(patched):
    with pytest.raises(RasaException):
        run_unreachable_action(in_turn=False)


DOMAIN = Domain.from_dict({"intents": ["affirm", "deny"], "responses": {"utter_confirm": [
    {"text": "Shall I?", "buttons": [{"title": "Yes", "payload": "/affirm"},
                                     {"title": "No", "payload": "/deny"}]}]}})


@pytest.mark.parametrize("text, parsed", [
    ("where is my order", "where is my order"),
    ("/affirm", "/affirm"),  # a button's payload
    (" /deny ", " /deny "),
    ("/restart", "restart"),  # typed, not a button: read as words
    ("//inform{\"order_id\": \"1234567\"}", "inform{\"order_id\": \"1234567\"}"),
    ("a" * 5000, "a" * 2000),
    ("where \udc80 is it \ud83d", "where \ufffd is it \ufffd"),  # lone surrogates
    ("happy \U0001F600", "happy \U0001F600"),
])
def test_text_to_parse(text, parsed):
    assert rasa_seam.text_to_parse(text, DOMAIN, 2000) == parsed


@pytest.mark.parametrize("body, problem", [
    (b'{"text": "hi"}', None),
    (b"", "JSON"), (b"not json", "JSON"), (b"\xff\xfe", "JSON"),
    (b"[1]", "object"), (b'"hi"', "object"), (b"{}", "text"), (b'{"text": 5}', "text"),
])
def test_parse_body_problem(body, problem):
    found = rasa_seam.parse_body_problem(body)
    assert (found is None) if problem is None else (problem in found)
