"""Forged calls against the real servers: with the shipped credentials.yml (no auth_token)
the phone channel is closed; with a token, only a stream announced by a signed /incoming
for its own CallSid becomes a conversation. Nothing refused leaves a tracker behind."""

from __future__ import annotations

import asyncio
import sqlite3
import time
import urllib.error
import uuid
from contextlib import closing
from pathlib import Path

import pytest

from voice import twilio_protocol as tp
from voice.phone_emulator import WEBHOOKS, PhoneCall, twilio_post

pytestmark = pytest.mark.slow


def stored_events(folder: Path, conversation_id: str) -> int:
    """Events the servers in `folder` (Servers.in_folder) stored for a conversation, read
    from the tracker store itself: asking the HTTP API would create the tracker."""
    with closing(sqlite3.connect(folder / "tracker.db")) as db:
        return db.execute(
            "SELECT COUNT(*) FROM events WHERE sender_id = ?", (conversation_id,)
        ).fetchone()[0]


def refused_stream(call: PhoneCall, stream_url: str, parameters: dict) -> int:
    """Opens the stream with `parameters`; the close code once the server has closed it."""

    async def run():
        await call.connect(stream_url, parameters)
        await asyncio.wait_for(call.closed.wait(), 10)
        return call.close_code

    return asyncio.run(run())


def test_the_shipped_configuration_refuses_forged_calls(live):
    url, folder = live.servers.rasa_url, live.servers.log_dir.parent
    call_sid = f"CA{uuid.uuid4().hex}"
    for path in ("/incoming", "/after"):
        for token in (None, "not-the-token"):  # unsigned, and signed with a guessed token
            with pytest.raises(urllib.error.HTTPError) as refused:
                twilio_post(
                    f"{url}{WEBHOOKS}{path}", {"CallSid": call_sid, "From": "+15550123"}, token
                )
            assert refused.value.code == 403
    stream_url = url.replace("http://", "ws://") + f"{WEBHOOKS}/stream"
    token = tp.stream_token(b"guess", call_sid, time.time())
    for sid in (call_sid, "../../etc/passwd"):
        code = refused_stream(PhoneCall(url, call_sid=sid), stream_url, {"token": token})
        assert code == tp.POLICY_VIOLATION
        assert stored_events(folder, sid) == 0
    log = (live.servers.log_dir / "rasa.log").read_text(errors="replace")
    assert "voice.twilio closed: no auth_token" in log
    assert log.count("voice.twilio.refused") >= 4 and "+15550123" not in log


@pytest.mark.parametrize(
    "case, logged",
    [
        ("unissued", "reason=no_token"),
        ("etc_passwd", "voice.twilio.bad_start"),
        ("expired", "reason=expired_token"),
        ("other_call", "reason=invalid_token"),
    ],
)
def test_a_stream_nobody_announced_is_closed_and_starts_no_conversation(voice_live, case, logged):
    stream_url = f"{voice_live.ws_url}{WEBHOOKS}/stream"
    if case == "etc_passwd":  # no script: its path would leave the scripts folder
        call = PhoneCall(voice_live.live.servers.rasa_url, call_sid="../../etc/passwd")
    else:
        call = voice_live.call("this line must never be heard")
    if case == "unissued":
        parameters = {"caller": call.caller}
    elif case == "expired":
        parameters = {
            "caller": call.caller,
            "token": tp.stream_token(
                voice_live.auth_token.encode(), call.call_sid, time.time() - 2 * tp.STREAM_TOKEN_TTL
            ),
        }
    else:  # a genuine token, issued for another call
        parameters = asyncio.run(voice_live.call().dial())[1]
    assert refused_stream(call, stream_url, parameters) == tp.POLICY_VIOLATION
    assert stored_events(voice_live.folder, call.call_sid) == 0
    # Not by CallSid: the log redacts digit runs, which CallSids can contain.
    assert voice_live.logged(logged)
