"""The widget's socket.io channel: Rasa's, with checked session ids and agent pushes.

Rasa's `SocketIOInput` answers into the room named after the session id
(`session_persistence: true`), so every tab of a session gets every message. Its own
`session_request` never joins that room with the pinned python-socketio (5.18, where
`enter_room` is a coroutine it doesn't await); Heard's does. Heard adds: session ids must be
UUIDs (anything else gets a fresh one); a malformed message is answered with a
`heard_error` event (`{"status": 400, "error": ...}`) instead of reaching Rasa; client
metadata is ignored; packets over `HEARD_MAX_REQUEST_BYTES` are refused unread; and the
console can push an agent's message or status into a session's room.

With REDIS_URL set the server's client manager is python-socketio's `AsyncRedisManager`:
rooms still hold this replica's sockets, but every emit to a room (Heard's replies, the
console's pushes) is also published through Redis to the other replicas, which deliver it
to their sockets in that room. The widget's socket may live on one replica while the turn
or the agent's reply is handled by another.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Union

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint
from socketio import AsyncManager, AsyncServer

from heard import redis_client
from heard.formats import valid_widget_session_id
from heard.limits import max_request_bytes
from rasa_seam import socketio_input
from web.incoming import Incoming, Refused, read

logger = logging.getLogger(__name__)

AGENT_STATUS_EVENT = "agent_status"
ERROR_EVENT = "heard_error"
SESSION_RULE = "Ask for a session with session_request and send its session_id."


def share_rooms(sio: AsyncServer, manager: AsyncManager) -> None:
    """Gives a new server (before any connection: Rasa's blueprint made it a moment ago)
    another client manager, as `AsyncServer(client_manager=...)` would have. Rasa builds
    the server inside `SocketIOInput.blueprint`, so this is done right after it. The
    manager starts (subscribes) on the server's first connection; emits publish anyway."""
    if sio.manager_initialized:
        raise RuntimeError("the socket.io server is already running its client manager")
    sio.manager = manager
    manager.set_server(sio)


class HeardSocketIOInput(SocketIOInput):
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio, namespace = socketio_input.server_of(self), socketio_input.namespace_of(self)
        sio.eio.max_http_buffer_size = max_request_bytes()
        url = redis_client.redis_url()
        if url:
            share_rooms(sio, redis_client.socketio_manager(url))

        async def session_request(sid: str, data: Optional[Dict] = None) -> None:
            requested = (data or {}).get("session_id") if isinstance(data, dict) else None
            session_id = requested if valid_widget_session_id(requested) else str(uuid.uuid4())
            if self.session_persistence:  # awaited: a coroutine in python-socketio 5.18,
                await sio.enter_room(sid, session_id, namespace=namespace)  # Rasa's forgets
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)

        async def user_uttered(sid: str, data: Any = None) -> None:  # a client may send none
            session = data.get("session_id") if isinstance(data, dict) else None
            incoming: Union[Incoming, Refused]
            if self.session_persistence and not valid_widget_session_id(session):
                incoming = Refused(SESSION_RULE)
            else:  # the session id is a UUID, or (without persistence) the socket's own id
                incoming = read(data, session if self.session_persistence else sid)
            if isinstance(incoming, Refused):
                logger.warning("web.socketio.refused sid=%s reason=%s", sid, incoming.reason[:60])
                await sio.emit(
                    ERROR_EVENT,
                    {"status": 400, "error": incoming.reason},
                    room=sid,
                    namespace=namespace,
                )
                return
            await on_new_message(
                UserMessage(
                    incoming.text,
                    self.get_output_channel(),
                    incoming.sender,
                    input_channel=self.name(),
                    message_id=incoming.message_id,
                )
            )

        socketio_input.replace_handlers(
            self,
            {socketio_input.SESSION_REQUEST: session_request, self.user_message_evt: user_uttered},
        )
        return blueprint

    async def push(self, session_id: str, event: str, payload: Dict[str, Any]) -> None:
        """Sends `event` to every tab of the session (nothing happens when none is open)."""
        await socketio_input.server_of(self).emit(
            event, payload, room=session_id, namespace=socketio_input.namespace_of(self)
        )
