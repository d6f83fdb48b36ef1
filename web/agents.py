"""Agent accounts for the console: add, list, remove, check a password (argon2id)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, List, Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from store.repository import session_scope, utcnow
from web import models

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
_USERNAME = re.compile(r"^[a-z0-9._-]{3,40}$")


class AgentError(ValueError):
    """A request the accounts cannot carry out; the message is for people."""


@dataclass(frozen=True)
class AgentView:
    id: int
    username: str
    name: str
    created_at: datetime


def username_problem(username: str) -> Optional[str]:
    if not _USERNAME.match(username or ""):
        return ("a username has 3 to 40 characters: lower-case letters, digits, "
                "'.', '_' or '-'")
    return None


def name_problem(name: str) -> Optional[str]:
    if not (name or "").strip() or len(name.strip()) > 80:
        return "a display name has 1 to 80 characters"
    return None


def password_problem(password: str) -> Optional[str]:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"a password has at most {MAX_PASSWORD_LENGTH} characters"
    return None


def _view(agent: models.Agent) -> AgentView:
    return AgentView(agent.id, agent.username, agent.name, agent.created_at)


class Agents:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow,
                 hasher: Optional[PasswordHasher] = None):
        self.engine = engine
        self.clock = clock
        self.hasher = hasher or PasswordHasher()
        models.Base.metadata.create_all(engine)
        # Checked against when the username is unknown, so both cases take as long.
        self._decoy = self.hasher.hash("not a password of anyone")

    def add(self, username: str, name: str, password: str) -> AgentView:
        problem = username_problem(username) or name_problem(name) or password_problem(password)
        if problem:
            raise AgentError(problem)
        try:
            with session_scope(self.engine) as s:
                agent = models.Agent(username=username, name=name.strip(),
                                     password_hash=self.hasher.hash(password),
                                     created_at=self.clock())
                s.add(agent)
                s.flush()
                return _view(agent)
        except IntegrityError:
            raise AgentError(f"an agent called '{username}' already exists") from None

    def all(self) -> List[AgentView]:
        with session_scope(self.engine) as s:
            return [_view(a) for a in s.query(models.Agent).order_by(models.Agent.username)]

    def remove(self, username: str) -> bool:
        """Deletes the agent and signs them out everywhere; False when there is none."""
        with session_scope(self.engine) as s:
            agent = s.query(models.Agent).filter_by(username=username).one_or_none()
            if agent is None:
                return False
            s.query(models.AgentSession).filter_by(agent_id=agent.id).delete()
            s.delete(agent)
            return True

    def check(self, username: str, password: str) -> Optional[AgentView]:
        """The agent when the password is theirs, else None."""
        with session_scope(self.engine) as s:
            agent = s.query(models.Agent).filter_by(username=username).one_or_none()
            stored = agent.password_hash if agent else self._decoy
            try:
                self.hasher.verify(stored, password)
            except (VerificationError, InvalidHashError):
                return None
            if agent is None:
                return None
            if self.hasher.check_needs_rehash(stored):
                agent.password_hash = self.hasher.hash(password)
            return _view(agent)
