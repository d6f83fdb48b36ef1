"""Action-server responses, validated with validators built once (Rasa rebuilt its validator
on every call, re-checking its schema against the metaschema: half the server's CPU), each
event against the schema of its own type only."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict

from jsonschema import validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.utils.schemas.events import EVENT_SCHEMA

_original = {"validate": RemoteAction._validate_action_result}


@lru_cache(maxsize=1)
def _event_validators() -> Dict[str, Any]:
    """Per event type, Rasa's event schema with only the alternative of its `oneOf` for
    that type. The alternatives are told apart by their `event` constant, so an event is
    valid against the whole schema exactly when it is valid against its own: one
    alternative checked instead of 23."""
    base = {key: value for key, value in EVENT_SCHEMA.items() if key != "oneOf"}
    by_type = {}
    for alternative in EVENT_SCHEMA["oneOf"]:
        schema = {**base, "allOf": [alternative]}
        cls = validators.validator_for(schema)
        cls.check_schema(schema)
        by_type[alternative["properties"]["event"]["const"]] = cls(schema)
    return by_type


def valid_action_result(result: Any) -> bool:
    """Whether `result` fits Rasa's action response schema (as `jsonschema.validate`)."""
    if not isinstance(result, dict):
        return False
    events, responses = result.get("events", []), result.get("responses", [])
    if (
        not isinstance(events, list)
        or not isinstance(responses, list)
        or not all(isinstance(r, dict) for r in responses)
    ):
        return False
    by_type = _event_validators()
    return all(
        isinstance(e, dict) and e.get("event") in by_type and by_type[e["event"]].is_valid(e)
        for e in events
    )


def validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
    """Rasa's `RemoteAction._validate_action_result`, quick when the response is valid."""
    if valid_action_result(result):
        return True
    return _original["validate"](self, result)  # Rasa's own path: same error and message


def install() -> None:
    RemoteAction._validate_action_result = validate_action_result
