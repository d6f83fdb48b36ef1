"""The hand-kept lists of a flow agree (README, "Extending Heard: adding a flow"): every
request in REQUESTS (actions/requests.py) is begun by the rule of data/rules.yml that runs
`action_begin_request`, every answer in info.ANSWERS (actions/info.py) by the rule that
runs `action_answer`, and neither rule lists an intent its action has no entry for (the
customer would get a "technical problem" reply instead of their answer).

Which rule is right follows from the table an intent is in, not from `Request.identity`:
a request without identity checks (create_account, recover_password...) still goes
through the form, which collects its details; only info.ANSWERS entries are answered at
once."""

from __future__ import annotations

import copy
from typing import Any, Collection, Dict, List, Mapping, Tuple

import pytest
import yaml

from actions import dialogue, info
from actions.requests import REQUESTS
from heard.paths import ROOT

RULES = ROOT / "data" / "rules.yml"
BEGIN, ANSWER = "action_begin_request", "action_answer"
TABLES = {BEGIN: "REQUESTS in actions/requests.py", ANSWER: "info.ANSWERS in actions/info.py"}
# Intents the answers rule lists that are no info.ANSWERS entry, and why.
NOT_ANSWERS = {
    "complaint": "opens a case: feedback.complaint, through dialogue.DIRECT",
    "review": "files the review: feedback.review, through dialogue.DIRECT",
}


def rules_by_intent(rules: Mapping[str, Any]) -> Dict[str, List[Tuple[str, str]]]:
    """intent -> (rule, the action it runs next) for every user step of every rule, an
    `intent:` alone or in an `or:` list."""
    found: Dict[str, List[Tuple[str, str]]] = {}
    for rule in rules.get("rules") or []:
        steps = rule.get("steps") or []
        for i, step in enumerate(steps):
            intents = [step["intent"]] if "intent" in step else []
            intents += [s["intent"] for s in step.get("or") or [] if "intent" in s]
            action = next((s["action"] for s in steps[i + 1 :] if "action" in s), "")
            for intent in intents:
                found.setdefault(intent, []).append((rule.get("rule", "?"), action))
    return found


def problems(
    by_intent: Mapping[str, List[Tuple[str, str]]],
    requests: Collection[str],
    answers: Collection[str],
    not_answers: Collection[str] = tuple(NOT_ANSWERS),
) -> List[str]:
    """Each disagreement between the rules and the tables, naming the intent and the file
    to edit."""
    found = [
        f"{intent}: both a request (actions/requests.py) and an answer (actions/info.py); keep one"
        for intent in sorted(set(requests) & set(answers))
    ]
    # intent -> (the action its rule must run, the table that says so)
    expected = {
        **{i: (ANSWER, "NOT_ANSWERS in tests/test_requests_match_rules.py") for i in not_answers},
        **{i: (ANSWER, TABLES[ANSWER]) for i in answers},
        **{i: (BEGIN, TABLES[BEGIN]) for i in requests},
    }
    for intent, (action, table) in sorted(expected.items()):
        listed = by_intent.get(intent, [])
        if action not in [a for _, a in listed]:
            found.append(
                f"{intent}: in {table} but in no rule of data/rules.yml that runs "
                f"{action}: add `- intent: {intent}` to that rule's `or:` list"
            )
        found += [
            f"{intent}: in {table}, but data/rules.yml's rule {rule!r} runs {other} "
            f"for it: remove it from that rule"
            for rule, other in listed
            if other != action
        ]
    for intent, listed in sorted(by_intent.items()):
        found += [
            f"{intent}: data/rules.yml's rule {rule!r} runs {action} for it, but "
            f"{TABLES[action]} has no entry for it: add one there (or remove the intent "
            f"from that rule)"
            for rule, action in listed
            if action in TABLES and intent not in expected
        ]
    return found


def current() -> Dict[str, Any]:
    return yaml.safe_load(RULES.read_text())


def test_the_rules_list_exactly_the_requests_and_the_answers():
    found = problems(rules_by_intent(current()), REQUESTS, info.ANSWERS)
    assert not found, "\n".join(found)


def test_the_answers_rule_exceptions_are_answered_without_an_answers_entry():
    for intent, why in NOT_ANSWERS.items():
        assert intent in dialogue.DIRECT, f"{intent} ({why}) is not in dialogue.DIRECT"
        assert intent not in info.ANSWERS and intent not in REQUESTS, f"{intent}: drop it here"


def without(rules: Dict[str, Any], intent: str) -> Dict[str, Any]:
    """The rules with `intent` taken out of every `or:` list."""
    changed = copy.deepcopy(rules)
    for rule in changed["rules"]:
        for step in rule["steps"]:
            if "or" in step:
                step["or"] = [s for s in step["or"] if s.get("intent") != intent]
    return changed


def with_intent(rules: Dict[str, Any], action: str, intent: str) -> Dict[str, Any]:
    """The rules with `intent` added to the `or:` list of the rule that runs `action`."""
    changed = copy.deepcopy(rules)
    for rule in changed["rules"]:
        steps = rule["steps"]
        if "or" in steps[0] and {"action": action} in steps:
            steps[0]["or"].append({"intent": intent})
    return changed


def rule_running(action: str) -> str:
    """The name of the rule whose `or:` list leads to `action`."""
    (name,) = {r for rules in rules_by_intent(current()).values() for r, a in rules if a == action}
    return name


BEGIN_RULE, ANSWER_RULE = rule_running(BEGIN), rule_running(ANSWER)
SLIPS = {
    "a request added to REQUESTS only": (
        lambda rules: rules,
        {**REQUESTS, "unregistered_request": REQUESTS["track_order"]},
        info.ANSWERS,
        [
            "unregistered_request: in REQUESTS in actions/requests.py but in no rule of data/rules.yml "
            "that runs action_begin_request: add `- intent: unregistered_request` to that rule's "
            "`or:` list"
        ],
    ),
    "a request added to the rule only": (
        lambda rules: with_intent(rules, BEGIN, "unregistered_request"),
        REQUESTS,
        info.ANSWERS,
        [
            f"unregistered_request: data/rules.yml's rule {BEGIN_RULE!r} runs action_begin_request for "
            "it, but REQUESTS in actions/requests.py has no entry for it: add one there (or "
            "remove the intent from that rule)"
        ],
    ),
    "an answer added to the rule only": (
        lambda rules: with_intent(rules, ANSWER, "unregistered_answer"),
        REQUESTS,
        info.ANSWERS,
        [
            f"unregistered_answer: data/rules.yml's rule {ANSWER_RULE!r} runs action_answer for "
            "it, but info.ANSWERS in actions/info.py has no entry for it: "
            "add one there (or remove the intent from that rule)"
        ],
    ),
    "an answer added to ANSWERS only": (
        lambda rules: rules,
        REQUESTS,
        {**info.ANSWERS, "unregistered_answer": "utter_unregistered_answer"},
        [
            "unregistered_answer: in info.ANSWERS in actions/info.py but in no rule of "
            "data/rules.yml that runs action_answer: add `- intent: unregistered_answer` to "
            "that rule's `or:` list"
        ],
    ),
    # No identity check, but details the form collects: the answers rule is wrong for it.
    "a request without identity in the answers rule": (
        lambda rules: with_intent(without(rules, "create_account"), ANSWER, "create_account"),
        REQUESTS,
        info.ANSWERS,
        [
            "create_account: in REQUESTS in actions/requests.py but in no rule of "
            "data/rules.yml that runs action_begin_request: add `- intent: create_account` "
            "to that rule's `or:` list",
            "create_account: in REQUESTS in actions/requests.py, but data/rules.yml's rule "
            f"{ANSWER_RULE!r} runs action_answer for it: remove it from that rule",
        ],
    ),
    "a feedback intent dropped from the answers rule": (
        lambda rules: without(rules, "review"),
        REQUESTS,
        info.ANSWERS,
        [
            "review: in NOT_ANSWERS in tests/test_requests_match_rules.py but in no rule of "
            "data/rules.yml that runs action_answer: add `- intent: review` to that rule's "
            "`or:` list"
        ],
    ),
    "an answer in both tables": (
        lambda rules: rules,
        {**REQUESTS, "place_order": REQUESTS["track_order"]},
        info.ANSWERS,
        [
            "place_order: both a request (actions/requests.py) and an answer "
            "(actions/info.py); keep one",
            "place_order: in REQUESTS in actions/requests.py but in no rule of "
            "data/rules.yml that runs action_begin_request: add `- intent: place_order` to "
            "that rule's `or:` list",
            "place_order: in REQUESTS in actions/requests.py, but data/rules.yml's rule "
            f"{ANSWER_RULE!r} runs action_answer for it: remove it from that rule",
        ],
    ),
}


@pytest.mark.parametrize("slip", SLIPS, ids=list(SLIPS))
def test_each_slip_names_the_intent_and_the_file_to_edit(slip):
    change, requests, answers, expected = SLIPS[slip]
    assert problems(rules_by_intent(change(current())), requests, answers) == expected
