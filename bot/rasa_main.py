"""Rasa's command line, with one speed fix for the Rasa server Heard runs.

Rasa 3.6 checks every action-server response with `jsonschema.validate`, which first
re-validates Rasa's large events schema against the JSON-Schema metaschema: on a 2-core
machine that was half of the Rasa server's CPU per turn (measured with py-spy under
`make bench`). The schema never changes, so the validator is built once here; responses
are checked exactly as before and an invalid one raises the same `ValidationError`.
Rasa is pinned (3.6.21) and `tests/test_rasa_main.py` checks the patched method exists
and is used.
"""
from __future__ import annotations

import sys
from functools import lru_cache
from typing import Any, Dict

from jsonschema import exceptions, validators
from rasa.core.actions.action import RemoteAction

_original_validate = RemoteAction._validate_action_result


@lru_cache(maxsize=1)
def _validator():
    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
    error = exceptions.best_match(_validator().iter_errors(result))
    if error is None:
        return True
    return _original_validate(self, result)  # Rasa's own path: same error and message


def install() -> None:
    RemoteAction._validate_action_result = _validate_action_result


if __name__ == "__main__":
    install()
    from rasa.__main__ import main

    sys.argv[0] = "rasa"
    main()
