"""`run`, what `python -m bot new-flow` does: reads the project, scaffolds the flow, writes
every file or none, and says what to write next (or why nothing was done)."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Callable, List, Mapping, Optional, Tuple

from bot.new_flow.flow import (
    DOMAIN,
    INFO_FILE,
    NLU_TEST,
    REQUESTS_FILE,
    RULES,
    STORIES,
    Flow,
    Project,
    ScaffoldError,
)
from bot.new_flow.flow_check import NAME_PATTERN
from bot.new_flow.placeholders import PLACEHOLDER
from bot.new_flow.scaffold import scaffold


def read_project(root: Path, name: str, area: Optional[str]) -> Project:
    """The texts a scaffold of `name` in `area` reads, from the project at `root`."""
    paths = [DOMAIN, REQUESTS_FILE, INFO_FILE, RULES, STORIES, NLU_TEST]
    flow = Flow(name, area)  # unchecked yet: its paths only, for names that can't escape
    if NAME_PATTERN.match(name):
        paths += [flow.nlu_file, flow.test_file]
    if area and re.fullmatch(r"[a-z0-9_]+", area):
        paths.append(flow.handler_file)
    texts = {p: (root / p).read_text(encoding="utf-8") for p in paths if (root / p).is_file()}
    actions = root / "actions"
    modules = frozenset(
        p.stem if p.is_file() else p.name
        for p in actions.iterdir()
        if (p.is_file() and p.suffix == ".py") or (p.is_dir() and (p / "__init__.py").exists())
    )
    return Project(texts, modules)


def write(root: Path, files: Mapping[str, str]) -> None:
    """Every file written to a temporary file beside it first, then all moved in place:
    a failure while writing leaves the project as it was."""
    staged: List[Tuple[Path, Path]] = []
    try:
        for relative, text in files.items():
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
            staged.append((Path(name), target))
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                out.write(text)
            mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
            os.chmod(name, mode)
    except BaseException:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise
    for temporary, target in staged:
        os.replace(temporary, target)


def run(
    root: Path,
    name: str,
    area: Optional[str],
    identity: bool = True,
    answer: bool = False,
    out: Callable[[str], None] = print,
) -> int:
    """Scaffolds the flow in the project at `root`: 0, or 2 after saying why not."""
    if answer and (area or not identity):
        out("note: an answer has no area and no identity check; --area/--no-identity ignored")
        area, identity = None, True
    try:
        result = scaffold(read_project(root, name, area), name, area, identity, answer)
    except ScaffoldError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    write(root, result.files)
    flow = result.flow
    kind = (
        "an answer (actions/info.py)"
        if flow.answer
        else f"a request of {flow.handler_file}"
        + (" (a new area)" if flow.new_area else "")
        + (", identity checked first" if flow.identity else ", no identity check")
    )
    changed = sorted(set(result.files) - set(result.created))
    out(f"Scaffolded {name}: {kind}.")
    out(f"  created: {', '.join(result.created)}")
    out(f"  changed: {', '.join(changed)}")
    out(f"Every text to write is marked {PLACEHOLDER}. What to write next:")
    for step in result.steps:
        out(f"  {step}")
    return 0
