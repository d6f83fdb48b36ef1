"""The widget's call button speaks the browser voice protocol (voice/channels/browser.py):
the page is the real one, the microphone is Chromium's synthetic one, and the voice
websocket is answered by the test (this machine has no English speech model for a real
call), so every frame the browser sends can be checked."""
from __future__ import annotations

import json
import math
import re
import struct
import time

import pytest

from browser_support import (Widget, browser, expect, open_page, screenshot,  # noqa: F401
                             site)

pytestmark = pytest.mark.slow


def _tone(seconds: float, rate: int = 16000) -> bytes:
    samples = (int(8000 * math.sin(2 * math.pi * 440 * i / rate))
               for i in range(int(seconds * rate)))
    return b"".join(struct.pack("<h", s) for s in samples)


def _wait_until(page, condition, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(100)


def test_a_call_streams_16khz_pcm_and_shows_what_happens(site, open_page):
    page = open_page().page
    page.context.grant_permissions(["microphone"])
    page.route("**/webhooks/browser_voice/status",
               lambda route: route.fulfill(json={"available": True, "reason": ""}))
    calls, texts, frames = [], [], []

    def answer(ws):
        calls.append(ws)
        ws.on_message(lambda m: (frames if isinstance(m, bytes) else texts).append(m))

    page.route_web_socket(re.compile(r"/webhooks/browser_voice/stream$"), answer)
    page.goto(f"{site.url}/shop/")
    widget = Widget(page).open()
    call = page.get_by_role("button", name="Call Heard")
    expect(call).to_have_attribute("aria-disabled", "false")
    call.click()

    _wait_until(page, lambda: texts and len(frames) >= 100)  # 2 s of audio
    session = page.evaluate("localStorage.getItem('heard.session_id')")
    assert json.loads(texts[0]) == {"event": "start", "session_id": session, "sample_rate": 16000}
    assert {len(f) for f in frames} == {640}  # 20 ms of 16 kHz PCM16
    audio = b"".join(frames)
    samples = struct.unpack(f"<{len(audio) // 2}h", audio)
    assert max(abs(s) for s in samples) > 500  # the synthetic microphone's beep came through
    bar = page.locator(".heard-callbar")
    expect(bar.get_by_role("status")).to_have_text("Listening")

    ws = calls[0]
    ws.send(json.dumps({"event": "transcript", "text": "where is my parcel"}))
    ws.send(json.dumps({"event": "state", "state": "speaking"}))
    ws.send(_tone(0.5))
    ws.send(json.dumps({"event": "bot", "text": "Let me look that up for you."}))
    expect(widget.log.locator(".heard-from-customer .heard-text").last).to_have_text(
        "where is my parcel")
    widget.wait_for_heard("Let me look that up for you.")
    expect(bar.get_by_role("status")).to_have_text("Heard is talking")
    expect(bar).to_have_attribute("data-state", "speaking")
    screenshot(page, "widget-call")
    ws.send(json.dumps({"event": "clear"}))  # barge-in: playback stops at once
    ws.send(json.dumps({"event": "state", "state": "listening"}))
    expect(bar.get_by_role("status")).to_have_text("Listening")

    page.get_by_role("button", name="Hang up").click()
    _wait_until(page, lambda: any(json.loads(t) == {"event": "stop"} for t in texts))
    expect(bar).to_be_hidden()
    expect(widget.log.locator(".heard-notice").last).to_have_text("Call ended")
    expect(call).to_be_focused()


def test_a_refused_call_says_so(site, open_page):
    page = open_page().page
    page.context.grant_permissions(["microphone"])
    page.route("**/webhooks/browser_voice/status",
               lambda route: route.fulfill(json={"available": True, "reason": ""}))

    def refuse(ws):
        ws.on_message(lambda m: isinstance(m, str) and (
            ws.send(json.dumps({"event": "error", "message": "voice is off"})),
            ws.close(code=1003)))

    page.route_web_socket(re.compile(r"/webhooks/browser_voice/stream$"), refuse)
    page.goto(f"{site.url}/shop/")
    widget = Widget(page).open()
    page.get_by_role("button", name="Call Heard").click()
    expect(widget.log.locator(".heard-notice").last).to_contain_text("the call didn't work")
    expect(page.locator(".heard-callbar")).to_be_hidden()
