"""The model is retrained exactly when something it is built from changes."""

from __future__ import annotations

import ast

from bot import training
from tests.harness import ROOT


def test_every_module_the_nlu_components_import_is_a_training_input():
    listed = {ROOT / m for m in training.NLU_COMPONENT_MODULES}
    for module in listed:
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bot."):
                path = ROOT / (node.module.replace(".", "/") + ".py")
                assert path in listed, f"{module.name} imports {node.module}"


def test_fingerprint_changes_with_any_input(tmp_path):
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    files = [root / "config.yml", root / "data" / "nlu.yml"]
    for f in files:
        f.write_text("a")
    before = training.fingerprint(files, root)
    assert training.fingerprint(files, root) == before
    files[1].write_text("b")
    assert training.fingerprint(files, root) != before


def test_inputs_cover_the_assistant_content():
    names = {
        p.relative_to(ROOT).as_posix() for p in training.training_inputs() if ROOT in p.parents
    }
    assert {
        "config.yml",
        "domain.yml",
        "data/nlu.yml",
        "data/rules.yml",
        "data/stories.yml",
        "data/emotions.yml",
    } <= names


def test_every_file_of_the_nlu_package_is_a_training_input(tmp_path):
    inputs = set(training.training_inputs())
    nlu = ROOT / "nlu"
    assert set(nlu.rglob("*.py")) <= inputs
    assert {
        nlu / "encoder.py",
        nlu / "entity_filter.py",
        nlu / "minilm" / "tokenizer.json",
    } <= inputs
    listed = {ROOT / m for m in training.NLU_COMPONENT_MODULES} | inputs
    for module in nlu.rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bot."):
                path = ROOT / (node.module.replace(".", "/") + ".py")
                assert path in listed, f"{module.name} imports {node.module}"
    # a new module counts at once; bytecode caches don't
    (tmp_path / "nlu" / "__pycache__").mkdir(parents=True)
    (tmp_path / "nlu" / "__pycache__" / "a.cpython-310.pyc").write_bytes(b"x")
    (tmp_path / "nlu" / "new.py").write_text("")
    assert list(training.nlu_package_files(tmp_path)) == [tmp_path / "nlu" / "new.py"]


def test_a_change_to_component_code_trains_with_a_fresh_cache(tmp_path):
    """Rasa's cache keys components by config and data only: changed code gets its own."""
    (tmp_path / "nlu").mkdir()
    (tmp_path / "nlu" / "gist.py").write_text("A = 1\n")
    for module in (*training.NLU_COMPONENT_MODULES, *training.DATASET_MODULES):
        (tmp_path / module).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / module).write_text("")
    before = training.cache_dir(tmp_path)
    assert before == training.cache_dir(tmp_path)
    (tmp_path / "nlu" / "gist.py").write_text("A = 2\n")
    assert training.cache_dir(tmp_path) != before
    assert before.parent == tmp_path / ".rasa" / "cache"
