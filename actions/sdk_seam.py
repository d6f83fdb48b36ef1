"""Every place Heard changes how rasa_sdk itself works, in one module (rasa_sdk 3.6.2).

The action call's domain comes from memory when the Rasa server sent only its digest
(`heard.domain_digest`); a digest this server does not know is rejected with
`UNKNOWN`, which rasa_sdk answers with 400 and the Rasa server reads as "send the
domain". The app also answers `/health/live` and `/health/ready` (the shop database
answers) for load balancers and orchestrators. `tests/test_sdk_seam.py` pins the rasa_sdk
code this relies on.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from rasa_sdk import endpoint
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection

from heard import health
from heard.domain_digest import UNKNOWN, Domains

_original = {"run": ActionExecutor.run, "create_app": endpoint.create_app}
domains = Domains()


async def run(self: ActionExecutor, action_call: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    if not domains.fill(action_call):
        raise ActionExecutionRejection(str(action_call.get("next_action")), UNKNOWN)
    return await _original["run"](self, action_call)


def create_app(*args: Any, **kwargs: Any) -> Any:
    return health.add_routes(
        _original["create_app"](*args, **kwargs), lambda app: readiness_problems()
    )


@lru_cache(maxsize=1)
def _engine() -> sa.engine.Engine:
    from store.repository import database_url

    return sa.create_engine(database_url(), pool_size=1, pool_pre_ping=True)


def readiness_problems(engine: Optional[sa.engine.Engine] = None) -> List[str]:
    """What keeps this server from running actions: nothing when it can."""
    try:
        with (engine or _engine()).connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as error:
        return [f"the shop database does not answer ({type(error).__name__})"]
    return []


def install() -> None:
    ActionExecutor.run = run
    endpoint.create_app = create_app
