"""The Twilio channel's options and its check of Twilio's request signatures."""
from types import SimpleNamespace

import pytest
from twilio.request_validator import RequestValidator

from voice.call import ConfigError
from voice.channels.twilio import TwilioMediaStreamsInput

TOKEN = "12345678901234567890123456789012"
FORM = {"CallSid": "CA123", "From": "+15550123", "To": "+15550100"}


def channel(**options):
    return TwilioMediaStreamsInput.from_credentials(
        {"stt": "scripted", "scripted_dir": "/tmp", **options})


def request(signature: str, form=FORM, path="/webhooks/twilio_voice/incoming"):
    return SimpleNamespace(scheme="http", host="internal:5005", path=path, query_string="",
                           form={k: [v] for k, v in form.items()},
                           headers={"X-Twilio-Signature": signature})


def signed(url: str, form=FORM) -> str:
    return RequestValidator(TOKEN).compute_signature(url, form)


def test_a_request_signed_by_twilio_for_the_public_url_is_accepted():
    twilio = channel(auth_token=TOKEN, public_url="https://heard.example.com/")
    url = "https://heard.example.com/webhooks/twilio_voice/incoming"
    assert twilio._authentic(request(signed(url)))


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl",
                                       signed("https://elsewhere.example.com/webhooks/"
                                              "twilio_voice/incoming")])
def test_missing_forged_or_misdirected_signatures_are_refused(signature):
    twilio = channel(auth_token=TOKEN, public_url="https://heard.example.com")
    assert not twilio._authentic(request(signature))


def test_changed_parameters_break_the_signature():
    twilio = channel(auth_token=TOKEN, public_url="https://heard.example.com")
    url = "https://heard.example.com/webhooks/twilio_voice/incoming"
    assert not twilio._authentic(request(signed(url), form={**FORM, "From": "+15559999"}))


def test_without_a_token_nothing_is_checked():
    assert channel()._authentic(request(""))


@pytest.mark.parametrize("options, message", [
    ({"stt": "whisper"}, "stt must be one of"),
    ({"stt": "scripted", "scripted_dir": None}, "needs scripted_dir"),
    ({"call": {"max_reprompts": -1}}, "must be 0 or more"),
    ({"trasnfer_number": "+1555"}, "unexpected keyword"),
])
def test_bad_options_stop_the_server_with_a_reason(options, message):
    with pytest.raises(ConfigError, match=message):
        TwilioMediaStreamsInput.from_credentials({"stt": "scripted", "scripted_dir": "/tmp",
                                                  **options})


def test_without_a_speech_model_voice_is_off_with_the_reason(tmp_path):
    off = TwilioMediaStreamsInput.from_credentials({"vosk_model": str(tmp_path / "none")})
    assert "no Vosk model" in off.unavailable and "VOSK_MODEL_PATH" in off.unavailable
