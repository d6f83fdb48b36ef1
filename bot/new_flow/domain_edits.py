"""The edits of domain.yml: the intent, its clarification button, and its responses (with
their _reassure, _steps and voice variants) in its area's section."""

from __future__ import annotations

import re
from typing import Dict

from bot.new_flow.flow import FIRST_MOVE, Flow, ScaffoldError
from bot.new_flow.placeholders import PLACEHOLDER
from bot.new_flow.text_edits import (
    block_end,
    find_line,
    indent_of,
    insert_lines,
    split_lines,
    yaml_quoted,
)

# The responses section of domain.yml a request's wording goes to, by area (else the area's
# own name); an area without a section gets a new one at the end of the responses.
SECTIONS = {"billing": "payments and invoices"}
ANSWERS_SECTION = "answers"
SECTION_WIDTH = 94


def add_intent(domain_text: str, name: str) -> str:
    """`- NAME` in domain.yml's `intents:` list, before the conversation moves."""
    lines = split_lines(domain_text)
    start = find_line(lines, r"^intents:\s*$")
    if start < 0:
        raise ScaffoldError("domain.yml: no top-level `intents:` list (the anchor for the intent)")
    items = [
        i for i in range(start + 1, block_end(lines, start, 0)) if re.match(r"^\s+- ", lines[i])
    ]
    if not items:
        raise ScaffoldError("domain.yml: the `intents:` list is empty or not a block list")
    before = next((i for i in items if lines[i].split("- ", 1)[1].strip() == FIRST_MOVE), None)
    prefix = lines[items[0]].split("- ", 1)[0]
    return insert_lines(
        domain_text, before if before is not None else items[-1] + 1, f"{prefix}- {name}\n"
    )


def add_button(domain_text: str, name: str, title: str) -> str:
    """A button for the intent at the end of `utter_clarify_options` (the requests Heard may
    offer when it is unsure)."""
    lines = split_lines(domain_text)
    start = find_line(lines, r"^  utter_clarify_options:\s*$")
    if start < 0:
        raise ScaffoldError("domain.yml: no `utter_clarify_options` response (its buttons)")
    end = block_end(lines, start, 2)
    payloads = [i for i in range(start, end) if re.match(r"^\s+payload:", lines[i])]
    if not payloads:
        raise ScaffoldError("domain.yml: `utter_clarify_options` has no buttons to add to")
    if any(f'"/{name}"' in lines[i] for i in payloads):
        raise ScaffoldError(f"domain.yml: utter_clarify_options has a /{name} button already")
    last = payloads[-1]
    title_line = find_line(lines, r"^\s+- title:", last - 1, last)
    if title_line < 0:
        raise ScaffoldError(
            "domain.yml: utter_clarify_options' buttons are not `- title:` then `payload:`"
        )
    dash = lines[title_line].split("- ", 1)[0]
    key = " " * indent_of(lines[last])
    block = f"{dash}- title: {yaml_quoted(title)}\n{key}payload: {yaml_quoted('/' + name)}\n"
    return insert_lines(domain_text, last + 1, block)


def response_texts(flow: Flow) -> Dict[str, str]:
    """The wording to replace, by variant: plain, reassure, steps, voice."""
    about = flow.words
    if flow.identity:
        lead = "{first_name}, order {order_id}: "
        what = f"what Heard did about {about} and what happens next"
    elif flow.answer:
        lead = ""
        what = f"the answer about {about}, in a sentence or two"
    else:
        lead = ""
        what = f"what Heard did about {about} and what happens next"
    what = what[:1].upper() + what[1:] if not lead else what
    return {
        "plain": f"{lead}{what} {PLACEHOLDER}.",
        "reassure": f"{lead}{what}, with a word that puts an anxious customer's mind at rest "
        f"{PLACEHOLDER}.",
        "steps": f"{lead}{what}, one step at a time for a confused customer (Step 1: ...) "
        f"{PLACEHOLDER}.",
        "voice": f"{lead}{what}, worded to be heard on the phone: no links, no addresses to "
        f"read out {PLACEHOLDER}.",
    }


def responses_block(flow: Flow) -> str:
    texts = response_texts(flow)
    base = flow.response
    return (
        f"  {base}:\n"
        f"    - text: {yaml_quoted(texts['plain'])}\n"
        f"    - channel: voice\n"
        f"      text: {yaml_quoted(texts['voice'])}\n"
        f"  {base}_reassure:\n"
        f"    - text: {yaml_quoted(texts['reassure'])}\n"
        f"  {base}_steps:\n"
        f"    - text: {yaml_quoted(texts['steps'])}\n"
    )


def section_title(flow: Flow) -> str:
    if flow.answer:
        return ANSWERS_SECTION
    assert flow.area is not None
    return SECTIONS.get(flow.area, flow.area.replace("_", " "))


def add_responses(domain_text: str, flow: Flow) -> str:
    """The flow's responses at the end of its section of `responses:` (`# --- orders ---`),
    or in a new section at the end of the responses."""
    lines = split_lines(domain_text)
    start = find_line(lines, r"^responses:\s*$")
    if start < 0:
        raise ScaffoldError("domain.yml: no top-level `responses:` (the anchor for the wording)")
    end = block_end(lines, start, 0)
    title = section_title(flow)
    header = find_line(lines, rf"^  # --- {re.escape(title)}\b", start + 1, end)
    block = responses_block(flow)
    if header < 0:
        heading = f"  # --- {title} "
        block = f"\n{heading.ljust(SECTION_WIDTH, '-')}\n{block}"
        stop = end
    else:
        following = find_line(lines, r"^  # --- ", header + 1, end)
        stop = following if following >= 0 else end
    last = stop - 1
    while last > start and not lines[last].strip():
        last -= 1
    return insert_lines(domain_text, last + 1, block)
