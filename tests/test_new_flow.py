"""`python -m bot new-flow` (bot/new_flow/): each edit at its anchor of the real files,
the refusals (a bad name, an existing intent or table entry, a missing anchor, a second run),
and end to end: scaffolded in a copy of the project, the copy lints, its flow test, the
rules-tables check, the domain and test-set tests pass, and `python -m bot validate` finds
nothing. The end-to-end cases take about half a minute each."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest
import yaml

from actions import info
from actions.requests import REQUESTS
from bot.new_flow import command
from bot.new_flow.code_edits import add_answer, add_handler, add_request, area_module, flow_test
from bot.new_flow.command import read_project
from bot.new_flow.data_edits import (
    ANSWERS_RULE,
    TEST_EXAMPLES,
    TRAINING_EXAMPLES,
    add_rule_intent,
    add_story,
    add_test_examples,
    nlu_file,
)
from bot.new_flow.domain_edits import SECTION_WIDTH, add_button, add_intent, add_responses
from bot.new_flow.flow import Flow, Project, ScaffoldError
from bot.new_flow.flow_check import NAME_PATTERN, check_flow, handler_areas, table_keys
from bot.new_flow.placeholders import PLACEHOLDER, SCANNED, placeholders
from bot.new_flow.scaffold import scaffold
from tests.harness import ROOT
from tests.test_nlu_test_set import JACCARD_LIMIT, MIN_PER_INTENT, normalise, words
from tests.test_requests_match_rules import problems, rules_by_intent

pytestmark = pytest.mark.slow

GIFT_WRAP = Flow("gift_wrap", "orders")
NO_IDENTITY = Flow("two_factor_setup", "account", identity=False)
ANSWER = Flow("loyalty_points", None, identity=False, answer=True)
NEW_AREA = Flow("gift_card_balance", "gift_cards", new_area=True)
RUFF = ROOT / ".venv" / "bin" / "ruff"


def text(path: str) -> str:
    return (ROOT / path).read_text(encoding="utf-8")


def added_lines(before: str, after: str) -> List[str]:
    """The lines `after` adds to `before`, when it only adds (in one or more places)."""
    old, new = before.splitlines(), after.splitlines()
    added, i = [], 0
    for line in new:
        if i < len(old) and line == old[i]:
            i += 1
        else:
            added.append(line)
    assert i == len(old), "lines of the original were changed or removed"
    return added


def ruff_formatted(source: str) -> str:
    if not RUFF.exists():
        pytest.skip("no .venv/bin/ruff")
    result = subprocess.run(
        [str(RUFF), "format", "--stdin-filename", "check.py", "-"],
        input=source,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


# --- domain.yml -----------------------------------------------------------------------------
def test_the_intent_goes_before_the_conversation_moves():
    changed = add_intent(text("domain.yml"), "gift_wrap")
    assert added_lines(text("domain.yml"), changed) == ["  - gift_wrap"]
    intents = yaml.safe_load(changed)["intents"]
    assert intents.index("gift_wrap") == intents.index("greet") - 1


def test_the_button_ends_the_clarification_menu():
    changed = add_button(text("domain.yml"), "gift_wrap", "Gift wrap")
    assert added_lines(text("domain.yml"), changed) == [
        '        - title: "Gift wrap"',
        '          payload: "/gift_wrap"',
    ]
    menu = yaml.safe_load(changed)["responses"]["utter_clarify_options"][0]["buttons"]
    assert menu[-1] == {"title": "Gift wrap", "payload": "/gift_wrap"}
    with pytest.raises(ScaffoldError, match="/gift_wrap button already"):
        add_button(changed, "gift_wrap", "Gift wrap")


@pytest.mark.parametrize("flow", [GIFT_WRAP, NO_IDENTITY, ANSWER, NEW_AREA], ids=lambda f: f.name)
def test_the_wording_has_its_variants_all_marked(flow):
    changed = add_responses(text("domain.yml"), flow)
    responses = yaml.safe_load(changed)["responses"]
    plain, reassure, steps = (responses[name] for name in flow.responses)
    assert [v.get("channel") for v in plain] == [None, "voice"]  # the harness renders [0]
    variations = plain + reassure + steps
    assert all(v["text"].endswith(f"{PLACEHOLDER}.") for v in variations)
    assert all("!" not in v["text"] and "@" not in v["text"] for v in variations)
    for v in variations:  # the values Heard fills in only once the order is verified
        assert ("{first_name}" in v["text"] and "{order_id}" in v["text"]) is flow.identity
        assert ("{" in v["text"]) is flow.identity
    assert changed.count(f"  {flow.response}:\n") == 1


def test_the_wording_goes_to_the_end_of_its_areas_section():
    lines = add_responses(text("domain.yml"), GIFT_WRAP).splitlines()
    at = lines.index("  utter_gift_wrap_done:")
    orders = next(i for i, line in enumerate(lines) if line.startswith("  # --- orders "))
    refunds = next(i for i, line in enumerate(lines) if line.startswith("  # --- refunds "))
    assert orders < at < refunds
    assert lines[at - 1].startswith("    - text: ") and lines[refunds - 1] == ""
    answers = add_responses(text("domain.yml"), ANSWER).splitlines()
    section = next(i for i, line in enumerate(answers) if line.startswith("  # --- answers "))
    following = next(i for i, ln in enumerate(answers) if i > section and ln.startswith("  # ---"))
    assert section < answers.index("  utter_loyalty_points:") < following


def test_a_new_area_gets_a_section_at_the_end_of_the_responses():
    changed = add_responses(text("domain.yml"), NEW_AREA)
    added = added_lines(text("domain.yml"), changed)
    assert added[0] == "" and added[2] == "  utter_gift_card_balance_done:"
    assert added[1].startswith("  # --- gift cards ---") and added[1].endswith("-")
    assert len(added[1]) == SECTION_WIDTH


@pytest.mark.parametrize(
    "edit, anchor",
    [
        (lambda t: add_intent(t, "gift_wrap"), "intents:"),
        (lambda t: add_button(t, "gift_wrap", "Gift wrap"), "utter_clarify_options"),
        (lambda t: add_responses(t, GIFT_WRAP), "responses:"),
    ],
    ids=["intents", "clarify buttons", "responses"],
)
def test_a_missing_domain_anchor_is_named(edit, anchor):
    domain = text("domain.yml")
    if anchor == "utter_clarify_options":
        broken = domain.replace("  utter_clarify_options:", "  utter_clarify_choices:")
    else:
        broken = domain.replace(f"\n{anchor}\n", f"\n{anchor[:-1]}_moved:\n")
    assert broken != domain
    with pytest.raises(ScaffoldError, match=anchor.rstrip(":")):
        edit(broken)


# --- training and test examples -------------------------------------------------------------
def test_the_training_file_asks_for_varied_examples_of_the_writers_own():
    content = nlu_file(GIFT_WRAP)
    (block,) = yaml.safe_load(content)["nlu"]
    examples = [e[2:] for e in block["examples"].splitlines()]
    assert block["intent"] == "gift_wrap" and len(examples) == TRAINING_EXAMPLES
    assert all(PLACEHOLDER in e for e in examples) and len(set(examples)) == len(examples)
    comment = " ".join(line for line in content.splitlines() if line.startswith("#"))
    for said in ("100", "terse", "rambling", "typos", "formal", "[1234567](order_id)"):
        assert said in comment
    assert "never copy from tests/data/nlu_test.yml" in comment


def test_the_test_lines_are_enough_written_apart_and_before_the_conversation_moves():
    before = text("tests/data/nlu_test.yml")
    changed = add_test_examples(before, GIFT_WRAP)
    blocks = yaml.safe_load(changed)["nlu"]
    names = [b["intent"] for b in blocks]
    assert names.index("gift_wrap") == names.index("greet") - 1
    tests = [e[2:] for e in blocks[names.index("gift_wrap")]["examples"].splitlines()]
    assert len(tests) == TEST_EXAMPLES >= MIN_PER_INTENT
    assert all(PLACEHOLDER in t for t in tests)
    comment = " ".join(ln for ln in added_lines(before, changed) if ln.startswith("#"))
    assert "written apart" in comment and "never copied into" in comment
    (training,) = yaml.safe_load(nlu_file(GIFT_WRAP))["nlu"]
    trained = [e[2:] for e in training["examples"].splitlines()]
    for test in tests:  # what tests/test_nlu_test_set.py checks against the training data
        assert normalise(test) not in {normalise(t) for t in trained}
        for t in trained:
            overlap = len(words(test) & words(t)) / len(words(test) | words(t))
            assert overlap < JACCARD_LIMIT
    with pytest.raises(ScaffoldError, match="already"):
        add_test_examples(changed, GIFT_WRAP)
    with pytest.raises(ScaffoldError, match="nlu:"):
        add_test_examples(before.replace("\nnlu:\n", "\ntests:\n"), GIFT_WRAP)


# --- actions --------------------------------------------------------------------------------
def function(source: str, name: str) -> ast.FunctionDef:
    return next(
        n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == name
    )


def reads(node: ast.AST, attribute: str) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr == attribute for n in ast.walk(node))


@pytest.mark.parametrize("flow", [GIFT_WRAP, NO_IDENTITY], ids=lambda f: f.name)
def test_the_handler_stub_says_its_response_and_resolves(flow):
    before = text(flow.handler_file)
    changed = add_handler(before, flow)
    assert changed.startswith(before.rstrip("\n") + "\n\n\n")
    handler = function(changed, flow.name)
    assert [a.arg for a in handler.args.args] == ["ctx"]
    assert handler.returns is not None and ast.unparse(handler.returns) == "bool"
    assert PLACEHOLDER in (ast.get_docstring(handler) or "")
    assert reads(handler, "checked_order") is flow.identity  # none to read without identity
    said = [
        n.args[0].value
        for n in ast.walk(handler)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "say"
    ]
    assert said == [flow.response]
    last = handler.body[-1]
    assert isinstance(last, ast.Return) and ast.literal_eval(last.value) is True
    comments = changed[changed.index(f"def {flow.name}(") :]
    assert "ctx.repo" in comments and "ctx.open_case(" in comments
    assert ruff_formatted(changed) == changed


def test_the_handler_needs_the_context_import_and_a_free_name():
    orders = text("actions/orders.py")
    with pytest.raises(ScaffoldError, match="from actions.context import Context"):
        add_handler(orders.replace("from actions.context import Context\n", ""), GIFT_WRAP)
    with pytest.raises(ScaffoldError, match="already defines track_order"):
        add_handler(orders, Flow("track_order", "orders"))


def test_a_new_area_module_is_ready_to_import():
    source = area_module(NEW_AREA)
    module = ast.parse(source)
    assert ast.get_docstring(module)
    assert "from actions.context import Context" in source
    assert function(source, "gift_card_balance")
    assert ruff_formatted(source) == source


@pytest.mark.parametrize(
    "flow, entry",
    [
        (GIFT_WRAP, '    "gift_wrap": Request(orders.gift_wrap),'),
        (NO_IDENTITY, '    "two_factor_setup": Request(account.two_factor_setup, identity=False),'),
        (NEW_AREA, '    "gift_card_balance": Request(gift_cards.gift_card_balance),'),
    ],
    ids=lambda v: getattr(v, "name", "entry"),
)
def test_the_request_is_registered_last(flow, entry):
    before = text("actions/requests.py")
    changed = add_request(before, flow)
    imports = "from actions import account, billing, orders, policy, refunds"
    if flow.new_area:  # the one line changed rather than added
        new_imports = "from actions import account, billing, gift_cards, orders, policy, refunds"
        assert new_imports in changed.splitlines()
        before = before.replace(imports, new_imports)
    assert added_lines(before, changed) == [entry]
    assert table_keys(changed, "REQUESTS") == set(REQUESTS) | {flow.name}
    lines = changed.splitlines()
    assert lines[lines.index(entry) + 1] == "}"
    assert ruff_formatted(changed) == changed


def test_long_names_are_wrapped_as_ruff_formats_them():
    source = text("actions/requests.py")
    long_name = "a_request_with_a_name_as_long_as_allowed1"
    assert NAME_PATTERN.match(long_name)
    long_area = "an_area_with_a_long_name_too_xy"
    for flow in (
        Flow(long_name, "account", identity=False),
        Flow(long_name, "orders"),
        Flow(long_name, long_area, new_area=True),
        Flow(long_name, long_area, identity=False, new_area=True),
    ):
        changed = add_request(source, flow)
        assert ruff_formatted(changed) == changed, flow
    one_line = "from actions import account, billing, orders, policy, refunds\n"
    wide = "from actions import (\n    account,\n    billing,\n    orders,\n    policy,\n"
    wide += "    refunds,\n)\n"
    changed = add_request(source.replace(one_line, wide), Flow("gifts", "gifts", new_area=True))
    assert wide.replace("    orders,", "    gifts,\n    orders,") in changed
    assert ruff_formatted(changed) == changed


def test_the_request_anchors_are_named():
    source = text("actions/requests.py")
    with pytest.raises(ScaffoldError, match="REQUESTS"):
        add_request(source.replace("REQUESTS: Dict[str, Request] = {", "TABLE = {"), GIFT_WRAP)
    with pytest.raises(ScaffoldError, match="from actions import"):
        add_request(source.replace("from actions import ", "from actions.x import "), NEW_AREA)


def test_the_answer_is_registered_last():
    before = text("actions/info.py")
    changed = add_answer(before, ANSWER)
    assert added_lines(before, changed) == ['    "loyalty_points": "utter_loyalty_points",']
    assert table_keys(changed, "ANSWERS") == set(info.ANSWERS) | {"loyalty_points"}
    with pytest.raises(ScaffoldError, match="ANSWERS"):
        add_answer(before.replace("ANSWERS = {", "REPLIES = {"), ANSWER)


# --- rules and stories ----------------------------------------------------------------------
@pytest.mark.parametrize("flow", [GIFT_WRAP, NO_IDENTITY, ANSWER], ids=lambda f: f.name)
def test_the_rules_then_match_the_tables(flow):
    before = text("data/rules.yml")
    changed = add_rule_intent(before, flow)
    assert added_lines(before, changed) == [f"          - intent: {flow.name}"]
    requests = set(REQUESTS) | ({flow.name} if not flow.answer else set())
    answers = set(info.ANSWERS) | ({flow.name} if flow.answer else set())
    assert problems(rules_by_intent(yaml.safe_load(changed)), requests, answers) == []
    with pytest.raises(ScaffoldError, match="already"):
        add_rule_intent(changed, flow)


def test_the_rule_anchors_are_named():
    rules = text("data/rules.yml")
    renamed = rules.replace(f"- rule: {ANSWERS_RULE}", "- rule: replies")
    with pytest.raises(ScaffoldError, match="answers that need no identity"):
        add_rule_intent(renamed, ANSWER)
    first = rules.index("  - rule:")
    swapped = rules[:first] + rules[rules.index("  - rule: small talk") :]
    with pytest.raises(ScaffoldError, match="does not run action_begin_request"):
        add_rule_intent(swapped, GIFT_WRAP)
    no_or = rules.replace("      - or:\n          - intent: track_order\n", "      - intent: x\n")
    with pytest.raises(ScaffoldError, match="no `- or:` list"):
        add_rule_intent(no_or, GIFT_WRAP)


@pytest.mark.parametrize(
    "flow, actions",
    [
        (GIFT_WRAP, ["action_begin_request", "request_form", "request_form"]),
        (NO_IDENTITY, ["action_begin_request", "request_form"]),
        (ANSWER, ["action_answer"]),
    ],
    ids=lambda v: getattr(v, "name", "actions"),
)
def test_the_story_ends_the_test_stories(flow, actions):
    before = text("tests/test_stories.yml")
    changed = add_story(before, flow)
    last = yaml.safe_load(changed)["stories"][-1]
    steps = last["steps"]
    assert steps[0]["intent"] == flow.name and PLACEHOLDER in steps[0]["user"]
    assert [s["action"] for s in steps if "action" in s][: len(actions)] == actions
    if not flow.answer:
        assert steps[-1] == {"action": "action_resolve_request"}
    if flow.identity:
        assert "](order_id)" in steps[0]["user"]
        assert {"requested_slot": "email"} in [s for x in steps for s in x.get("slot_was_set", [])]
    with pytest.raises(ScaffoldError, match="already"):
        add_story(changed, flow)
    with pytest.raises(ScaffoldError, match="stories:"):
        add_story(before.replace("\nstories:\n", "\nsteps:\n"), flow)


@pytest.mark.parametrize("flow", [GIFT_WRAP, NO_IDENTITY, ANSWER], ids=lambda f: f.name)
def test_the_flow_test_is_clean_python(flow):
    source = flow_test(flow)
    ast.parse(source)
    assert f'"{flow.response}"' in source
    assert ruff_formatted(source) == source


# --- refusals -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def project() -> Project:
    return read_project(ROOT, "gift_wrap", "orders")


@pytest.mark.parametrize(
    "name", ["x", "ab", "Gift_wrap", "1gift", "gift-wrap", "gift wrap", "a" * 42, "class"]
)
def test_a_bad_name_is_refused(project, name):
    with pytest.raises(ScaffoldError, match="not a valid intent name|keyword"):
        check_flow(project, name, "orders")


@pytest.mark.parametrize(
    "name, why",
    [
        ("track_order", "already an intent in domain.yml"),
        ("place_order", "already an intent in domain.yml"),
        ("nlu_fallback", "Rasa's own intents"),
    ],
)
def test_an_existing_intent_is_refused(project, name, why):
    with pytest.raises(ScaffoldError, match=why):
        check_flow(project, name, "orders")


def test_a_table_entry_without_its_intent_is_refused(project):
    requests = project.text("actions/requests.py").replace(
        '    "track_order"', '    "gift_wrap": Request(orders.track_order),\n    "track_order"'
    )
    answers = project.text("actions/info.py").replace(
        "ANSWERS = {", 'ANSWERS = {\n    "loyalty_points": "utter_place_order",'
    )
    texts = {**project.texts, "actions/requests.py": requests, "actions/info.py": answers}
    edited = Project(texts, project.actions_modules)
    with pytest.raises(ScaffoldError, match=r"already in REQUESTS \(actions/requests.py\)"):
        check_flow(edited, "gift_wrap", "orders")
    with pytest.raises(ScaffoldError, match=r"already in info.ANSWERS \(actions/info.py\)"):
        check_flow(edited, "loyalty_points", None, answer=True)


@pytest.mark.parametrize("area", ["context", "base", "dialogue", "policy", "info", "requests"])
def test_a_module_without_handlers_is_no_area(project, area):
    with pytest.raises(ScaffoldError, match=f"actions/{area}.py is not a module of request"):
        check_flow(project, "gift_wrap", area)


@pytest.mark.parametrize(
    "area, why",
    [
        (None, "a request needs --area"),
        ("Gifts", "not a valid area name"),
        ("import", "not a valid area name"),
        ("required_slots", "already a name in actions/requests.py"),
    ],
)
def test_a_bad_area_is_refused(project, area, why):
    with pytest.raises(ScaffoldError, match=why):
        check_flow(project, "gift_wrap", area)


def test_areas_are_the_modules_requests_run_and_new_names():
    assert handler_areas(text("actions/requests.py")) == {
        "orders",
        "refunds",
        "billing",
        "account",
    }
    new = read_project(ROOT, "gift_card_balance", "gift_cards")
    assert check_flow(new, "gift_card_balance", "gift_cards").new_area
    existing = read_project(ROOT, "gift_card_balance", "billing")
    assert not check_flow(existing, "gift_card_balance", "billing").new_area


# --- the whole command, in a small copy of the project ------------------------------------
EDITED = [
    "domain.yml",
    "data/rules.yml",
    "tests/test_stories.yml",
    "tests/data/nlu_test.yml",
]


@pytest.fixture
def mini(tmp_path) -> Path:
    """The files a scaffold reads, copied: actions/, domain.yml, the rules, the stories and
    the test set."""
    for path in EDITED:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / path, tmp_path / path)
    (tmp_path / "data" / "nlu").mkdir()
    (tmp_path / "actions").mkdir()
    for module in (ROOT / "actions").glob("*.py"):
        shutil.copy(module, tmp_path / "actions" / module.name)
    return tmp_path


def snapshot(root: Path) -> Dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_a_second_run_is_refused_and_changes_nothing(mini, capsys):
    said: List[str] = []
    assert command.run(mini, "gift_wrap", "orders", out=said.append) == 0
    first = snapshot(mini)
    assert command.run(mini, "gift_wrap", "orders", out=said.append) == 2
    assert snapshot(mini) == first
    assert "gift_wrap is already an intent in domain.yml" in capsys.readouterr().err


def test_an_answer_ignores_an_area_and_says_so(mini):
    orders = (mini / "actions" / "orders.py").read_text()
    said: List[str] = []
    assert command.run(mini, "loyalty_points", "orders", answer=True, out=said.append) == 0
    assert said[0].startswith("note: an answer has no area")
    assert (mini / "actions" / "orders.py").read_text() == orders
    assert '"loyalty_points": "utter_loyalty_points"' in (mini / "actions" / "info.py").read_text()


def test_nothing_is_written_when_an_anchor_is_missing(mini, capsys):
    stories = mini / "tests" / "test_stories.yml"
    stories.write_text(stories.read_text().replace("\nstories:\n", "\nstorys:\n"))
    before = snapshot(mini)
    assert command.run(mini, "gift_wrap", "orders", out=lambda _: None) == 2
    assert snapshot(mini) == before
    assert "tests/test_stories.yml: no top-level `stories:`" in capsys.readouterr().err


def test_what_to_write_next_points_at_each_placeholder(mini):
    said: List[str] = []
    assert command.run(mini, "gift_wrap", "orders", out=said.append) == 0
    steps = [line.strip() for line in said if line.strip()[:2] in {f"{i}." for i in range(10)}]
    assert [s.split(".")[0] for s in steps] == ["1", "2", "3", "4", "5", "6"]
    assert steps[-1].startswith("6. make check")
    assert "one training and every test story" in steps[-1]
    assert steps[-1].endswith("make test before you push.")
    for step in steps[:-1]:
        where = step.split(" ", 2)[1].rstrip(":")
        path, line = where.split(":")
        assert PLACEHOLDER in (mini / path).read_text().splitlines()[int(line) - 1], step
    assert "data/nlu/gift_wrap.yml" in steps[0] and "actions/orders.py" in steps[4]


def test_placeholders_lists_every_marked_line_it_should(mini):
    assert placeholders(mini) == []
    result = scaffold(read_project(mini, "gift_wrap", "orders"), "gift_wrap", "orders")
    command.write(mini, result.files)
    (mini / "actions" / "__pycache__").mkdir()
    (mini / "actions" / "__pycache__" / "orders.pyc").write_bytes(PLACEHOLDER.encode())
    found = placeholders(mini)
    expected = []
    for path, content in sorted(result.files.items()):
        if path.startswith(("data/", "actions/")) or path in SCANNED:
            lines = content.splitlines()
            expected += [(path, i) for i, line in enumerate(lines, 1) if PLACEHOLDER in line]
    assert sorted(found) == sorted(expected)
    assert {p for p, _ in found} == {
        "actions/orders.py",
        "data/nlu/gift_wrap.yml",
        "domain.yml",
        "tests/data/nlu_test.yml",
        "tests/test_stories.yml",
    }
    assert len([f for f in found if f[0] == "data/nlu/gift_wrap.yml"]) == 10


def test_a_failed_write_leaves_the_files_as_they_were(tmp_path):
    (tmp_path / "kept.txt").write_text("before")
    (tmp_path / "blocker").write_text("a file where a folder should be")
    with pytest.raises(OSError):
        command.write(tmp_path, {"kept.txt": "after", "blocker/new.txt": "x"})
    assert (tmp_path / "kept.txt").read_text() == "before"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker", "kept.txt"]


# --- end to end, in a copy of the project ---------------------------------------------------
CASES = {
    "gift_wrap": (["gift_wrap", "--area", "orders"], ["actions/orders.py"]),
    "answer": (["loyalty_points", "--answer"], ["actions/info.py"]),
    "no identity": (
        ["two_factor_setup", "--no-identity", "--area", "account"],
        ["actions/account.py"],
    ),
    "new area": (["gift_card_balance", "--area", "gift_cards"], ["actions/gift_cards.py"]),
}


def environment() -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    shared = ROOT.parent / "shared" / "data"
    if not env.get("HEARD_DATA_DIR") and shared.is_dir():
        env["HEARD_DATA_DIR"] = str(shared)  # as CI and the Makefile do
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    return env


def project_copy(target: Path) -> Dict[str, bytes]:
    """The project's files (tracked, and new ones git doesn't ignore) copied to `target`;
    their contents by path."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    copied = {}
    for path in filter(None, listed.split("\0")):
        source = ROOT / path
        if source.is_file():  # tracked but deleted in the work tree: left out
            (target / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / path)
            copied[path] = source.read_bytes()
    return copied


def run_in(copy: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(args), cwd=copy, env=environment(), capture_output=True, text=True, timeout=timeout
    )


def report(result: subprocess.CompletedProcess) -> str:
    return f"{result.args}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_the_scaffold_passes_the_checks_in_a_copy_of_the_project(tmp_path, case):
    arguments, handler_files = CASES[case]
    name = arguments[0]
    copy = tmp_path / "heard"
    before = project_copy(copy)
    assert ".venv/bin/python" not in before and not any(p.startswith("models/") for p in before)
    where = run_in(
        copy, sys.executable, "-c", "import actions, bot, heard.paths as p; print(p.ROOT)"
    )
    assert where.stdout.strip() == str(copy), report(where)  # the copy's modules, not ROOT's

    made = run_in(copy, sys.executable, "-m", "bot", "new-flow", *arguments, timeout=120)
    assert made.returncode == 0, report(made)
    assert "1. " in made.stdout and "make check" in made.stdout
    after = {
        p.relative_to(copy).as_posix(): p.read_bytes()
        for p in copy.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and ".rasa" not in p.parts
    }
    changed = sorted(p for p in after if before.get(p) != after[p])
    expected_changes = {
        "domain.yml",
        "data/rules.yml",
        "tests/test_stories.yml",
        "tests/data/nlu_test.yml",
        f"data/nlu/{name}.yml",
        f"tests/test_flow_{name}.py",
        *handler_files,
    }
    if "--answer" not in arguments:
        expected_changes.add("actions/requests.py")
    assert set(changed) == expected_changes
    again = run_in(copy, sys.executable, "-m", "bot", "new-flow", *arguments, timeout=120)
    assert again.returncode == 2 and "already" in again.stderr, report(again)

    python_files = [p for p in changed if p.endswith(".py")]
    lint = run_in(copy, str(RUFF), "check", *python_files, timeout=120)
    assert lint.returncode == 0, report(lint)
    formatted = run_in(copy, str(RUFF), "format", "--check", *python_files, timeout=120)
    assert formatted.returncode == 0, report(formatted)

    tests = run_in(
        copy,
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        f"tests/test_flow_{name}.py",
        "tests/test_requests_match_rules.py",
        "tests/test_domain.py",
        "tests/test_nlu_test_set.py",
    )
    assert tests.returncode == 0, report(tests)
    assert f"test_flow_{name}.py" in tests.stdout or " passed" in tests.stdout

    validated = run_in(copy, sys.executable, "-m", "bot", "validate")
    assert validated.returncode == 0, report(validated)
