"""Rasa's socket.io channel from inside (`rasa_seam.socketio_input`): the server its blueprint
makes and the handlers Heard's widget channel replaces. Also the Sanic blueprint method the
pages channel overrides."""

from __future__ import annotations

import inspect

import pytest
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint, Sanic
from socketio import AsyncServer

from rasa_seam import socketio_input
from tests.rasa_source import digest
from web.pages_channel import PagesInput
from web.socketio_channel import HeardSocketIOInput


async def _ignored(message):
    return None


def test_the_blueprint_that_makes_the_server_is_unchanged():
    assert digest(SocketIOInput.blueprint) == "1246d69fa05c3b1f"


@pytest.mark.parametrize("namespace", [None, "/chat"])
def test_the_server_rasa_makes_is_the_channels_with_the_handlers_heard_replaces(namespace):
    channel = SocketIOInput(namespace=namespace)
    with pytest.raises(LookupError):
        socketio_input.server_of(channel)
    channel.blueprint(_ignored)
    sio = socketio_input.server_of(channel)
    assert isinstance(sio, AsyncServer)
    where = socketio_input.namespace_of(channel)
    assert set(sio.handlers[where]) == {
        "connect",
        "disconnect",
        socketio_input.SESSION_REQUEST,
        channel.user_message_evt,
    }

    async def session_request(sid, data=None):
        return None

    socketio_input.replace_handlers(channel, {socketio_input.SESSION_REQUEST: session_request})
    assert sio.handlers[where][socketio_input.SESSION_REQUEST] is session_request
    assert set(sio.handlers) == {where}  # replaced in place, no other namespace


def test_the_widget_channel_replaces_both_client_handlers():
    rasas, heards = SocketIOInput(), HeardSocketIOInput()
    rasas.blueprint(_ignored)
    heards.blueprint(_ignored)
    ours = socketio_input.server_of(heards).handlers["/"]
    theirs = socketio_input.server_of(rasas).handlers["/"]
    assert set(ours) == set(theirs)
    for event in (socketio_input.SESSION_REQUEST, heards.user_message_evt):
        assert ours[event].__module__ == "web.socketio_channel"


def test_sanic_registers_a_blueprint_through_the_method_the_pages_channel_overrides():
    assert list(inspect.signature(Blueprint.register).parameters) == ["self", "app", "options"]
    assert "blueprint.register(self, options)" in inspect.getsource(Sanic.blueprint)
    assert type(PagesInput().blueprint(_ignored)).register is not Blueprint.register
