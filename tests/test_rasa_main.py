"""The Rasa server's cached response validation behaves exactly like Rasa's own."""
from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot import rasa_main

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


@pytest.fixture
def patched(monkeypatch):
    monkeypatch.setattr(RemoteAction, "_validate_action_result",
                        RemoteAction._validate_action_result)  # restored after the test
    rasa_main.install()
    return RemoteAction("action_x", None)


def test_install_replaces_the_method_rasa_calls(patched):
    assert RemoteAction._validate_action_result is rasa_main._validate_action_result


@pytest.mark.parametrize("result", VALID)
def test_valid_responses_pass(patched, result):
    assert patched._validate_action_result(result) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_responses_raise_rasas_error(patched, result):
    with pytest.raises(ValidationError) as ours:
        patched._validate_action_result(result)
    with pytest.raises(ValidationError) as theirs:
        rasa_main._original_validate(patched, result)
    assert ours.value.message == theirs.value.message
    assert "Failed to validate Action server response" in ours.value.message
