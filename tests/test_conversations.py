"""The conversation scorecard (bench/conversation_files.py, conversation_play.py,
conversations.py): loading the files, telling replies apart, the checks and every measure
on hand-made transcripts; then (slow) the conversations marked quick: true against the
real servers."""

from __future__ import annotations

import re
import textwrap

import pytest
import yaml

from bench.conversation_files import (
    Conversation,
    ConversationFileError,
    ExpectedDb,
    Turn,
    default_files,
    load,
    select,
)
from bench.conversation_play import (
    DOMAIN,
    PLACEHOLDER,
    Effects,
    Exchange,
    Handoff,
    Played,
    ReplyIndex,
    Shop,
    effects,
    play,
    reset,
    rows,
    shop_facts,
)
from bench.conversations import (
    acknowledgements,
    apologies,
    escalation,
    escalations,
    failures,
    handoff_line_turns,
    personalisation,
    personalised,
    rating_requests,
    repeated_sympathy,
    report,
    scorecard,
    tickets_match,
    understood,
)
from store import models as m

VALID = """
conversations:
  - id: late-desk
    quick: true
    turns:
      - user: "order 4567890 is late AGAIN"
        emotion: anger
        shop_at_fault: true
        expect:
          reply: ["(?i)e-?mail"]
      - user: 5
        emotion: neutral
    outcome:
      handoff: true
      escalate_by: 2
      db:
        tickets: [{kind: damage, priority: high}, {kind: complaint}]
        cancelled: [1234567]
        vouchers: 1
"""


def write(tmp_path, text: str, name: str = "a.yml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def load_error(tmp_path, text: str) -> str:
    with pytest.raises(ConversationFileError) as raised:
        load([write(tmp_path, text)])
    return str(raised.value)


# --- loading -------------------------------------------------------------------------------


def test_a_valid_file_loads_with_its_defaults(tmp_path):
    (c,) = load([write(tmp_path, VALID)])
    assert c.id == "late-desk" and c.quick and c.handoff and c.escalate_by == 2
    assert c.turns[0].shop_at_fault and c.turns[0].reply[0].search("your E-mail")
    assert c.turns[1].user == "5" and not c.turns[1].shop_at_fault  # YAML read 5 as a number
    assert c.db == ExpectedDb(
        tickets=(("damage", "high"), ("complaint", None)), cancelled=("1234567",), vouchers=1
    )
    assert c.db.refunds == 0 and c.db.emails is None and c.db.feedback is None


def test_handoff_without_escalate_by_may_come_by_the_last_turn(tmp_path):
    (c,) = load([write(tmp_path, VALID.replace("      escalate_by: 2\n", ""))])
    assert c.escalate_by == 2 == len(c.turns)


@pytest.mark.parametrize(
    "change, message",
    [
        (("emotion: anger", "emotion: furious"), "turn 1: unknown emotion 'furious'"),
        (
            ('"(?i)e-?mail"', '"(unclosed"'),
            "turn 1, expect.reply: bad regular expression '(unclosed'",
        ),
        (("escalate_by: 2", "escalate_by: 3"), "escalate_by must be a turn from 1 to 2, got 3"),
        (("escalate_by: 2", "escalate_by: 0"), "escalate_by must be a turn from 1 to 2, got 0"),
        (("handoff: true", "handoff: false"), "escalate_by needs handoff: true"),
        (
            ("shop_at_fault: true", "shop_at_fault: maybe"),
            "turn 1, shop_at_fault: expected true or false",
        ),
        (("vouchers: 1", "voucher: 1"), "outcome.db: unknown key voucher"),
        (("priority: high", "priority: asap"), "unknown priority 'asap'"),
        (("quick: true", "channel: voice"), "channel 'voice' is not supported"),
    ],
)
def test_a_bad_shape_names_the_file_and_the_conversation(tmp_path, change, message):
    error = load_error(tmp_path, VALID.replace(*change))
    assert error.startswith(f"{(tmp_path / 'a.yml').resolve()}: conversation 'late-desk'")
    assert message in error


def test_a_duplicate_id_names_both_files(tmp_path):
    with pytest.raises(
        ConversationFileError,
        match=r"b\.yml: conversation 'late-desk': "
        r"duplicate id \(also in .*a\.yml\)",
    ):
        load([write(tmp_path, VALID), write(tmp_path, VALID, "b.yml")])


def test_files_that_are_not_conversation_lists_are_refused(tmp_path):
    assert "not valid YAML" in load_error(tmp_path, "conversations: [\n")
    assert "missing conversations" in load_error(tmp_path, "conversations:\n")
    assert "unknown key turns" in load_error(tmp_path, "turns: []\n")
    assert "conversation #1: missing turns" in load_error(tmp_path, "conversations: [{id: x}]\n")
    assert "conversation 'x': turns is empty" in load_error(
        tmp_path, "conversations: [{id: x, turns: []}]\n"
    )
    assert "turn 1: missing emotion" in load_error(
        tmp_path, "conversations: [{id: x, turns: [{user: hi}]}]\n"
    )


def test_select_by_quick_and_id(tmp_path):
    both = load(
        [
            write(
                tmp_path,
                VALID
                + VALID.replace("late-desk", "slow")
                .replace("quick: true", "quick: false")
                .replace("conversations:\n", ""),
            )
        ]
    )
    assert [c.id for c in select(both, quick=True)] == ["late-desk"]
    assert [c.id for c in select(both, only=["slow"])] == ["slow"]
    with pytest.raises(ValueError, match="no conversation with id nope"):
        select(both, only=["nope"])


def test_every_conversation_file_in_the_repository_loads():
    load(default_files())  # raises, naming the file and conversation, on a bad shape


# --- telling replies apart ---------------------------------------------------------------------

RESPONSES = {
    "utter_ack_anger_low": [{"text": "I hear you."}],
    "utter_ack_frustration_high": [{"text": "I understand how frustrating it is."}],
    "utter_ack_sadness_low": [{"text": "That's a real letdown."}],
    "utter_ack_anxiety_low": [{"text": "No need to worry."}],
    "utter_ack_joy_low": [{"text": "Glad to hear it."}],
    "utter_apology_late_delivery": [{"text": "I'm sorry, your order is late."}],
    "utter_ask_rating": [{"text": "How would you rate this chat (1 to 5)?"}],
    "utter_handoff_customer_request": [{"text": "A colleague will take over."}],
    "utter_handoff_wait": [{"text": "Your ticket number is {reference}."}],
    "utter_default": [{"text": "Sorry, I didn't get that."}],
    "utter_clarify": [{"text": "Is it one of these?"}, {"channel": "voice", "text": "Is it {a}?"}],
    "utter_order_delivered": [{"text": "{first_name}, order {order_id} ({items}) was delivered."}],
    "utter_greet": [{"text": "Hi!"}],
}
INDEX = ReplyIndex(RESPONSES)


def test_placeholders_match_any_value_and_the_rest_literally():
    line = "Jane, order 3456789 (coffee maker, 2 x mugs) was delivered."
    assert INDEX.matches(line) == [
        (
            "utter_order_delivered",
            {"first_name": "Jane", "order_id": "3456789", "items": "coffee maker, 2 x mugs"},
        )
    ]
    assert INDEX.names(", order 1 () was delivered.") == {"utter_order_delivered"}
    assert INDEX.names("Jane, order 3456789 [coffee maker] was delivered.") == set()
    assert INDEX.names("How would you rate this chat (1 to 5)?") == {"utter_ask_rating"}
    assert INDEX.names("How would you rate this chat (1 to 5)") == set()  # the whole line
    assert INDEX.names("Hi!!") == set()


def test_lines_are_sorted_into_kinds():
    assert INDEX.acknowledged("I hear you.") == {"anger/frustration"}
    assert INDEX.acknowledged("I understand how frustrating it is.") == {"anger/frustration"}
    assert INDEX.acknowledged("Glad to hear it.") == {"joy"}
    assert INDEX.acknowledged("I'm sorry, your order is late.") == set()
    assert INDEX.is_apology("I'm sorry, your order is late.")
    assert INDEX.is_handoff("Your ticket number is HO-1234.")
    assert not INDEX.is_handoff("Hi!")


def test_every_response_of_the_domain_is_recognised_as_itself():
    responses = yaml.safe_load(DOMAIN.read_text())["responses"]
    index = ReplyIndex(responses)
    for name, variations in responses.items():
        for variation in variations:
            if variation.get("text"):  # placeholders filled with regex-looking values
                said = PLACEHOLDER.sub("Jane (1.5)*?", variation["text"])
                assert name in index.names(said), (name, said)
    assert index.names(
        "Before you go: how would you rate this chat, from 1 (poor) to 5 (excellent)?"
    ) == {"utter_ask_rating"}
    assert index.names("I'm Heard, an automated assistant.") == set()


# --- what a conversation did to the shop ----------------------------------------------------


def test_effects_are_rows_added_and_orders_newly_cancelled():
    before = {
        "orders": {("1",): {"status": "processing"}, ("2",): {"status": "cancelled"}},
        "refunds": {(1,): {"status": "approved"}},
        "tickets": {},
    }
    after = {
        "orders": {("1",): {"status": "cancelled"}, ("2",): {"status": "cancelled"}},
        "refunds": {(1,): {"status": "paid"}, (2,): {"status": "requested"}},
        "tickets": {(1,): {"kind": "damage", "priority": "high"}},
        "outbound_emails": {(1,): {}, (2,): {}},
        "handoffs": {
            (1,): {
                "reason": "customer_request",
                "transcript": [{"sender": "customer"}, {"sender": "heard"}, {"sender": "customer"}],
            }
        },
    }
    assert effects(before, after) == Effects(
        tickets=(("damage", "high"),),
        refunds=1,
        cancelled=("1",),
        emails=2,
        handoffs=(Handoff("customer_request", 2),),
    )


def test_reset_brings_back_the_seeded_shop(repo):
    with repo.session() as s:
        s.get(m.Order, "1234567").status = "cancelled"
        s.add(
            m.OutboundEmail(to_address="a@b.c", kind="reset", subject="x", created_at=repo.clock())
        )
    reset(repo)
    state = rows(repo)
    assert state["orders"][("1234567",)]["status"] == "processing"
    assert not state["outbound_emails"] and len(state["refunds"]) == 3
    shop = shop_facts(state)
    assert {"Jane", "Omar", "Mei", "Lukas", "Ana"} == shop.first_names
    assert {"coffee maker", "DHL2345678X"} <= shop.order_facts


# --- checks and measures on hand-made transcripts ----------------------------------------------

SHOP = Shop(frozenset({"Jane", "Omar"}), frozenset({"coffee maker", "UPS3456789X"}))


def played(
    *turns,
    handoff=False,
    escalate_by=0,
    db=ExpectedDb(),
    effects=Effects(),
    replies=(),
    not_replies=(),
):
    """turns: (emotion, lines) or (emotion, lines, shop_at_fault)."""
    conversation = Conversation(
        "c",
        "x.yml",
        tuple(Turn("...", t[0], t[2] if len(t) > 2 else False) for t in turns),
        replies=tuple(map(re.compile, replies)),
        not_replies=tuple(map(re.compile, not_replies)),
        handoff=handoff,
        escalate_by=escalate_by,
        db=db,
    )
    return Played(
        conversation, tuple(Exchange(tuple(t[1]), ms=100.0) for t in turns), effects, SHOP
    )


def test_a_conversation_that_does_what_its_file_says_passes():
    p = played(
        ("anger", ["I hear you.", "Your ticket number is HO-1."]),
        handoff=True,
        escalate_by=1,
        replies=["ticket"],
        not_replies=["rate"],
        effects=Effects(handoffs=(Handoff("repeated_anger", 1),)),
    )
    assert failures(p, INDEX) == []


def test_every_kind_of_failed_check_is_reported():
    conversation = Conversation(
        "c",
        "x.yml",
        (
            Turn(
                "a", "neutral", reply=(re.compile("e-?mail"),), not_reply=(re.compile("(?i)sorry"),)
            ),
            Turn("b", "neutral"),
        ),
        replies=(re.compile("refund"),),
        not_replies=(re.compile("Hi"),),
        db=ExpectedDb(tickets=(("damage", None),), feedback=1),
    )
    p = Played(
        conversation,
        (Exchange(("Sorry, I didn't get that.",)), Exchange((), error="TimeoutError: timed out")),
        Effects(
            refunds=1,
            cancelled=("1234567",),
            vouchers=3,
            handoffs=(Handoff("customer_request", 2),),
        ),
        SHOP,
    )
    assert failures(p, INDEX) == [
        "turn 1: no reply matches 'e-?mail'",
        "turn 1: '(?i)sorry' matches \"Sorry, I didn't get that.\"",
        "turn 2: no reply (TimeoutError: timed out)",
        "outcome: no reply matches 'refund'",
        "handoff: customer_request recorded, expected none",
        "db: tickets opened: none; expected: damage (any priority)",
        "db: 1 refunds created, expected 0",
        "db: 0 feedback created, expected 1",
        "db: orders cancelled: 1234567; expected: none",
    ]  # vouchers were not listed, so not checked; "Hi" matches no line ("Hi!" is not said)


def test_handoffs_are_timely_late_or_missed():
    told_in_2 = [("anger", ["I hear you."]), ("anger", ["A colleague will take over."])]
    recorded = Effects(handoffs=(Handoff("customer_request", 2),))
    assert (
        escalation(played(*told_in_2, handoff=True, escalate_by=2, effects=recorded), INDEX)
        == "timely"
    )
    late = played(*told_in_2, handoff=True, escalate_by=1, effects=recorded)
    assert escalation(late, INDEX) == "late"
    assert failures(late, INDEX) == [
        "handoff: recorded, but the customer was told in turn 2, expected by turn 1"
    ]
    assert escalation(played(*told_in_2, handoff=True, escalate_by=2), INDEX) == "missed"
    never_told = played(
        ("anger", ["I hear you."]),
        handoff=True,
        escalate_by=1,
        effects=Effects(handoffs=(Handoff("customer_request", 1),)),
    )
    assert escalation(never_told, INDEX) == "late"
    assert escalation(played(*told_in_2, effects=recorded), INDEX) is None

    counts = escalations(
        [
            played(*told_in_2, handoff=True, escalate_by=2, effects=recorded),
            played(*told_in_2, handoff=True, escalate_by=2),
            played(*told_in_2, effects=recorded),
            played(("neutral", ["Hi!"])),
        ],
        INDEX,
    )
    assert (counts["timely"], counts["late"], counts["missed"], counts["due"]) == (1, 0, 1, 2)
    assert (counts["unwanted"], counts["not_due"]) == (1, 2)


def test_a_handoff_line_before_the_handoff_was_recorded_does_not_count_for_it():
    p = played(
        ("anger", ["A colleague will take over."]),
        ("anger", ["I hear you."]),
        ("anger", ["Your ticket number is HO-2."]),
        effects=Effects(handoffs=(Handoff("customer_request", 2),)),
    )
    assert handoff_line_turns(p, INDEX) == [3]


def test_tickets_match_kind_and_only_the_priorities_given():
    assert tickets_match(
        [("damage", None), ("damage", "high")], [("damage", "high"), ("damage", "low")]
    )
    assert not tickets_match([("damage", "high")], [("damage", "low")])
    assert not tickets_match([("damage", None)], [("damage", "low"), ("complaint", "low")])
    assert tickets_match([], [])


def test_understood_turns_are_those_without_a_fallback_line():
    p = played(
        ("neutral", ["Hi!"]),
        ("neutral", ["Sorry, I didn't get that."]),
        ("confusion", ["Is it one of these?"]),
        ("neutral", []),
    )
    timed_out = Played(
        p.conversation, p.exchanges[:3] + (Exchange((), error="timeout"),), p.effects, SHOP
    )
    assert understood([p], INDEX) == (2, 4)
    assert understood([timed_out], INDEX) == (1, 4)


def test_acknowledgements_are_scored_on_changes_of_feeling_and_on_what_was_said():
    p = played(
        ("anger", ["I hear you."]),  # scored: first feeling, matches
        ("frustration", []),  # same family: not scored
        ("sadness", ["I understand how frustrating it is."]),  # scored: wrong family
        ("neutral", ["Glad to hear it."]),  # scored (said): no negative ack
        ("neutral", ["No need to worry."]),  # scored (said): negative ack
        ("anxiety", []),  # scored: change, none said
        ("anxiety", ["No need to worry."]),  # scored (said), matches
    )
    assert acknowledgements([p], INDEX) == (3, 6)


def test_apologies_are_counted_where_needless_and_where_missing():
    sorry = "I'm sorry, your order is late."
    calm = played(("neutral", [sorry, sorry]))
    at_fault_silent = played(("anger", ["I hear you."], True))
    at_fault_sorry = played(("anger", [sorry], True), ("neutral", ["Hi!"]))
    assert apologies([calm, at_fault_silent, at_fault_sorry], INDEX) == (2, 1)


def test_repeated_sympathy_counts_word_for_word_repeats_within_a_conversation():
    p = played(
        ("anger", ["I hear you.", "Hi!"]),
        ("anger", ["I hear you.", "Hi!"]),
        ("anger", ["I hear you.", "I'm sorry, your order is late."]),
    )
    other = played(("anger", ["I'm sorry, your order is late."]))
    assert repeated_sympathy([p, other], INDEX) == 2


def test_rating_requests_to_upset_customers():
    rate = "How would you rate this chat (1 to 5)?"
    p = played(("sadness", [rate]), ("neutral", [rate]), ("joy", ["Glad to hear it."]))
    assert rating_requests([p], INDEX) == (1, 2)


def test_personalisation_among_verified_customers():
    by_name = played(("neutral", ["Jane, order 3456789 (coffee maker) was delivered."]))
    nameless = played(("neutral", [", order 3456789 (coffee maker) was delivered."]))
    stranger = played(("neutral", ["Hi!"]), ("neutral", ["Sorry, I didn't get that."]))
    fact_only = played(("neutral", ["Your ticket number is UPS3456789X."]))
    named_elsewhere = played(("neutral", ["Your ticket number is Jane."]))
    assert personalised(named_elsewhere, INDEX) == (True, False)
    assert personalised(by_name, INDEX) == (True, True)
    assert personalised(nameless, INDEX) == (True, False)
    assert personalised(stranger, INDEX) == (False, False)
    assert personalisation([by_name, nameless, stranger, fact_only], INDEX) == (1, 3)


def test_the_scorecard_table():
    good = played(
        ("anger", ["I hear you.", "Your ticket number is HO-1."]),
        handoff=True,
        escalate_by=1,
        effects=Effects(handoffs=(Handoff("repeated_anger", 1),)),
    )
    bad = played(
        ("neutral", ["Sorry, I didn't get that."]), ("neutral", ["Hi!"]), effects=Effects(refunds=1)
    )
    table = scorecard([good, bad], INDEX)
    assert table["conversations (turns)"] == "2 (3)"
    assert table["task success"] == "1/2 (50%)"
    assert table["understood turns (no fallback)"] == "2/3 (67%)"
    assert table["escalations timely / late / missed"] == "1 / 0 / 0 of 1"
    assert table["unwanted handoffs"] == "0 of 1 conversations (0%)"
    assert table["verified customers addressed by first name"] == "n/a (nothing to score)"
    assert table["turn latency p50 / p95"] == "100 / 100 ms"
    assert "1. customer [neutral]: ..." in report(bad, failures(bad, INDEX), INDEX)


# --- the quick conversations against the real servers -------------------------------------------


@pytest.mark.slow
def test_quick_conversations_pass(live):
    quick = select(load(default_files()), quick=True)
    assert quick, "no conversation in tests/conversations/ is marked quick: true"
    index = ReplyIndex.from_domain()
    failed = []
    try:
        for conversation in quick:
            result = play(conversation, live.servers.rasa_url, live.repo)
            checks = failures(result, index)
            if checks:
                failed.append(report(result, checks, index))
    finally:
        reset(live.repo)  # the other tests on `live` expect the seeded shop
    if failed:
        pytest.fail(
            f"{len(failed)} of {len(quick)} quick conversations failed:\n\n" + "\n\n".join(failed),
            pytrace=False,
        )
