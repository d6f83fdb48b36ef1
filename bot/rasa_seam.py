"""Every place Heard changes how Rasa itself works, in one module (Rasa is pinned, 3.6.21).

`tests/test_rasa_seam.py` checks that each patched method still exists, that the Rasa code
a replacement mirrors is unchanged, and that the replacements are the ones Rasa calls.

1. Action-server responses are validated with a validator built once (Rasa rebuilt it on
   every call, re-checking its schema against the metaschema: half the server's CPU).
2. A turn (`MessageProcessor.handle_message`, inside Rasa's per-conversation lock):
   - a message longer than the limit is not parsed or stored; the customer is asked for
     the main point (`utter_message_too_long`);
   - a message whose id is already in the conversation (a client's or a load balancer's
     retry) is not processed again: the replies it got are sent again;
   - when the action server can't be reached even after brief retries, the turn is
     dropped whole (nothing stored, so a retry is stored once) and the customer gets
     `utter_actions_unavailable` plus a custom payload `{"heard_error": ...}` that the
     REST channel turns into 503 and the widget can tell apart.
3. Sanic's error pages are JSON for every route and every client: Sanic guessed HTML for
   browsers and for routes whose handler returns files, and answered with its HTML page.
4. `/model/parse` answers a body that is not a JSON object with a string `text` with 400
   (Rasa answered 500). Every parse (that one too) sees at most the limit's characters and
   no lone surrogates (which crashed spaCy), so no NLU step's time or memory depends on
   how long a message is; and Rasa's "/intent" shortcuts work only for the payloads of the
   domain's buttons, so a customer typing "/restart" or "/inform{...}" is read as words.
"""
from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from functools import lru_cache
from http import HTTPStatus
from typing import Any, Dict, List, Optional, Set

import aiohttp
from jsonschema import exceptions, validators
from rasa import server as rasa_server
from rasa.core.actions import action as rasa_action
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from sanic.errorpages import JSONRenderer, exception_response
from sanic.handlers import ErrorHandler

from heard.formats import clean_text
from heard.limits import max_message_chars

logger = logging.getLogger(__name__)

ACTIONS_UNAVAILABLE = {"heard_error": "actions_unavailable", "retry_after": 30}
# Connection attempts to the action server: the first, then after each of these pauses.
RETRY_PAUSES = (0.25, 0.5, 1.0)
ACTION_TIMEOUT_SECONDS = 30  # Rasa's default is 300: a hung action server held turns 5 min

_original = {
    "validate": RemoteAction._validate_action_result,
    "remote_run": RemoteAction.run,
    "handle_message": MessageProcessor.handle_message,
    "parse_message": MessageProcessor.parse_message,
    "validate_body": rasa_server.validate_request_body,
}
# Set while Heard's handle_message runs a turn: an unreachable action server ends it.
_in_turn: contextvars.ContextVar[bool] = contextvars.ContextVar("heard_in_turn", default=False)


class ActionServerUnavailable(BaseException):
    """Raised through Rasa's `_run_action`, which catches every `Exception` and carries on
    without the action's events: a turn without its actions must not be stored."""


# --- 1. validation ------------------------------------------------------------------------

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
    return _original["validate"](self, result)  # Rasa's own path: same error and message


# --- 2. a turn: the action server, retried ------------------------------------------------

def _unreachable(error: RasaException) -> bool:
    """Rasa wraps aiohttp's connect failure; only then was the request surely not sent,
    so only then is it safe to send it again."""
    return isinstance(error.__context__, aiohttp.ClientConnectorError)


async def _run_remote_action(self: RemoteAction, *args: Any) -> List[Any]:
    for pause in (*RETRY_PAUSES, None):
        try:
            return await _original["remote_run"](self, *args)
        except RasaException as error:
            if not _unreachable(error):
                raise
            if pause is None:
                if _in_turn.get():
                    raise ActionServerUnavailable(self.name()) from None
                raise
            await asyncio.sleep(pause)
    raise AssertionError("unreachable")


# --- 2. a turn: limits, repeats, outages ---------------------------------------------------

async def _utter(processor: MessageProcessor, response: str, message: UserMessage,
                 tracker: Optional[DialogueStateTracker] = None) -> None:
    tracker = tracker or DialogueStateTracker(message.sender_id, processor.domain.slots)
    output = message.output_channel
    rendered = await processor.nlg.generate(response, tracker, output.name())
    if rendered:
        await output.send_response(message.sender_id, rendered)


def replies_to(events: List[Any], message_id: str) -> Optional[List[Dict[str, Any]]]:
    """What Heard said after the user message with this id, or None if there is none."""
    replies: Optional[List[Dict[str, Any]]] = None
    for event in events:
        if isinstance(event, UserUttered):
            if replies is not None:
                break
            if event.message_id == message_id:
                replies = []
        elif replies is not None and isinstance(event, BotUttered):
            replies.append({"text": event.text,
                            **{key: value for key, value in event.data.items() if value}})
    return replies


async def _drop_turn(processor: MessageProcessor, message: UserMessage,
                     tracker: Optional[DialogueStateTracker]) -> None:
    logger.warning("heard.turn.dropped reason=action_server_unreachable conversation=%s",
                   message.sender_id)
    output = message.output_channel
    if isinstance(output, CollectingOutputChannel) and isinstance(output.messages, list):
        output.messages.clear()  # half a turn's replies would contradict the apology
    await _utter(processor, "utter_actions_unavailable", message, tracker)
    await output.send_custom_json(message.sender_id, dict(ACTIONS_UNAVAILABLE))


async def handle_message(self: MessageProcessor,
                         message: UserMessage) -> Optional[List[Dict[str, Any]]]:
    """Rasa's `handle_message` (mirrored step by step) with the three guards above."""
    limit = max_message_chars()
    if message.text and len(message.text) > limit:
        logger.warning("heard.message.too_long conversation=%s characters=%d",
                       message.sender_id, len(message.text))
        await _utter(self, "utter_message_too_long", message)
    else:
        token = _in_turn.set(True)
        tracker = None
        try:
            tracker = await self.fetch_tracker_and_update_session(
                message.sender_id, message.output_channel, message.metadata)
            earlier = replies_to(tracker.events, message.message_id)
            if earlier is not None:
                logger.info("heard.message.repeated conversation=%s", message.sender_id)
                for reply in earlier:
                    await message.output_channel.send_response(message.sender_id, reply)
            else:
                await self._handle_message_with_tracker(message, tracker)
                tracker = await self.run_action_extract_slots(message.output_channel, tracker)
                await self._run_prediction_loop(message.output_channel, tracker)
                await self.run_anonymization_pipeline(tracker)
                await self.save_tracker(tracker)
        except ActionServerUnavailable:
            await _drop_turn(self, message, tracker)
        finally:
            _in_turn.reset(token)
    if isinstance(message.output_channel, CollectingOutputChannel):
        return message.output_channel.messages
    return None


# --- 3. error pages -------------------------------------------------------------------------

def json_error_page(self: ErrorHandler, request: Any, exception: BaseException) -> Any:
    """Sanic's `ErrorHandler.default`, always rendering `{"description", "status",
    "message"}` as JSON (never a traceback: Rasa runs Sanic without debug)."""
    self.log(request, exception)
    return exception_response(request, exception, debug=self.debug, fallback="json",
                              base=self.base, renderer=JSONRenderer)


# --- 4. parsing -----------------------------------------------------------------------------

def parse_body_problem(body: bytes) -> Optional[str]:
    """Why a `/model/parse` body can't be parsed, or None."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "The body must be JSON (UTF-8), like {\"text\": \"hello\"}."
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        return "The body must be a JSON object with a string 'text'."
    return None


def validate_request_body(request: Any, error_message: str) -> None:
    """Rasa's check that a body exists, and for `/model/parse` that it is a text to parse:
    the route itself turns every later error, its own 400s included, into 500."""
    _original["validate_body"](request, error_message)
    problem = parse_body_problem(request.body) if request.path == "/model/parse" else None
    if problem:
        raise rasa_server.ErrorResponse(HTTPStatus.BAD_REQUEST, "BadRequest", problem)


def button_payloads(domain: Any) -> Set[str]:
    return {str(button.get("payload", "")).strip()
            for variations in domain.responses.values() for variation in variations
            for button in variation.get("buttons") or []}


def text_to_parse(text: str, domain: Any, limit: int) -> str:
    """At most `limit` characters, no lone surrogates; a "/" shortcut only if a button of
    the domain sends it."""
    text = clean_text(text[:limit])
    if text.lstrip().startswith("/") and text.strip() not in button_payloads(domain):
        text = text.lstrip().lstrip("/")
    return text


async def parse_message(self: MessageProcessor, message: UserMessage,
                        tracker: Optional[DialogueStateTracker] = None,
                        only_output_properties: bool = True) -> Dict[str, Any]:
    if isinstance(message.text, str):
        text = text_to_parse(message.text, self.domain, max_message_chars())
        if text != message.text:
            message = UserMessage(text, message.output_channel, message.sender_id,
                                  message.parse_data, message.input_channel,
                                  message.message_id, message.metadata)
    return await _original["parse_message"](self, message, tracker, only_output_properties)


def install() -> None:
    RemoteAction._validate_action_result = _validate_action_result
    RemoteAction.run = _run_remote_action
    rasa_action.DEFAULT_REQUEST_TIMEOUT = ACTION_TIMEOUT_SECONDS
    MessageProcessor.handle_message = handle_message
    MessageProcessor.parse_message = parse_message
    ErrorHandler.default = json_error_page
    rasa_server.validate_request_body = validate_request_body
