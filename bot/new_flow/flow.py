"""What a scaffold works on: the flow (a request of an area, or an answer), the project's
texts it reads, the files it edits, and ScaffoldError for why it can't."""

from __future__ import annotations

from dataclasses import dataclass
from typing import FrozenSet, Mapping, Optional, Tuple

# The files a scaffold reads (and may change).
DOMAIN = "domain.yml"
REQUESTS_FILE = "actions/requests.py"
INFO_FILE = "actions/info.py"
RULES = "data/rules.yml"
STORIES = "tests/test_stories.yml"
NLU_TEST = "tests/data/nlu_test.yml"
# The intents list and the test set keep the conversation moves last: a new intent goes
# before this one (or at the end when it is missing).
FIRST_MOVE = "greet"


class ScaffoldError(Exception):
    """Why the flow can't be scaffolded; nothing has been written."""


@dataclass(frozen=True)
class Flow:
    """What to scaffold: a request of `area` (with or without identity) or an answer."""

    name: str
    area: Optional[str] = None  # None for an answer
    identity: bool = True
    answer: bool = False
    new_area: bool = False

    @property
    def response(self) -> str:
        return f"utter_{self.name}" if self.answer else f"utter_{self.name}_done"

    @property
    def responses(self) -> Tuple[str, ...]:
        return (self.response, f"{self.response}_reassure", f"{self.response}_steps")

    @property
    def words(self) -> str:
        return self.name.replace("_", " ")

    @property
    def title(self) -> str:
        """The clarification button's title: "gift_wrap" -> "Gift wrap"."""
        return self.words[:1].upper() + self.words[1:]

    @property
    def nlu_file(self) -> str:
        return f"data/nlu/{self.name}.yml"

    @property
    def test_file(self) -> str:
        return f"tests/test_flow_{self.name}.py"

    @property
    def handler_file(self) -> str:
        return f"actions/{self.area}.py"


@dataclass(frozen=True)
class Project:
    """What a scaffold reads: the text of the files it edits (relative path -> text, the
    ones that exist) and the module names under actions/."""

    texts: Mapping[str, str]
    actions_modules: FrozenSet[str]

    def text(self, path: str) -> str:
        if path not in self.texts:
            raise ScaffoldError(f"{path} is missing")
        return self.texts[path]
