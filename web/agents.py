"""Agent accounts for the console: add, list, remove, check a password (argon2id)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Callable, List, Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine

from store.console import AgentView, ConsoleRecords, DuplicateAgent
from store.repository import utcnow

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
_USERNAME = re.compile(r"^[a-z0-9._-]{3,40}$")


class AgentError(ValueError):
    """A request the accounts cannot carry out; the message is for people."""


def username_problem(username: str) -> Optional[str]:
    if not _USERNAME.match(username or ""):
        return "a username has 3 to 40 characters: lower-case letters, digits, '.', '_' or '-'"
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


class Agents:
    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime] = utcnow,
        hasher: Optional[PasswordHasher] = None,
    ):
        self.records = ConsoleRecords(engine)
        self.clock = clock
        self.hasher = hasher or PasswordHasher()
        # Checked against when the username is unknown, so both cases take as long.
        self._decoy = self.hasher.hash("not a password of anyone")

    def add(self, username: str, name: str, password: str) -> AgentView:
        problem = username_problem(username) or name_problem(name) or password_problem(password)
        if problem:
            raise AgentError(problem)
        try:
            return self.records.add_agent(
                username, name.strip(), self.hasher.hash(password), self.clock()
            )
        except DuplicateAgent:
            raise AgentError(f"an agent called '{username}' already exists") from None

    def all(self) -> List[AgentView]:
        return self.records.agents()

    def remove(self, username: str) -> bool:
        """Deletes the agent and signs them out everywhere; False when there is none."""
        return self.records.remove_agent(username)

    def check(self, username: str, password: str) -> Optional[AgentView]:
        """The agent when the password is theirs, else None."""
        found = self.records.password_hash(username)
        stored = found[1] if found else self._decoy
        try:
            self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if found is None:
            return None
        if self.hasher.check_needs_rehash(stored):
            self.records.set_password_hash(found[0].id, self.hasher.hash(password))
        return found[0]
