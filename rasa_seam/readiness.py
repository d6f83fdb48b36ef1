"""Rasa's web app with the health routes (`heard.health`), and what readiness means for the
Rasa server: a loaded model, and a tracker store and a lock store that answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, List

import sqlalchemy as sa
from rasa.core import run as rasa_run
from rasa.core.lock_store import RedisLockStore

from heard import health
from rasa_seam.app import agent_of
from rasa_seam.tracker_events import tracker_engine

if TYPE_CHECKING:
    from rasa.core.agent import Agent

NOT_LOADED = "the model is not loaded"

_original = {"configure_app": rasa_run.configure_app}


def configure_app(*args: Any, **kwargs: Any) -> Any:
    """Rasa's web app, with the health routes."""
    return health.add_routes(_original["configure_app"](*args, **kwargs), app_problems)


def app_problems(app: Any) -> List[str]:
    """What keeps Rasa's server `app` from taking turns: nothing when it can."""
    try:
        agent = agent_of(app)
    except LookupError:  # the server has not started yet
        return [NOT_LOADED]
    return readiness_problems(agent)


def readiness_problems(agent: Agent) -> List[str]:
    """What keeps a server with this agent from taking turns: nothing when it can."""
    if not agent.is_ready():
        return [NOT_LOADED]
    problems = []
    engine = tracker_engine(agent.tracker_store)
    if engine is not None:
        try:
            with engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError as error:
            problems.append(f"the tracker store does not answer ({type(error).__name__})")
    if isinstance(agent.lock_store, RedisLockStore):
        try:
            agent.lock_store.red.ping()
        except Exception as error:  # redis-py's errors, whatever the connection did
            problems.append(f"the lock store does not answer ({type(error).__name__})")
    return problems


def install() -> None:
    rasa_run.configure_app = configure_app
