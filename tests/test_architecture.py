"""The import graph of Heard's own packages, read from the source with `ast` (nothing is
imported): no import cycle between modules, packages import each other only in the allowed
directions, heard/contract.py needs the standard library only, and no package uses another
package's private names.

Every import statement counts, inside functions and under `if TYPE_CHECKING:` too: an import
deferred into a function still ties the two modules together. Modules named only in strings
(credentials.yml, endpoints.yml, `importlib`) are not seen.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

from tests.harness import ROOT

# --- the rules ----------------------------------------------------------------------------
# The first-party packages each package may import besides itself: the foundation first
# (`heard`, whose modules every process shares), the entry points (`bot`, `bench`) last.
PACKAGES = ("heard", "store", "nlu", "actions", "rasa_seam", "web", "voice", "bot", "bench")
MAY_IMPORT: Dict[str, Set[str]] = {
    "heard": set(),
    "store": {"heard"},
    "nlu": {"heard"},
    "actions": {"heard", "store"},
    "rasa_seam": {"heard", "store", "actions"},
    "web": {"heard", "store", "rasa_seam"},
    "voice": {"heard", "rasa_seam"},  # Rasa's agent and its parse: through the seam only
    "bot": set(PACKAGES) - {"bot", "bench"},
    "bench": set(PACKAGES) - {"bench"},
}
# Shared by every process and by training, so it must import nothing that may be missing.
STANDARD_LIBRARY_ONLY = "heard.contract"
STANDARD_LIBRARY = sys.stdlib_module_names


# --- reading the graph --------------------------------------------------------------------
@dataclass(frozen=True)
class Import:
    """One first-party name an import statement brings in: `target` is the module it comes
    from (the longest module prefix of what was named), `name` the imported name (None for
    `import x.y`)."""

    importer: str
    target: str
    name: Optional[str]
    line: int

    def where(self) -> str:
        return f"{self.importer} (line {self.line})"


@dataclass(frozen=True)
class Module:
    """A first-party source file: `name` is its dotted module name."""

    name: str
    path: Path
    is_package: bool

    @property
    def package(self) -> str:
        return self.name.split(".")[0]


@lru_cache(maxsize=1)
def modules() -> Dict[str, Module]:
    """Every first-party module by dotted name (a package by its __init__.py)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "node_modules" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            name = ".".join(parts[:-1] if is_package else parts)
            found[name] = Module(name, path, is_package)
    return found


def known_module(dotted: str) -> Optional[str]:
    """The longest prefix of `dotted` that is a first-party module, if any."""
    while dotted and dotted not in modules():
        dotted = dotted.rpartition(".")[0]
    return dotted or None


def absolute(module: Module, node: ast.ImportFrom) -> str:
    """The module a `from ... import` names, with relative imports resolved."""
    if not node.level:
        return node.module or ""
    base = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


@lru_cache(maxsize=None)
def tree(name: str) -> ast.Module:
    """The parsed source of module `name`, read once."""
    module = modules()[name]
    return ast.parse(module.path.read_text(encoding="utf-8"), filename=str(module.path))


def imports_in(module: Module, syntax: ast.AST) -> List[Import]:
    """The first-party imports in `syntax` (the source of `module`), wherever they are."""
    found = []
    for node in ast.walk(syntax):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = known_module(alias.name)
                if target:
                    found.append(Import(module.name, target, None, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            source = absolute(module, node)
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                target = submodule if submodule in modules() else known_module(source)
                if target:
                    found.append(Import(module.name, target, alias.name, node.lineno))
    return found


def imports_of(name: str) -> List[Import]:
    return imports_in(modules()[name], tree(name))


@lru_cache(maxsize=1)
def graph() -> Dict[str, Set[str]]:
    """Module -> the other first-party modules it imports."""
    return {name: {i.target for i in imports_of(name)} - {name} for name in modules()}


def outside_the_standard_library(syntax: ast.AST) -> List[Tuple[str, int]]:
    """(module, line) for each import in `syntax` of anything but the standard library; a
    relative import is first-party, so it counts too."""
    outside = []
    for node in ast.walk(syntax):
        if isinstance(node, ast.Import):
            named = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            named = ["." * node.level + (node.module or "")]
        else:
            continue
        outside += [(n, node.lineno) for n in named if n.split(".")[0] not in STANDARD_LIBRARY]
    return outside


def private(name: str) -> bool:
    """_name is private; __name__ is Python's, not the module's."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def module_aliases(module: Module, syntax: ast.AST) -> Dict[str, str]:
    """Local name -> first-party module, for the modules the source binds by importing them."""
    bound = {}
    for node in ast.walk(syntax):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and alias.name in modules():
                    bound[alias.asname] = alias.name
                elif not alias.asname and known_module(alias.name):
                    bound[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            source = absolute(module, node)
            for alias in node.names:
                if f"{source}.{alias.name}" in modules():
                    bound[alias.asname or alias.name] = f"{source}.{alias.name}"
    return bound


def dotted(node: ast.expr) -> Optional[str]:
    """`a.b.c` for a chain of names and attributes, None for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        left = dotted(node.value)
        return f"{left}.{node.attr}" if left else None
    return None


def private_uses(module: Module, syntax: ast.AST) -> List[str]:
    """`from x import _y`, `import x._y` and `x._y`, where x is another package's module."""
    found = []
    for i in imports_in(module, syntax):
        named = i.name if i.name is not None else i.target
        other = modules()[i.target].package != module.package
        if other and any(private(part) for part in named.split(".")):
            found.append(f"{i.where()} imports {named} from {i.target}")
    aliases = module_aliases(module, syntax)
    for node in ast.walk(syntax):
        if not (isinstance(node, ast.Attribute) and private(node.attr)):
            continue
        first, _, rest = (dotted(node.value) or "").partition(".")
        if first not in aliases:
            continue
        target = aliases[first] + (f".{rest}" if rest else "")
        if target in modules() and modules()[target].package != module.package:
            found.append(f"{module.name} (line {node.lineno}) uses {target}.{node.attr}")
    return found


def cycles(edges: Dict[str, Set[str]]) -> List[List[str]]:
    """One shortest cycle through each strongly connected group of modules (Tarjan)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    groups: List[Set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for after in sorted(edges.get(node, ())):
            if after not in index:
                visit(after)
                low[node] = min(low[node], low[after])
            elif after in on_stack:
                low[node] = min(low[node], index[after])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return [shortest_cycle(min(group), group, edges) for group in groups]


def shortest_cycle(start: str, group: Set[str], edges: Dict[str, Set[str]]) -> List[str]:
    """[start, ..., start], breadth first inside `group`."""
    came_from: Dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for after in sorted(edges.get(node, set()) & group):
                if after == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if after not in came_from:
                    came_from[after] = node
                    following.append(after)
        frontier = following
    raise AssertionError(f"{start} is in a strongly connected group but on no cycle")


# --- the checks ---------------------------------------------------------------------------
def test_the_rules_name_every_package_and_only_packages():
    assert set(MAY_IMPORT) == set(PACKAGES)
    assert all(allowed <= set(PACKAGES) for allowed in MAY_IMPORT.values())
    missing = [p for p in PACKAGES if not (ROOT / p / "__init__.py").is_file()]
    assert not missing, f"packages without an __init__.py: {missing}"


def test_the_reader_finds_every_kind_of_import():
    """On a source written for the check, so that a reader finding nothing cannot make the
    other checks pass: absolute, `from package import module`, relative, deferred into a
    function, third-party (left out), and private names reached each way."""
    evaluation = Module("bot.emotion.evaluation", ROOT / "bot/emotion/evaluation.py", False)
    syntax = ast.parse(
        "import heard.paths\n"
        "import numpy\n"
        "from store import repository as shop\n"
        "from ..servers import free_port\n"
        "def later():\n"
        "    from heard.settings import _private\n"
        "    return shop._engine, heard.paths._x, heard.paths.__file__\n"
    )
    assert [(i.target, i.name) for i in imports_in(evaluation, syntax)] == [
        ("heard.paths", None),
        ("store.repository", "repository"),
        ("bot.servers", "free_port"),
        ("heard.settings", "_private"),
    ]
    assert sorted(private_uses(evaluation, syntax)) == [
        "bot.emotion.evaluation (line 6) imports _private from heard.settings",
        "bot.emotion.evaluation (line 7) uses heard.paths._x",
        "bot.emotion.evaluation (line 7) uses store.repository._engine",
    ]
    assert outside_the_standard_library(syntax) == [
        ("heard.paths", 1),
        ("numpy", 2),
        ("store", 3),
        ("..servers", 4),
        ("heard.settings", 6),
    ]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    assert len(modules()) > 100 and sum(map(len, graph().values())) > 200  # the real tree


def test_no_import_cycle_between_modules():
    found = cycles(graph())
    assert not found, "import cycles (break each by moving what both need down a layer):\n" + (
        "\n".join(" -> ".join(cycle) for cycle in found)
    )


def test_packages_import_only_in_the_allowed_directions():
    wrong = sorted(
        {
            f"{i.where()} imports {i.target}"
            for name, module in modules().items()
            for i in imports_of(name)
            if (other := modules()[i.target].package) != module.package
            and other not in MAY_IMPORT[module.package]
        }
    )
    assert not wrong, "imports against MAY_IMPORT:\n" + "\n".join(wrong)


def test_the_contract_imports_only_the_standard_library():
    outside = outside_the_standard_library(tree(STANDARD_LIBRARY_ONLY))
    assert not outside, f"{STANDARD_LIBRARY_ONLY} imports beyond the standard library: {outside}"


def test_no_package_uses_another_packages_private_names():
    found = sorted(use for name in modules() for use in private_uses(modules()[name], tree(name)))
    assert not found, "private names used across packages (make them public or move them):\n" + (
        "\n".join(found)
    )
