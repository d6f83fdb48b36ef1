"""`make check` (`python -m bot check`): the loop for adding or changing a flow.

1. The `(placeholder)`s left by `python -m bot new-flow`, listed (none may be left
   before training).
2. At once, on both cores: the linters (`make lint`), the tests a flow touches (below:
   actions, dialogue, rules against tables, wording, the NLU test set kept apart; no
   trained model needed), and Rasa's validation of the data (`bot/data_validation.py`).
3. When the training inputs changed: training (`bot/training.py`); and when the model or
   the test stories changed since they last all passed: every test story, with each wrong
   intent's top 3 and nearest training examples (`bot/story_check.py`).

It stops before training when an earlier step failed or a placeholder is left: a
retrain is the slow part.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Tuple

from bot.training import ROOT, ensure_trained, model_path

FLOW_TESTS = (
    "tests/test_actions.py",
    "tests/test_conversation_flow.py",
    "tests/test_request_form.py",
    "tests/test_requests_match_rules.py",
    "tests/test_domain.py",
    "tests/test_empathy.py",
    "tests/test_policy.py",
    "tests/test_frustration.py",
    "tests/test_nlu_test_set.py",
)
STORIES_PASSED = ROOT / "results" / "check" / "stories-passed"  # model + stories digest


def flow_tests(root: Path = ROOT) -> List[str]:
    """The tests above and every scaffolded flow's own (`tests/test_flow_*.py`)."""
    scaffolded = sorted(p.relative_to(root).as_posix() for p in root.glob("tests/test_flow_*.py"))
    return [*FLOW_TESTS, *scaffolded]


def stories_digest(model: Path, stories: Path) -> str:
    return f"{model.name} {hashlib.sha256(stories.read_bytes()).hexdigest()[:16]}"


def _start(command: List[str]) -> subprocess.Popen:
    return subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _finish(process: subprocess.Popen, what: str, timeout: float) -> Tuple[bool, str]:
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return False, f"{what}: stopped after {timeout:.0f} s"
    return process.returncode == 0, output


def quick_checks() -> bool:
    """Steps 1 and 2; prints what failed."""
    from bot.data_validation import validate
    from bot.new_flow.placeholders import placeholders

    left = placeholders(ROOT)
    if left:  # listed, and the rest still runs: a developer writing them wants the tests
        print(f"check: {len(left)} placeholders to replace (no training before they are):")
        for path, line in left:
            print(f"  {path}:{line}")
    tests = _start(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow"]
        + flow_tests()
    )
    lint = _start(["make", "--no-print-directory", "lint"])  # the linters as CI runs them
    problems, failed = validate(ROOT)
    ok = not problems and not failed
    for problem in problems:
        print(f"check: data: {problem}")
    if failed and not problems:
        print("check: data: Rasa's validation failed; run `.venv/bin/rasa data validate`")
    lint_ok, lint_out = _finish(lint, "lint", 300)
    if not lint_ok:
        print(f"check: lint failed (make lint):\n{lint_out.rstrip()}")
    tests_ok, tests_out = _finish(tests, "tests", 600)
    summary = tests_out.strip().splitlines()[-1:] if tests_out.strip() else ["no output"]
    if tests_ok:
        print(f"check: flow tests: {summary[0]}")
    else:
        print(f"check: flow tests failed:\n{tests_out.rstrip()[-6000:]}")
    return not left and ok and lint_ok and tests_ok


def story_checks() -> bool:
    """Step 3; prints the stories' report when they run."""
    from bot import story_check

    model = model_path()
    if not model.exists():
        print("check: the training inputs changed: training (5-8 minutes on 2 cores)...")
    model = ensure_trained()
    digest = stories_digest(model, story_check.STORIES)
    if STORIES_PASSED.exists() and STORIES_PASSED.read_text() == digest:
        print(f"check: stories: passed before with {model.relative_to(ROOT)}, unchanged since")
        return True
    passed, report = story_check.run(model)
    print(f"check: {report}")
    if passed:
        STORIES_PASSED.parent.mkdir(parents=True, exist_ok=True)
        STORIES_PASSED.write_text(digest)
    return passed


def main() -> int:
    started = time.monotonic()
    ok = quick_checks() and story_checks()
    elapsed = time.monotonic() - started
    print(f"check: {'all good' if ok else 'FAILED'} in {elapsed:.0f} s")
    return 0 if ok else 1
