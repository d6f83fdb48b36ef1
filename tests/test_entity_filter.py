"""Entities whose value can't be what they claim are dropped from the parse."""

from __future__ import annotations

import pytest
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.training_data.message import Message

from nlu.entity_filter import EntityFormatFilter


def entity(name, value):
    return {"entity": name, "value": value, "start": 0, "end": len(value)}


@pytest.mark.parametrize(
    "name, value, kept",
    [
        ("order_id", "4419630", True),
        ("order_id", "ve", False),
        ("order_id", "12345", False),
        ("order_id", "123456789", False),
        ("email", "a.b@example.com", True),
        ("email", "example.com", False),
        ("rating", "5", True),
        ("rating", "+44", False),
        ("product", "headphones", True),  # no pattern: kept as it is
    ],
)
def test_filter(name, value, kept):
    component = EntityFormatFilter(EntityFormatFilter.get_default_config())
    message = Message.build(text="x")
    message.set("entities", [entity(name, value)])
    component.process([message])
    assert (message.get("entities") == [entity(name, value)]) is kept


def test_unknown_option_fails_loudly():
    with pytest.raises(InvalidConfigException):
        EntityFormatFilter({**EntityFormatFilter.get_default_config(), "pattern": {}})
