"""What a chat client's message must look like before it reaches Rasa (pure checks).

A client names its conversation and may name each message (`message_id`), so that a
retry of the same message is answered from the conversation instead of being processed
twice. Anything else it sends (Rasa's `input_channel` and `metadata`) is ignored: it
would let a web client pose as a phone call.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Optional, Union

from heard.formats import clean_text, valid_conversation_id

_MESSAGE_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
SENDER_RULE = (
    "'sender' is required: your conversation id, 1 to 128 letters, digits, "
    "'-', '_', '.' or ':' (keep it for the whole conversation)"
)


@dataclass(frozen=True)
class Incoming:
    sender: str
    text: str
    message_id: Optional[str] = None


@dataclass(frozen=True)
class Refused:
    reason: str  # said to the client; never contains what it sent


def read(data: Any, sender: Any) -> Union[Incoming, Refused]:
    """A message object (`message`, optional `message_id`) for conversation `sender`."""
    if not isinstance(data, dict):
        return Refused('Send a JSON object like {"sender": "abc-123", "message": "hi"}.')
    if not valid_conversation_id(sender):
        return Refused(SENDER_RULE + ".")
    text = data.get("message")
    if not isinstance(text, str):
        return Refused("'message' is required and must be a string.")
    message_id = data.get("message_id")
    if message_id is not None and not (
        isinstance(message_id, str) and _MESSAGE_ID.fullmatch(message_id)
    ):
        return Refused("'message_id' must be 1 to 64 letters, digits, '-', '_', '.' or ':'.")
    return Incoming(sender, clean_text(text), message_id)


def read_json(body: bytes, request_id: Optional[str] = None) -> Union[Incoming, Refused]:
    """A REST request body. `request_id` (the load balancer's `X-Request-Id`, the same on
    its retry to another replica) is the message id when the body names none."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return Refused(
            'The body must be JSON (UTF-8), like {"sender": "abc-123", "message": "hi"}.'
        )
    if (
        isinstance(data, dict)
        and data.get("message_id") is None
        and request_id
        and _MESSAGE_ID.fullmatch(request_id)
    ):
        data = {**data, "message_id": request_id}
    return read(data, data.get("sender") if isinstance(data, dict) else None)
