"""`python -m bot validate` (bot/data_validation.py, rasa_seam/data_validation.py): which
responses the code utters, read from the code; Rasa's findings less the "not used" ones for
those; the Rasa code it relies on, pinned; and the command on the real tree and on a copy
with one new problem."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import yaml

from actions import empathy, follow_up_replies
from bot.data_validation import (
    BUILT_PREFIXES,
    SPEAKING_PACKAGES,
    STYLE_SUFFIXES,
    UNUSED,
    code_utters,
    problems,
    uttered_by_code,
    uttered_in,
)
from heard.contract import EMOTIONS
from heard.paths import ROOT
from tests.rasa_source import digest

# --- what the code says ------------------------------------------------------------------

# (source, names it spells out, prefixes of names it builds)
UTTERED_IN = [
    ('ctx.say("utter_greet")', {"utter_greet"}, set()),
    ("NAME = 'utter_order_status_shipped'", {"utter_order_status_shipped"}, set()),
    ('ctx.say(f"utter_ack_{emotion}_{level}")', set(), {"utter_ack_"}),
    ('f"utter_follow_up_when{suffix}"', set(), {"utter_follow_up_when"}),
    ('f"utter_{kind}"', set(), set()),  # no fixed part beyond `utter_`: says nothing
    ('f"{kind}utter_greet"', set(), set()),  # the fixed part isn't at the start
    ('f"utter_"', set(), set()),  # an f-string without fields, only `utter_`
    ('"hello"; "action_utter_x"; "the utter_greet response"; "utter_"', set(), set()),
    ('"utter greet"; b"utter_bytes"; 42', set(), set()),
    ('say("utter_a"); say(f"utter_b_{x}"); say("utter_c")', {"utter_a", "utter_c"}, {"utter_b_"}),
]


@pytest.mark.parametrize("source,names,prefixes", UTTERED_IN)
def test_uttered_in_finds_literal_names_and_fixed_prefixes(source, names, prefixes):
    assert uttered_in(source) == (names, prefixes)


NAMES = {"utter_greet", "utter_refund_done"}
PREFIXES = ("utter_ack_", "utter_why_")
# (response, whether the code above utters it)
UTTERED_BY_CODE = [
    ("utter_greet", True),  # by name
    ("utter_refund_done", True),
    *((f"utter_greet{suffix}", True) for suffix in STYLE_SUFFIXES),  # a styled variant
    ("utter_ack_anger_high", True),  # one of a family
    ("utter_why_refund_done", True),
    ("utter_ack_", True),
    ("utter_unknown", False),
    ("utter_unknown_calm", False),  # a styled variant of a name nobody says
    ("utter_greet_plain", False),  # not a style suffix
    ("utter_greet_calm_steps", False),  # one suffix only
    ("utter_greeting", False),  # a longer name is not the name
    ("utter_gree", False),
    ("utter_ac", False),  # shorter than the family's prefix
    ("utter_next_refund_done", False),  # a family these prefixes don't hold
]


@pytest.mark.parametrize("response,expected", UTTERED_BY_CODE)
def test_uttered_by_code(response, expected):
    assert uttered_by_code(response, NAMES, PREFIXES) is expected


def unused(name: str) -> str:
    return f"The utterance '{name}' is not used in any story or rule."


def test_problems_drop_only_unused_responses_the_code_utters():
    intent_issue = "The intent 'gift_wrap' is listed in the domain file, but is not found in the NLU training data."
    not_valid = (
        "The action 'utter_greet' is used in the stories, but is not a valid utterance action."
    )
    conflict = "Story structure conflict after intent 'greet':\n  utter_greet predicted in 'a'"
    messages = [
        intent_issue,
        unused("utter_greet"),  # said by name: dropped
        f"  {unused('utter_greet_steps')}\n",  # its styled variant, padded: dropped
        unused("utter_ack_anger_high"),  # one of a family: dropped
        unused("utter_gift_wrap_done"),  # said by nobody: kept
        unused("utter_unknown_calm"),  # variant of a name nobody says: kept
        not_valid,  # about a code-uttered name, but not "unused": kept
        conflict,
    ]
    assert problems(messages, NAMES, PREFIXES) == [
        intent_issue,
        unused("utter_gift_wrap_done"),
        unused("utter_unknown_calm"),
        not_valid,
        conflict.strip(),
    ]
    assert problems([], NAMES, PREFIXES) == []
    # With nothing uttered by code every finding stays, "unused" ones included.
    assert problems(messages, set(), ()) == [m.strip() for m in messages]


# --- the names built from parts that no literal shows --------------------------------------


@pytest.mark.parametrize("suffix", STYLE_SUFFIXES)
def test_styled_response_names_the_base_with_a_style_suffix(suffix):
    style = suffix.removeprefix("_")
    assert empathy.styled_response("utter_x", style, {"utter_x", f"utter_x{suffix}"}) == (
        f"utter_x{suffix}"
    )
    assert empathy.styled_response("utter_x", style, {"utter_x"}) == "utter_x"


def test_every_style_empathy_plans_is_a_style_suffix_but_plain():
    """`Context.say` words a response in the turn's style (`empathy.plan`, kept in the
    `reply_style` slot): each style but "plain" can name a variant."""
    intents = [*empathy.WARM_INTENTS, "track_order", "greet", ""]
    styles = {
        empathy.plan(empathy.Emotion(name, 0.9, intensity), intent).style
        for name in EMOTIONS
        for intensity in (0.0, 1.0)
        for intent in intents
    }
    assert styles - {"plain"} == {suffix.removeprefix("_") for suffix in STYLE_SUFFIXES}
    assert "plain" in styles
    # ... and "plain" names no variant: the domain has no `<response>_plain`.
    responses = yaml.safe_load((ROOT / "domain.yml").read_text())["responses"]
    assert not [name for name in responses if name.endswith("_plain")]


class FakeContext:
    def __init__(self, responses):
        self._responses = responses

    def responses(self):
        return self._responses


@pytest.mark.parametrize("kind", ["why", "next"])
def test_follow_up_replies_build_why_and_next_names(kind):
    last = {"response": "utter_refund_done"}
    written = FakeContext({f"utter_{kind}_refund_done": [{"text": "..."}]})
    name = follow_up_replies._specific(written, last, kind)
    assert name == f"utter_{kind}_refund_done"
    assert name.startswith(BUILT_PREFIXES)
    assert follow_up_replies._specific(FakeContext({}), last, kind) is None


def test_every_kind_follow_up_replies_builds_is_a_built_prefix():
    tree = ast.parse(Path(follow_up_replies.__file__).read_text())
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "_specific"
    ]
    assert len(calls) >= 3  # which()'s "why", answer()'s "why" and "next"
    kinds = [call.args[2] for call in calls]
    assert all(isinstance(kind, ast.Constant) for kind in kinds)  # no kind chosen at run time
    built = {f"utter_{kind.value}_" for kind in kinds if isinstance(kind, ast.Constant)}
    assert built == set(BUILT_PREFIXES)


# --- the real tree -------------------------------------------------------------------------


def test_code_utters_on_the_real_tree():
    names, prefixes = code_utters(ROOT)
    slots = yaml.safe_load((ROOT / "domain.yml").read_text())["slots"]
    assert slots
    assert {f"utter_ask_{slot}" for slot in slots} <= names  # the form asks them
    assert "utter_message_too_long" in names  # rasa_seam/turn.py
    assert "utter_voice_greeting" in names  # voice/call.py
    assert "utter_human_back" in names  # web/conversations.py
    assert "utter_ack_" in prefixes  # actions/empathy.py's family
    assert set(BUILT_PREFIXES) <= set(prefixes)
    assert list(prefixes) == sorted(prefixes)
    assert all(prefix.startswith("utter_") and len(prefix) > len("utter_") for prefix in prefixes)


def test_the_speaking_packages_exist():
    assert all((ROOT / package / "__init__.py").is_file() for package in SPEAKING_PACKAGES)


# --- the Rasa code rasa_seam/data_validation.py mirrors and calls ---------------------------

RASA_PINS = [
    ("rasa.cli.utils", "validate_files", "4f9bea6b2e533611"),
    ("rasa.validator", "Validator.verify_utterances_in_stories", "035b221f7ac7a0dc"),
    # Story conflicts: logged to "rasa.validator", not warned.
    ("rasa.validator", "Validator.verify_story_structure", "fcde3869ac906a8e"),
    # Rasa's verdict: SystemExit after printing "Project validation completed with errors."
    ("rasa.shared.utils.cli", "print_error_and_exit", "c99b5525b3fa66af"),
]


@pytest.mark.parametrize("module,name,expected", RASA_PINS)
def test_the_rasa_code_findings_relies_on_is_unchanged(module, name, expected):
    import importlib

    code: object = importlib.import_module(module)
    for part in name.split("."):
        code = getattr(code, part)
    assert digest(code) == expected


def test_unused_matches_the_message_rasa_builds():
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.training_data.structures import StoryGraph
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from rasa.validator import Validator

    domain = Domain.from_dict({"responses": {"utter_gift_wrap_done": [{"text": "Wrapped."}]}})
    validator = Validator(domain, TrainingData(), StoryGraph([]), None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        verdict = validator.verify_utterances_in_stories(ignore_warnings=False)
    messages = [str(w.message) for w in caught]
    assert messages == [unused("utter_gift_wrap_done")]
    found = UNUSED.fullmatch(messages[0])
    assert found and found["name"] == "utter_gift_wrap_done"
    # Rasa passes it even when failing on warnings: Heard decides (bot/data_validation.py).
    assert verdict is True


def test_rasas_expected_warnings_are_categories_and_patterns():
    from rasa.utils.common import EXPECTED_WARNINGS

    assert isinstance(EXPECTED_WARNINGS, list) and EXPECTED_WARNINGS
    for category, pattern in EXPECTED_WARNINGS:
        assert isinstance(category, type) and issubclass(category, Warning)
        assert isinstance(pattern, str)
        re.compile(pattern)
    # The one every validation of this project raises, hidden as Rasa's own command does.
    assert any(
        issubclass(UserWarning, category)
        and re.match(pattern, "Slot auto-fill has been removed in 3.0 and replaced with ...")
        for category, pattern in EXPECTED_WARNINGS
    )


# --- the command ---------------------------------------------------------------------------


@pytest.mark.slow
def test_validate_on_the_real_tree_passes_silently():
    # Unset on purpose: the command quiets TensorFlow, SQLAlchemy and telemetry itself.
    quieted = ("TF_CPP_MIN_LOG_LEVEL", "SQLALCHEMY_SILENCE_UBER_WARNING", "RASA_TELEMETRY_ENABLED")
    env = {k: v for k, v in os.environ.items() if k not in quieted}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "validate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.slow
def test_a_new_warning_fails(tmp_path):
    """A response nobody says, added to a copy of the project, is its one problem. The
    copy's importers (config.yml) read the copy's data/: Rasa's RasaFileImporter and
    bot/nlu_importer.py's take the paths given."""
    from rasa_seam.data_validation import findings

    shutil.copy(ROOT / "config.yml", tmp_path / "config.yml")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    domain = (ROOT / "domain.yml").read_text()
    assert domain.count("\nresponses:\n") == 1
    added = '  utter_gift_wrap_done:\n    - text: "Your gift wrap is done."\n'
    (tmp_path / "domain.yml").write_text(
        domain.replace("\nresponses:\n", "\nresponses:\n" + added, 1)
    )
    assert (
        "utter_gift_wrap_done" in yaml.safe_load((tmp_path / "domain.yml").read_text())["responses"]
    )
    found = findings(tmp_path)
    names, prefixes = code_utters(ROOT)  # the speaking packages are the real ones
    assert problems(found.messages, names, prefixes) == [unused("utter_gift_wrap_done")]
    assert not found.failed  # Rasa itself passes it
