"""What Rasa's NLU is given to parse.

`/model/parse` answers a body that is not a JSON object with a string `text` with 400
(Rasa answered 500). Every parse (that one too) sees at most the limit's characters and
no lone surrogates (which crashed spaCy), so no NLU step's time or memory depends on how
long a message is; and Rasa's "/intent" shortcuts work only for the payloads of the
domain's buttons, so a customer typing "/restart" or "/inform{...}" is read as words.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any, Dict, Optional, Set

from rasa import server as rasa_server
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.trackers import DialogueStateTracker

from heard.formats import clean_text
from heard.limits import max_message_chars

_original = {
    "parse_message": MessageProcessor.parse_message,
    "validate_body": rasa_server.validate_request_body,
}


def parse_body_problem(body: bytes) -> Optional[str]:
    """Why a `/model/parse` body can't be parsed, or None."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return 'The body must be JSON (UTF-8), like {"text": "hello"}.'
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        return "The body must be a JSON object with a string 'text'."
    return None


def validate_request_body(request: Any, error_message: str) -> None:
    """Rasa's check that a body exists, and for `/model/parse` that it is a text to parse:
    the route itself turns every later error, its own 400s included, into 500."""
    _original["validate_body"](request, error_message)
    problem = parse_body_problem(request.body) if request.path == "/model/parse" else None
    if problem:
        raise rasa_server.ErrorResponse(HTTPStatus.BAD_REQUEST, "BadRequest", problem)


def button_payloads(domain: Any) -> Set[str]:
    return {
        str(button.get("payload", "")).strip()
        for variations in domain.responses.values()
        for variation in variations
        for button in variation.get("buttons") or []
    }


def text_to_parse(text: str, domain: Any, limit: int) -> str:
    """At most `limit` characters, no lone surrogates; a "/" shortcut only if a button of
    the domain sends it."""
    text = clean_text(text[:limit])
    if text.lstrip().startswith("/") and text.strip() not in button_payloads(domain):
        text = text.lstrip().lstrip("/")
    return text


async def parse_message(
    self: MessageProcessor,
    message: UserMessage,
    tracker: Optional[DialogueStateTracker] = None,
    only_output_properties: bool = True,
) -> Dict[str, Any]:
    if isinstance(message.text, str):
        text = text_to_parse(message.text, self.domain, max_message_chars())
        if text != message.text:
            message = UserMessage(
                text,
                message.output_channel,
                message.sender_id,
                message.parse_data,
                message.input_channel,
                message.message_id,
                message.metadata,
            )
    return await _original["parse_message"](self, message, tracker, only_output_properties)


def install() -> None:
    MessageProcessor.parse_message = parse_message
    rasa_server.validate_request_body = validate_request_body
