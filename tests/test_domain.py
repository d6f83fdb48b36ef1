"""The wording in domain.yml keeps the empathy rules and matches what the code says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from actions import empathy, info, policy
from heard.contract import NEGATIVE_EMOTIONS
from tests.harness import ROOT, domain

RESPONSES = domain()["responses"]
NEGATIVE_LEVELS = [f"utter_ack_{e}_{lvl}" for e in NEGATIVE_EMOTIONS for lvl in ("low", "high")]
# Warm moments may sound glad; everything else stays calm (no exclamation marks).
MAY_EXCLAIM = {
    "utter_ack_joy_high",
    "utter_goodbye",
    "utter_rating_thanks_high",
    "utter_you_are_welcome",
}


def code_response_names():
    names = set()
    for path in [*(ROOT / "actions").rglob("*.py"), *(ROOT / "voice").rglob("*.py")]:
        names |= set(re.findall(r'"(utter_[a-z_]+)"', path.read_text()))
    names |= set(info.ANSWERS.values()) | set(info.SMALL_TALK.values())
    names |= {
        f"utter_ack_{e}_{lvl}" for e in (*NEGATIVE_EMOTIONS, "joy") for lvl in ("low", "high")
    }
    names |= {f"utter_apology_{fault}" for fault in empathy.SHOP_FAULTS}
    names |= {
        f"utter_handoff_{reason}"
        for reason in (
            "customer_request",
            "identity_failed",
            "repeated_anger",
            "repeated_fallback",
            "rising_frustration",
            "severe_complaint",
        )
    }
    return names


def test_every_response_the_code_uses_exists():
    missing = sorted(code_response_names() - set(RESPONSES))
    assert not missing


@pytest.mark.parametrize("name", NEGATIVE_LEVELS + ["utter_ack_joy_low", "utter_ack_joy_high"])
def test_acknowledgements_have_variations_and_never_apologise(name):
    texts = [v["text"] for v in RESPONSES[name]]
    assert len(set(texts)) >= 3
    for text in texts:
        assert not re.search(r"apolog|\bour (fault|mistake|error)|\bon us\b", text, re.I), text


@pytest.mark.parametrize("fault", empathy.SHOP_FAULTS)
def test_apologies_own_the_mistake(fault):
    texts = [v["text"] for v in RESPONSES[f"utter_apology_{fault}"]]
    assert len(set(texts)) >= 3
    assert all(re.search(r"sorry|apologi", t, re.I) for t in texts)


def test_calm_wording_everywhere_but_warm_moments():
    loud = [
        name
        for name, variations in RESPONSES.items()
        if name not in MAY_EXCLAIM
        for v in variations
        if "!" in v.get("text", "")
    ]
    assert not loud


def test_policy_wording_matches_the_rules_in_code():
    refund = RESPONSES["utter_refund_policy"][0]["text"]
    fee = RESPONSES["utter_cancellation_fee"][0]["text"]
    assert f"{policy.REFUND_WINDOW_DAYS} days" in refund
    assert f"{policy.FREE_CANCELLATION_HOURS} hours" in fee
    assert f"{int(policy.CANCELLATION_FEE_RATE * 100)}%" in fee
    assert f"€{int(policy.CANCELLATION_FEE_CAP)}" in fee


def test_every_intent_has_a_rule():
    rules = yaml.safe_load((ROOT / "data" / "rules.yml").read_text())["rules"]
    ruled = set()
    for rule in rules:
        for step in rule["steps"]:
            ruled |= (
                {step["intent"]}
                if "intent" in step
                else {alt["intent"] for alt in step.get("or", [])}
            )
    assert set(domain()["intents"]) - ruled == set()


def test_no_placeholder_is_left_for_the_customer_to_see():
    """Responses sent before identity is known must not need the customer's name."""
    before_identity = [
        "utter_ask_order_id",
        "utter_ask_email",
        "utter_identity_mismatch",
        "utter_greet",
        "utter_default",
        *info.ANSWERS.values(),
        *NEGATIVE_LEVELS,
        "utter_offer_human",
    ]
    for name in before_identity:
        for variation in RESPONSES[name]:
            assert "{" not in variation["text"], name


def test_domain_file_is_valid_yaml_with_unique_keys():
    text = Path(ROOT / "domain.yml").read_text()
    keys = re.findall(r"^  (utter_[a-z_]+):", text, re.M)
    assert len(keys) == len(set(keys))


def test_voice_variants_exist_for_what_reads_badly_aloud():
    """On the phone the order question offers the keypad and hints the recogniser, and the
    e-mail question says how to spell an address aloud."""

    def voice(name):
        return next(v for v in RESPONSES[name] if v.get("channel") == "voice")

    assert "keypad" in voice("utter_ask_order_id")["text"]
    assert voice("utter_ask_order_id")["custom"] == {"voice": {"expect": "digits"}}
    assert voice("utter_ask_email")["custom"] == {"voice": {"expect": "email"}}
    assert " dot " in voice("utter_ask_email")["text"]
    spoken_only = [
        n
        for n, vs in RESPONSES.items()
        for v in vs
        if v.get("channel") == "voice" and re.search(r"https?://|www\.|@", v.get("text", ""))
    ]
    assert not spoken_only


def test_button_payloads_have_no_braces():
    """Rasa fills {placeholders} in responses, payloads included: '/inform{"rating":"5"}'
    makes it log a KeyError on every rating question, so payloads stay plain text."""
    payloads = [
        b["payload"]
        for variations in RESPONSES.values()
        for v in variations
        for b in v.get("buttons", [])
    ]
    assert payloads and not [p for p in payloads if "{" in p]
