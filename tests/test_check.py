"""`make check` (bot/check.py): which tests a flow runs, the stamp that spares a second run
of the stories, and the steps that stop before anything slow starts."""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest

import bot.data_validation
import bot.new_flow.placeholders
import bot.story_check
from bot import check
from heard.paths import ROOT


def test_flow_tests_add_the_scaffolded_ones_in_order(tmp_path):
    tests = tmp_path / "tests"
    tests.mkdir()
    for name in ("test_flow_gift_wrap.py", "test_flow_bulk_order.py", "test_other.py"):
        (tests / name).write_text("")
    (tests / "test_flow_notes.txt").write_text("")
    (tests / "nested").mkdir()
    (tests / "nested" / "test_flow_deep.py").write_text("")  # not tests/test_flow_*.py
    assert check.flow_tests(tmp_path) == [
        *check.FLOW_TESTS,
        "tests/test_flow_bulk_order.py",
        "tests/test_flow_gift_wrap.py",
    ]
    assert check.flow_tests(tmp_path / "empty") == list(check.FLOW_TESTS)


def test_the_flow_tests_exist():
    assert [name for name in check.flow_tests(ROOT) if not (ROOT / name).is_file()] == []


def test_stories_digest_changes_with_the_stories_and_the_model(tmp_path):
    stories = tmp_path / "test_stories.yml"
    stories.write_text("stories: []\n")
    model = tmp_path / "heard-aaaaaaaaaaaa.tar.gz"  # never read: named only
    first = check.stories_digest(model, stories)
    assert first == check.stories_digest(model, stories)
    assert first.startswith("heard-aaaaaaaaaaaa.tar.gz ")
    assert check.stories_digest(tmp_path / "heard-bbbbbbbbbbbb.tar.gz", stories) != first
    stories.write_text("stories: []\n# one more line\n")
    assert check.stories_digest(model, stories) != first


class QuickSteps:
    """The quick steps faked: the tests' and the linters' processes, and the validation."""

    def __init__(self, monkeypatch, passed: bool = True):
        self.started: List[List[str]] = []
        self.passed = passed
        monkeypatch.setattr(check, "_start", self.start)
        monkeypatch.setattr(check, "_finish", self.finish)
        monkeypatch.setattr(bot.data_validation, "validate", self.validate)

    def start(self, command):
        self.started.append(command)
        return command

    def finish(self, process, what, timeout):
        return self.passed, "514 passed in 30.00s" if self.passed else "1 failed"

    def validate(self, root):
        return ([] if self.passed else ["The intent 'x' is not used in any story or rule."]), False


@pytest.mark.parametrize("passed", [True, False])
def test_the_quick_steps_decide_the_verdict(monkeypatch, capsys, passed):
    steps = QuickSteps(monkeypatch, passed)
    monkeypatch.setattr(bot.new_flow.placeholders, "placeholders", lambda root: [])
    assert check.quick_checks() is passed
    assert len(steps.started) == 2  # the flow tests and the linters, at once
    assert any("pytest" in part for part in steps.started[0])
    out = capsys.readouterr().out
    assert ("check: flow tests: 514 passed" in out) is passed
    assert ("check: data: The intent 'x'" in out) is not passed


def test_placeholders_left_are_listed_and_fail_the_check_after_the_quick_steps(monkeypatch, capsys):
    steps = QuickSteps(monkeypatch, passed=True)
    left = [("data/nlu/gift_wrap.yml", 4), ("actions/orders.py", 120)]
    roots: List[Path] = []

    def placeholders(root):
        roots.append(root)
        return left

    monkeypatch.setattr(bot.new_flow.placeholders, "placeholders", placeholders)
    assert check.quick_checks() is False  # so main() never trains
    assert roots == [ROOT]
    assert len(steps.started) == 2  # the tests still ran: the developer is writing them
    out = capsys.readouterr().out
    assert "2 placeholders to replace (no training before they are)" in out
    assert "  data/nlu/gift_wrap.yml:4\n" in out and "  actions/orders.py:120\n" in out


def test_main_trains_only_after_the_quick_steps_pass(monkeypatch):
    trained: List[bool] = []
    monkeypatch.setattr(check, "story_checks", lambda: trained.append(True) or True)
    monkeypatch.setattr(check, "quick_checks", lambda: False)
    assert check.main() == 1 and trained == []
    monkeypatch.setattr(check, "quick_checks", lambda: True)
    assert check.main() == 0 and trained == [True]


class Stories:
    """story_check.run, recorded, with the verdict it gives."""

    def __init__(self, passed: bool):
        self.passed = passed
        self.calls: List[Path] = []

    def __call__(self, model: Path):
        self.calls.append(model)
        return self.passed, f"stories: {'all' if self.passed else 'not all'} pass"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project in tmp_path for story_checks: its model, its stories and its stamp."""
    model = tmp_path / "models" / "heard-aaaaaaaaaaaa.tar.gz"
    model.parent.mkdir()
    model.write_bytes(b"model")
    stories = tmp_path / "tests" / "test_stories.yml"
    stories.parent.mkdir()
    stories.write_text("stories: []\n")
    stamp = tmp_path / "results" / "check" / "stories-passed"
    monkeypatch.setattr(check, "ROOT", tmp_path)
    monkeypatch.setattr(check, "model_path", lambda: model)
    monkeypatch.setattr(check, "ensure_trained", lambda: model)
    monkeypatch.setattr(check, "STORIES_PASSED", stamp)
    monkeypatch.setattr(bot.story_check, "STORIES", stories)
    return model, stories, stamp


def test_stories_unchanged_since_they_passed_are_not_run_again(project, monkeypatch, capsys):
    model, stories, stamp = project
    stamp.parent.mkdir(parents=True)
    stamp.write_text(check.stories_digest(model, stories))
    never = Stories(True)
    monkeypatch.setattr(bot.story_check, "run", never)
    assert check.story_checks() is True
    assert never.calls == []
    out = capsys.readouterr().out
    assert "unchanged" in out and "models/heard-aaaaaaaaaaaa.tar.gz" in out


# (stamp before: none, this model's, another model's or other stories'; whether the
# stories pass) -> whether they run, and the stamp after
STAMPS = [
    (None, True, True, "digest"),
    (None, False, True, None),
    ("other model", True, True, "digest"),
    ("other model", False, True, "other model"),  # a failed run leaves the stamp as it was
    ("other stories", False, True, "other stories"),
    ("digest", False, False, "digest"),  # unchanged: not run, whatever they would say
]


@pytest.mark.parametrize("before,passes,runs,after", STAMPS)
def test_stories_run_when_changed_and_stamped_when_they_pass(
    project, monkeypatch, capsys, before, passes, runs, after
):
    model, stories, stamp = project
    texts = {
        "digest": check.stories_digest(model, stories),
        "other model": check.stories_digest(model.with_name("heard-bbbbbbbbbbbb.tar.gz"), stories),
        "other stories": f"{model.name} 0123456789abcdef",
    }
    if before is not None:
        stamp.parent.mkdir(parents=True)
        stamp.write_text(texts[before])
    stories_run = Stories(passes)
    monkeypatch.setattr(bot.story_check, "run", stories_run)
    assert check.story_checks() is (passes or not runs)
    assert stories_run.calls == ([model] if runs else [])
    if after is None:
        assert not stamp.exists()
    else:
        assert stamp.read_text() == texts[after]
    out = capsys.readouterr().out
    if runs:
        assert f"check: stories: {'all' if passes else 'not all'} pass" in out


def test_a_missing_model_is_trained_first(project, monkeypatch, capsys):
    model, _, _ = project
    trained: List[bool] = []
    monkeypatch.setattr(check, "model_path", lambda: model.with_name("heard-cccccccccccc.tar.gz"))

    def ensure_trained():
        trained.append(True)
        return model

    monkeypatch.setattr(check, "ensure_trained", ensure_trained)
    monkeypatch.setattr(bot.story_check, "run", Stories(True))
    assert check.story_checks() is True
    assert trained == [True]
    assert "training" in capsys.readouterr().out
