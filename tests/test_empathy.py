"""The empathy policy's pure decisions, table-driven."""

import pytest

from actions.empathy import (
    REPEATED_CONTACT,
    Emotion,
    Plan,
    Turn,
    apology,
    escalation_reason,
    handoff_priority,
    pick_variation,
    plan,
    stakes,
    styled_response,
)

LOW, HIGH = 0.3, 0.8


@pytest.mark.parametrize(
    "name, intensity, expected",
    [
        ("anger", LOW, Plan("utter_ack_anger_low", "calm", True)),
        ("anger", HIGH, Plan("utter_ack_anger_high", "calm", True)),
        ("frustration", LOW, Plan("utter_ack_frustration_low", "plain", False)),
        ("frustration", HIGH, Plan("utter_ack_frustration_high", "plain", False)),
        ("sadness", LOW, Plan("utter_ack_sadness_low", "plain", False)),
        ("sadness", HIGH, Plan("utter_ack_sadness_high", "plain", False)),
        ("anxiety", LOW, Plan("utter_ack_anxiety_low", "reassure", False)),
        ("anxiety", HIGH, Plan("utter_ack_anxiety_high", "reassure", False)),
        ("confusion", LOW, Plan("utter_ack_confusion_low", "steps", False)),
        ("confusion", HIGH, Plan("utter_ack_confusion_high", "steps", False)),
        # 0.6 is the first "high" intensity, just below it is still "low".
        ("anger", 0.6, Plan("utter_ack_anger_high", "calm", True)),
        ("anger", 0.59, Plan("utter_ack_anger_low", "calm", True)),
    ],
)
def test_plan_acknowledges_negative_emotions(name, intensity, expected):
    assert plan(Emotion(name, 0.9, intensity), "track_order") == expected


@pytest.mark.parametrize(
    "emotion, intent, expected",
    [
        (Emotion("neutral", 1.0, 0.0), "track_order", Plan(None, "plain", False)),
        (Emotion(), "greet", Plan(None, "plain", False)),
        (Emotion("joy", 0.9, LOW), "track_order", Plan("utter_ack_joy_low", "warm", False)),
        (Emotion("joy", 0.9, HIGH), "greet", Plan("utter_ack_joy_high", "warm", False)),
        # The thank-you reply is itself the warmth: no joy acknowledgement before it.
        (Emotion("neutral", 1.0, 0.0), "thank_you", Plan(None, "warm", False)),
        # A negative emotion is acknowledged whatever the intent.
        (Emotion("sadness", 0.9, HIGH), "greet", Plan("utter_ack_sadness_high", "plain", False)),
    ],
)
def test_plan_for_neutral_joy_and_thanks(emotion, intent, expected):
    assert plan(emotion, intent) == expected


@pytest.mark.parametrize(
    "fault, expected",
    [
        ("late_delivery", "utter_apology_late_delivery"),
        ("damaged_item", "utter_apology_damaged_item"),
        ("double_charge", "utter_apology_double_charge"),
        ("refund_overdue", "utter_apology_refund_overdue"),
        ("wrong_size_ordered", None),
        ("forgot_password", None),
        ("", None),
        (None, None),
    ],
)
def test_apology_only_for_shop_faults(fault, expected):
    assert apology(fault) == expected


@pytest.mark.parametrize(
    "style, available, expected",
    [
        ("steps", ["utter_refund", "utter_refund_steps"], "utter_refund_steps"),
        ("calm", ["utter_refund", "utter_refund_steps"], "utter_refund"),
        ("reassure", ("utter_refund_reassure",), "utter_refund_reassure"),
        ("plain", [], "utter_refund"),
        ("steps", iter(["utter_refund_steps"]), "utter_refund_steps"),  # any iterable
    ],
)
def test_styled_response_falls_back_to_base(style, available, expected):
    assert styled_response("utter_refund", style, available) == expected


@pytest.mark.parametrize(
    "variations, said, expected",
    [
        (3, [], 0),
        (3, ["utter_ack_anger_high:0"], 1),
        (3, ["utter_ack_anger_high:0", "utter_ack_anger_high:2"], 1),
        (3, ["utter_ack_anger_high:1"], 0),
        (3, ["utter_ack_anger_low:0", "utter_ack_anger_low:1"], 0),  # another response's keys
        (2, ["utter_ack_anger_high:0", "utter_ack_anger_high:1"], None),
        (0, [], None),
    ],
)
def test_pick_variation_skips_said_ones(variations, said, expected):
    assert pick_variation("utter_ack_anger_high", variations, said) == expected


def turn(intent="inform", emotion="neutral", intensity=0.0):
    return Turn(intent, Emotion(emotion, 0.9, intensity))


ANGRY = turn("complain", "anger", HIGH)
MILDLY_ANGRY = turn("complain", "anger", LOW)


@pytest.mark.parametrize(
    "turns, failures, expected",
    [
        ([], 5, None),
        ([turn("contact_human_agent")], 0, "customer_request"),
        ([turn("greet"), turn("contact_human_agent")], 0, "customer_request"),
        ([turn("contact_human_agent"), turn("inform")], 0, None),  # only the latest turn counts
        ([turn()], 2, None),
        ([turn()], 3, "identity_failed"),
        ([turn()], 4, "identity_failed"),
        ([ANGRY, ANGRY], 0, "repeated_anger"),
        ([turn(), ANGRY, ANGRY], 0, "repeated_anger"),
        ([ANGRY], 0, None),
        ([MILDLY_ANGRY, MILDLY_ANGRY], 0, None),
        # Persistent anger: two heated turns in a row, one of them intense.
        ([MILDLY_ANGRY, ANGRY], 0, "repeated_anger"),
        ([ANGRY, turn(), ANGRY], 0, "repeated_anger"),  # the order number between them
        ([ANGRY, turn(), turn(), ANGRY], 0, None),
        ([ANGRY, ANGRY, turn()], 0, None),  # calmer now
        ([ANGRY, turn("complain", "frustration", HIGH)], 0, "repeated_anger"),
        ([turn("complain", "frustration", LOW), ANGRY], 0, None),
        ([turn("complain", "sadness", HIGH), ANGRY], 0, None),
        ([turn("nlu_fallback"), turn("nlu_fallback")], 0, "repeated_fallback"),
        ([turn("nlu_fallback")], 0, None),
        ([turn("nlu_fallback"), turn("inform"), turn("nlu_fallback")], 0, None),
        # Precedence: an explicit request wins, then identity failures.
        ([ANGRY, Turn("contact_human_agent", ANGRY.emotion)], 3, "customer_request"),
        ([ANGRY, ANGRY], 3, "identity_failed"),
    ],
)
def test_escalation_reason(turns, failures, expected):
    assert escalation_reason(turns, failures) == expected


@pytest.mark.parametrize(
    "emotion, reason, expected",
    [
        (Emotion("anger", 0.9, HIGH), "customer_request", 1),
        (Emotion("neutral"), "repeated_anger", 1),
        (Emotion("anger", 0.9, LOW), "customer_request", 2),
        (Emotion("frustration", 0.9, HIGH), "customer_request", 2),
        (Emotion("neutral"), "severe_complaint", 2),
        (Emotion("sadness", 0.9, HIGH), "customer_request", 3),
        (Emotion("confusion", 0.9, LOW), "repeated_fallback", 3),
        (Emotion("anxiety", 0.9, LOW), "identity_failed", 3),
        (Emotion("neutral"), "customer_request", 4),
        (Emotion("joy", 0.9, HIGH), "customer_request", 4),
    ],
)
def test_handoff_priority(emotion, reason, expected):
    assert handoff_priority(emotion, reason) == expected


def test_handoff_priority_serves_intense_anger_first():
    cases = [
        (Emotion("neutral"), "customer_request"),
        (Emotion("sadness", 0.9, LOW), "customer_request"),
        (Emotion("frustration", 0.9, LOW), "customer_request"),
        (Emotion("anger", 0.9, HIGH), "customer_request"),
    ]
    ranked = sorted(cases, key=lambda c: handoff_priority(*c))
    assert [e.name for e, _ in ranked] == ["anger", "frustration", "sadness", "neutral"]


@pytest.mark.parametrize(
    "parse_data, expected",
    [
        (
            {"emotion": {"name": "anger", "confidence": 0.8, "intensity": 0.7}},
            Emotion("anger", 0.8, 0.7),
        ),
        (
            {"emotion": {"name": "joy", "confidence": "0.5", "intensity": "0.9"}},
            Emotion("joy", 0.5, 0.9),
        ),
        ({"emotion": {"name": "sadness"}}, Emotion("sadness", 1.0, 0.0)),
        (None, Emotion()),
        ({}, Emotion()),
        ({"intent": {"name": "greet"}}, Emotion()),
        ({"emotion": None}, Emotion()),
        ({"emotion": {}}, Emotion()),
        ({"emotion": {"name": "anger", "intensity": "very"}}, Emotion()),
        ({"emotion": {"name": "anger", "intensity": None}}, Emotion()),
        ({"emotion": {"name": "anger", "confidence": [0.9]}}, Emotion()),
    ],
)
def test_emotion_from_parse(parse_data, expected):
    assert Emotion.from_parse(parse_data) == expected


def test_default_emotion_is_neutral_low_and_not_negative():
    emotion = Emotion.from_parse(None)
    assert (emotion.name, emotion.level, emotion.negative) == ("neutral", "low", False)


SAD = turn("complain", "sadness", LOW)
FED_UP = turn("complain", "frustration", LOW)
ASKED_AGAIN = Turn("track_refund", Emotion("frustration", 0.9, LOW), repeated_contact=True)


@pytest.mark.parametrize(
    "turns, without_progress, expected",
    [
        ([ASKED_AGAIN], 1, "repeated_contact"),
        ([Turn("track_refund", Emotion("neutral"), repeated_contact=True)], 1, None),  # calm
        ([FED_UP, SAD, FED_UP], 3, "no_progress"),
        ([FED_UP, SAD, FED_UP], 2, None),  # a request was resolved two turns ago
        ([FED_UP, turn(), FED_UP], 3, None),
        ([turn("complain", "anxiety", LOW)] * 3, 3, None),  # worry is answered, not handed over
        ([FED_UP, FED_UP], 5, None),
    ],
)
def test_repeated_contact_and_no_progress_escalate(turns, without_progress, expected):
    assert escalation_reason(turns, 0, 0.0, without_progress) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("it's for my sister's wedding on saturday", "your sister's wedding"),
        ("I need it before our trip", "your trip"),
        ("this was a birthday present", "a birthday present"),
        ("it's a gift, please hurry", "a gift"),
        ("where is my order", None),
        ("for my information, the box was wet", None),
    ],
)
def test_what_is_at_stake_is_said_back_in_heards_words(text, expected):
    assert stakes(text) == expected


@pytest.mark.parametrize(
    "text, repeated",
    [
        ("this is the third time I'm asking", True),
        ("I've already contacted you twice about it", True),
        ("still no reply from anyone", True),
        ("can you say that again", False),
        ("it's still on its way?", False),
    ],
)
def test_repeated_contact_is_read_from_the_words(text, repeated):
    assert bool(REPEATED_CONTACT.search(text)) is repeated
