"""Tables the agent console adds to the shop database: agents, their sessions, takeovers.

They live beside the shop's tables (same `DATABASE_URL`) but in their own metadata, so a
database made before the console existed only gains tables; nothing is altered.
"""
from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Agent(Base):
    __tablename__ = "console_agents"
    id = Column(Integer, primary_key=True)
    username = Column(String(40), nullable=False, unique=True)
    name = Column(String(80), nullable=False)
    password_hash = Column(String(200), nullable=False)  # argon2id, never the password
    created_at = Column(DateTime, nullable=False)


class AgentSession(Base):
    __tablename__ = "console_sessions"
    token_hash = Column(String(64), primary_key=True)  # sha256 of the cookie's token
    agent_id = Column(Integer, ForeignKey("console_agents.id", ondelete="CASCADE"),
                      nullable=False, index=True)
    created_at = Column(DateTime, nullable=False)
    expires_at = Column(DateTime, nullable=False, index=True)


class Takeover(Base):
    """Which agent took a handoff (the handoff's own row keeps its status)."""

    __tablename__ = "handoff_takeovers"
    handoff_reference = Column(String(20), primary_key=True)
    agent_username = Column(String(40), nullable=False)
    agent_name = Column(String(80), nullable=False)
    taken_at = Column(DateTime, nullable=False)
    released_at = Column(DateTime)
