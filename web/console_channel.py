"""The agent console's API and the widget's history, as a Rasa input channel.

Mounted at the server's root (`url_prefix` "/"): `/console/api/...` and
`/widget/history/<session_id>`. Database work runs in worker threads so the Rasa
server's event loop keeps serving customers.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from heard.contract import transcript
from heard.formats import valid_widget_session_id
from heard.redis_client import redis_url
from rasa_seam.app import agent_of, input_channels_of
from rasa_seam.tracker_events import tracker_engine
from store.repository import database_url, utcnow
from store.tickets import TicketChange
from web import dashboard, dashboard_queries
from web.agents import Agents, AgentView
from web.conversations import Conversations
from web.handoff_queue import HandoffQueue, Outcome
from web.http import CONSOLE_HEADERS, error, json_body, same_origin
from web.login_throttle import throttle_for
from web.sessions import COOKIE, Sessions
from web.ticket_desk import TicketDesk, TicketRequestError, parse_filter, parse_target

logger = logging.getLogger(__name__)

API = "/console/api"
MAX_REPLY = 2000
_REFERENCE = re.compile(r"^HO-[A-Z0-9]{6}$")
TICKET_FILTERS = ("kind", "priority", "status", "q", "sort", "limit", "offset")
SIGN_IN = "Please sign in."
NO_TICKET = "No ticket with that reference."


@dataclass
class Services:
    agents: Agents
    sessions: Sessions
    queue: HandoffQueue
    tickets: TicketDesk
    shop_db: Engine

    @classmethod
    def for_url(cls, url: str) -> "Services":
        engine = create_engine(url, future=True, pool_pre_ping=True)
        return cls(
            Agents(engine), Sessions(engine), HandoffQueue(engine), TicketDesk(engine), engine
        )


def _conversations(request: Request) -> Conversations:
    return Conversations(agent_of(request.app), input_channels_of(request.app))


def _outcome_error(outcome: Outcome) -> HTTPResponse:
    if outcome.status == "missing":
        return error(404, "No handoff with that reference.")
    return error(409, outcome.reason)


def _after(request: Request) -> Optional[float]:
    """The `after` of a messages call (a time in seconds); ValueError when not a number."""
    after = request.args.get("after")
    return float(after) if after not in (None, "") else None


async def _transcript(request: Request, conversation_id: Optional[str]) -> HTTPResponse:
    """A conversation's transcript lines after `after`, for a console messages call."""
    try:
        after = _after(request)
    except ValueError:
        return error(400, "'after' must be a time in seconds, like 1764064800.5.")
    events = await _conversations(request).events(conversation_id) if conversation_id else []
    return response.json({"messages": transcript(events, after)})


def _ticket_change(desk: TicketDesk, change: TicketChange) -> HTTPResponse:
    if change.outcome == "missing":
        return error(404, NO_TICKET)
    if change.outcome == "closed":
        return error(409, "This ticket is closed: it can't be reassigned.")
    if change.outcome == "unknown_agent":
        return error(400, "There is no agent with that username.")
    return response.json(desk.change_json(change))


class ConsoleInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "heard_console"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls((credentials or {}).get("database_url"))

    def __init__(self, url: Optional[str] = None, services: Optional[Services] = None):
        self.url = url
        self._services = services

    def url_prefix(self) -> str:
        return "/"  # urljoin("/webhooks/", "/") is "/": the routes below are absolute

    @property
    def services(self) -> Services:
        if self._services is None:  # on first use, not at import or construction
            self._services = Services.for_url(self.url or database_url())
        return self._services

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("heard_console", __name__)
        services = lambda: self.services  # noqa: E731
        throttle = throttle_for(redis_url())  # shared by the replicas when REDIS_URL is set
        run = asyncio.to_thread

        async def signed_in(request: Request) -> Optional[AgentView]:
            return await run(services().sessions.agent_for, request.cookies.get(COOKIE))

        def needs_agent(handler):
            async def guarded(request: Request, *args, **kwargs) -> HTTPResponse:
                agent = await signed_in(request)
                if agent is None:
                    return error(401, SIGN_IN)
                return await handler(request, agent, *args, **kwargs)

            guarded.__name__ = handler.__name__
            return guarded

        @bp.middleware("request")
        async def refuse_other_origins(request: Request) -> Optional[HTTPResponse]:
            if request.path.startswith(API) and not same_origin(
                request.headers.get("origin"), request.host
            ):
                return error(403, "The console only answers its own pages.")
            return None

        @bp.middleware("response")
        async def security_headers(request: Request, res: HTTPResponse) -> None:
            if request.path.startswith("/console/"):
                res.headers.update(CONSOLE_HEADERS)
            res.headers["Cache-Control"] = "no-store"

        @bp.exception(Exception)
        async def failure(request: Request, exception: Exception) -> HTTPResponse:
            status = getattr(exception, "status_code", 500)
            if status == 500:
                logger.exception("web.console.failed path=%s", request.path)
                return error(500, "Something went wrong on our side. Please try again.")
            return error(status, "That request can't be handled.")

        # --- sign-in -------------------------------------------------------------
        @bp.post(f"{API}/login")
        async def login(request: Request) -> HTTPResponse:
            body = json_body(request)
            username, password = (body or {}).get("username"), (body or {}).get("password")
            if not (
                isinstance(username, str)
                and isinstance(password, str)
                and 0 < len(username) <= 40
                and 0 < len(password) <= 200
            ):
                return error(400, "Send your username and password as JSON.")
            attempt = throttle.key(username, request.remote_addr or request.ip or "")
            wait = await run(throttle.wait, attempt)
            if wait is not None:
                logger.warning("web.console.login_throttled username=%s", username[:40])
                return error(
                    429,
                    f"Too many failed sign-ins. Please try again in "
                    f"{max(1, round(wait / 60))} minutes.",
                )
            agent = await run(services().agents.check, username.strip(), password)
            if agent is None:
                await run(throttle.failed, attempt)
                logger.info("web.console.login_failed username=%s", username[:40])
                return error(401, "Wrong username or password.")
            await run(throttle.succeeded, attempt)
            started = await run(services().sessions.start, agent)
            logger.info("web.console.login username=%s", agent.username)
            res = response.json({"name": agent.name, "username": agent.username})
            res.cookies[COOKIE] = started.token
            cookie = res.cookies[COOKIE]
            cookie["httponly"] = True
            cookie["samesite"] = "Strict"
            cookie["path"] = "/console"
            cookie["max-age"] = int(services().sessions.lifetime.total_seconds())
            cookie["secure"] = request.scheme == "https"
            return res

        @bp.post(f"{API}/logout")
        @needs_agent
        async def logout(request: Request, agent: AgentView) -> HTTPResponse:
            await run(services().sessions.end, request.cookies.get(COOKIE))
            res = response.json({"ok": True})
            res.cookies[COOKIE] = ""
            res.cookies[COOKIE]["path"] = "/console"
            res.cookies[COOKIE]["max-age"] = 0
            logger.info("web.console.logout username=%s", agent.username)
            return res

        @bp.get(f"{API}/me")
        @needs_agent
        async def me(request: Request, agent: AgentView) -> HTTPResponse:
            return response.json({"name": agent.name, "username": agent.username})

        # --- the queue -------------------------------------------------------------
        @bp.get(f"{API}/queue")
        @needs_agent
        async def queue(request: Request, agent: AgentView) -> HTTPResponse:
            return response.json({"handoffs": await run(services().queue.queue)})

        @bp.post(f"{API}/handoffs/<reference>/take")
        @needs_agent
        async def take(request: Request, agent: AgentView, reference: str) -> HTTPResponse:
            if not _REFERENCE.match(reference):
                return error(404, "No handoff with that reference.")
            outcome = await run(services().queue.take, reference, agent)
            if outcome.handoff is None:
                return _outcome_error(outcome)
            await _conversations(request).hand_to_agent(
                outcome.handoff["conversation_id"], agent.name
            )
            return response.json(outcome.handoff)

        @bp.get(f"{API}/handoffs/<reference>/messages")
        @needs_agent
        async def messages(request: Request, agent: AgentView, reference: str) -> HTTPResponse:
            handoff = (
                await run(services().queue.get, reference) if _REFERENCE.match(reference) else None
            )
            if handoff is None:
                return error(404, "No handoff with that reference.")
            return await _transcript(request, handoff["conversation_id"])

        @bp.post(f"{API}/handoffs/<reference>/reply")
        @needs_agent
        async def reply(request: Request, agent: AgentView, reference: str) -> HTTPResponse:
            body = json_body(request)
            text = (body or {}).get("text")
            if not isinstance(text, str) or not text.strip():
                return error(400, "Write a message first (JSON with 'text').")
            if len(text) > MAX_REPLY:
                return error(400, f"A message has at most {MAX_REPLY} characters.")
            if not _REFERENCE.match(reference):
                return error(404, "No handoff with that reference.")
            outcome = await run(services().queue.check_holder, reference, agent)
            if outcome.handoff is None:
                return _outcome_error(outcome)
            message = await _conversations(request).agent_says(
                outcome.handoff["conversation_id"], text.strip(), agent.name
            )
            return response.json({"message": message})

        @bp.post(f"{API}/handoffs/<reference>/release")
        @needs_agent
        async def release(request: Request, agent: AgentView, reference: str) -> HTTPResponse:
            if not _REFERENCE.match(reference):
                return error(404, "No handoff with that reference.")
            outcome = await run(services().queue.check_holder, reference, agent)
            if outcome.handoff is None:
                return _outcome_error(outcome)
            await _conversations(request).hand_back(outcome.handoff["conversation_id"], agent.name)
            outcome = await run(services().queue.release, reference, agent)
            if outcome.handoff is None:
                return _outcome_error(outcome)
            return response.json(outcome.handoff)

        # --- tickets ---------------------------------------------------------------------
        @bp.get(f"{API}/tickets")
        @needs_agent
        async def tickets(request: Request, agent: AgentView) -> HTTPResponse:
            try:
                wanted = parse_filter({k: request.args.get(k) for k in TICKET_FILTERS})
            except TicketRequestError as problem:
                return error(400, str(problem))
            return response.json(await run(services().tickets.page, wanted))

        @bp.get(f"{API}/ticket-choices")
        @needs_agent
        async def ticket_choices(request: Request, agent: AgentView) -> HTTPResponse:
            return response.json(await run(services().tickets.choices))

        @bp.get(f"{API}/tickets/<reference>")
        @needs_agent
        async def ticket(request: Request, agent: AgentView, reference: str) -> HTTPResponse:
            found = await run(services().tickets.get, reference)
            return response.json(found) if found else error(404, NO_TICKET)

        @bp.get(f"{API}/tickets/<reference>/messages")
        @needs_agent
        async def ticket_messages(
            request: Request, agent: AgentView, reference: str
        ) -> HTTPResponse:
            found = await run(services().tickets.get, reference)
            if found is None:
                return error(404, NO_TICKET)
            return await _transcript(request, found["conversation_id"])

        @bp.post(f"{API}/tickets/<reference>/close")
        @needs_agent
        async def close_ticket(request: Request, agent: AgentView, reference: str) -> HTTPResponse:
            desk = services().tickets
            return _ticket_change(desk, await run(desk.close, reference, agent))

        @bp.post(f"{API}/tickets/<reference>/reassign")
        @needs_agent
        async def reassign_ticket(
            request: Request, agent: AgentView, reference: str
        ) -> HTTPResponse:
            try:
                target = parse_target(json_body(request))
            except TicketRequestError as problem:
                return error(400, str(problem))
            desk = services().tickets
            return _ticket_change(desk, await run(desk.reassign, reference, target, agent))

        # --- the dashboard -------------------------------------------------------------
        @bp.get(f"{API}/dashboard")
        @needs_agent
        async def figures(request: Request, agent: AgentView) -> HTTPResponse:
            try:
                filters = dashboard.parse_filters(
                    {k: request.args.get(k) for k in ("from", "to", "channel")}, utcnow().date()
                )
            except dashboard.FilterError as problem:
                return error(400, str(problem))
            tracker = tracker_engine(agent_of(request.app).tracker_store)
            if tracker is None:
                return error(409, "The dashboard needs the SQL tracker store (endpoints.yml).")
            return response.json(
                await run(dashboard_queries.dashboard, tracker, services().shop_db, filters)
            )

        @bp.route(f"{API}/<rest:path>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
        @needs_agent
        async def unknown(request: Request, agent: AgentView, rest: str) -> HTTPResponse:
            return error(404, "There is no such console call.")

        # --- a widget conversation's history --------------------------------------------
        # Widget sessions only: their random ids are the secret (heard.contract).
        @bp.get("/widget/history/<conversation_id>")
        async def history(request: Request, conversation_id: str) -> HTTPResponse:
            if not valid_widget_session_id(conversation_id):
                return error(400, "That is not a chat session id.")
            events = await _conversations(request).events(conversation_id)
            agent = await run(services().queue.agent_on, conversation_id) if events else None
            return response.json({"messages": transcript(events), "agent": agent})

        return bp
