"""The health routes both servers answer, for load balancers and orchestrators:
`/health/live` (the process serves requests) and `/health/ready` (200, or 503 with what
keeps the server from working; the check runs in a worker thread: it may touch a database)."""

from __future__ import annotations

import asyncio
from typing import Any, Callable, List

from sanic import response


def add_routes(app: Any, problems: Callable[[Any], List[str]]) -> Any:
    """Adds both routes to a Sanic `app`; `problems(app)` says what is wrong, [] if nothing."""

    async def live(request: Any) -> Any:
        return response.json({"status": "live"})

    async def ready(request: Any) -> Any:
        found = await asyncio.to_thread(problems, request.app)
        return response.json(
            {"status": "not ready" if found else "ready", "problems": found},
            status=503 if found else 200,
        )

    app.add_route(live, "/health/live", methods=["GET"])
    app.add_route(ready, "/health/ready", methods=["GET"])
    return app
