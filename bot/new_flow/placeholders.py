"""The mark on every text a scaffold leaves for a person to write, and the placeholders
left in a project (`make check` stops on them)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

PLACEHOLDER = "(placeholder)"
# Where placeholders are looked for (`make check`): the data, the wording and the code.
SCANNED = ("data", "domain.yml", "actions", "tests/test_stories.yml", "tests/data/nlu_test.yml")


def placeholders(root: Path) -> List[Tuple[str, int]]:
    """Every (path relative to `root`, 1-based line number) of a line containing PLACEHOLDER
    in data/, domain.yml, actions/, tests/test_stories.yml and tests/data/nlu_test.yml."""
    found: List[Tuple[str, int]] = []
    for entry in SCANNED:
        path = root / entry
        if path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
            )
        else:
            files = [path] if path.is_file() else []
        for file in files:
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            found += [
                (file.relative_to(root).as_posix(), number)
                for number, line in enumerate(text.splitlines(), 1)
                if PLACEHOLDER in line
            ]
    return found
