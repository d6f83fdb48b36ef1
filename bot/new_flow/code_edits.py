"""The edits of the code: the handler stub in its area's module (or a new area module), its
REQUESTS entry (actions/requests.py) or an answer's info.ANSWERS entry, and the flow's
action test (tests/test_flow_NAME.py); all as ruff formats them."""

from __future__ import annotations

import re
from typing import Sequence

from bot.new_flow.flow import INFO_FILE, REQUESTS_FILE, Flow, ScaffoldError
from bot.new_flow.flow_check import module_names
from bot.new_flow.placeholders import PLACEHOLDER
from bot.new_flow.text_edits import find_line, insert_lines, split_lines

LINE_LENGTH = 100  # pyproject.toml, [tool.ruff]


# --- the handler ----------------------------------------------------------------------------
def handler_stub(flow: Flow) -> str:
    """The handler to write: reads the verified order (unless the flow has no identity),
    changes data through ctx.repo, says the response, returns whether it is resolved."""
    name, response = flow.name, flow.response
    doc = f"{flow.title}: what Heard does, and what the customer is told {PLACEHOLDER}."
    if len(f'    """{doc}"""') > LINE_LENGTH:
        doc = doc.replace(" what the customer", "\n    what the customer")
    case = (
        "    # Change data only through ctx.repo (add a method to store/repository.py if none\n"
        "    # fits). The usual effect is a case for the team that does the work, as in\n"
        "    # orders.change_order or feedback.complaint (kinds, teams: heard/cases.py):\n"
        '    #     reference = ctx.open_case("{kind}", {summary}, "normal")\n'
        "    #     if not reference:  # a case is open already, and the customer was told so\n"
        "    #         return True\n"
        "    # then ctx.say(..., reference=reference), with {{reference}} in the wording.\n"
    )
    head = f'def {name}(ctx: Context) -> bool:\n    """{doc}"""\n'
    done = '    return True  # resolved: Heard asks "anything else?" (False: not resolved yet)\n'
    if flow.identity:
        return (
            head
            + "    order = ctx.checked_order  # verified: it runs once identity is checked\n"
            + case.format(kind="order_change", summary='f"{order.number}: ..."')
            + "    # A write the customer may not have meant (a case, a refund) starts with\n"
            + f'    # `if ctx.asks_before_writing("{name}"): return False` (see UNSURE_WRITES).\n'
            + f'    ctx.say("{response}", order_id=order.number)\n'
            + done
        )
    return (
        head
        + "    # No identity check: there is no verified order to read here. The customer's\n"
        + '    # words are in ctx.slot("request_text"); for more, list details in its Request\n'
        + f'    # (details=("email",), {REQUESTS_FILE}) and read ctx.slot("email").\n'
        + case.format(kind="complaint", summary='ctx.slot("request_text")')
        + f'    ctx.say("{response}")\n'
        + done
    )


def add_handler(module_source: str, flow: Flow) -> str:
    """The handler stub at the end of its area's module."""
    if not re.search(r"^from actions\.context import .*\bContext\b", module_source, re.M):
        raise ScaffoldError(
            f"{flow.handler_file}: no `from actions.context import Context` (handlers take a "
            "Context)"
        )
    if flow.name in module_names(module_source):
        raise ScaffoldError(f"{flow.handler_file} already defines {flow.name}")
    return module_source.rstrip("\n") + "\n\n\n" + handler_stub(flow)


def area_module(flow: Flow) -> str:
    """A new area's module: its docstring, the imports, the handler stub."""
    assert flow.area is not None
    area = flow.area.replace("_", " ")
    return (
        f'"""{area[:1].upper() + area[1:]} requests: their handlers, each registered in '
        f'REQUESTS ({REQUESTS_FILE})."""\n\n'
        "from __future__ import annotations\n\n"
        "from actions.context import Context\n\n\n" + handler_stub(flow)
    )


# --- the tables -----------------------------------------------------------------------------
def _call(prefix: str, call: str, args: Sequence[str], suffix: str, indent: str) -> str:
    """`prefix + call(args) + suffix`, split the way ruff format does when too long."""
    one = f"{indent}{prefix}{call}({', '.join(args)}){suffix}"
    if len(one) <= LINE_LENGTH:
        return one + "\n"
    inner = f"{indent}    {', '.join(args)}"
    if len(inner) <= LINE_LENGTH:
        return f"{indent}{prefix}{call}(\n{inner}\n{indent}){suffix}\n"
    listed = "".join(f"{indent}    {a},\n" for a in args)
    return f"{indent}{prefix}{call}(\n{listed}{indent}){suffix}\n"


def _add_import(source: str, module: str) -> str:
    """`module` added to `from actions import ...` (kept sorted, wrapped like ruff)."""
    match = re.search(
        r"^from actions import (\((?P<many>[^)]*)\)|(?P<one>[^\n(]+))\n", source, re.M
    )
    if match is None:
        raise ScaffoldError(f"{REQUESTS_FILE}: no `from actions import ...` line for the areas")
    listed = match.group("many") if match.group("many") is not None else match.group("one")
    names = sorted(
        {n.strip() for n in listed.replace("\n", ",").split(",") if n.strip()} | {module}
    )
    line = f"from actions import {', '.join(names)}\n"
    if match.group("many") is not None or len(line) > LINE_LENGTH + 1:
        line = "from actions import (\n" + "".join(f"    {n},\n" for n in names) + ")\n"
    return source[: match.start()] + line + source[match.end() :]


def add_request(requests_source: str, flow: Flow) -> str:
    """`"NAME": Request(area.NAME)` at the end of REQUESTS (importing a new area)."""
    assert flow.area is not None
    lines = split_lines(requests_source)
    start = find_line(lines, r"^REQUESTS\b.*=\s*\{\s*$")
    end = find_line(lines, r"^\}\s*$", start + 1) if start >= 0 else -1
    if end < 0:
        raise ScaffoldError(f"{REQUESTS_FILE}: no `REQUESTS ... = {{` ... `}}` block to add to")
    args = [f"{flow.area}.{flow.name}"] + ([] if flow.identity else ["identity=False"])
    changed = insert_lines(
        requests_source, end, _call(f'"{flow.name}": ', "Request", args, ",", "    ")
    )
    return _add_import(changed, flow.area) if flow.new_area else changed


def add_answer(info_source: str, flow: Flow) -> str:
    """`"NAME": "utter_NAME"` at the end of info.ANSWERS."""
    lines = split_lines(info_source)
    start = find_line(lines, r"^ANSWERS\b.*=\s*\{\s*$")
    end = find_line(lines, r"^\}\s*$", start + 1) if start >= 0 else -1
    if end < 0:
        raise ScaffoldError(f"{INFO_FILE}: no `ANSWERS = {{` ... `}}` block to add to")
    return insert_lines(info_source, end, f'    "{flow.name}": "{flow.response}",\n')


# --- the flow's action test -----------------------------------------------------------------
def flow_test(flow: Flow) -> str:
    """tests/test_flow_NAME.py: the reply through the real actions, on a seeded database."""
    effect = (
        "An answer changes no data."
        if flow.answer
        else "Once the handler has an effect, assert it here too, e.g.\n"
        "`stored(repo, m.Ticket, kind=...)` (tests.harness, store.models) as\n"
        "tests/test_actions.py does."
    )
    head = (
        f'"""The {flow.name} flow, scaffolded by `python -m bot new-flow`: through the real\n'
        "actions, against a fresh seeded database (the `repo` fixture).\n"
        f'{effect}"""\n\n'
        "from __future__ import annotations\n\n"
    )
    intent = f'INTENT = "{flow.name}"\n\n\n'
    if flow.answer:
        return (
            head
            + "from actions.dialogue import ActionAnswer\n"
            + "from tests.harness import Conversation, Turn\n\n"
            + intent
            + f"def test_{flow.name}_is_answered(repo):\n"
            + "    result = Conversation(repo).run(ActionAnswer, Turn(INTENT, INTENT))\n"
            + f'    assert result.responses[0] == "{flow.response}"\n'
        )
    if flow.identity:
        return (
            head
            + "from tests.harness import Conversation\n"
            + "from tests.test_actions import JANE, request\n\n"
            + intent
            + f"def test_{flow.name}_is_resolved_for_a_verified_order(repo):\n"
            + "    conv = Conversation(repo).verified(*JANE)  # order 1234567, jane.doe@example.com\n"
            + "    _, result = request(conv, INTENT)\n"
            + f'    assert "{flow.response}" in result.responses\n'
        )
    return (
        head
        + "from tests.harness import Conversation\n"
        + "from tests.test_actions import request\n\n"
        + intent
        + f"def test_{flow.name}_is_resolved_without_identity(repo):\n"
        + "    _, result = request(Conversation(repo), INTENT)\n"
        + f'    assert "{flow.response}" in result.responses\n'
    )
