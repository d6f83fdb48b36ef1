"""Rasa's socket.io channel from inside: the python-socketio server that
`SocketIOInput.blueprint` makes and keeps on the channel, and Rasa's handlers of the
client's events replaced by Heard's."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Mapping

from rasa.core.channels.socketio import SocketIOInput
from socketio import AsyncServer

# The client events whose handlers Rasa's blueprint registers and Heard's replace (the
# other, the customer's message, is the channel's `user_message_evt`).
SESSION_REQUEST = "session_request"


def server_of(channel: SocketIOInput) -> AsyncServer:
    """The socket.io server of the channel, made with its blueprint."""
    if channel.sio is None:
        raise LookupError("the socket.io channel has no server before its blueprint is made")
    return channel.sio


def namespace_of(channel: SocketIOInput) -> str:
    """The namespace of the channel's handlers (Rasa's None is python-socketio's "/")."""
    return channel.namespace or "/"


def replace_handlers(
    channel: SocketIOInput, handlers: Mapping[str, Callable[..., Awaitable[Any]]]
) -> None:
    """Puts `handlers` (event -> handler) in place of those Rasa's blueprint registered:
    python-socketio keeps one handler per event and namespace."""
    sio, namespace = server_of(channel), namespace_of(channel)
    for event, handler in handlers.items():
        sio.on(event, handler, namespace=namespace)
