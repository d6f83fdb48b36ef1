"""Rasa's REST channel (`POST /webhooks/rest/webhook`), strict about what it accepts.

Rasa's own put every message without a `sender` into one shared conversation called
`default`, answered malformed JSON with 500, non-string messages with an empty `200 []`,
and trusted the client's `input_channel` and `metadata`. This one refuses bad requests
with 400 and a JSON reason, and answers 503 (with `Retry-After` and Heard's apology) when
the action server can't be reached; `web/API.md` has the contract.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from web.http import error
from web.incoming import Refused, read_json

logger = logging.getLogger(__name__)


def unavailable(messages: List[Dict[str, Any]]) -> int:
    """Seconds to wait before retrying, when Heard said it couldn't answer; else 0."""
    for message in messages:
        custom = message.get("custom")
        if isinstance(custom, dict) and custom.get("heard_error"):
            return int(custom.get("retry_after") or 30)
    return 0


class HeardRestInput(RestInput):
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("heard_rest", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            incoming = read_json(request.body or b"", request.headers.get("x-request-id"))
            if isinstance(incoming, Refused):
                logger.warning("web.rest.refused reason=%s", incoming.reason[:60])
                return error(400, incoming.reason)
            collector = CollectingOutputChannel()
            await on_new_message(
                UserMessage(
                    incoming.text,
                    collector,
                    incoming.sender,
                    input_channel=self.name(),
                    message_id=incoming.message_id,
                )
            )
            retry_after = unavailable(collector.messages)
            if retry_after:
                return response.json(
                    collector.messages, status=503, headers={"Retry-After": str(retry_after)}
                )
            return response.json(collector.messages)

        return blueprint
