"""`python -m bot validate`: Rasa's validation of domain.yml, config.yml and data/, with
every finding a failure, but one kind: "The utterance 'utter_x' is not used in any story or
rule" for a response the code utters (most of Heard's are: actions choose what to say).

Which responses the code utters is read from the code itself, so it never needs keeping
by hand: every string literal `utter_...` in the packages that speak, every f-string that
starts with a fixed `utter_..._` prefix (a family such as `utter_ack_{emotion}_{level}`),
the two kinds of names built from parts that no literal shows (below), and the questions
Rasa's form asks itself (`utter_ask_<slot>`, for a slot of the domain). Prints nothing and
exits 0 when the project is clean.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import Iterable, List, Set, Tuple

import yaml

from heard.paths import ROOT

# The packages whose code utters responses (Rasa server, action server, voice, console).
SPEAKING_PACKAGES = ("actions", "rasa_seam", "voice", "web")
# Names built from parts: `actions.empathy.styled_response` ("<response>_<style>" when the
# domain has it) and `actions.follow_up_replies._specific` ("utter_why_<response>" and
# "utter_next_<response>" after an answer). tests/test_data_validation.py pins both.
STYLE_SUFFIXES = ("_calm", "_steps", "_reassure", "_warm")
BUILT_PREFIXES = ("utter_why_", "utter_next_")
UNUSED = re.compile(r"The utterance '(?P<name>utter_\w+)' is not used in any story or rule\.")
RESPONSE = re.compile(r"utter_\w+")


def uttered_in(source: str) -> Tuple[Set[str], Set[str]]:
    """The response names a module's source spells out, and the prefixes of the names it
    builds in f-strings (only fixed prefixes longer than `utter_`)."""
    names: Set[str] = set()
    prefixes: Set[str] = set()
    tree = ast.parse(source)
    # An f-string's fixed parts are string constants too, but no name it says whole.
    parts = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if RESPONSE.fullmatch(node.value) and id(node) not in parts:
                names.add(node.value)
        elif isinstance(node, ast.JoinedStr) and node.values:
            head = node.values[0]
            if (
                isinstance(head, ast.Constant)
                and isinstance(head.value, str)
                and head.value.startswith("utter_")
                and len(head.value) > len("utter_")
            ):
                prefixes.add(head.value)
    return names, prefixes


def code_utters(root: Path = ROOT) -> Tuple[Set[str], Tuple[str, ...]]:
    """Every response name spelled out in the speaking packages or asked by the form, and
    every prefix of a name they build."""
    slots = yaml.safe_load((root / "domain.yml").read_text()).get("slots") or {}
    names: Set[str] = {f"utter_ask_{slot}" for slot in slots}
    prefixes: Set[str] = set(BUILT_PREFIXES)
    for package in SPEAKING_PACKAGES:
        for module in sorted((root / package).rglob("*.py")):
            found, built = uttered_in(module.read_text())
            names |= found
            prefixes |= built
    return names, tuple(sorted(prefixes))


def uttered_by_code(response: str, names: Set[str], prefixes: Iterable[str]) -> bool:
    """Whether the code says `response`: by its name, as a styled variant of a name it
    says, or as one of a family it builds."""
    if response in names or response.startswith(tuple(prefixes)):
        return True
    return any(
        response.endswith(suffix) and response[: -len(suffix)] in names for suffix in STYLE_SUFFIXES
    )


def problems(messages: Iterable[str], names: Set[str], prefixes: Iterable[str]) -> List[str]:
    """Rasa's findings less the "not used" ones for responses the code utters."""
    prefixes = tuple(prefixes)
    kept = []
    for message in messages:
        unused = UNUSED.fullmatch(message.strip())
        if unused and uttered_by_code(unused["name"], names, prefixes):
            continue
        kept.append(message.strip())
    return kept


def validate(root: Path = ROOT) -> Tuple[List[str], bool]:
    """The problems Rasa's validation finds in `root`, and Rasa's own verdict (failed)."""
    from rasa_seam.data_validation import findings

    found = findings(root)
    names, prefixes = code_utters(root)
    return problems(found.messages, names, prefixes), found.failed


def main(root: Path = ROOT) -> int:
    found, failed = validate(root)
    for problem in found:
        print(f"validate: {problem}", file=sys.stderr)
    if failed and not found:
        print("validate: Rasa's validation failed without saying why", file=sys.stderr)
    return 1 if found or failed else 0
