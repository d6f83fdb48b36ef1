"""Console sign-in sessions: a random token in the cookie, only its hash in the database."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Mapping, Optional

from sqlalchemy.engine import Engine

from heard import settings
from store.console import AgentView, ConsoleRecords
from store.repository import utcnow

COOKIE = "heard_console"
LIFETIME_ENV = "HEARD_CONSOLE_SESSION_HOURS"


def lifetime_from(environ: Optional[Mapping[str, str]] = None) -> timedelta:
    """The session lifetime set in the environment (hours, more than 0, at most a week):
    this process's settings, or `environ`'s (`heard.settings`)."""
    return settings.read(LIFETIME_ENV, environ)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Started:
    token: str
    expires_at: datetime


class Sessions:
    def __init__(
        self,
        engine: Engine,
        lifetime: Optional[timedelta] = None,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.records = ConsoleRecords(engine)
        self.lifetime = lifetime or lifetime_from()
        self.clock = clock

    def start(self, agent: AgentView) -> Started:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        self.records.start_session(token_hash(token), agent.id, now, now + self.lifetime)
        return Started(token, now + self.lifetime)

    def agent_for(self, token: Optional[str]) -> Optional[AgentView]:
        """The signed-in agent, or None for no, unknown or expired tokens."""
        if not token:
            return None
        found = self.records.session(token_hash(token))
        if found is None or found[1] <= self.clock():
            return None
        return found[0]

    def end(self, token: Optional[str]) -> None:
        if token:
            self.records.end_session(token_hash(token))
