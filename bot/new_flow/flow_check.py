"""Whether a flow can be scaffolded: the names the project uses already, read from its
texts (intents, responses, table keys, the areas REQUESTS runs, a module's names), and
check_flow, which refuses a bad or taken name or area before anything is edited."""

from __future__ import annotations

import ast
import keyword
import re
from typing import List, Optional, Set

import yaml

from bot.new_flow.flow import DOMAIN, INFO_FILE, REQUESTS_FILE, Flow, Project, ScaffoldError

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{2,40}$")
AREA_PATTERN = re.compile(r"^[a-z][a-z0-9_]{2,30}$")
# Intents Rasa defines itself (rasa.shared.core.constants.DEFAULT_INTENTS).
RASA_INTENTS = frozenset({"restart", "back", "out_of_scope", "session_start", "nlu_fallback"})


# --- reading the project --------------------------------------------------------------------
def domain_intents(domain_text: str) -> List[str]:
    """The intents domain.yml lists (a name, or a mapping's key)."""
    intents = (yaml.safe_load(domain_text) or {}).get("intents") or []
    return [next(iter(i)) if isinstance(i, dict) else str(i) for i in intents]


def domain_responses(domain_text: str) -> Set[str]:
    return set((yaml.safe_load(domain_text) or {}).get("responses") or {})


def _table(source: str, table: str, path: str) -> ast.Dict:
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            targets = [node.target.id]
        else:
            continue
        if table in targets and isinstance(node.value, ast.Dict):
            return node.value
    raise ScaffoldError(f"{path}: no `{table} = {{...}}` table found")


def table_keys(source: str, table: str, path: str = "") -> Set[str]:
    """The string keys of the dict literal `table` in a module's source."""
    return {
        k.value
        for k in _table(source, table, path or "source").keys
        if isinstance(k, ast.Constant) and isinstance(k.value, str)
    }


def handler_areas(requests_source: str) -> Set[str]:
    """The modules whose functions REQUESTS runs: `Request(orders.track_order)` -> orders."""
    areas = set()
    for value in _table(requests_source, "REQUESTS", REQUESTS_FILE).values:
        if isinstance(value, ast.Call) and value.args:
            handler = value.args[0]
            if isinstance(handler, ast.Attribute) and isinstance(handler.value, ast.Name):
                areas.add(handler.value.id)
    return areas


def module_names(source: str) -> Set[str]:
    """The names a module binds at its top level (imports, functions, classes, variables)."""
    names: Set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


# --- the refusals ---------------------------------------------------------------------------
def check_flow(
    project: Project,
    name: str,
    area: Optional[str],
    identity: bool = True,
    answer: bool = False,
) -> Flow:
    """The flow to scaffold, or ScaffoldError saying why the name or the area won't do."""
    if not NAME_PATTERN.match(name):
        raise ScaffoldError(
            f"{name!r} is not a valid intent name: 3 to 41 characters, lowercase letters, "
            "digits and underscores, starting with a letter (e.g. gift_wrap)"
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise ScaffoldError(f"{name!r} is a Python keyword; it can't name a handler")
    domain_text = project.text(DOMAIN)
    requests_source = project.text(REQUESTS_FILE)
    if name in domain_intents(domain_text):
        raise ScaffoldError(
            f"{name} is already an intent in domain.yml (a flow scaffolded before, or an "
            "existing one); nothing changed"
        )
    if name in RASA_INTENTS:
        raise ScaffoldError(f"{name} is one of Rasa's own intents; choose another name")
    if name in table_keys(requests_source, "REQUESTS", REQUESTS_FILE):
        raise ScaffoldError(f"{name} is already in REQUESTS ({REQUESTS_FILE}); nothing changed")
    if name in table_keys(project.text(INFO_FILE), "ANSWERS", INFO_FILE):
        raise ScaffoldError(f"{name} is already in info.ANSWERS ({INFO_FILE}); nothing changed")
    if answer:
        flow = Flow(name, None, identity=False, answer=True)
    else:
        flow = Flow(name, area, identity, new_area=_check_area(project, area, requests_source))
    taken = sorted(domain_responses(domain_text) & set(flow.responses))
    if taken:
        raise ScaffoldError(f"domain.yml already has {', '.join(taken)}; nothing changed")
    for path in (flow.nlu_file, flow.test_file):
        if path in project.texts:
            raise ScaffoldError(f"{path} exists already; nothing changed")
    if not (answer or flow.new_area) and name in module_names(project.text(flow.handler_file)):
        raise ScaffoldError(f"{flow.handler_file} already defines {name}; nothing changed")
    return flow


def _check_area(project: Project, area: Optional[str], requests_source: str) -> bool:
    """True for a new area, False for an existing one; ScaffoldError for anything else."""
    areas = sorted(handler_areas(requests_source))
    choose = f"one of {', '.join(areas)}, or a new area name"
    if not area:
        raise ScaffoldError(f"a request needs --area: {choose} (or --answer for a fixed reply)")
    if area in areas:
        return False
    if area in project.actions_modules:
        raise ScaffoldError(
            f"actions/{area}.py is not a module of request handlers (no REQUESTS entry runs its "
            f"functions); choose {choose}"
        )
    if not AREA_PATTERN.match(area) or keyword.iskeyword(area) or keyword.issoftkeyword(area):
        raise ScaffoldError(
            f"{area!r} is not a valid area name: 3 to 31 lowercase letters, digits and "
            f"underscores, starting with a letter; or {choose}"
        )
    if area in module_names(requests_source):
        raise ScaffoldError(f"{area} is already a name in {REQUESTS_FILE}; choose {choose}")
    return True
