"""Whole-conversation behaviour through the real actions: request memory, follow-ups from
the last answer, closing, escalation on repeated contact, policies that fit the problem."""

from __future__ import annotations

import pytest
from rasa_sdk.events import FollowupAction

from actions import follow_ups, policy
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
from actions.formatting import day
from store import models as m
from tests.harness import Conversation, Turn, stored

JANE = "jane.doe@example.com"
OMAR = "omar.haddad@example.com"
RANKING = [
    {"name": "get_refund", "confidence": 0.5},
    {"name": "track_refund", "confidence": 0.3},
    {"name": "check_refund_policy", "confidence": 0.1},
]


@pytest.fixture
def conv(repo):
    return Conversation(repo)


def resolve(
    conv: Conversation,
    intent: str,
    text: str,
    order: str,
    email: str = JANE,
    emotion: str = "neutral",
    intensity: float = 0.0,
    confidence: float = 0.95,
    ranking=(),
    **details,
):
    """Begin as the rule does, then resolve as the completed form does (identity checked)."""
    conv.run(
        ActionBeginRequest,
        Turn(text, intent, emotion, intensity, confidence=confidence, ranking=ranking),
    )
    conv.slots.update(order_id=order, email=email, verified_order=order, **details)
    return conv.run(ActionResolveRequest)


# --- follow-ups ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("and how long will that take?", "when"),
        ("when?", "when"),
        ("why?", "why"),
        ("but why can't you?", "why"),
        ("what happens next?", "next"),
        ("can you e-mail me that?", "email"),
        ("could I get that in writing", "email"),
        ("sorry, can you say that again", "repeat"),
        ("that's not what I asked", "not_asked"),
        ("how long will I have to wait?", "wait"),
        ("where is my order 2345678", None),
        ("hello", None),
        ("why " * 20, None),  # long: says what it wants itself
    ],
)
def test_follow_up_kinds(text, expected):
    assert follow_ups.kind(text) == expected


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        ("how long will that take?", "delivery_period", True),
        ("how long does delivery take?", "delivery_period", False),
        ("when?", "track_order", True),
        ("why?", "nlu_fallback", True),
        ("how long will I have to wait?", "delivery_period", True),  # unambiguous kind
    ],
)
def test_a_question_of_its_own_is_not_a_follow_up(text, intent, expected):
    requests = frozenset({"delivery_period", "track_order"})
    kind = follow_ups.kind(text)
    assert follow_ups.leans_on_last_answer(kind, text, intent, requests) is expected


def test_how_long_after_a_refund_gives_the_refunds_date_not_delivery_times(conv):
    made = resolve(conv, "get_refund", "I want my money back", "3456789")
    expected = made.messages[0]["expected"]
    later = conv.run(
        ActionAnswer, Turn("and how long will that take?", "delivery_period", confidence=0.8)
    )
    assert later.responses == ["utter_follow_up_when"]
    assert expected in later.texts()[0]


def test_how_long_after_an_overdue_refund_gives_the_cases_date_not_the_missed_one(conv):
    made = resolve(
        conv, "track_refund", "my refund is way overdue", "8901234", "mei.chen@example.org"
    )
    overdue = next(m for m in made.messages if m.get("response") == "utter_refund_overdue")
    later = conv.run(
        ActionAnswer, Turn("how long will that take", "delivery_period", confidence=0.8)
    )
    assert later.responses == ["utter_follow_up_when"]
    (ticket,) = stored(conv.repo, m.Ticket, kind="refund_overdue")
    case_done = policy.case_expected_by(
        "refund_overdue", ticket.priority, ticket.created_at, conv.repo.clock().date()
    )
    assert overdue["due"] not in later.texts()[0]  # the date it should have come by
    assert day(case_done) in later.texts()[0]  # the billing team's


def test_why_explains_the_very_answer_given(conv):
    resolve(conv, "get_refund", "refund please", "5678901", OMAR)  # window closed
    why = conv.run(ActionFallback, Turn("why?", "nlu_fallback"))
    assert why.responses == ["utter_why_refund_window_passed"]
    assert "30 days" in why.texts()[0]


def test_a_follow_up_with_nothing_before_it_is_an_ordinary_message(conv):
    result = conv.run(ActionFallback, Turn("why?", "nlu_fallback"))
    assert result.responses == ["utter_default"]


def test_email_me_that_queues_one_mail_to_the_verified_customer_only(conv):
    resolve(conv, "track_order", "where is it", "2345678")
    for _ in range(2):
        sent = conv.run(ActionFallback, Turn("can you email me that?", "nlu_fallback"))
        assert sent.responses == ["utter_follow_up_emailed"]
    with conv.repo.session() as s:
        (mail,) = s.query(m.OutboundEmail).all()
        assert (mail.to_address, mail.kind) == (JANE, "chat_summary")


def test_say_that_again_repeats_the_last_reply(conv):
    made = resolve(conv, "track_order", "where is it", "2345678")
    again = conv.run(ActionFallback, Turn("sorry, say that again?", "nlu_fallback"))
    assert again.responses[0] == "utter_follow_up_repeat"
    assert again.texts()[1:] == made.texts()


def test_not_what_i_asked_offers_the_other_readings(conv):
    resolve(conv, "get_refund", "my refund", "3456789", ranking=RANKING)
    repair = conv.run(ActionDecline, Turn("that's not what I asked", "deny"))
    assert repair.responses == ["utter_follow_up_not_asked_options"]
    assert [b["payload"] for b in repair.messages[0]["buttons"]] == [
        "/track_refund",
        "/check_refund_policy",
    ]


def test_how_long_will_i_wait_after_a_handoff_gives_the_queue(conv):
    conv.run(ActionSmallTalk, Turn("hi", "greet"))
    from actions.handoff import ActionHandoff

    conv.run(ActionHandoff, Turn("agent please", "contact_human_agent"))
    status = conv.run(
        ActionAnswer, Turn("how long will I have to wait?", "delivery_period", confidence=0.6)
    )
    assert status.responses[0] in ("utter_handoff_status", "utter_handoff_status_callback")


# --- closing ------------------------------------------------------------------------------
def test_anything_else_after_a_resolution_then_the_rating_when_done(conv):
    made = resolve(conv, "track_order", "where is it", "2345678")
    assert made.responses[-1] == "utter_anything_else_question"
    assert not conv.slots["rating_asked"]
    done = conv.run(ActionDecline, Turn("no that's all", "deny"))
    assert done.responses == ["utter_anything_else", "utter_ask_rating"]


def test_an_upset_customer_is_offered_a_colleague_not_a_survey(conv):
    resolve(conv, "get_refund", "refund please", "5678901", OMAR)
    done = conv.run(ActionSmallTalk, Turn("whatever, bye", "goodbye", "frustration", 0.5))
    assert "utter_ask_rating" not in done.responses
    assert done.responses[-1] == "utter_offer_human_closing"


def test_no_rating_without_anything_resolved(conv):
    result = conv.run(ActionSmallTalk, Turn("bye", "goodbye"))
    assert result.responses == ["utter_goodbye"]


# --- request memory -----------------------------------------------------------------------
def test_details_after_a_misunderstanding_resume_the_likely_request(conv):
    conv.run(
        ActionFallback,
        Turn(
            "my stuff from last week?? still nothing",
            "nlu_fallback",
            ranking=[
                {"name": "track_order", "confidence": 0.35},
                {"name": "report_late_delivery", "confidence": 0.2},
            ],
        ),
    )
    resumed = conv.run(ActionInform, Turn("2345678", "inform"))
    assert FollowupAction("request_form") in resumed.events
    assert conv.slots["pending_request"] == "track_order"
    assert conv.slots["order_id"] == "2345678"
    assert conv.slots["request_confidence"] == 0.0  # only guessed: a write would ask first


def test_a_corrected_order_number_redoes_the_last_request(conv):
    resolve(conv, "track_order", "where is my order", "1234567")
    corrected = conv.run(ActionInform, Turn("sorry, I meant 2345678", "inform"))
    assert FollowupAction("request_form") in corrected.events
    assert conv.slots["pending_request"] == "track_order"
    assert conv.slots["verified_order"] == "2345678"  # Jane's too: no second check


def test_an_order_number_with_nothing_to_resume_is_asked_about(conv):
    # The same number again after its request was resolved: nothing to redo, so Heard asks
    # what to do with the order rather than staying silent or starting a request.
    resolve(conv, "track_order", "where is my order", "1234567")
    asked = conv.run(ActionInform, Turn("it's 1234567", "inform"))
    assert asked.responses == ["utter_what_about_order"]
    assert "order 1234567" in asked.texts()[0]
    assert FollowupAction("request_form") not in asked.events
    assert conv.slots["pending_request"] is None


def test_both_details_in_the_request_message_are_kept(conv):
    conv.run(
        ActionBeginRequest, Turn("cancel 1234567 please, jane.doe@example.com", "cancel_order")
    )
    assert (conv.slots["order_id"], conv.slots["email"]) == ("1234567", JANE)


# --- no unrequested side effects ----------------------------------------------------------
def test_an_unsure_refund_is_asked_before_it_is_made(conv, repo):
    asked = resolve(conv, "get_refund", "ugh this thing", "3456789", confidence=0.3)
    assert asked.responses == ["utter_confirm_get_refund"]
    assert repo.refunds_for("3456789") == []
    conv.run(ActionConfirm, Turn("yes", "affirm"))
    assert len(repo.refunds_for("3456789")) == 1


def test_an_unsure_refund_declined_changes_nothing(conv, repo):
    resolve(conv, "get_refund", "ugh this thing", "3456789", confidence=0.3)
    declined = conv.run(ActionDecline, Turn("no", "deny"))
    assert declined.responses == ["utter_nothing_changed"]
    assert repo.refunds_for("3456789") == [] and conv.slots["pending_request"] is None


def test_a_delivered_order_gets_no_parcel_search_unless_confirmed(conv, repo):
    offered = resolve(
        conv, "report_late_delivery", "WHERE IS MY STUFF", "3456789", emotion="anger", intensity=0.5
    )
    assert "utter_delivered_search_offer" in offered.responses
    conv.run(ActionDecline, Turn("no it's fine", "deny"))
    assert stored(repo, m.Ticket, kind="not_received") == []


# --- policies -----------------------------------------------------------------------------
def test_a_safety_incident_is_an_urgent_safety_case_with_a_person_offered(conv, repo):
    begun = conv.run(
        ActionBeginRequest,
        Turn("the coffee maker sparked and started smoking", "report_damaged_item", "anxiety", 0.7),
    )
    assert "utter_safety_first" in begun.responses
    conv.slots.update(order_id="3456789", email=JANE, verified_order="3456789", remedy="refund")
    done = conv.run(ActionResolveRequest)
    (ticket,) = stored(repo, m.Ticket, kind="safety")
    assert ticket.priority == "urgent"
    assert stored(repo, m.Ticket, kind="damage") == []
    assert "utter_safety_case" in done.responses and "utter_damaged_refund" in done.responses


def test_a_delayed_order_is_called_delayed_with_its_new_date(conv):
    result = resolve(conv, "track_order", "where is it", "123456", "ana.souza@example.com")
    assert result.responses[0] == "utter_order_delayed"
    assert "delayed" in result.texts()[0]


# --- empathy and escalation ---------------------------------------------------------------
def test_what_is_at_stake_is_acknowledged_once(conv):
    first = conv.run(
        ActionBeginRequest,
        Turn("where is it? it's for my sister's wedding", "track_order", "anxiety", 0.6),
    )
    assert "I know this is for your sister's wedding" in " ".join(first.texts())
    again = conv.run(
        ActionBeginRequest, Turn("it's for my sister's wedding!!", "track_order", "anxiety", 0.6)
    )
    assert "utter_ack_stakes" not in again.responses


def test_the_third_time_asking_goes_to_a_person(conv, repo):
    result = conv.run(
        ActionBeginRequest,
        Turn(
            "this is the third time I'm asking about my refund", "track_refund", "frustration", 0.5
        ),
    )
    assert "utter_handoff_repeated_contact" in result.responses
    (handoff,) = stored(repo, m.Handoff)
    assert handoff.reason == "repeated_contact"


def test_three_upset_turns_without_progress_go_to_a_person(conv, repo):
    said = [
        conv.run(ActionSmallTalk, Turn(text, "out_of_scope", "frustration", 0.3)).responses
        for text in ("this is ridiculous", "I'm so fed up with this", "honestly, useless")
    ]
    assert not any("utter_handoff_no_progress" in r for r in said[:2])
    assert "utter_handoff_no_progress" in said[2]
    assert [h.reason for h in stored(repo, m.Handoff)] == ["no_progress"]


def test_upset_turns_with_a_resolution_between_them_stay_with_heard(conv, repo):
    conv.run(ActionSmallTalk, Turn("this is ridiculous", "out_of_scope", "frustration", 0.3))
    conv.run(
        ActionAnswer,
        Turn("what's your refund policy then", "check_refund_policy", "frustration", 0.3),
    )
    conv.run(ActionSmallTalk, Turn("still annoyed", "out_of_scope", "frustration", 0.3))
    assert stored(repo, m.Handoff) == []


def test_follow_ups_the_classifier_could_not_place_are_not_misunderstandings(conv, repo):
    resolve(conv, "track_order", "where is it", "2345678")
    for text in ("can you email me that?", "and why?"):
        conv.run(ActionFallback, Turn(text, "nlu_fallback"))
    assert stored(repo, m.Handoff) == []


# --- two requests in one message ------------------------------------------------------------
def clause(text, intent, confidence=0.9):
    return {"text": text, "intent": intent, "confidence": confidence}


def test_the_second_request_of_a_message_follows_the_first(conv, repo):
    text = "cancel 1234567 and tell me where 2345678 is"
    begun = conv.run(
        ActionBeginRequest,
        Turn(
            text,
            "cancel_order",
            confidence=0.9,
            clauses=[
                clause("cancel 1234567", "cancel_order"),
                clause("tell me where 2345678 is", "track_order"),
            ],
        ),
    )
    assert conv.slots["queued_requests"] == [
        {"intent": "track_order", "text": "tell me where 2345678 is", "confidence": 0.9}
    ]
    assert conv.slots["order_id"] == "1234567"  # the first request's order
    conv.slots.update(email=JANE, verified_order="1234567")
    asked = conv.run(ActionResolveRequest)
    assert asked.responses == ["utter_cancel_confirm"]  # the next waits for the yes
    done = conv.run(ActionConfirm, Turn("yes", "affirm"))
    assert done.responses[:2] == ["utter_cancel_done", "utter_next_request"]
    assert FollowupAction("request_form") in done.events
    assert (conv.slots["pending_request"], conv.slots["order_id"]) == ("track_order", "2345678")
    assert conv.slots["queued_requests"] == []
    assert begun.responses == []


def test_unsure_or_repeated_clauses_queue_nothing(conv):
    text = "where is my order and where is it now"
    conv.run(
        ActionBeginRequest,
        Turn(
            text,
            "track_order",
            confidence=0.9,
            clauses=[
                clause("where is my order", "track_order"),
                clause("where is it now", "track_order"),
                clause("blah blah", "get_refund", 0.3),
            ],
        ),
    )
    assert conv.slots["queued_requests"] == []


def test_a_policy_question_after_a_request_is_answered_after_it(conv):
    text = "where is 2345678 and what payment methods do you take"
    conv.run(
        ActionBeginRequest,
        Turn(
            text,
            "track_order",
            confidence=0.9,
            clauses=[
                clause("where is 2345678", "track_order"),
                clause("what payment methods do you take", "check_payment_methods"),
            ],
        ),
    )
    conv.slots.update(email=JANE, verified_order="2345678")
    done = conv.run(ActionResolveRequest)
    assert done.responses == [
        "utter_order_shipped",
        "utter_next_request",
        "utter_payment_methods",
        "utter_anything_else_question",
    ]


def test_a_message_read_as_neither_of_its_two_requests_begins_the_first(conv):
    text = "I need a refund for the lamp, also can you send me the invoice"
    result = conv.run(
        ActionFallback,
        Turn(
            text,
            "nlu_fallback",
            confidence=0.4,
            clauses=[
                clause("I need a refund for the lamp", "get_refund"),
                clause("also can you send me the invoice", "get_invoice"),
            ],
        ),
    )
    assert FollowupAction("request_form") in result.events
    assert conv.slots["pending_request"] == "get_refund"
    assert [q["intent"] for q in conv.slots["queued_requests"]] == ["get_invoice"]
    assert "utter_clarify" not in result.responses


@pytest.mark.parametrize(
    "ranking, expected",
    [
        ([("nlu_fallback", 0.0), ("track_order", 0.33), ("out_of_scope", 0.24)], "track_order"),
        ([("report_damaged_item", 0.32), ("report_late_delivery", 0.29)], None),  # too close
        ([("track_order", 0.1), ("greet", 0.05)], None),  # too unlikely
        ([("out_of_scope", 0.5), ("track_order", 0.3)], None),  # likeliest is no request
    ],
)
def test_a_misunderstood_request_is_remembered_only_when_it_clearly_leads(ranking, expected):
    from actions import clarify
    from actions.requests import REQUESTS

    ranked = [{"name": n, "confidence": c} for n, c in ranking]
    assert clarify.likely_request(ranked, REQUESTS) == expected


def test_details_after_an_unclear_choice_offer_the_two_readings_again(conv):
    conv.run(
        ActionFallback,
        Turn(
            "the thing I ordered never showed up",
            "nlu_fallback",
            ranking=[
                {"name": "report_damaged_item", "confidence": 0.32},
                {"name": "report_late_delivery", "confidence": 0.29},
            ],
        ),
    )
    asked = conv.run(ActionInform, Turn("3456789", "inform"), order_id="3456789")
    assert asked.responses == ["utter_what_about_order_options"]
    assert [b["payload"] for b in asked.messages[0]["buttons"]] == [
        "/report_damaged_item",
        "/report_late_delivery",
    ]


@pytest.mark.parametrize(
    "style, channel, expected",
    [
        ("steps", None, "Step 1: your order number"),
        ("steps", "voice", "Step 1: your order number. You can say it"),
        ("reassure", None, "Let's get this sorted"),
        ("calm", None, None),
        (None, "voice", "You can say it, or type it"),
    ],
)
def test_the_identity_question_fits_the_customers_state(style, channel, expected):
    """Rasa picks the question's variation by the `reply_style` slot and the channel."""
    from rasa.core.nlg.generator import ResponseVariationFilter

    from tests.harness import domain

    picked = ResponseVariationFilter(domain()["responses"]).responses_for_utter_action(
        "utter_ask_order_id", channel, {"reply_style": style}
    )
    texts = [v["text"] for v in picked]
    if expected is None:
        assert not any("Step" in t or "sorted" in t for t in texts)
    else:
        assert texts and all(expected in t for t in texts)


def test_a_question_of_its_own_after_an_answer_without_a_date_is_answered_itself(conv):
    conv.run(ActionAnswer, Turn("what delivery options do you have?", "delivery_options"))
    times = conv.run(
        ActionAnswer,
        Turn("And how many days does the normal one take?", "delivery_period", confidence=0.7),
    )
    assert times.responses[0] == "utter_delivery_period"


def test_thanks_for_nothing_gets_no_youre_welcome(conv):
    resolve(conv, "get_refund", "refund please", "5678901", OMAR)
    done = conv.run(ActionSmallTalk, Turn("thanks for nothing", "thank_you", "frustration", 0.6))
    assert "utter_you_are_welcome" not in done.responses
    assert done.responses[0].startswith("utter_ack_frustration")
    assert done.responses[-1] == "utter_offer_human_closing"


def test_a_declined_rating_files_no_review(conv, repo):
    resolve(conv, "track_order", "where is it", "2345678")
    conv.run(ActionSmallTalk, Turn("thanks, bye", "goodbye"))
    declined = conv.run(ActionAnswer, Turn("no thanks, I don't do ratings", "review"))
    assert declined.responses == ["utter_rating_declined"]
    assert stored(repo, m.Ticket, kind="review") == [] and conv.slots["awaiting_rating"] is False


def test_a_no_to_a_cancellation_is_not_taken_for_an_earlier_rating(conv, repo):
    """A rating asked and left unanswered; later a cancellation's confirmation: "no" is
    the answer to the confirmation, which must not stay open for a later "ok"."""
    resolve(conv, "track_order", "where is it", "2345678")
    conv.run(ActionSmallTalk, Turn("thanks, bye", "goodbye"))
    assert conv.slots["awaiting_rating"] is True
    resolve(conv, "cancel_order", "cancel it", "1234567")
    declined = conv.run(ActionDecline, Turn("no, keep it", "deny"))
    assert declined.responses == ["utter_cancel_kept"]
    assert conv.slots["awaiting_confirmation"] is None
    conv.run(ActionConfirm, Turn("ok", "affirm"))
    assert repo.find_order("1234567").status == "processing"


def test_tracking_or_lateness_is_answered_by_tracking_without_asking(conv):
    result = conv.run(
        ActionFallback,
        Turn(
            "my shoes haven't come yet, order 2345678",
            "nlu_fallback",
            ranking=[
                {"name": "track_order", "confidence": 0.36},
                {"name": "report_late_delivery", "confidence": 0.3},
            ],
        ),
    )
    assert FollowupAction("request_form") in result.events
    assert conv.slots["pending_request"] == "track_order"
    assert "utter_clarify" not in result.responses


def test_no_to_a_cancellation_then_a_question_answers_both(conv):
    resolve(conv, "cancel_order", "cancel it", "1234567")
    text = "no wait, don't. I'll keep them. When will they arrive?"
    result = conv.run(
        ActionDecline,
        Turn(
            text,
            "deny",
            confidence=0.8,
            clauses=[
                clause("no wait, don't", "deny"),
                clause("I'll keep them", "deny", 0.5),
                clause("When will they arrive?", "track_order", 0.8),
            ],
        ),
    )
    assert result.responses[:2] == ["utter_cancel_kept", "utter_next_request"]
    assert conv.slots["pending_request"] == "track_order"


def test_an_unsure_refund_outside_the_window_needs_no_confirmation(conv, repo):
    result = resolve(conv, "get_refund", "can I still return it?", "5678901", OMAR, confidence=0.3)
    assert result.responses[0] == "utter_refund_window_passed"


def test_details_the_classifier_could_not_place_are_taken_as_details(conv):
    conv.run(ActionBeginRequest, Turn("where is my order", "track_order"))
    conv.slots.update(order_id="2345678")
    result = conv.run(ActionFallback, Turn("tim.w@example.org", "nlu_fallback"))
    assert FollowupAction("request_form") in result.events
    assert conv.slots["email"] == "tim.w@example.org"


def test_what_happens_next_after_a_replacement_says_what_happens_to_it(conv):
    resolve(
        conv,
        "report_damaged_item",
        "the jug came cracked",
        "7890123",
        "mei.chen@example.org",
        remedy="replacement",
    )
    nxt = conv.run(
        ActionBeginRequest,
        Turn(
            "what happens next? do I have to do anything with the broken one?",
            "report_damaged_item",
        ),
    )
    assert nxt.responses == ["utter_next_damaged_replacement"]


def test_a_no_inside_a_longer_message_declines_the_pending_confirmation(conv, repo):
    resolve(conv, "cancel_order", "cancel it", "1234567")
    text = "no wait, don't. When will they arrive?"
    result = conv.run(
        ActionSmallTalk,
        Turn(
            text,
            "out_of_scope",
            confidence=0.5,
            clauses=[
                clause("no wait, don't", "deny", 0.8),
                clause("When will they arrive?", "track_order", 0.8),
            ],
        ),
    )
    assert result.responses[:2] == ["utter_cancel_kept", "utter_next_request"]
    assert repo.find_order("1234567").status == "processing"


def test_a_request_read_surely_in_its_own_clause_is_not_asked_about(conv):
    text = "I'd like a refund for 3456789, and take me off your newsletter too"
    conv.run(
        ActionBeginRequest,
        Turn(
            text,
            "get_refund",
            confidence=0.4,
            clauses=[
                clause("I'd like a refund for 3456789", "get_refund", 0.9),
                clause("take me off your newsletter too", "newsletter_subscription"),
            ],
        ),
    )
    assert conv.slots["request_confidence"] == 0.9


def test_say_that_again_repeats_the_substance_not_the_apology(conv):
    made = resolve(conv, "track_order", "where is it", "4567890", OMAR)  # late: apology
    assert made.responses[0] == "utter_apology_late_delivery"
    again = conv.run(ActionFallback, Turn("say that again?", "nlu_fallback"))
    assert not any(r.startswith("utter_apology") for r in again.responses)
    assert any("is running late" in text for text in again.texts())


def test_the_first_of_two_requests_takes_its_own_clauses_order_number(conv):
    text = "tell me where 2345678 is and cancel 1234567"
    conv.run(
        ActionBeginRequest,
        Turn(
            text,
            "cancel_order",
            confidence=0.7,
            clauses=[
                clause("tell me where 2345678 is", "track_order"),
                clause("cancel 1234567", "cancel_order"),
            ],
        ),
    )
    assert conv.slots["order_id"] == "1234567"
    assert conv.slots["queued_requests"][0]["intent"] == "track_order"
