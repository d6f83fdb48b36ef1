"""Every edit of a flow, decided from the project's texts (nothing is written here), and
what the developer writes next, numbered, each at its file:line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional

from bot.new_flow.code_edits import add_answer, add_handler, add_request, area_module, flow_test
from bot.new_flow.data_edits import (
    TEST_EXAMPLES,
    TRAINING_EXAMPLES,
    add_rule_intent,
    add_story,
    add_test_examples,
    nlu_file,
    story,
)
from bot.new_flow.domain_edits import add_button, add_intent, add_responses
from bot.new_flow.flow import (
    DOMAIN,
    INFO_FILE,
    NLU_TEST,
    REQUESTS_FILE,
    RULES,
    STORIES,
    Flow,
    Project,
)
from bot.new_flow.flow_check import check_flow
from bot.new_flow.placeholders import PLACEHOLDER
from bot.new_flow.text_edits import find_line, split_lines


@dataclass
class Scaffold:
    """The files to write (relative path -> new text), which of them are new, and what the
    developer writes next."""

    flow: Flow
    files: Dict[str, str] = field(default_factory=dict)
    created: List[str] = field(default_factory=list)
    steps: List[str] = field(default_factory=list)


def scaffold(
    project: Project,
    name: str,
    area: Optional[str],
    identity: bool = True,
    answer: bool = False,
) -> Scaffold:
    """Every edit of the flow, decided from the project's texts; nothing is written here."""
    flow = check_flow(project, name, area, identity, answer)
    result = Scaffold(flow)
    files = result.files
    domain = add_intent(project.text(DOMAIN), name)
    domain = add_button(domain, name, flow.title)
    files[DOMAIN] = add_responses(domain, flow)
    files[flow.nlu_file] = nlu_file(flow)
    files[NLU_TEST] = add_test_examples(project.text(NLU_TEST), flow)
    files[RULES] = add_rule_intent(project.text(RULES), flow)
    files[STORIES] = add_story(project.text(STORIES), flow)
    files[flow.test_file] = flow_test(flow)
    if answer:
        files[INFO_FILE] = add_answer(project.text(INFO_FILE), flow)
    else:
        files[REQUESTS_FILE] = add_request(project.text(REQUESTS_FILE), flow)
        module = flow.handler_file
        files[module] = (
            area_module(flow) if flow.new_area else add_handler(project.text(module), flow)
        )
    result.created = sorted(path for path in files if path not in project.texts)
    result.steps = next_steps(flow, files)
    return result


def next_steps(flow: Flow, files: Mapping[str, str]) -> List[str]:
    """What the developer writes next, numbered, with file:line."""

    def at(path: str, pattern: str) -> str:
        """path:line of the first placeholder from the first line matching `pattern`."""
        lines = split_lines(files[path])
        start = max(find_line(lines, pattern), 0)
        marked = next((i for i in range(start, len(lines)) if PLACEHOLDER in lines[i]), start)
        return f"{path}:{marked + 1}"

    name, response = re.escape(flow.name), re.escape(flow.response)
    examples = at(flow.nlu_file, r"^- intent: ")
    tests = at(NLU_TEST, rf"^- intent: {name}\s*$")
    story_line = at(STORIES, "^" + re.escape(story(flow).splitlines()[0]) + r"\s*$")
    wording = at(DOMAIN, rf"^  {response}:\s*$")
    payload = rf'^\s+payload: "/{name}"'
    button = f"{DOMAIN}:{find_line(split_lines(files[DOMAIN]), payload) + 1}"
    values = (
        "{first_name} and {order_id} are filled in"
        if flow.identity
        else "no {first_name} or {order_id}: there is no verified order"
    )
    steps = [
        f"{examples}: replace the {TRAINING_EXAMPLES} placeholder examples with about 100 "
        "varied ones of your own (terse, rambling, typos, formal), order numbers annotated "
        "as [1234567](order_id); never copied from tests/data/nlu_test.yml.",
        f"{tests}: replace the {TEST_EXAMPLES} test placeholders with held-out messages "
        "written apart from the training examples (never copied into training, nor from it).",
        f"{story_line}: replace the story's placeholder with what a customer would write"
        + (" (keep the annotated order number)." if flow.identity else "."),
        f"{wording}: word {flow.response} and its _reassure, _steps and voice variants "
        f"({values}); the button title at {button} if {flow.title!r} is not how a customer "
        "would put it.",
    ]
    if not flow.answer:
        handler = at(flow.handler_file, rf"^def {name}\(")
        steps.append(
            f"{handler}: write the handler's docstring and its effect (through ctx.repo, "
            f"e.g. a case), and assert the effect in {flow.test_file}."
        )
    steps.append(
        "make check: no placeholder left, lint, the flow tests and the data at once; then, "
        "since the examples changed, one training and every test story (each wrong intent "
        "with its top 3 and nearest training examples); make test before you push."
    )
    return [f"{i}. {step}" for i, step in enumerate(steps, 1)]
