"""Console sign-in sessions: a random token in the cookie, only its hash in the database."""
from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Mapping, Optional

from sqlalchemy.engine import Engine

from store.repository import session_scope, utcnow
from web import models
from web.agents import AgentView

COOKIE = "heard_console"
DEFAULT_HOURS = 8.0
LIFETIME_ENV = "HEARD_CONSOLE_SESSION_HOURS"


def lifetime_from(environ: Mapping[str, str]) -> timedelta:
    """The session lifetime set in the environment (hours, more than 0, at most a week)."""
    raw = environ.get(LIFETIME_ENV, "").strip()
    if not raw:
        return timedelta(hours=DEFAULT_HOURS)
    try:
        hours = float(raw)
    except ValueError:
        raise ValueError(f"{LIFETIME_ENV} must be a number of hours, not {raw!r}") from None
    if not 0 < hours <= 24 * 7:
        raise ValueError(f"{LIFETIME_ENV} must be more than 0 and at most 168 hours")
    return timedelta(hours=hours)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Started:
    token: str
    expires_at: datetime


class Sessions:
    def __init__(self, engine: Engine, lifetime: Optional[timedelta] = None,
                 clock: Callable[[], datetime] = utcnow):
        self.engine = engine
        self.lifetime = lifetime or lifetime_from(os.environ)
        self.clock = clock
        models.Base.metadata.create_all(engine)

    def start(self, agent: AgentView) -> Started:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with session_scope(self.engine) as s:
            # Expired sessions are dropped as new ones start, so the table stays small.
            s.query(models.AgentSession).filter(models.AgentSession.expires_at <= now).delete()
            s.add(models.AgentSession(token_hash=token_hash(token), agent_id=agent.id,
                                      created_at=now, expires_at=now + self.lifetime))
        return Started(token, now + self.lifetime)

    def agent_for(self, token: Optional[str]) -> Optional[AgentView]:
        """The signed-in agent, or None for no, unknown or expired tokens."""
        if not token:
            return None
        with session_scope(self.engine) as s:
            row = (s.query(models.AgentSession, models.Agent)
                   .join(models.Agent, models.Agent.id == models.AgentSession.agent_id)
                   .filter(models.AgentSession.token_hash == token_hash(token))
                   .one_or_none())
            if row is None or row[0].expires_at <= self.clock():
                return None
            agent = row[1]
            return AgentView(agent.id, agent.username, agent.name, agent.created_at)

    def end(self, token: Optional[str]) -> None:
        if token:
            with session_scope(self.engine) as s:
                s.query(models.AgentSession).filter_by(token_hash=token_hash(token)).delete()
