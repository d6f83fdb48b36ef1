"""Each resolution against a fresh, seeded SQLite database, through the real actions."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from actions.dialogue import (
    ActionAnswer,
    ActionBeginRequest,
    ActionConfirm,
    ActionDecline,
    ActionFallback,
    ActionInform,
    ActionResolveRequest,
    ActionSmallTalk,
)
from actions.handoff import ActionHandoff
from heard.contract import agent_metadata
from store import models as m
from tests.harness import Conversation, Turn, domain, stored, user_event

JANE = ("1234567", "jane.doe@example.com")


def request(
    conv: Conversation,
    intent: str,
    text: str = "",
    emotion: str = "neutral",
    intensity: float = 0.0,
    **details,
):
    """Begin a request as its rule does, then resolve it as the completed form does."""
    begun = conv.run(ActionBeginRequest, Turn(text or intent, intent, emotion, intensity))
    conv.slots.update(details)
    return begun, conv.run(ActionResolveRequest)


@pytest.fixture
def conv(repo):
    return Conversation(repo)


# --- orders --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "order, email, response",
    [
        ("1234567", "jane.doe@example.com", "utter_order_processing"),
        ("2345678", "jane.doe@example.com", "utter_order_shipped"),
        ("3456789", "jane.doe@example.com", "utter_order_delivered"),
        ("8901234", "mei.chen@example.org", "utter_order_cancelled"),
        ("4567890", "omar.haddad@example.com", "utter_order_late"),
    ],
)
def test_tracking_tells_status_and_date(conv, order, email, response):
    _, result = request(conv.verified(order, email), "track_order")
    assert response in result.responses
    text = " ".join(result.texts())
    assert order in text and conv.repo.find_order(order).customer.first_name in text


def test_late_order_is_owned_with_a_new_date_and_one_voucher(conv):
    conv.verified("4567890", "omar.haddad@example.com")
    _, first = request(conv, "report_late_delivery", "my order is late!!", "frustration", 0.8)
    assert first.responses[:2] == ["utter_apology_late_delivery", "utter_late_delivery_voucher"]
    assert conv.repo.count(m.Voucher) == 1
    _, again = request(conv, "report_late_delivery")
    assert "utter_late_delivery_voucher_again" in again.responses
    assert "utter_apology_late_delivery" in again.responses  # a fresh variation
    assert conv.repo.count(m.Voucher) == 1
    assert len(set(first.texts()[0:1] + again.texts()[0:1])) == 2


def test_order_within_its_promise_is_not_apologised_for(conv):
    _, result = request(
        conv.verified("123456", "ana.souza@example.com"),
        "report_late_delivery",
        "is it late?",
        "anxiety",
        0.4,
    )
    assert "utter_not_late_yet_reassure" in result.responses
    assert not any(r.startswith("utter_apology") for r in result.responses)
    assert conv.repo.count(m.Voucher) == 0


def test_cancellation_is_confirmed_first_then_refunded_less_the_fee(conv):
    conv.verified("6789012", "omar.haddad@example.com")
    _, asked = request(conv, "cancel_order")
    assert asked.responses == ["utter_cancel_confirm"]
    assert asked.messages[0]["fee"] == "€10.00"
    assert conv.repo.find_order("6789012").status == "processing"  # nothing yet
    done = conv.run(ActionConfirm, Turn("yes", "affirm"))
    assert "utter_cancel_done" in done.responses
    assert conv.repo.find_order("6789012").status == "cancelled"
    assert conv.repo.refunds_for("6789012")[-1].amount == Decimal("190.00")


def test_cancellation_declined_changes_nothing(conv):
    conv.verified(*JANE)
    request(conv, "cancel_order")
    result = conv.run(ActionDecline, Turn("no", "deny"))
    assert result.responses == ["utter_cancel_kept"]
    assert conv.repo.find_order("1234567").status == "processing"
    assert conv.repo.count(m.Refund) == 3  # the seeded ones only


def test_shipped_order_cannot_be_cancelled(conv):
    _, result = request(conv.verified("2345678", "jane.doe@example.com"), "cancel_order")
    assert "utter_cancel_not_possible" in result.responses
    assert result.slots.get("awaiting_confirmation") is None
    assert conv.repo.find_order("2345678").status == "shipped"


def test_order_changes_only_before_shipping(conv):
    _, ok = request(conv.verified(*JANE), "change_order", "change the size to L please")
    assert "utter_change_order_logged" in ok.responses
    (ticket,) = stored(conv.repo, m.Ticket, kind="order_change")
    assert ticket.summary == "change the size to L please"
    _, late = request(conv.verified("2345678", JANE[1]), "change_order")
    assert "utter_change_too_late" in late.responses
    assert len(stored(conv.repo, m.Ticket, kind="order_change")) == 1


def test_address_change_by_status(conv):
    _, ok = request(
        conv.verified(*JANE),
        "change_shipping_address",
        new_address="22 Baker Street, London NW1 6XE",
    )
    assert "utter_address_changed" in ok.responses
    assert conv.repo.find_order("1234567").shipping_address == "22 Baker Street, London NW1 6XE"
    _, late = request(conv.verified("2345678", JANE[1]), "change_shipping_address")
    assert "utter_address_too_late" in late.responses


def test_default_address_saved(conv):
    _, result = request(
        conv.verified(*JANE), "set_up_shipping_address", new_address="5 Rue de Rivoli, 75001 Paris"
    )
    assert "utter_default_address_saved" in result.responses
    assert conv.repo.customer_by_email(JANE[1]).default_address == "5 Rue de Rivoli, 75001 Paris"


# --- refunds -------------------------------------------------------------------------------
def test_refund_within_window_creates_a_refund(conv):
    _, result = request(conv.verified("3456789", JANE[1]), "get_refund")
    assert "utter_refund_created" in result.responses
    (refund,) = conv.repo.refunds_for("3456789")
    assert refund.amount == Decimal("89.00") and refund.status == "approved"


@pytest.mark.parametrize(
    "order, email, response",
    [
        ("5678901", "omar.haddad@example.com", "utter_refund_window_passed"),
        ("1234567", "jane.doe@example.com", "utter_refund_not_delivered"),
    ],
)
def test_refund_refused_by_policy_changes_nothing(conv, order, email, response):
    _, result = request(conv.verified(order, email), "get_refund")
    assert response in result.responses
    assert conv.repo.refunds_for(order) == []


def test_overdue_refund_is_owned_and_escalated_to_billing(conv):
    _, result = request(conv.verified("8901234", "mei.chen@example.org"), "track_refund")
    assert result.responses[:2] == ["utter_apology_refund_overdue", "utter_refund_overdue"]
    (ticket,) = stored(conv.repo, m.Ticket, kind="refund_overdue")
    assert ticket.priority == "high"


@pytest.mark.parametrize(
    "order, email, response",
    [
        ("9012345", "mei.chen@example.org", "utter_refund_on_track"),
        ("11234567", "lukas.weber@example.com", "utter_refund_paid"),
        ("3456789", "jane.doe@example.com", "utter_no_refund_found"),
    ],
)
def test_refund_tracking(conv, order, email, response):
    _, result = request(conv.verified(order, email), "track_refund")
    assert response in result.responses
    assert not any(r.startswith("utter_apology") for r in result.responses)


@pytest.mark.parametrize(
    "remedy, response, refunds",
    [("refund", "utter_damaged_refund", 1), ("replacement", "utter_damaged_replacement", 0)],
)
def test_damaged_item(conv, remedy, response, refunds):
    _, result = request(
        conv.verified("3456789", JANE[1]),
        "report_damaged_item",
        "it arrived broken",
        "sadness",
        0.7,
        remedy=remedy,
    )
    assert result.responses[0] == "utter_apology_damaged_item"
    assert response in result.responses
    assert stored(conv.repo, m.Ticket, kind="damage")[0].priority == "high"
    assert len(conv.repo.refunds_for("3456789")) == refunds


# --- payments and invoices -----------------------------------------------------------------
def test_double_charge_opens_a_priority_billing_ticket(conv):
    begun, result = request(
        conv.verified("7890123", "mei.chen@example.org"),
        "payment_issue",
        "I was charged twice",
        "anxiety",
        0.7,
    )
    assert begun.responses == ["utter_ack_anxiety_high"]
    assert result.responses[:2] == ["utter_apology_double_charge", "utter_double_charge_ticket"]
    assert stored(conv.repo, m.Ticket, kind="double_charge")[0].priority == "high"


def test_single_payment_question_is_not_apologised_for(conv):
    _, result = request(conv.verified(*JANE), "payment_issue", "why was I charged this?")
    assert "utter_payment_issue_ticket" in result.responses
    assert not any(r.startswith("utter_apology") for r in result.responses)
    assert stored(conv.repo, m.Ticket, kind="payment_question")[0].priority == "normal"


def test_invoices(conv):
    _, details = request(conv.verified(*JANE), "check_invoice")
    assert "INV-1234567" in " ".join(details.texts())
    _, sent = request(conv, "get_invoice")
    assert "j***@example.com" in " ".join(sent.texts())
    assert conv.repo.count(m.OutboundEmail) == 1


# --- account -------------------------------------------------------------------------------
def test_create_account_never_reveals_an_existing_email(conv):
    _, new = request(conv, "create_account", email="new.person@example.com", full_name="New Person")
    _, existing = request(conv, "create_account", email=JANE[1], full_name="Jane Doe")
    assert new.responses[0] == existing.responses[0] == "utter_account_link_sent"
    assert conv.repo.customer_by_email("new.person@example.com").first_name == "New"
    assert conv.repo.count(m.OutboundEmail) == 2


def test_password_reset_reply_is_the_same_for_unknown_emails(conv):
    _, known = request(conv, "recover_password", email=JANE[1])
    _, unknown = request(conv, "recover_password", email="nobody@example.com")
    assert known.texts()[0].replace("j***", "X") == unknown.texts()[0].replace("n***", "X")
    assert conv.repo.count(m.AccountAction) == 1  # only the real account gets a reset


def test_edit_switch_and_delete_account(conv):
    conv.verified(*JANE)
    _, edited = request(conv, "edit_account", profile_update="phone +44 20 7946 0000")
    assert "utter_profile_updated" in edited.responses
    assert conv.repo.customer_by_email(JANE[1]).phone == "+44 20 7946 0000"
    _, switched = request(conv, "switch_account", account_type="business")
    assert "utter_plan_switched" in switched.responses
    assert conv.repo.customer_by_email(JANE[1]).account_type == "business"
    _, asked = request(conv, "delete_account")
    assert "utter_delete_confirm" in asked.responses
    assert conv.repo.customer_by_email(JANE[1]) is not None  # not before the yes
    deleted = conv.run(ActionConfirm, Turn("yes", "affirm"))
    assert "utter_account_deleted" in deleted.responses
    assert conv.repo.customer_by_email(JANE[1]) is None
    assert deleted.slots["verified_order"] is None


def test_registration_help_and_newsletter(conv):
    _, help_ = request(
        conv,
        "registration_problems",
        "the confirmation never came",
        "confusion",
        0.7,
        email=JANE[1],
    )
    assert "utter_registration_help_steps" in help_.responses  # one step at a time
    _, on = request(conv, "newsletter_subscription", "sign me up", email=JANE[1])
    assert "utter_newsletter_subscribed" in on.responses
    _, off = request(conv, "newsletter_subscription", "unsubscribe me please", email=JANE[1])
    assert "utter_newsletter_unsubscribed" in off.responses
    with conv.repo.session() as s:
        assert s.get(m.NewsletterSubscription, JANE[1]).subscribed is False


# --- answers, small talk, complaints -------------------------------------------------------
@pytest.mark.parametrize(
    "intent, response",
    [
        ("delivery_options", "utter_delivery_options"),
        ("check_payment_methods", "utter_payment_methods"),
        ("check_refund_policy", "utter_refund_policy"),
        ("check_cancellation_fee", "utter_cancellation_fee"),
        ("contact_customer_service", "utter_contact_customer_service"),
        ("place_order", "utter_place_order"),
        ("delivery_period", "utter_delivery_period"),
    ],
)
def test_policy_answers(conv, intent, response):
    result = conv.run(ActionAnswer, Turn(intent, intent))
    assert result.responses[0] == response


def test_confused_customer_gets_one_step_at_a_time(conv):
    result = conv.run(
        ActionAnswer, Turn("i dont get the refund thing", "check_refund_policy", "confusion", 0.8)
    )
    assert result.responses[:2] == ["utter_ack_confusion_high", "utter_refund_policy_steps"]


def test_complaint_ticket_and_severe_complaint_escalates(conv):
    mild = conv.run(ActionAnswer, Turn("the courier was rude", "complaint", "frustration", 0.4))
    assert "utter_complaint_logged" in mild.responses
    assert conv.repo.count(m.Handoff) == 0
    severe = Conversation(conv.repo, sender="another-conversation").run(
        ActionAnswer, Turn("this is fraud, I'm calling my lawyer", "complaint", "anger", 0.9)
    )
    assert "utter_handoff_severe_complaint" in severe.responses
    (handoff,) = stored(conv.repo, m.Handoff)
    assert handoff.reason == "severe_complaint" and handoff.priority == 1
    complaints = stored(conv.repo, m.Ticket, kind="complaint")
    assert [t.priority for t in complaints] == ["normal", "urgent"]


def test_small_talk(conv):
    assert conv.run(ActionSmallTalk, Turn("hi", "greet")).responses == ["utter_greet"]
    thanks = conv.run(ActionSmallTalk, Turn("thanks!", "thank_you", "joy", 0.7))
    assert thanks.responses == ["utter_you_are_welcome"]  # warm, no extra joy line


# --- one open case per problem -------------------------------------------------------------
MEI = "mei.chen@example.org"


def already_open(reference: str, team: str, expected: str) -> str:
    return (
        f"You already have an open case for this: {reference}, with our {team} team. "
        f"You'll hear from them by {expected}; there's no need to open another one."
    )


def test_an_overdue_refund_asked_about_three_times_has_one_case(conv):
    conv.verified("8901234", MEI)
    first, *again = [request(conv, "track_refund", "where is my refund?")[1] for _ in range(3)]
    (ticket,) = stored(conv.repo, m.Ticket, kind="refund_overdue")
    assert first.responses == [
        "utter_apology_refund_overdue",
        "utter_refund_overdue",
        "utter_anything_else_question",
    ]
    assert ticket.reference in first.texts()[1]
    for result in again:  # no second, different apology: the case is all they need
        assert result.texts()[:1] == [
            already_open(ticket.reference, "billing", "Thursday 26 November")
        ]
    assert conv.repo.count(m.Ticket) == 1


def test_a_double_charge_reported_in_two_conversations_has_one_case(repo):
    chat = Conversation(repo, sender="chat").verified("7890123", MEI)
    _, opened = request(chat, "payment_issue", "I was charged twice", "anxiety", 0.4)
    assert opened.responses[:2] == ["utter_apology_double_charge", "utter_double_charge_ticket"]
    call = Conversation(repo, sender="call").verified("7890123", MEI)
    _, again = request(call, "payment_issue", "you took the money twice")
    (ticket,) = stored(repo, m.Ticket, kind="double_charge")
    # This conversation hasn't heard the apology: it gets one, then the open case.
    assert again.responses == [
        "utter_apology_double_charge",
        "utter_case_already_open",
        "utter_anything_else_question",
    ]
    assert again.texts()[1] == already_open(ticket.reference, "billing", "Thursday 26 November")
    assert (ticket.conversation_id, ticket.priority) == ("chat", "high")
    assert repo.count(m.Ticket) == 1


def test_a_damaged_item_reported_twice_gets_one_refund_and_one_case(conv):
    conv.verified("3456789", JANE[1])
    _, first = request(
        conv, "report_damaged_item", "it arrived broken", "sadness", 0.7, remedy="refund"
    )
    _, again = request(
        conv,
        "report_damaged_item",
        "the lamp is broken, as I said",
        "sadness",
        0.7,
        remedy="refund",
    )
    assert first.responses[:2] == ["utter_apology_damaged_item", "utter_damaged_refund"]
    (ticket,) = stored(conv.repo, m.Ticket, kind="damage")
    assert again.texts()[:1] == [already_open(ticket.reference, "returns", "Thursday 26 November")]
    assert len(conv.repo.refunds_for("3456789")) == 1
    assert "the lamp is broken, as I said" in ticket.summary  # the repeat's words are kept


def test_a_closed_damage_case_opens_again_but_never_refunds_twice(conv):
    conv.verified("3456789", JANE[1])
    request(conv, "report_damaged_item", "it arrived broken", remedy="refund")
    with conv.repo.session() as s:
        s.query(m.Ticket).update({"status": "closed"})
    _, again = request(conv, "report_damaged_item", "it arrived broken", remedy="refund")
    assert "utter_damaged_refund" in again.responses
    assert len(stored(conv.repo, m.Ticket, kind="damage")) == 2
    assert len(conv.repo.refunds_for("3456789")) == 1


def test_a_more_upset_repeat_raises_the_case(conv):
    request(conv.verified(*JANE), "payment_issue", "what is this charge?")
    later = Conversation(conv.repo, sender="later").verified(*JANE)
    begun, raised = request(
        later, "payment_issue", "What is going on with this charge?!", "anger", 0.9
    )
    assert begun.responses[0] == "utter_ack_anger_high"
    (ticket,) = stored(conv.repo, m.Ticket, kind="payment_question")
    assert ticket.priority == "urgent"
    assert raised.texts()[:1] == [
        f"You already have an open case for this: {ticket.reference}, with our billing team. "
        "I've marked it urgent so they look at it sooner, and you'll hear from them by "
        "Thursday 26 November."
    ]
    _, calmer = request(later, "payment_issue", "any news on that charge?")
    assert calmer.responses == ["utter_case_already_open", "utter_anything_else_question"]
    (ticket,) = stored(conv.repo, m.Ticket, kind="payment_question")
    assert ticket.priority == "urgent"  # never lowered


def test_how_the_request_was_made_counts_not_the_calm_answers_after_it(conv):
    request(conv.verified("8901234", MEI), "track_refund")
    later = Conversation(conv.repo, sender="later")
    later.run(ActionBeginRequest, Turn("WHERE IS MY REFUND", "track_refund", "anger", 0.9))
    later.events.append(user_event(MEI, "inform"))  # the identity question's answer
    result = later.run(
        ActionResolveRequest, order_id="8901234", email=MEI, verified_order="8901234"
    )
    assert result.responses[:2] == [
        "utter_apology_refund_overdue",
        "utter_case_already_open_raised",
    ]
    assert stored(conv.repo, m.Ticket, kind="refund_overdue")[0].priority == "urgent"


def test_a_parcel_search_is_answered_within_two_business_days(conv):
    conv.verified("3456789", JANE[1])
    _, offered = request(conv, "report_late_delivery", "it never arrived")
    assert offered.responses == ["utter_delivered_search_offer"]  # a search is asked first
    assert stored(conv.repo, m.Ticket, kind="not_received") == []
    opened = conv.run(ActionConfirm, Turn("yes please", "affirm"))
    request(conv, "report_late_delivery", "it never arrived")
    again = conv.run(ActionConfirm, Turn("yes", "affirm"))
    (ticket,) = stored(conv.repo, m.Ticket, kind="not_received")
    assert "utter_late_but_delivered" in opened.responses
    assert again.texts()[:1] == [already_open(ticket.reference, "delivery", "Friday 27 November")]


def test_a_second_change_to_the_same_order_joins_its_open_case(conv):
    request(conv.verified(*JANE), "change_order", "change the size to L please")
    _, again = request(conv, "change_order", "and the colour to blue")
    (ticket,) = stored(conv.repo, m.Ticket, kind="order_change")
    assert again.texts()[:1] == [already_open(ticket.reference, "orders", "Thursday 26 November")]
    assert "change the size to L please" in ticket.summary
    assert "and the colour to blue" in ticket.summary


def test_a_complaint_without_an_order_has_one_case_per_conversation(conv):
    conv.run(ActionAnswer, Turn("the courier was rude to me", "complaint", "frustration", 0.4))
    again = conv.run(
        ActionAnswer, Turn("the courier was really rude", "complaint", "frustration", 0.4)
    )
    (ticket,) = stored(conv.repo, m.Ticket, kind="complaint")
    assert again.responses == [
        "utter_ack_frustration_low",
        "utter_case_already_open",
        "utter_anything_else_question",
    ]
    assert again.texts()[1] == already_open(
        ticket.reference, "customer care", "Thursday 26 November"
    )
    other = Conversation(conv.repo, sender="someone-else")
    other.run(ActionAnswer, Turn("your website keeps logging me out", "complaint"))
    assert len(stored(conv.repo, m.Ticket, kind="complaint")) == 2


def test_a_complaint_turning_severe_raises_its_case_and_hands_over(conv):
    conv.run(ActionAnswer, Turn("the courier was rude", "complaint", "frustration", 0.4))
    severe = conv.run(ActionAnswer, Turn("this is a scam, I am going to the police", "complaint"))
    assert severe.responses[:2] == [
        "utter_case_already_open_raised",
        "utter_handoff_severe_complaint",
    ]
    (ticket,) = stored(conv.repo, m.Ticket, kind="complaint")
    assert ticket.priority == "high"


@pytest.mark.parametrize(
    "intent, reply", [("review", "utter_review_unclear"), ("complaint", "utter_default")]
)
@pytest.mark.parametrize(
    "text", ["{% raw %} {% raw %}", "{{ 7*7 }} ${x}", "!!! ???", "<b>ok</b>", "asdf"]
)
def test_junk_opens_no_ticket(conv, intent, reply, text):
    result = conv.run(ActionAnswer, Turn(text, intent, "anger", 0.9))
    assert result.responses[-1] == reply  # after the acknowledgement and offer of a human
    assert conv.repo.count(m.Ticket) == 0 and conv.repo.count(m.Handoff) == 0


def test_a_review_is_kept_once_with_what_is_added_later(conv):
    for text in (
        "Fast delivery and friendly help",
        "Fast delivery and friendly help",
        "The box was far too big though",
    ):
        result = conv.run(ActionAnswer, Turn(text, "review"))
        assert result.responses[0] == "utter_review_thanks"
    (ticket,) = stored(conv.repo, m.Ticket, kind="review")
    assert ticket.summary.count("Fast delivery and friendly help") == 1
    assert "The box was far too big though" in ticket.summary


# --- empathy -------------------------------------------------------------------------------
def test_acknowledgement_comes_first_and_is_never_repeated(conv):
    said = []
    for _ in range(4):
        result = conv.run(
            ActionAnswer, Turn("ugh, this is annoying", "delivery_period", "frustration", 0.3)
        )
        assert result.responses[0] == "utter_ack_frustration_low"
        said.append(result.texts()[0])
    assert len(set(said)) == 4
    fifth = conv.run(ActionAnswer, Turn("ugh", "delivery_period", "frustration", 0.3))
    assert fifth.responses == [
        "utter_delivery_period",  # all used: left out, not repeated
        "utter_anything_else_question",
    ]


def test_neutral_gets_no_sympathy_line(conv):
    result = conv.run(ActionAnswer, Turn("payment methods?", "check_payment_methods"))
    assert result.responses == ["utter_payment_methods", "utter_anything_else_question"]


def test_anger_gets_calm_words_and_an_offer_of_a_human(conv):
    result = conv.run(ActionBeginRequest, Turn("WHERE IS MY ORDER", "track_order", "anger", 0.5))
    assert result.responses[0] == "utter_ack_anger_low"
    assert "utter_offer_human" in result.responses
    assert not any("!" in t for t in result.texts())


def test_replies_use_the_customers_first_name_once_identified(conv):
    _, result = request(conv.verified("2345678", JANE[1]), "track_order")
    assert result.texts()[0].startswith("Jane,")


# --- slips when adding a flow (README "Extending Heard") --------------------------------------
def slip_lines(caplog) -> list:
    """The error lines Heard's actions logged."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("actions") and r.levelno >= logging.ERROR
    ]


def test_a_request_its_rule_begins_without_a_requests_entry_is_answered_and_logged(conv, caplog):
    # `unregistered_request` added to the rule in data/rules.yml but not to actions/requests.py: the
    # form finds nothing to ask for it and the resolution had nothing to run, saying nothing.
    conv.verified(*JANE)
    with caplog.at_level(logging.ERROR, logger="actions"):
        _, resolved = request(
            conv, "unregistered_request", "could you gift wrap order 1234567 for me?"
        )
    assert resolved.responses == ["utter_technical_problem"]
    assert conv.slots["pending_request"] is None  # not resumed by the next order number
    assert slip_lines(caplog) == [
        "actions.request.unknown conversation=test-conversation intent=unregistered_request: "
        "no entry in REQUESTS (actions/requests.py)"
    ]


def test_an_answer_its_rule_sends_without_an_answers_entry_is_logged_by_name(conv, caplog):
    # Before: a KeyError, logged only as `actions.failed` with a traceback.
    with caplog.at_level(logging.ERROR, logger="actions"):
        result = conv.run(ActionAnswer, Turn("do you gift wrap?", "unregistered_answer"))
    assert result.responses == ["utter_technical_problem"]
    assert slip_lines(caplog) == [
        "actions.answer.unknown conversation=test-conversation intent=unregistered_answer: "
        "no entry in info.ANSWERS (actions/info.py)"
    ]
    assert conv.repo.count(m.Resolution) == 0  # nothing was answered


# --- rating ----------------------------------------------------------------------------------
def test_rating_asked_once_after_resolution_and_stored_with_emotions(conv):
    first = conv.run(
        ActionAnswer, Turn("I'm so worried about delivery", "delivery_period", "anxiety", 0.7)
    )
    assert first.responses[-1] == "utter_anything_else_question"  # not the rating yet
    conv.run(ActionAnswer, Turn("payment methods", "check_payment_methods"))
    done = conv.run(ActionSmallTalk, Turn("thanks, that's all", "thank_you", "joy", 0.4))
    assert done.responses == ["utter_you_are_welcome", "utter_ask_rating"]
    assert conv.slots["awaiting_rating"] is True
    bye = conv.run(ActionSmallTalk, Turn("bye", "goodbye"))
    assert "utter_ask_rating" not in bye.responses  # asked once
    rated = conv.run(
        ActionInform, Turn("5", "inform", entities=[{"entity": "rating", "value": "5"}])
    )
    assert rated.responses == ["utter_rating_thanks_high"]
    with conv.repo.session() as s:
        feedback = s.query(m.Feedback).one()
        assert (feedback.rating, feedback.emotion_start, feedback.emotion_end) == (
            5,
            "anxiety",
            "neutral",
        )


def test_a_number_without_a_pending_rating_is_not_stored(conv):
    result = conv.run(ActionInform, Turn("4", "inform"))
    assert result.responses == ["utter_how_can_i_help"]
    assert conv.repo.count(m.Feedback) == 0


# --- escalation ------------------------------------------------------------------------------
def test_customer_asks_for_a_human(conv):
    result = conv.run(ActionHandoff, Turn("agent please", "contact_human_agent"))
    assert result.responses == ["utter_handoff_customer_request", "utter_handoff_wait"]
    (handoff,) = stored(conv.repo, m.Handoff)
    assert handoff.transcript == [
        {
            "sender": "customer",
            "text": "agent please",
            "time": 1764064800.0,
            "agent": None,
            "buttons": [],
        }
    ]
    assert handoff.emotion_timeline[0]["emotion"] == "neutral"


def test_a_handoff_keeps_the_transcript_as_the_console_shows_it(conv):
    """Heard's buttons and a colleague's replies (by name) are kept; a triggered intent,
    which nobody saw, is not."""
    conv.events += [
        user_event("money thing", "nlu_fallback"),
        {
            "event": "bot",
            "text": "Did you mean a refund?",
            "timestamp": 1764064801.0,
            "data": {"buttons": [{"title": "Yes", "payload": "/get_refund"}]},
        },
        {"event": "user", "text": None, "timestamp": 1764064802.0},
        {
            "event": "bot",
            "text": "Hi, I'm Sam.",
            "timestamp": 1764064803.0,
            "metadata": agent_metadata("Sam Rivera"),
        },
    ]
    conv.run(ActionHandoff, Turn("a person please", "contact_human_agent"))
    (handoff,) = stored(conv.repo, m.Handoff)
    assert [
        (line["sender"], line["text"], line["agent"], line["buttons"])
        for line in handoff.transcript
    ] == [
        ("customer", "money thing", None, []),
        ("heard", "Did you mean a refund?", None, [{"title": "Yes", "payload": "/get_refund"}]),
        ("agent", "Hi, I'm Sam.", "Sam Rivera", []),
        ("customer", "a person please", None, []),
    ]


def test_high_anger_twice_in_a_row_hands_over_with_context(conv):
    conv.verified("4567890", "omar.haddad@example.com")
    first = conv.run(
        ActionBeginRequest, Turn("THIS IS A JOKE", "report_late_delivery", "anger", 0.9)
    )
    assert conv.repo.count(m.Handoff) == 0 and "utter_offer_human" in first.responses
    second = conv.run(
        ActionBeginRequest, Turn("ARE YOU EVEN LISTENING", "track_order", "anger", 0.95)
    )
    assert "utter_handoff_repeated_anger" in second.responses
    (handoff,) = stored(conv.repo, m.Handoff)
    assert handoff.priority == 1 and handoff.order_number == "4567890"
    assert [t["emotion"] for t in handoff.emotion_timeline] == ["anger", "anger"]
    assert "4567890" in handoff.summary
    # The counter starts again after a handoff: one more angry line is not a second one.
    conv.run(ActionAnswer, Turn("STILL ANGRY", "complaint", "anger", 0.9))
    assert len([h for h in stored(conv.repo, m.Handoff) if h.reason == "repeated_anger"]) == 1


def test_a_conversation_waiting_for_a_colleague_keeps_its_one_handoff(conv):
    first = conv.run(
        ActionAnswer,
        Turn("This is unacceptable, you people are useless", "complaint", "anger", 0.9),
    )
    assert "utter_handoff_severe_complaint" in first.responses
    again = conv.run(ActionHandoff, Turn("I want a human now", "contact_human_agent"))
    assert again.responses == ["utter_handoff_already_waiting"]
    (handoff,) = stored(conv.repo, m.Handoff)
    assert again.messages[0]["reference"] == handoff.reference
    assert handoff.reason == "severe_complaint"


def test_two_fallbacks_in_a_row_hand_over(conv):
    assert conv.run(ActionFallback, Turn("blorp", "nlu_fallback")).responses == ["utter_default"]
    result = conv.run(ActionFallback, Turn("zzzz", "nlu_fallback"))
    assert "utter_handoff_repeated_fallback" in result.responses


def ranking(*pairs):
    return [{"name": "nlu_fallback", "confidence": 0.45}] + [
        {"name": name, "confidence": confidence} for name, confidence in pairs
    ]


def test_an_unclear_request_offers_the_two_likeliest_as_buttons(conv):
    result = conv.run(
        ActionFallback,
        Turn(
            "money thing for the blender",
            "nlu_fallback",
            ranking=ranking(("get_refund", 0.31), ("payment_issue", 0.27), ("track_order", 0.2)),
        ),
    )
    assert result.responses == ["utter_clarify"]
    (message,) = result.messages
    assert [b["payload"] for b in message["buttons"]] == ["/get_refund", "/payment_issue"]
    assert message["first_option"] == "get a refund"


@pytest.mark.parametrize(
    "pairs",
    [
        (("get_refund", 0.08), ("payment_issue", 0.06)),  # neither is likely
        (("out_of_scope", 0.4), ("get_refund", 0.3)),  # out of scope is not a request
        (("greet", 0.4), ("get_refund", 0.3)),
        (("get_refund", 0.5),),  # nothing to offer beside it
    ],
)
def test_no_buttons_without_two_plausible_requests(conv, pairs):
    result = conv.run(ActionFallback, Turn("hmm", "nlu_fallback", ranking=ranking(*pairs)))
    assert result.responses == ["utter_default"]
    assert "buttons" not in result.messages[0] or not result.messages[0]["buttons"]


def test_every_offerable_request_has_a_button_that_the_seam_lets_through():
    from rasa.shared.core.domain import Domain

    from actions import clarify
    from rasa_seam.parsing import text_to_parse

    menu = domain()["responses"]["utter_clarify_options"]
    assert len(clarify.buttons(sorted(clarify.OFFERABLE), menu)) == len(clarify.OFFERABLE)
    rasa_domain = Domain.load(str(Path(__file__).resolve().parent.parent / "domain.yml"))
    for intent in clarify.OFFERABLE:
        assert text_to_parse(f"/{intent}", rasa_domain, 2000) == f"/{intent}"
    assert text_to_parse("/greet", rasa_domain, 2000) == "greet"


def test_outside_staffed_hours_a_callback_is_booked(conv, clock):
    clock.now = clock.now.replace(hour=22)  # Wednesday 22:00, staff gone home
    result = conv.run(ActionHandoff, Turn("human please", "contact_human_agent"))
    assert "utter_handoff_callback" in result.responses
    (handoff,) = stored(conv.repo, m.Handoff)
    assert handoff.callback_at == clock.now.replace(hour=8) + timedelta(days=1)


# --- handoffs on the phone -------------------------------------------------------------------
def phone_turn(conv, text: str, intent: str, can_transfer: bool, transport: str = "twilio") -> None:
    event = user_event(text, intent)
    event.update(
        input_channel="voice",
        metadata={
            "call": {"transport": transport, "caller": "+15550123", "can_transfer": can_transfer}
        },
    )
    conv.events.append(event)


def test_a_caller_is_put_through_when_a_transfer_number_is_set_up(conv):
    phone_turn(conv, "a human please", "contact_human_agent", can_transfer=True)
    result = conv.run(ActionHandoff)
    assert result.responses[-2:] == ["utter_handoff_transfer", None]
    signal = result.messages[-1]["custom"]["handoff"]
    (handoff,) = stored(conv.repo, m.Handoff)
    assert signal == {
        "reference": handoff.reference,
        "step": "transfer",
        "reason": "customer_request",
    }
    assert handoff.channel == "voice" and handoff.callback_at is None


def test_a_caller_who_cannot_be_put_through_is_called_back_on_their_number(conv, clock):
    phone_turn(conv, "a human please", "contact_human_agent", can_transfer=False)
    result = conv.run(ActionHandoff)
    assert "utter_handoff_callback_phone" in result.responses
    (handoff,) = stored(conv.repo, m.Handoff)
    assert clock.now < handoff.callback_at <= clock.now + timedelta(minutes=30)
    assert "Call back on +15550123." in handoff.summary
    assert result.messages[-1]["custom"]["handoff"]["step"] == "callback"


def test_a_call_from_the_widget_is_joined_in_the_chat(conv):
    phone_turn(conv, "a human please", "contact_human_agent", False, transport="browser")
    result = conv.run(ActionHandoff)
    assert "utter_handoff_wait" in result.responses
    assert result.messages[-1]["custom"]["handoff"]["step"] == "wait"


def test_chat_handoffs_send_no_call_signal(conv):
    result = conv.run(ActionHandoff, Turn("agent please", "contact_human_agent"))
    assert not [m for m in result.messages if m.get("custom")]
