"""A chat client's REST body, read before it reaches Rasa (pure)."""

import json

import pytest

from web.incoming import Incoming, Refused, read_json


def body(**fields) -> bytes:
    return json.dumps({"sender": "abc-123", "message": "hi", **fields}).encode()


@pytest.mark.parametrize(
    "fields, request_id, message_id",
    [
        ({}, None, None),
        ({"message_id": "m-1"}, None, "m-1"),
        ({"message_id": "m-1"}, "4f1c0a", "m-1"),  # the client's own id wins
        ({}, "4f1c0a", "4f1c0a"),  # nginx's $request_id, the same on its retry
        ({}, "not an id!", None),  # a header that isn't an id is ignored, not trusted
    ],
)
def test_the_message_id_is_the_clients_or_else_the_load_balancers(fields, request_id, message_id):
    assert read_json(body(**fields), request_id) == Incoming("abc-123", "hi", message_id)


def test_a_bad_message_id_in_the_body_is_refused_whatever_the_header():
    assert isinstance(read_json(body(message_id="x" * 65), "4f1c0a"), Refused)
