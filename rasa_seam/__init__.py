"""Every place Heard touches Rasa's internals, in one package (Rasa is pinned, 3.6.21).

Each touch has a test in `tests/test_rasa_seam*.py` that fails when a Rasa upgrade changes
what it relies on: the replaced or overridden method still exists with its signature, the
Rasa code a replacement mirrors or calls is unchanged (its source is hashed), and the
replacement is what Rasa calls. Outside this package Heard uses Rasa's documented
extension API only (input and output channels, `UserMessage`, custom lock stores by
module path, rasa_sdk).

Changes `install()` makes to Rasa's behaviour (in the Rasa server, `bot.rasa_main`):
1. `validation`: action-server responses validated with validators built once, each event
   against its own type's schema (`RemoteAction._validate_action_result`).
2. `turn`: a turn (`MessageProcessor.handle_message`): too-long messages asked to be
   shorter, repeated message ids answered again, a turn dropped whole when the action
   server is unreachable, the frustration score updated in the turn.
3. `action_server`: action calls retried while unreachable, given up after 30 s, with the
   session's events only and the domain by digest (`RemoteAction.run`,
   `RemoteAction._action_call_format`, `rasa.core.actions.action.DEFAULT_REQUEST_TIMEOUT`).
4. `error_pages`: Sanic's error pages always JSON (`ErrorHandler.default`).
5. `parsing`: `/model/parse` bodies checked (`rasa.server.validate_request_body`), every
   parse bounded, "/intent" shortcuts only for buttons (`MessageProcessor.parse_message`).
6. `tracker_sessions`: sessions end after a turn limit too
   (`MessageProcessor._has_session_expired`) and start without the action server, keeping
   what the pure `sessions` says (`ActionSessionStart.run`).
7. `event_types`: an event's class looked up once per type name (`Event.resolve_by_type`).
8. `tracker_store`: the SQL tracker store's session query through indexes, pooled SQLite
   connections with WAL (`SQLTrackerStore._event_query`, `SQLTrackerStore.__init__`).
9. `readiness`: Rasa's web app with the health routes (`rasa.core.run.configure_app`).

What the rest of Heard reaches through here:
- `app`: the agent and the input channels Rasa's server keeps on `app.ctx`.
- `tracker_events`: the tracker store's `events` table, the engine inside a tracker store,
  an engine on the store an endpoints file names (dashboard, retention).
- `lock_store`: Rasa's Redis lock store with atomic tickets and leases (endpoints.yml names
  `rasa_seam.lock_store.AtomicRedisLockStore`).
- `socketio_input`: the server of Rasa's socket.io channel; its handlers replaced by the
  widget's.
- `command_line`: Rasa's `rasa` program, run in this process.
- `data_validation`: `rasa data validate`'s checks, their findings returned, not printed.
"""

from __future__ import annotations


def install() -> None:
    """Makes the changes above to Rasa: before Rasa builds its web app."""
    # Imported here: the rest of Heard reads `rasa_seam.app` and the like without loading
    # the changes (nor `actions/`, whose import sets up the action server's logs).
    from rasa_seam import (
        action_server,
        error_pages,
        event_types,
        parsing,
        readiness,
        tracker_sessions,
        tracker_store,
        turn,
        validation,
    )

    for module in (
        validation,
        turn,
        action_server,
        error_pages,
        parsing,
        tracker_sessions,
        event_types,
        tracker_store,
        readiness,
    ):
        module.install()
