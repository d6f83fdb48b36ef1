"""Every place Heard changes how rasa_sdk itself works, in one module (rasa_sdk 3.6.2).

The action call's domain comes from memory when the Rasa server sent only its digest
(`heard.domain_digest`); a digest this server does not know is rejected with
`UNKNOWN`, which rasa_sdk answers with 400 and the Rasa server reads as "send the
domain". `tests/test_sdk_seam.py` pins the rasa_sdk code this relies on.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection

from heard.domain_digest import UNKNOWN, Domains

_original = {"run": ActionExecutor.run}
domains = Domains()


async def run(self: ActionExecutor, action_call: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    if not domains.fill(action_call):
        raise ActionExecutionRejection(str(action_call.get("next_action")), UNKNOWN)
    return await _original["run"](self, action_call)


def install() -> None:
    ActionExecutor.run = run
