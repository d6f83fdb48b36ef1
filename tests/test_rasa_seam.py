"""Heard's changes to Rasa (`rasa_seam.install()`): each still fits the pinned Rasa, is what
Rasa calls, and behaves as documented."""

from __future__ import annotations

import asyncio
import inspect
import time

import pytest
import sqlalchemy as sa
from jsonschema import ValidationError
from rasa import server as rasa_server
from rasa.core import run as rasa_run
from rasa.core.actions import action as rasa_action
from rasa.core.actions.action import ActionSessionStart, RemoteAction
from rasa.core.agent import Agent
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig
from sanic.handlers import ErrorHandler

import rasa_seam
from bot.servers import free_port
from rasa_seam import (
    action_server,
    error_pages,
    event_types,
    parsing,
    readiness,
    tracker_sessions,
    tracker_store,
    turn,
    validation,
)
from tests.rasa_source import digest

VALID = [
    {"events": [], "responses": []},
    {
        "events": [{"event": "slot", "name": "order_id", "value": "1234567"}],
        "responses": [{"response": "utter_greet"}],
    },
    {"events": [{"event": "active_loop", "name": None}], "responses": [{"text": "hi"}]},
]
INVALID = [
    {"events": "not a list", "responses": []},
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": [], "responses": ["a string, not an object"]},
]
MODULES = (
    validation,
    turn,
    action_server,
    error_pages,
    parsing,
    tracker_sessions,
    event_types,
    tracker_store,
    readiness,
)
# What install() replaces, and with what: the owner, the attribute and Heard's value.
REPLACED = [
    (RemoteAction, "_validate_action_result", validation.validate_action_result),
    (MessageProcessor, "handle_message", turn.handle_message),
    (RemoteAction, "run", action_server.run_remote_action),
    (RemoteAction, "_action_call_format", action_server.action_call),
    (rasa_action, "DEFAULT_REQUEST_TIMEOUT", action_server.ACTION_TIMEOUT_SECONDS),
    (ErrorHandler, "default", error_pages.json_error_page),
    (MessageProcessor, "parse_message", parsing.parse_message),
    (rasa_server, "validate_request_body", parsing.validate_request_body),
    (MessageProcessor, "_has_session_expired", tracker_sessions.has_session_expired),
    (ActionSessionStart, "run", tracker_sessions.start_session),
    (Event, "resolve_by_type", event_types.resolve_event_type),
    (SQLTrackerStore, "_event_query", tracker_store.event_query),
    (SQLTrackerStore, "__init__", tracker_store.init_store),
    (rasa_run, "configure_app", readiness.configure_app),
]
# The Rasa code each replacement calls or replaces (`_original` of its module). A Rasa
# upgrade that changes one must be read, and Heard's code that mirrors or calls it
# changed to fit, before its digest here is updated.
ORIGINALS = {
    (validation, "validate"): "f8cdb4be68123961",  # called for invalid responses
    (action_server, "remote_run"): "ccabf6f1160d527a",  # how it fails when unreachable
    (action_server, "call_format"): "428795b944f22edb",  # replaced: what a call carries
    (error_pages, "error_page"): "a8cd312b541b18ec",  # mirrored, with JSON always
    (parsing, "parse_message"): "b98d8e49b9f2c433",  # called with the bounded text
    (parsing, "validate_body"): "451d88b84b8d9014",  # called first
    (tracker_sessions, "session_expired"): "aa0e659a9cfa1f70",  # called first: idle expiry
    (tracker_sessions, "session_start"): "c2e7c99a94ca57a5",  # replaced: does that, and more
    (event_types, "resolve_event"): "b5cf570fa7f286c7",  # cached per type: a pure lookup
    (tracker_store, "event_query"): "cd44f7901b860bfd",  # replaced: the same rows
    (tracker_store, "store_init"): "64e704d159dfa35b",  # called first: table and engine
    (readiness, "configure_app"): "72da30416f74c648",  # called: the app the routes join
}
# Replaced whole: Heard's handle_message mirrors these step by step.
MIRRORED = {
    MessageProcessor.handle_message: "0c41d4780d2d4676",
    MessageProcessor.log_message: "f2f8ec66a291d83d",
}
# Where Rasa (and Sanic) call what install() replaces: the caller, and the call in it.
CALLERS = [
    (Agent.handle_message, "self.processor.handle_message("),
    (RemoteAction.run, "self._validate_action_result("),
    (RemoteAction.run, "self._action_call_format("),
    (RemoteAction.run, "timeout=DEFAULT_REQUEST_TIMEOUT"),  # this module's global
    (MessageProcessor._run_action, "await action.run("),
    (MessageProcessor._handle_message_with_tracker, "await self.parse_message("),
    (MessageProcessor._update_tracker_session, "self._has_session_expired("),
    (rasa_server.create_app, "validate_request_body("),  # the module's global
    (Event.from_parameters, "Event.resolve_by_type("),
    (SQLTrackerStore._retrieve, "self._event_query("),
    (rasa_run.serve_application, "app = configure_app("),  # the module's global
    (ErrorHandler.response, "self.default(request, exception)"),
]


# Every attribute of their owners, as Rasa has them.
UNPATCHED = {
    (owner, name): value
    for owner in {owner for owner, _, _ in REPLACED}
    for name, value in vars(owner).items()
}


@pytest.fixture
def patched(monkeypatch):
    for owner, name, _ in REPLACED:  # restored after the test, as they were
        monkeypatch.setattr(owner, name, inspect.getattr_static(owner, name))
    rasa_seam.install()
    return RemoteAction("action_x", None)


def test_install_replaces_nothing_else(patched):
    owners = {owner for owner, _, _ in REPLACED}
    changed = {
        (owner, name)
        for owner in owners
        for name, value in vars(owner).items()
        if value is not UNPATCHED.get((owner, name), value)
    }
    assert changed == {(owner, name) for owner, name, _ in REPLACED}


@pytest.mark.parametrize("owner, name, replacement", REPLACED)
def test_install_replaces_the_methods_rasa_calls(patched, owner, name, replacement):
    assert getattr(owner, name) is replacement


@pytest.mark.parametrize("module, key", ORIGINALS)
def test_the_rasa_code_replaced_or_called_is_unchanged(module, key):
    assert digest(module._original[key]) == ORIGINALS[module, key]


def test_every_replaced_rasa_function_is_pinned():
    kept = {(module, key) for module in MODULES for key in vars(module).get("_original", {})}
    assert kept == set(ORIGINALS)


@pytest.mark.parametrize("code, expected", MIRRORED.items())
def test_the_rasa_code_heards_turn_mirrors_is_unchanged(code, expected):
    assert digest(code) == expected


@pytest.mark.parametrize("caller, call", CALLERS)
def test_rasa_calls_what_install_replaces(caller, call):
    assert call in inspect.getsource(caller)


def test_the_methods_heard_calls_exist_with_their_signatures():
    for name in (
        "fetch_tracker_and_update_session",
        "_handle_message_with_tracker",
        "run_action_extract_slots",
        "_run_prediction_loop",
        "run_anonymization_pipeline",
        "save_tracker",
    ):
        assert inspect.iscoroutinefunction(getattr(MessageProcessor, name)), name


SHAPES = (
    VALID
    + INVALID
    + [
        {"events": [{"event": "slot", "value": 1}]},  # a slot needs its name
        {"events": [{"event": "slot", "name": "x", "value": [1], "timestamp": "noon"}]},
        {"events": [{"event": "user", "text": "hi", "parse_data": {"intent": {}}}]},
        {"events": [{"event": "bot", "text": "hi", "data": {"buttons": []}}, {"event": "pause"}]},
        {"events": [{"event": "action", "name": "action_listen", "policy": None}]},
        {"events": [{"event": "active_loop", "name": 3}]},
        {"events": [{"event": "followup"}]},
        {"events": [{"event": "reminder", "intent": "x", "date_time": "2026-01-01"}]},
        {"events": [{"name": "x"}]},
        {"events": ["slot"]},
        {"responses": [{"text": "hi"}]},
        {"events": [], "responses": [{"text": "hi"}, 3]},
        [],
        "text",
        None,
    ]
)


@pytest.mark.parametrize("result", SHAPES)
def test_the_quick_validation_agrees_with_rasas_schema(result):
    from jsonschema import Draft202012Validator, validators

    schema = RemoteAction.action_response_format_spec()
    full = validators.validator_for(schema, default=Draft202012Validator)(schema)
    assert validation.valid_action_result(result) is full.is_valid(result)


@pytest.mark.parametrize("result", VALID)
def test_valid_responses_pass(patched, result):
    assert patched._validate_action_result(result) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_responses_raise_rasas_error(patched, result):
    with pytest.raises(ValidationError) as ours:
        patched._validate_action_result(result)
    with pytest.raises(ValidationError) as theirs:
        validation._original["validate"](patched, result)
    assert ours.value.message == theirs.value.message
    assert "Failed to validate Action server response" in ours.value.message


def test_replies_to_a_message_id_are_those_until_the_next_message():
    events = [
        UserUttered("hi", message_id="m1"),
        ActionExecuted("utter_greet"),
        BotUttered("Hello", {"buttons": [{"title": "1", "payload": "1"}]}),
        BotUttered("How can I help?"),
        ActionExecuted("action_listen"),
        UserUttered("bye", message_id="m2"),
        BotUttered("Goodbye"),
    ]
    assert turn.replies_to(events, "m1") == [
        {"text": "Hello", "buttons": [{"title": "1", "payload": "1"}]},
        {"text": "How can I help?"},
    ]
    assert turn.replies_to(events, "m2") == [{"text": "Goodbye"}]
    assert turn.replies_to(events, "m3") is None


def run_unreachable_action(in_turn: bool):
    action = RemoteAction("action_x", EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook"))
    tracker = DialogueStateTracker("someone", [])

    async def run():
        token = action_server.in_turn.set(in_turn)
        try:
            await action.run(None, None, tracker, Domain.empty())
        finally:
            action_server.in_turn.reset(token)

    asyncio.run(run())


def test_an_unreachable_action_server_is_retried_then_ends_the_turn(patched):
    started = time.monotonic()
    with pytest.raises(action_server.ActionServerUnavailable):
        run_unreachable_action(in_turn=True)
    assert time.monotonic() - started >= sum(action_server.RETRY_PAUSES)  # it did wait and retry


def test_outside_a_turn_rasas_own_error_is_kept(patched):
    with pytest.raises(RasaException):
        run_unreachable_action(in_turn=False)


DOMAIN = Domain.from_dict(
    {
        "intents": ["affirm", "deny"],
        "responses": {
            "utter_confirm": [
                {
                    "text": "Shall I?",
                    "buttons": [
                        {"title": "Yes", "payload": "/affirm"},
                        {"title": "No", "payload": "/deny"},
                    ],
                }
            ]
        },
    }
)


@pytest.mark.parametrize(
    "text, parsed",
    [
        ("where is my order", "where is my order"),
        ("/affirm", "/affirm"),  # a button's payload
        (" /deny ", " /deny "),
        ("/restart", "restart"),  # typed, not a button: read as words
        ('//inform{"order_id": "1234567"}', 'inform{"order_id": "1234567"}'),
        ("a" * 5000, "a" * 2000),
        ("where \udc80 is it \ud83d", "where \ufffd is it \ufffd"),  # lone surrogates
        ("happy \U0001f600", "happy \U0001f600"),
    ],
)
def test_text_to_parse(text, parsed):
    assert parsing.text_to_parse(text, DOMAIN, 2000) == parsed


@pytest.mark.parametrize(
    "body, problem",
    [
        (b'{"text": "hi"}', None),
        (b"", "JSON"),
        (b"not json", "JSON"),
        (b"\xff\xfe", "JSON"),
        (b"[1]", "object"),
        (b'"hi"', "object"),
        (b"{}", "text"),
        (b'{"text": 5}', "text"),
    ],
)
def test_parse_body_problem(body, problem):
    found = parsing.parse_body_problem(body)
    assert (found is None) if problem is None else (problem in found)


# --- sessions, events, action calls, the tracker store -----------------------------------------

SESSION_DOMAIN = Domain.from_dict(
    {
        "session_config": {"session_expiration_time": 30, "carry_over_slots_to_new_session": True},
        "intents": ["complaint", "track_order"],
        "slots": {
            name: {"type": "any", "mappings": [{"type": "custom"}]}
            for name in ("order_id", "awaiting_rating", "requested_slot", "handoff_turn")
        }
        | {"frustration": {"type": "float", "initial_value": 0, "mappings": [{"type": "custom"}]}},
        "forms": {"request_form": {"required_slots": ["order_id"]}},
    }
)


def said(text, intent="track_order", emotion="neutral", intensity=0.0, at=None):
    parse = {
        "intent": {"name": intent, "confidence": 0.9},
        "emotion": {"name": emotion, "confidence": 0.9, "intensity": intensity},
    }
    return UserUttered(text, parse["intent"], parse_data=parse, timestamp=at)


def tracker_of(*events):
    return DialogueStateTracker.from_events("someone", list(events), SESSION_DOMAIN.slots)


def new_session(tracker):
    return [
        e
        for e in asyncio.run(
            tracker_sessions.start_session(
                ActionSessionStart(), None, None, tracker, SESSION_DOMAIN
            )
        )
    ]


def test_the_frustration_score_is_updated_in_the_turn_from_this_session_only():
    angry = said("this is ridiculous", "complaint", "anger", 0.8)
    old = said("where is it", at=1.0)  # the same request in an earlier session
    tracker = tracker_of(old, SessionStarted(), SlotSet("frustration", 0.2), angry)
    event = turn.frustration_after_message(tracker)
    assert event == SlotSet("frustration", 0.57)  # 0.2 x 0.85 + 0.5 x 0.8, not asked again
    tracker.update(event)
    tracker.update(said("where is it"))
    assert turn.frustration_after_message(tracker).value == 0.484  # cooled; not a repeat


@pytest.mark.parametrize("messages, expired", [(19, False), (20, True)])
def test_a_session_ends_after_the_turn_limit(monkeypatch, messages, expired):
    monkeypatch.delenv("HEARD_SESSION_MAX_TURNS", raising=False)  # the default, 20
    now = time.time()
    tracker = tracker_of(
        *[said("hi", at=now)] * 25, SessionStarted(), *[said("hi", at=now)] * messages
    )
    processor = type("P", (), {"domain": SESSION_DOMAIN})()
    assert tracker_sessions.has_session_expired(processor, tracker) is expired


def test_a_session_still_ends_after_the_idle_time():
    tracker = tracker_of(said("hi", at=time.time() - 31 * 60))
    processor = type("P", (), {"domain": SESSION_DOMAIN})()
    assert tracker_sessions.has_session_expired(processor, tracker) is True


def test_going_on_after_the_turn_limit_keeps_the_open_form_and_the_takeover():
    tracker = tracker_of(
        said("where is my order", at=time.time()),
        ActiveLoop("request_form"),
        SlotSet("requested_slot", "order_id"),
        SlotSet("handoff_turn", 7),
        SlotSet("frustration", 0.4),
        ConversationPaused(),
    )
    events = new_session(tracker)
    assert events[0] == SessionStarted() and events[-1] == ActionExecuted("action_listen")
    assert SlotSet("requested_slot", "order_id") in events
    assert SlotSet("frustration", 0.4) in events
    assert ActiveLoop("request_form") in events and ConversationPaused() in events
    assert not [e for e in events if isinstance(e, SlotSet) and e.key == "handoff_turn"]


def test_coming_back_after_the_idle_time_answers_no_old_question():
    tracker = tracker_of(
        said("thanks", at=time.time() - 45 * 60),
        ActiveLoop("request_form"),
        SlotSet("awaiting_rating", True),
        SlotSet("order_id", "2345678"),
        SlotSet("requested_slot", "order_id"),
    )
    events = new_session(tracker)
    slots = {e.key: e.value for e in events if isinstance(e, SlotSet)}
    assert slots == {"order_id": "2345678"}
    assert not [e for e in events if isinstance(e, (ActiveLoop, ConversationPaused))]


def test_event_types_are_resolved_as_rasa_does(patched):
    for name in ("user", "bot", "slot", "action", "session_started", "active_loop"):
        assert Event.resolve_by_type(name) is event_types._original["resolve_event"](name)
    with pytest.raises(ValueError):
        Event.resolve_by_type("no_such_event")


def test_an_action_call_carries_the_session_and_the_domain_until_the_server_has_it(
    patched, monkeypatch
):
    from aiohttp import web

    from heard.domain_digest import DIGEST_KEY, UNKNOWN

    monkeypatch.setattr(action_server, "_domain_sent", {})
    received, known = [], set()

    async def webhook(request):
        call = await request.json()
        received.append(call)
        if "domain" in call:
            known.add(call[DIGEST_KEY])
        elif call[DIGEST_KEY] not in known:
            return web.json_response(
                {"error": UNKNOWN, "action_name": call["next_action"]}, status=400
            )
        return web.json_response({"events": [], "responses": []})

    async def scenario():
        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            action = RemoteAction("action_x", EndpointConfig(f"http://127.0.0.1:{port}/webhook"))
            tracker = tracker_of(said("before"), SessionStarted(), said("now"))
            for _ in range(2):
                await action.run(None, None, tracker, SESSION_DOMAIN)
            known.clear()  # the action server restarted
            await action.run(None, None, tracker, SESSION_DOMAIN)
        finally:
            await runner.cleanup()

    asyncio.run(asyncio.wait_for(scenario(), timeout=30))
    assert ["domain" in call for call in received] == [True, False, False, True]
    assert received[0]["domain"]["slots"].keys() == SESSION_DOMAIN.as_dict()["slots"].keys()
    texts = [e.get("text") for e in received[0]["tracker"]["events"] if e["event"] == "user"]
    assert texts == ["now"]  # this session's events only
    assert received[0]["tracker"]["latest_message"]["text"] == "now"


def test_the_session_query_finds_the_same_events_through_the_indexes(tmp_path, monkeypatch):
    path = tmp_path / "tracker.db"
    old = sa.create_engine(f"sqlite:///{path}")
    sa.Table(
        "events", sa.MetaData(), *[c.copy() for c in SQLTrackerStore.SQLEvent.__table__.c]
    ).create(old)  # a database made before: Rasa's table without Heard's indexes
    monkeypatch.setattr(SQLTrackerStore, "__init__", tracker_store.init_store)
    store = SQLTrackerStore(Domain.empty(), db=str(path))
    assert {"heard_events_session_start", "heard_events_sender_time"} <= {
        index["name"] for index in sa.inspect(store.engine).get_indexes("events")
    }
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    assert isinstance(store.engine.pool, sa.pool.QueuePool)  # not a connection per load
    rows = [
        ("a", "action", 1.0),
        ("a", "session_started", 2.0),
        ("a", "user", 3.0),
        ("b", "user", 2.5),
        ("a", "session_started", 4.0),
        ("a", "user", 4.0),
        ("a", "user", 5.0),
        ("c", "user", 1.0),
    ]
    with store.session_scope() as session:
        session.execute(
            store.SQLEvent.__table__.insert(),
            [
                {"sender_id": who, "type_name": kind, "timestamp": at, "data": "{}"}
                for who, kind, at in rows
            ],
        )
        session.commit()
        for sender in "abc":
            for every in (True, False):
                ours = tracker_store.event_query(store, session, sender, every).all()
                rasas = tracker_store._original["event_query"](store, session, sender, every).all()
                assert [e.id for e in ours] == [e.id for e in rasas], (sender, every)
        assert [e.timestamp for e in tracker_store.event_query(store, session, "a", False)] == [
            4.0,
            4.0,
            5.0,
        ]


def test_the_rasa_server_does_its_maths_on_one_thread():
    """OpenBLAS's idle threads spin: under load they burned as much CPU as the turns."""
    import json
    import os
    import subprocess
    import sys

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    }
    code = (
        "import json, bot.rasa_main, numpy, threadpoolctl; "
        "print(json.dumps([p['num_threads'] for p in threadpoolctl.threadpool_info()]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    threads = json.loads(out.strip().splitlines()[-1])
    assert threads and set(threads) == {1}
