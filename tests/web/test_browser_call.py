"""The widget's call button and the browser voice protocol (voice/channels/browser.py).

First with the voice websocket answered by the test, so every frame the browser sends and
every event it gets can be checked; then a real call on the real servers, espeak-ng speech
as Chromium's microphone and the scripted recogniser standing in for an English model."""

from __future__ import annotations

import json
import math
import re
import shutil
import struct
import subprocess
import time
import urllib.request
import wave

import pytest
import yaml

from bot.servers import Servers
from tests.web.browser_support import ROOT, Site, Widget, expect, launch, screenshot

pytestmark = pytest.mark.slow


def _tone(seconds: float, rate: int = 16000) -> bytes:
    samples = (
        int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(int(seconds * rate))
    )
    return b"".join(struct.pack("<h", s) for s in samples)


def _wait_until(page, condition, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(100)


def test_a_call_streams_16khz_pcm_and_shows_what_happens(site, open_page):
    page = open_page().page
    page.context.grant_permissions(["microphone"])
    page.route(
        "**/webhooks/browser_voice/status",
        lambda route: route.fulfill(json={"available": True, "reason": ""}),
    )
    calls, texts, frames = [], [], []

    def answer(ws):
        calls.append(ws)
        ws.on_message(lambda m: (frames if isinstance(m, bytes) else texts).append(m))

    page.route_web_socket(re.compile(r"/webhooks/browser_voice/stream$"), answer)
    page.goto(f"{site.url}/shop/")
    widget = Widget(page).open()
    call = page.get_by_role("button", name="Call Heard")
    expect(call).to_have_attribute("aria-disabled", "false")
    expect(call).to_have_accessible_description("")
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
        "where is my parcel"
    )
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
    page.route(
        "**/webhooks/browser_voice/status",
        lambda route: route.fulfill(json={"available": True, "reason": ""}),
    )

    def refuse(ws):
        ws.on_message(
            lambda m: (
                isinstance(m, str)
                and (
                    ws.send(json.dumps({"event": "error", "message": "voice is off"})),
                    ws.close(code=1003),
                )
            )
        )

    page.route_web_socket(re.compile(r"/webhooks/browser_voice/stream$"), refuse)
    page.goto(f"{site.url}/shop/")
    widget = Widget(page).open()
    page.get_by_role("button", name="Call Heard").click()
    expect(widget.log.locator(".heard-notice").last).to_contain_text("the call didn't work")
    expect(page.locator(".heard-callbar")).to_be_hidden()


# ---- a real call: the real voice channel, espeak-ng speech as the microphone -------------


def _spoken_wav(text: str, path, before: float = 3.0, after: float = 3.0):
    """espeak-ng's speech with silence around it, as Chromium's fake microphone plays it."""
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng not installed (apt-get install espeak-ng; .ci/run installs it)")
    speech = path.with_suffix(".speech.wav")
    subprocess.run(["espeak-ng", "-w", str(speech), text], check=True)
    with wave.open(str(speech)) as source:
        params, frames = source.getparams(), source.readframes(source.getnframes())
    pad = lambda seconds: b"\0" * int(seconds * params.framerate) * params.sampwidth  # noqa: E731
    with wave.open(str(path), "wb") as out:
        out.setparams(params)
        out.writeframes(pad(before) + frames + pad(after))
    return path


@pytest.fixture(scope="module")
def voice_site(trained_model, tmp_path_factory):
    """The servers as `make run` starts them, with calls on: recognition is the scripted
    stand-in (no English speech model here), which returns line n of
    `<scripts>/<session id>.txt` for the n-th utterance the channel detects."""
    folder = tmp_path_factory.mktemp("browser-call")
    scripts = folder / "scripts"
    scripts.mkdir()
    channels = yaml.safe_load((ROOT / "credentials.yml").read_text())
    channels["voice.channels.browser.BrowserVoiceInput"] = {
        **(channels.get("voice.channels.browser.BrowserVoiceInput") or {}),
        "stt": "scripted",
        "scripted_dir": str(scripts),
    }
    servers = Servers.in_folder(trained_model, folder, credentials=yaml.safe_dump(channels))
    servers.start()
    try:
        servers.wait_until_ready()
        yield Site(servers.rasa_url, servers.database_url, servers.api_token), scripts
    finally:
        servers.stop()


@pytest.fixture(scope="module")
def speaking_browser(browser, tmp_path_factory):
    """A second Chromium, whose microphone says "Where is my order?" once."""
    wav = _spoken_wav("Where is my order?", tmp_path_factory.mktemp("mic") / "caller.wav")
    chromium = launch(browser.browser_type, [f"--use-file-for-fake-audio-capture={wav}%noloop"])
    yield chromium
    chromium.close()


def test_a_real_call_from_the_widget(voice_site, speaking_browser):
    site, scripts = voice_site
    context = speaking_browser.new_context()
    context.grant_permissions(["microphone"])
    page = context.new_page()
    page.goto(f"{site.url}/shop/")
    widget = Widget(page).open()
    session = page.evaluate("localStorage.getItem('heard.session_id')")
    (scripts / f"{session}.txt").write_text("where is my order\n")
    call = page.get_by_role("button", name="Call Heard")
    expect(call).to_have_attribute("aria-disabled", "false")
    page.evaluate("""() => {
        const bar = document.querySelector('.heard-callbar');
        window.callStates = [];
        new MutationObserver(() => window.callStates.push(bar.dataset.state))
            .observe(bar, {attributes: true, attributeFilter: ['data-state']});
    }""")
    call.click()

    # Heard greets, hears the caller (the scripted words), and answers, in the chat log too.
    expect(widget.log.locator(".heard-from-customer .heard-text").last).to_have_text(
        "where is my order", timeout=30_000
    )
    expect(widget.log.locator(".heard-from-heard", has_text="order number").last).to_be_visible(
        timeout=30_000
    )
    states = page.evaluate("window.callStates")
    assert {"listening", "thinking", "speaking"} <= set(states), states
    page.get_by_role("button", name="Hang up").click()
    expect(page.locator(".heard-callbar")).to_be_hidden()
    # The call went on in the chat's conversation.
    tracker = urllib.request.urlopen(site.api(f"/conversations/{session}/tracker"), timeout=10)
    texts = [e.get("text") for e in json.load(tracker)["events"] if e["event"] == "user"]
    assert "where is my order" in texts
    context.close()
