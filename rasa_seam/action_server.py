"""Calls to the action server: retried briefly when it can't be reached, given up after 30 s
instead of Rasa's 5 minutes, and carrying the current session's events only, with the
domain only until the action server has it (`heard.domain_digest`; Rasa sent its 43 KB
with every call)."""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any, Dict, List

import aiohttp
import rasa
from rasa.core.actions import action as rasa_action
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.shared.exceptions import RasaException

from heard import domain_digest
from rasa_seam.tracker_sessions import this_session

# Connection attempts to the action server: the first, then after each of these pauses.
RETRY_PAUSES = (0.25, 0.5, 1.0)
ACTION_TIMEOUT_SECONDS = 30  # Rasa's default is 300: a hung action server held turns 5 min

_original = {
    "remote_run": RemoteAction.run,
    "call_format": RemoteAction._action_call_format,  # replaced whole: pinned by the tests
}
# Set while Heard's handle_message runs a turn: an unreachable action server ends it.
in_turn: contextvars.ContextVar[bool] = contextvars.ContextVar("heard_in_turn", default=False)
# Action endpoint URL -> the digest of the domain its action servers were sent.
_domain_sent: Dict[str, str] = {}
_domain_payload: Dict[str, Any] = {}  # the domain last sent: its object, dict and digest


class ActionServerUnavailable(BaseException):
    """Raised through Rasa's `_run_action`, which catches every `Exception` and carries on
    without the action's events: a turn without its actions must not be stored."""


def _unreachable(error: RasaException) -> bool:
    """Rasa wraps aiohttp's connect failure; only then was the request surely not sent,
    so only then is it safe to send it again."""
    return isinstance(error.__context__, aiohttp.ClientConnectorError)


async def run_remote_action(self: RemoteAction, *args: Any) -> List[Any]:
    """Rasa's `RemoteAction.run`, retried while unreachable, and sent again with the domain
    when the action server does not know its digest."""
    try:
        return await _run_reaching(self, *args)
    except ActionExecutionRejection as rejection:
        if rejection.message != domain_digest.UNKNOWN:
            raise
        _domain_sent.pop(_endpoint(self), None)  # that action server needs the domain
        return await _run_reaching(self, *args)


async def _run_reaching(self: RemoteAction, *args: Any) -> List[Any]:
    for pause in (*RETRY_PAUSES, None):
        try:
            return await _original["remote_run"](self, *args)
        except RasaException as error:
            if not _unreachable(error):
                raise
            if pause is None:
                if in_turn.get():
                    raise ActionServerUnavailable(self.name()) from None
                raise
            await asyncio.sleep(pause)
    raise AssertionError("unreachable")


def _endpoint(action: RemoteAction) -> str:
    return action.action_endpoint.url if action.action_endpoint else ""


def _domain_of(domain: Any) -> Any:
    if _domain_payload.get("object") is not domain:
        as_dict = domain.as_dict()
        _domain_payload.update(object=domain, dict=as_dict, digest=domain_digest.digest(as_dict))
    return _domain_payload


def action_call(self: RemoteAction, tracker: DialogueStateTracker, domain: Any) -> Dict[str, Any]:
    """Rasa's action call, with the session's events only and the domain by digest."""
    state = tracker.current_state(EventVerbosity.NONE)
    state["events"] = [event.as_dict() for event in this_session(tracker)]
    call = {
        "next_action": self.name(),
        "sender_id": tracker.sender_id,
        "tracker": state,
        "version": rasa.__version__,
    }
    if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(
        self.name()
    ):
        payload = _domain_of(domain)
        call[domain_digest.DIGEST_KEY] = payload["digest"]
        if _domain_sent.get(_endpoint(self)) != payload["digest"]:
            call["domain"] = payload["dict"]
            _domain_sent[_endpoint(self)] = payload["digest"]
    return call


def install() -> None:
    RemoteAction.run = run_remote_action
    RemoteAction._action_call_format = action_call
    rasa_action.DEFAULT_REQUEST_TIMEOUT = ACTION_TIMEOUT_SECONDS
