"""The edits of the data: the flow's training examples (data/nlu/NAME.yml), its held-out
test lines (tests/data/nlu_test.yml), its place in a rule (data/rules.yml) and its
end-to-end story (tests/test_stories.yml)."""

from __future__ import annotations

import re

from bot.new_flow.flow import FIRST_MOVE, NLU_TEST, RULES, STORIES, Flow, ScaffoldError
from bot.new_flow.placeholders import PLACEHOLDER
from bot.new_flow.text_edits import (
    append_block,
    block_end,
    find_line,
    indent_of,
    insert_lines,
    split_lines,
)

TRAINING_EXAMPLES = 10
# At least tests/test_nlu_test_set.py's MIN_PER_INTENT: every intent needs that many.
TEST_EXAMPLES = 20
ANSWERS_RULE = "answers that need no identity"
STORY_EMAIL = "jane.doe@example.com"
STORY_ORDER = "2045871"


# --- training and test examples -------------------------------------------------------------
def nlu_file(flow: Flow) -> str:
    """data/nlu/NAME.yml: the intent, with examples to replace."""
    examples = "".join(
        f"    - {flow.words} example {i} to replace with a customer's own words {PLACEHOLDER}\n"
        for i in range(1, TRAINING_EXAMPLES + 1)
    )
    return (
        'version: "3.1"\n\n'
        f"# {flow.name}: replace the placeholders with about 100 varied examples of customers\n"
        "# asking for it: terse, rambling, with typos, formal, polite and upset. Annotate order\n"
        "# numbers as [1234567](order_id) (and e-mail addresses as [name@example.com](email)).\n"
        "# Write them yourself: never copy from tests/data/nlu_test.yml, the held-out test set.\n"
        "nlu:\n"
        f"- intent: {flow.name}\n"
        "  examples: |\n"
        f"{examples}"
    )


def add_test_examples(nlu_test_text: str, flow: Flow) -> str:
    """Held-out test lines for the intent in tests/data/nlu_test.yml, before the
    conversation moves."""
    lines = split_lines(nlu_test_text)
    start = find_line(lines, r"^nlu:\s*$")
    if start < 0:
        raise ScaffoldError(f"{NLU_TEST}: no top-level `nlu:` list (the anchor for the test lines)")
    if find_line(lines, rf"^- intent: {re.escape(flow.name)}\s*$", start) >= 0:
        raise ScaffoldError(f"{NLU_TEST} has test lines for {flow.name} already")
    examples = "".join(
        f"    - held-out test line {i} for {flow.words}, written apart from training "
        f"{PLACEHOLDER}\n"
        for i in range(1, TEST_EXAMPLES + 1)
    )
    block = (
        f"# {flow.name}: test lines written apart from {flow.nlu_file}, never copied into\n"
        f"# training (nor from it); at least {TEST_EXAMPLES}, varied as customers write.\n"
        f"- intent: {flow.name}\n"
        "  examples: |\n"
        f"{examples}"
    )
    before = find_line(lines, rf"^- intent: {FIRST_MOVE}\s*$", start)
    if before < 0:
        return nlu_test_text.rstrip("\n") + "\n" + block
    return insert_lines(nlu_test_text, before, block)


# --- rules and stories ----------------------------------------------------------------------
def add_rule_intent(rules_text: str, flow: Flow) -> str:
    """`- intent: NAME` at the end of the `or:` list of the requests rule (the first rule)
    or, for an answer, of the answers rule."""
    lines = split_lines(rules_text)
    if flow.answer:
        rule = find_line(lines, rf"^\s*- rule: {re.escape(ANSWERS_RULE)}\s*$")
        what, action = f"the rule {ANSWERS_RULE!r}", "action_answer"
    else:
        rule = find_line(lines, r"^\s*- rule: ")
        what, action = "the first rule (requests)", "action_begin_request"
    if rule < 0:
        raise ScaffoldError(f"{RULES}: {what} is missing")
    end = block_end(lines, rule, indent_of(lines[rule]))
    if not any(re.match(rf"^\s*- action: {action}\s*$", lines[i]) for i in range(rule, end)):
        raise ScaffoldError(f"{RULES}: {what} does not run {action}")
    alternatives = find_line(lines, r"^\s*- or:\s*$", rule, end)
    if alternatives < 0:
        raise ScaffoldError(f"{RULES}: {what} has no `- or:` list of intents")
    items = block_end(lines, alternatives, indent_of(lines[alternatives]))
    intents = [i for i in range(alternatives + 1, items) if re.match(r"^\s*- intent: ", lines[i])]
    if not intents:
        raise ScaffoldError(f"{RULES}: the `or:` list of {what} lists no intent")
    if any(lines[i].split("intent:", 1)[1].strip() == flow.name for i in intents):
        raise ScaffoldError(f"{RULES}: {what} lists {flow.name} already")
    prefix = lines[intents[-1]].split("- ", 1)[0]
    return insert_lines(rules_text, intents[-1] + 1, f"{prefix}- intent: {flow.name}\n")


def story(flow: Flow) -> str:
    """The flow's end-to-end story, in the style of the existing ones for its kind."""
    said = f"{flow.words} asked in the customer's own words"
    if flow.answer:
        return (
            f"  - story: {flow.words}\n"
            "    steps:\n"
            "      - user: |\n"
            f"          {said} {PLACEHOLDER}\n"
            f"        intent: {flow.name}\n"
            "      - action: action_answer\n"
        )
    if not flow.identity:
        return (
            f"  - story: {flow.words}, nothing left to ask\n"
            "    steps:\n"
            "      - user: |\n"
            f"          {said} {PLACEHOLDER}\n"
            f"        intent: {flow.name}\n"
            "      - action: action_begin_request\n"
            "      - action: request_form\n"
            "      - active_loop: request_form\n"
            "      - active_loop: null\n"
            "      - slot_was_set:\n"
            "          - requested_slot: null\n"
            "      - action: action_resolve_request\n"
        )
    return (
        f"  - story: {flow.words}, order number in the first message, e-mail asked by the form\n"
        "    steps:\n"
        "      - user: |\n"
        f"          {said}, for order [{STORY_ORDER}](order_id) {PLACEHOLDER}\n"
        f"        intent: {flow.name}\n"
        "      - action: action_begin_request\n"
        "      - action: request_form\n"
        "      - active_loop: request_form\n"
        "      - slot_was_set:\n"
        "          - requested_slot: email\n"
        "      - user: |\n"
        f"          [{STORY_EMAIL}](email)\n"
        "        intent: inform\n"
        "      - action: request_form\n"
        "      - active_loop: null\n"
        "      - slot_was_set:\n"
        "          - requested_slot: null\n"
        "      - action: action_resolve_request\n"
    )


def add_story(stories_text: str, flow: Flow) -> str:
    """The story at the end of `stories:` (the file's last top-level key)."""
    lines = split_lines(stories_text)
    start = find_line(lines, r"^stories:\s*$")
    if start < 0:
        raise ScaffoldError(f"{STORIES}: no top-level `stories:` list (the anchor for the story)")
    if block_end(lines, start, 0) != len(lines):
        raise ScaffoldError(f"{STORIES}: `stories:` is not the last top-level key")
    if any(re.match(rf"^\s*intent: {re.escape(flow.name)}\s*$", line) for line in lines):
        raise ScaffoldError(f"{STORIES} has a story for {flow.name} already")
    return append_block(stories_text, story(flow))
