"""The agent console's records in the shop database: agents, sign-in sessions, takeovers.

web/ decides (password rules, token lifetimes, who may take or hand back a handoff) and
calls these; each is one short transaction, so the rules of the tables live here only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import List, Optional, Tuple

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from store import models as m
from store.repository import session_scope


class DuplicateAgent(ValueError):
    """The username is taken."""


@dataclass(frozen=True)
class AgentView:
    id: int
    username: str
    name: str
    created_at: datetime


def _view(agent: m.Agent) -> AgentView:
    return AgentView(agent.id, agent.username, agent.name, agent.created_at)


class ConsoleRecords:
    def __init__(self, engine: Engine):
        self.engine = engine

    # --- agents ------------------------------------------------------------------------

    def add_agent(self, username: str, name: str, password_hash: str, now: datetime) -> AgentView:
        try:
            with session_scope(self.engine) as s:
                agent = m.Agent(
                    username=username, name=name, password_hash=password_hash, created_at=now
                )
                s.add(agent)
                s.flush()
                return _view(agent)
        except IntegrityError:
            raise DuplicateAgent(username) from None

    def agents(self) -> List[AgentView]:
        with session_scope(self.engine) as s:
            return [_view(a) for a in s.query(m.Agent).order_by(m.Agent.username)]

    def remove_agent(self, username: str) -> bool:
        """Deletes the agent and their sessions; False when there is none."""
        with session_scope(self.engine) as s:
            agent = s.query(m.Agent).filter_by(username=username).one_or_none()
            if agent is None:
                return False
            s.query(m.AgentSession).filter_by(agent_id=agent.id).delete()
            s.delete(agent)
            return True

    def password_hash(self, username: str) -> Optional[Tuple[AgentView, str]]:
        with session_scope(self.engine) as s:
            agent = s.query(m.Agent).filter_by(username=username).one_or_none()
            return (_view(agent), agent.password_hash) if agent else None

    def set_password_hash(self, agent_id: int, password_hash: str) -> None:
        with session_scope(self.engine) as s:
            s.get(m.Agent, agent_id).password_hash = password_hash

    # --- sign-in sessions (only the token's hash is stored) ------------------------------

    def start_session(
        self, token_hash: str, agent_id: int, now: datetime, expires_at: datetime
    ) -> None:
        with session_scope(self.engine) as s:
            # Expired sessions are dropped as new ones start, so the table stays small.
            s.query(m.AgentSession).filter(m.AgentSession.expires_at <= now).delete()
            s.add(
                m.AgentSession(
                    token_hash=token_hash, agent_id=agent_id, created_at=now, expires_at=expires_at
                )
            )

    def session(self, token_hash: str) -> Optional[Tuple[AgentView, datetime]]:
        """The session's agent and when it expires, or None."""
        with session_scope(self.engine) as s:
            row = (
                s.query(m.Agent, m.AgentSession.expires_at)
                .join(m.AgentSession, m.Agent.id == m.AgentSession.agent_id)
                .filter(m.AgentSession.token_hash == token_hash)
                .one_or_none()
            )
            return (_view(row[0]), row[1]) if row else None

    def end_session(self, token_hash: str) -> None:
        with session_scope(self.engine) as s:
            s.query(m.AgentSession).filter_by(token_hash=token_hash).delete()

    # --- takeovers: the handoff's status and who holds it change together ----------------

    def take(self, reference: str, agent: AgentView, now: datetime) -> bool:
        """Marks a waiting handoff taken by `agent`; False when it isn't waiting."""
        with session_scope(self.engine) as s:
            # The conditional update is the lock: of two agents, exactly one changes the row.
            won = (
                s.execute(
                    update(m.Handoff)
                    .where(m.Handoff.reference == reference, m.Handoff.status == "waiting")
                    .values(status="taken")
                ).rowcount
                == 1
            )
            if won:
                s.merge(
                    m.Takeover(
                        handoff_reference=reference,
                        agent_username=agent.username,
                        agent_name=agent.name,
                        taken_at=now,
                        released_at=None,
                    )
                )
            return won

    def release(self, reference: str, agent: AgentView, now: datetime) -> bool:
        """Hands a handoff `agent` holds back to Heard; False when they don't hold it."""
        with session_scope(self.engine) as s:
            # Only the holder's release changes the row (checked in the same transaction).
            held = (
                s.query(m.Takeover.handoff_reference)
                .filter_by(handoff_reference=reference, agent_username=agent.username)
                .scalar()
            )
            won = (
                held is not None
                and s.execute(
                    update(m.Handoff)
                    .where(m.Handoff.reference == reference, m.Handoff.status == "taken")
                    .values(status="returned")
                ).rowcount
                == 1
            )
            if won:
                s.query(m.Takeover).filter_by(handoff_reference=reference).update(
                    {"released_at": now}
                )
            return won
