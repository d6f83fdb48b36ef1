"""The request form: what it asks for, how it reads answers, and the identity check."""

from __future__ import annotations

import pytest

from actions import request_form as rf
from actions.request_form import EXTRA_READERS, ValidateRequestForm
from actions.requests import DETAIL_SLOTS, IDENTITY_SLOTS, REQUESTS, required_slots
from store import models as m
from tests.harness import Conversation, Turn, stored, user_event


@pytest.mark.parametrize(
    "request_, verified, status, failed, expected",
    [
        ("track_order", False, None, False, ["order_id", "email"]),
        ("track_order", True, "shipped", False, []),
        ("change_shipping_address", True, "processing", False, ["new_address"]),
        ("change_shipping_address", True, "shipped", False, []),  # handler explains why not
        ("report_damaged_item", True, "delivered", False, ["remedy"]),
        ("switch_account", True, "delivered", False, ["account_type"]),
        ("create_account", False, None, False, ["email", "full_name"]),
        ("recover_password", False, None, False, ["email"]),
        ("track_order", False, None, True, []),  # three failed checks: hand over instead
        ("delivery_options", False, None, False, []),  # not a form request
        (None, False, None, False, []),
    ],
)
def test_required_slots(request_, verified, status, failed, expected):
    assert required_slots(request_, verified, status, failed) == expected


def test_every_collected_slot_has_a_validator_and_a_question():
    from tests.harness import domain

    collected = {s for spec in REQUESTS.values() for s in spec.details} | set(IDENTITY_SLOTS)
    assert collected <= set(DETAIL_SLOTS) | set(IDENTITY_SLOTS)
    for slot in collected:
        reader, invalid = rf.READERS[slot]
        assert f"utter_ask_{slot}" in domain()["responses"]
        assert invalid in domain()["responses"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1234567", "1234567"),
        ("order #1234567 please", "1234567"),
        ("123-4567", "1234567"),
        ("12 34 567", "1234567"),
        ("123456", "123456"),
        ("12345678", "12345678"),
        ("12345", None),
        ("123456789", None),
        ("no idea", None),
        ("'; DROP TABLE orders;--", None),
    ],
)
def test_order_number_from(text, expected):
    assert rf.order_number_from(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Jane.Doe@Example.com", "jane.doe@example.com"),
        ("it's a@b.co.", "a@b.co"),
        ("jane at example dot com", None),
        ("<script>@x", None),
    ],
)
def test_email_from(text, expected):
    assert rf.email_from(text) == expected


@pytest.mark.parametrize(
    "function, text, expected",
    [
        (rf.address_from, "22  Baker Street, London NW1 6XE", "22 Baker Street, London NW1 6XE"),
        (rf.address_from, "home", None),
        (rf.address_from, "x" * 300 + " 1", None),
        (rf.full_name_from, "my name is jane smith", "Jane Smith"),
        (rf.full_name_from, "Anne-Marie O'Neil", "Anne-Marie O'Neil"),
        (rf.full_name_from, "<b>bold</b>", None),
        (rf.account_type_from, "the biz one", "business"),
        (rf.account_type_from, "Premium please", "premium"),
        (rf.account_type_from, "gold", None),
    ],
)
def test_detail_readers(function, text, expected):
    assert function(text) == expected


def validate(conv: Conversation, turn: Turn, **slots):
    """Runs the form's validation as Rasa does: the user turn, then the extracted slots."""
    conv.events.append(user_event(turn.text, turn.intent, confidence=turn.confidence))
    conv.events.extend({"event": "slot", "name": k, "value": v} for k, v in slots.items())
    return conv.run(ValidateRequestForm, **slots)


def test_identity_verified_when_order_and_email_match(repo):
    conv = Conversation(repo)
    conv.slots.update(pending_request="track_order")
    result = validate(
        conv, Turn("jane.doe@example.com"), order_id="1234567", email="Jane.Doe@example.com"
    )
    assert result.slots["verified_order"] == "1234567"
    assert result.slots["requested_slot"] is None


def test_mismatch_clears_both_and_counts_without_saying_which(repo):
    conv = Conversation(repo)
    conv.slots.update(pending_request="track_order")
    result = validate(
        conv, Turn("omar.haddad@example.com"), order_id="1234567", email="omar.haddad@example.com"
    )  # a real e-mail, wrong order
    assert result.responses == ["utter_identity_mismatch"]
    assert (result.slots["order_id"], result.slots["email"]) == (None, None)
    assert result.slots["identity_attempts"] == 1
    assert result.slots["requested_slot"] == "order_id"
    unknown = validate(conv, Turn("x@example.com"), order_id="7654321", email="x@example.com")
    assert unknown.responses == result.responses  # unknown order: the same words


def test_third_failure_ends_the_form_for_a_handoff(repo):
    conv = Conversation(repo)
    conv.slots.update(pending_request="track_order", identity_attempts=2)
    result = validate(conv, Turn("bad@example.com"), order_id="1234567", email="bad@example.com")
    assert result.slots["identity_attempts"] == 3
    assert result.slots["requested_slot"] is None
    assert result.responses == []  # the handoff explains


def test_invalid_order_number_is_explained_and_asked_again(repo):
    conv = Conversation(repo)
    conv.slots.update(pending_request="track_order")
    result = validate(conv, Turn("it's 123"), order_id="it's 123")
    assert result.responses == ["utter_invalid_order_id"]
    assert result.slots["order_id"] is None and result.slots["requested_slot"] == "order_id"
    assert repo.count(m.Handoff) == 0


def test_asking_for_a_human_mid_form_stops_it(repo):
    conv = Conversation(repo)
    conv.slots.update(pending_request="track_order", requested_slot="email")
    result = validate(
        conv, Turn("just get me a human", "contact_human_agent"), email="just get me a human"
    )
    assert [h.reason for h in stored(repo, m.Handoff)] == ["customer_request"]
    assert result.slots["requested_slot"] is None and result.slots["pending_request"] is None


def test_no_mid_form_stops_the_request(repo):
    conv = Conversation(repo)
    conv.slots.update(pending_request="cancel_order", requested_slot="order_id")
    result = validate(conv, Turn("no forget it", "deny"), order_id="no forget it")
    assert result.responses == ["utter_request_stopped"]
    assert result.slots["pending_request"] is None


def test_a_new_request_mid_form_switches_and_keeps_the_order_number(repo):
    conv = Conversation(repo)
    conv.slots.update(pending_request="track_order", requested_slot="email", order_id="1234567")
    result = validate(conv, Turn("actually cancel it", "cancel_order"), email="actually cancel it")
    assert result.responses == ["utter_switch_request"]
    assert result.slots["pending_request"] == "cancel_order"
    assert result.slots["email"] is None and result.slots["requested_slot"] == "email"


@pytest.mark.parametrize(
    "requested, text, misread_as, slot_value",
    [
        ("email", "tom.baker@example.org", "newsletter_subscription", "tom.baker@example.org"),
        ("remedy", "refund", "get_refund", "refund"),
        ("remedy", "no, a replacement please", "deny", "replacement"),
        (
            "new_address",
            "my new address is 14 Elm Road, Leeds LS6 2AB",
            "set_up_shipping_address",
            "my new address is 14 Elm Road, Leeds LS6 2AB",
        ),
    ],
)
def test_an_answer_is_taken_as_an_answer_whatever_the_intent(
    repo, requested, text, misread_as, slot_value
):
    conv = Conversation(repo)
    conv.verified("3456789", "jane.doe@example.com")
    pending = {
        "email": "recover_password",
        "remedy": "report_damaged_item",
        "new_address": "set_up_shipping_address",
    }[requested]
    if requested == "new_address":
        misread_as = "change_order"  # any other request
    conv.slots.update(pending_request=pending, requested_slot=requested)
    result = validate(conv, Turn(text, misread_as), **{requested: text})
    assert result.slots[requested] == slot_value
    assert "pending_request" not in result.slots  # no switch, no stop


def test_an_unsure_new_request_is_not_a_switch(repo):
    conv = Conversation(repo)
    conv.slots.update(pending_request="track_order", requested_slot="email")
    result = validate(
        conv, Turn("hmm not sure", "cancel_order", confidence=0.5), email="hmm not sure"
    )
    assert result.responses == ["utter_invalid_email"]
    assert "pending_request" not in result.slots


def test_numbers_outside_the_question_are_not_order_numbers():
    """A postcode in an address must not fill order_id while the form asks for something
    else: the entity mapping only applies outside the form or when asked."""
    from tests.harness import domain

    for slot in ("order_id", "email", "account_type"):
        (entity_mapping,) = [
            mp for mp in domain()["slots"][slot]["mappings"] if mp["type"] == "from_entity"
        ]
        conditions = entity_mapping["conditions"]
        assert {"active_loop": None} in conditions
        assert {"active_loop": "request_form", "requested_slot": slot} in conditions


@pytest.mark.parametrize(
    "channel, read_back", [("voice", True), ("rest", False), ("socketio", False)]
)
def test_order_number_is_read_back_on_the_phone_only(repo, channel, read_back):
    conv = Conversation(repo)
    conv.slots.update(pending_request="track_order")
    event = user_event("two three four five six seven eight", "inform")
    event["input_channel"] = channel
    conv.events.append(event)
    conv.events.append({"event": "slot", "name": "order_id", "value": "2345678"})
    result = conv.run(ValidateRequestForm, order_id="2345678")
    assert ("utter_order_id_read_back" in result.responses) is read_back
    if read_back:
        assert "That's order 2345678." in result.texts()


@pytest.mark.parametrize(
    "requested, text, from_text",
    [
        (
            "order_id",
            "its 3456789 / jane.doe@example.com",
            {"order_id": "its 3456789 / jane.doe@example.com"},
        ),
        (
            "email",
            "jane.doe@example.com and the order is 3456789",
            {"email": "jane.doe@example.com and the order is 3456789"},
        ),
        (None, "the kettle from order 3456789 arrived dented, mail is jane.doe@example.com", {}),
    ],
)
def test_order_number_and_email_are_read_anywhere_in_one_message(repo, requested, text, from_text):
    conv = Conversation(repo)
    conv.slots.update(pending_request="report_damaged_item", requested_slot=requested)
    result = validate(conv, Turn(text, "inform"), **from_text)
    assert result.slots["verified_order"] == "3456789"
    assert not [r for r in result.responses if r.startswith("utter_invalid")]


def test_an_email_given_for_the_order_number_is_kept_without_reproach(repo):
    conv = Conversation(repo)
    conv.slots.update(pending_request="track_order", requested_slot="order_id")
    result = validate(conv, Turn("jane.doe@example.com", "inform"), order_id="jane.doe@example.com")
    assert result.responses == []  # the form asks for the order number next
    assert result.slots["email"] == "jane.doe@example.com"
    assert result.slots["order_id"] is None and result.slots["requested_slot"] == "order_id"


def test_a_date_is_not_an_order_number():
    assert EXTRA_READERS["order_id"]("ordered on 2026-11-30, order 2345678") == "2345678"
    assert EXTRA_READERS["order_id"]("ordered on 2026-11-30") is None


def test_an_answer_with_a_new_upset_feeling_is_acknowledged_once(repo):
    conv = Conversation(repo)
    conv.slots.update(pending_request="track_order", requested_slot="order_id")
    conv.events.append(user_event("where is my order", "track_order"))
    conv.events.append(user_event("ugh fine, 2345678", "inform", "frustration", 0.4))
    first = conv.run(ValidateRequestForm, order_id="ugh fine, 2345678")
    assert first.responses[0] == "utter_ack_frustration_low"
    conv.events.append(user_event("whatever, jane.doe@example.com", "inform", "frustration", 0.4))
    again = conv.run(ValidateRequestForm, email="whatever, jane.doe@example.com")
    assert not any(r.startswith("utter_ack") for r in again.responses)
