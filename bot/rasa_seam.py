"""Every place Heard changes how Rasa itself works, in one module (Rasa is pinned, 3.6.21).

`tests/test_rasa_seam.py` checks that each patched method still exists, that the Rasa code
a replacement mirrors is unchanged, and that the replacements are the ones Rasa calls.

1. Action-server responses are validated with validators built once (Rasa rebuilt its
   validator on every call, re-checking its schema against the metaschema: half the
   server's CPU), each event against the schema of its own type only.
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
5. Work per turn that does not grow with the conversation:
   - the conversation's frustration score is updated in the turn itself, from the
     session's customer messages (`actions/frustration.py`), not by a call to the
     action server on every message;
   - a session also ends after `HEARD_SESSION_MAX_TURNS` customer messages, and Rasa's
     own session start (no call to the action server) carries what `bot.sessions` says;
   - an event's class is looked up once per type name (Rasa searched every subclass of
     `Event` for each event it loaded: a fifth of a long conversation's turn);
   - an action call carries the current session's events only, and the domain only
     until the action server has it (`heard.domain_digest`; Rasa sent its 43 KB with
     every call);
   - the SQL tracker store finds a conversation's current session through two indexes,
     with a query that can use them (Rasa's read every event of the conversation, all
     sessions, on every load and save). On a SQLite file it keeps its connections in a
     pool and writes ahead to a log (WAL) with `synchronous=NORMAL`, so a commit doesn't
     wait for the disk: a turn survives a crash of the server, only a power cut can lose
     the last turns (PostgreSQL, for production, is unchanged).
"""
from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import time
from functools import lru_cache
from http import HTTPStatus
from typing import Any, Dict, List, Optional, Set

import aiohttp
import rasa
import sqlalchemy as sa
from jsonschema import validators
from rasa import server as rasa_server
from rasa.core.actions import action as rasa_action
from rasa.core import run as rasa_run
from rasa.core.actions.action import (ActionExecutionRejection, ActionSessionStart,
                                     RemoteAction)
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import RedisLockStore
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import (ActionExecuted, ActiveLoop, BotUttered,
                                     ConversationPaused, Event, SessionStarted, SlotSet,
                                     UserUttered)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.shared.exceptions import RasaException
from rasa.shared.utils.schemas.events import EVENT_SCHEMA
from sanic.errorpages import JSONRenderer, exception_response
from sanic.handlers import ErrorHandler

from actions import frustration
from bot import sessions
from heard import domain_digest, health
from heard.formats import clean_text
from heard.limits import max_message_chars, session_max_turns

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
    "session_expired": MessageProcessor._has_session_expired,
    "resolve_event": Event.resolve_by_type,
    "session_start": ActionSessionStart.run,  # replaced whole: pinned by the tests
    "call_format": RemoteAction._action_call_format,  # replaced whole: pinned too
    "event_query": SQLTrackerStore._event_query,  # replaced whole: pinned too
    "store_init": SQLTrackerStore.__init__,
    "configure_app": rasa_run.configure_app,
}
# Set while Heard's handle_message runs a turn: an unreachable action server ends it.
_in_turn: contextvars.ContextVar[bool] = contextvars.ContextVar("heard_in_turn", default=False)


class ActionServerUnavailable(BaseException):
    """Raised through Rasa's `_run_action`, which catches every `Exception` and carries on
    without the action's events: a turn without its actions must not be stored."""


# --- 1. validation ------------------------------------------------------------------------

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
    if not isinstance(events, list) or not isinstance(responses, list) \
            or not all(isinstance(r, dict) for r in responses):
        return False
    by_type = _event_validators()
    return all(isinstance(e, dict) and e.get("event") in by_type
               and by_type[e["event"]].is_valid(e) for e in events)


def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
    if valid_action_result(result):
        return True
    return _original["validate"](self, result)  # Rasa's own path: same error and message


# --- 2. a turn: the action server, retried ------------------------------------------------

def _unreachable(error: RasaException) -> bool:
    """Rasa wraps aiohttp's connect failure; only then was the request surely not sent,
    so only then is it safe to send it again."""
    return isinstance(error.__context__, aiohttp.ClientConnectorError)


async def _run_remote_action(self: RemoteAction, *args: Any) -> List[Any]:
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
                tracker.update(frustration_after_message(tracker))
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


# --- 5. work per turn -----------------------------------------------------------------------

def this_session(tracker: DialogueStateTracker) -> List[Event]:
    """The events since the latest session start (a tracker loaded from the store holds
    that session only, but in the turn that starts a new one it holds both)."""
    events: List[Event] = []
    for event in reversed(tracker.events):
        if isinstance(event, SessionStarted):
            break
        events.append(event)
    return events[::-1]


def frustration_after_message(tracker: DialogueStateTracker) -> SlotSet:
    said = [e.as_dict() for e in this_session(tracker) if isinstance(e, UserUttered)]
    previous = float(tracker.get_slot("frustration") or 0.0)
    return SlotSet("frustration", frustration.after_message(previous, said))


def has_session_expired(self: MessageProcessor, tracker: DialogueStateTracker) -> bool:
    """Rasa's idle expiry, or the session's turn limit reached."""
    if _original["session_expired"](self, tracker):
        return True
    said = sum(isinstance(e, UserUttered) for e in this_session(tracker))
    return said >= session_max_turns()


async def start_session(self: ActionSessionStart, output_channel: Any, nlg: Any,
                        tracker: DialogueStateTracker, domain: Any) -> List[Event]:
    """Rasa's `action_session_start`, keeping what `bot.sessions` says (Rasa's own set
    every slot again, once per slot event of the old session)."""
    events: List[Event] = [SessionStarted()]
    last = tracker.get_last_event_for(UserUttered)
    came_back = last is not None and sessions.returning(
        last.timestamp, time.time(), domain.session_config.session_expiration_time)
    if domain.session_config.carry_over_slots:
        slots = tracker.slots.values()
        carried = sessions.carried_slots({s.name: s.value for s in slots},
                                         {s.name: s.initial_value for s in slots}, came_back)
        events += [SlotSet(name, value) for name, value in carried.items()]
        if tracker.active_loop_name and not came_back:
            events.append(ActiveLoop(tracker.active_loop_name))
    if tracker.is_paused():  # a colleague has the conversation: Heard stays silent
        events.append(ConversationPaused())
    return events + [ActionExecuted(ACTION_LISTEN_NAME)]


# Action endpoint URL -> the digest of the domain its action servers were sent.
_domain_sent: Dict[str, str] = {}
_domain_payload: Dict[str, Any] = {}  # the domain last sent: its object, dict and digest


def _endpoint(action: RemoteAction) -> str:
    return action.action_endpoint.url if action.action_endpoint else ""


def _domain_of(domain: Any) -> Any:
    if _domain_payload.get("object") is not domain:
        as_dict = domain.as_dict()
        _domain_payload.update(object=domain, dict=as_dict,
                               digest=domain_digest.digest(as_dict))
    return _domain_payload


def action_call(self: RemoteAction, tracker: DialogueStateTracker,
                domain: Any) -> Dict[str, Any]:
    """Rasa's action call, with the session's events only and the domain by digest."""
    state = tracker.current_state(EventVerbosity.NONE)
    state["events"] = [event.as_dict() for event in this_session(tracker)]
    call = {"next_action": self.name(), "sender_id": tracker.sender_id, "tracker": state,
            "version": rasa.__version__}
    if not self._is_selective_domain_enabled() \
            or domain.does_custom_action_explicitly_need_domain(self.name()):
        payload = _domain_of(domain)
        call[domain_digest.DIGEST_KEY] = payload["digest"]
        if _domain_sent.get(_endpoint(self)) != payload["digest"]:
            call["domain"] = payload["dict"]
            _domain_sent[_endpoint(self)] = payload["digest"]
    return call


_EVENT = SQLTrackerStore.SQLEvent
# Rasa's table has an index on sender_id only. These join its metadata when this module
# is imported (new databases get them with the table); init_store adds them to old ones.
SESSION_INDEXES = (
    sa.Index("heard_events_session_start", _EVENT.sender_id, _EVENT.type_name,
             _EVENT.timestamp),
    sa.Index("heard_events_sender_time", _EVENT.sender_id, _EVENT.timestamp),
)


def event_query(self: SQLTrackerStore, session: Any, sender_id: str,
                fetch_events_from_all_sessions: bool) -> Any:
    """Rasa's query for a conversation's events (all sessions, or from the latest
    `session_started` on), without the `OR ... IS NULL` that kept databases from using an
    index on the time: the same rows, since Rasa gives every event a time."""
    query = session.query(_EVENT).filter(_EVENT.sender_id == sender_id)
    if not fetch_events_from_all_sessions:
        start = (session.query(sa.func.max(_EVENT.timestamp))
                 .filter(_EVENT.sender_id == sender_id,
                         _EVENT.type_name == SessionStarted.type_name)
                 .scalar_subquery())
        query = query.filter(_EVENT.timestamp >= sa.func.coalesce(start, -1e300))
    return query.order_by(_EVENT.id)


def _write_ahead(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def init_store(self: SQLTrackerStore, *args: Any, **kwargs: Any) -> None:
    _original["store_init"](self, *args, **kwargs)
    if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (
            None, "", ":memory:"):  # each pooled connection to memory would be a new one
        # SQLAlchemy 1.4 opens a new SQLite connection for every load and save (NullPool):
        # a tenth of a turn's CPU under load. A pool keeps them; each is used by one
        # thread at a time, so they may move between threads.
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, poolclass=sa.pool.QueuePool,
                                       connect_args={"check_same_thread": False})
        sa.event.listen(self.engine, "connect", _write_ahead)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
    for index in SESSION_INDEXES:
        try:
            index.create(self.engine, checkfirst=True)
        except (sa.exc.OperationalError, sa.exc.ProgrammingError) as error:
            # Another server starting at the same time may have just made it.
            logger.warning("heard.tracker_store.index %s: %s", index.name, type(error).__name__)


def configure_app(*args: Any, **kwargs: Any) -> Any:
    """Rasa's web app, with the health routes."""
    return health.add_routes(_original["configure_app"](*args, **kwargs),
                             lambda app: readiness_problems(getattr(app.ctx, "agent", None)))


def _innermost(store: Any) -> Any:
    while hasattr(store, "_tracker_store"):  # Rasa's awaitable and fail-safe wrappers
        store = store._tracker_store
    return store


def readiness_problems(agent: Any) -> List[str]:
    """What keeps this server from taking turns: nothing when it can."""
    if agent is None or not agent.is_ready():
        return ["the model is not loaded"]
    problems = []
    store = _innermost(agent.tracker_store)
    if isinstance(store, SQLTrackerStore):
        try:
            with store.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError as error:
            problems.append(f"the tracker store does not answer ({type(error).__name__})")
    if isinstance(agent.lock_store, RedisLockStore):
        try:
            agent.lock_store.red.ping()
        except Exception as error:  # redis-py's errors, whatever the connection did
            problems.append(f"the lock store does not answer ({type(error).__name__})")
    return problems


@lru_cache(maxsize=None)
def resolve_event_type(type_name: str, default: Optional[type] = None) -> Optional[type]:
    return _original["resolve_event"](type_name, default)


def install() -> None:
    RemoteAction._validate_action_result = _validate_action_result
    RemoteAction.run = _run_remote_action
    rasa_action.DEFAULT_REQUEST_TIMEOUT = ACTION_TIMEOUT_SECONDS
    MessageProcessor.handle_message = handle_message
    MessageProcessor.parse_message = parse_message
    ErrorHandler.default = json_error_page
    rasa_server.validate_request_body = validate_request_body
    MessageProcessor._has_session_expired = has_session_expired
    ActionSessionStart.run = start_session
    Event.resolve_by_type = staticmethod(resolve_event_type)
    RemoteAction._action_call_format = action_call
    SQLTrackerStore._event_query = event_query
    SQLTrackerStore.__init__ = init_store
    rasa_run.configure_app = configure_app
