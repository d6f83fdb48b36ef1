"""Every test story against one model (bot/story_check.py): the files Rasa would skip, the
customer lines, Rasa's failed stories, the nearest examples, and a real run with one story
right and one whose intent label is wrong."""

from __future__ import annotations

import re
import shutil
from typing import Any, Dict, List

import numpy as np
import pytest

from bot import story_check
from bot.story_check import (
    NEAREST,
    RANKED,
    Line,
    customer_lines,
    failed_stories,
    misnamed_story_files,
    nearest,
    run,
)
from heard.paths import ROOT

STORIES = """\
version: "3.1"
stories:
  - story: track an order
    steps:
      - user: |
          hi there
        intent: greet
      - action: action_small_talk
      - user: |
          where is order [1234567](order_id)? it's [jane@example.com](email)
        intent: track_order
      - action: action_begin_request
      - slot_was_set:
          - requested_slot: email
      - user: |
          [5](rating)
        intent: inform
  - story: nothing said
    steps:
      - action: action_listen
  - story: a line without its intent
    steps:
      - user: |
          hello
      - intent: goodbye
      - user: "thanks a lot"
        intent: thank_you
"""


def test_customer_lines_drop_annotations_and_steps_without_an_intent():
    assert customer_lines(STORIES) == [
        Line("track an order", "hi there", "greet"),
        Line("track an order", "where is order 1234567? it's jane@example.com", "track_order"),
        Line("track an order", "5", "inform"),
        Line("a line without its intent", "thanks a lot", "thank_you"),
    ]


@pytest.mark.parametrize("text", ["", "version: '3.1'\n", "stories:\n"])
def test_customer_lines_of_no_stories(text):
    assert customer_lines(text) == []


def test_misnamed_story_files(tmp_path):
    files = {
        "stories.yml": "stories:\n  - story: a\n    steps: []\n",  # Rasa would skip it
        "more/flows.yml": "version: '3.1'\nstories: []\n",  # in a subfolder too
        "test_x.yml": "stories:\n  - story: a\n    steps: []\n",  # Rasa reads it
        "more/test_y.yml": "stories: []\n",
        "conversations.yml": "conversations:\n  - name: a\n    turns: []\n",
        "nlu.yml": "nlu:\n  - intent: greet\n    examples: |\n      - hi\n",
        "list.yml": "- stories\n- more\n",  # YAML, but not a mapping
        "broken.yml": "stories: [unclosed\n",  # not YAML: skipped
        "flows.yaml": "stories: []\n",  # Rasa reads .yaml as well
        "test_z.yaml": "stories: []\n",
        "notes.txt": "stories:\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert misnamed_story_files(tmp_path) == [
        tmp_path / "flows.yaml",
        tmp_path / "more/flows.yml",
        tmp_path / "stories.yml",
    ]
    assert misnamed_story_files(tmp_path / "empty-does-not-exist") == []


def test_the_real_tests_folder_has_no_misnamed_stories():
    assert misnamed_story_files(ROOT / "tests") == []


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=float)
    return vector / np.linalg.norm(vector)


def test_nearest_by_cosine_best_first():
    examples = np.stack([unit(1, 0), unit(0, 1), unit(1, 1), unit(-1, 0), unit(1, 0.1)])
    labels = [
        ("east", "e"),
        ("north", "n"),
        ("north-east", "ne"),
        ("west", "w"),
        ("east by north", "e"),
    ]
    found = nearest(unit(1, 0), examples, labels, 3)
    assert [(text, intent) for text, intent, _ in found] == [
        ("east", "e"),
        ("east by north", "e"),
        ("north-east", "ne"),
    ]
    assert [round(score, 3) for _, _, score in found] == [1.0, 0.995, 0.707]
    assert all(isinstance(score, float) for _, _, score in found)
    # Ties keep the examples' order; more asked than there are gives them all.
    tied = nearest(unit(0, 1), np.stack([unit(1, 0), unit(-1, 0)]), labels[:2], 5)
    assert [text for text, _, _ in tied] == ["east", "north"]


# What Rasa 3.6 writes (a real run's file: the slow test below makes one and compares).
FAILED_TEST_STORIES = """\
version: "3.1"
stories:
- story: a greeting labelled as a goodbye (/tmp/x/test_wrong.yml)
  steps:
  - intent: goodbye  # predicted: greet: hi there
  - action: action_small_talk
- story: track an order (/tmp/x/test_wrong.yml)
  steps:
  - intent: track_order
    user: |-
      where is my [1234567](order_id)
  - action: action_begin_request
  - action: action_small_talk  # predicted: request_form
  - intent: thank_you  # predicted: goodbye: thanks, bye
- story: passed up to its end (/tmp/x/test_wrong.yml)
  steps:
  - intent: greet
"""


def test_failed_stories_with_their_predictions():
    assert failed_stories(FAILED_TEST_STORIES) == [
        (
            "a greeting labelled as a goodbye (/tmp/x/test_wrong.yml)",
            ["predicted: greet: hi there"],
        ),
        (
            "track an order (/tmp/x/test_wrong.yml)",
            ["predicted: request_form", "predicted: goodbye: thanks, bye"],
        ),
        ("passed up to its end (/tmp/x/test_wrong.yml)", []),
    ]
    assert failed_stories("") == []
    assert failed_stories('version: "3.1"\nstories: []\n') == []


def test_run_without_the_model_says_so(tmp_path):
    missing = tmp_path / "models" / "heard-000000000000.tar.gz"
    passed, report = run(missing, stories=ROOT / "tests" / "test_stories.yml", root=ROOT)
    assert not passed
    assert "no model" in report and str(missing) in report


def test_run_refuses_a_stories_file_rasa_would_skip(tmp_path):
    model = tmp_path / "heard-000000000000.tar.gz"
    model.write_bytes(b"not loaded: the file check comes first")
    (tmp_path / "tests" / "flows").mkdir(parents=True)
    (tmp_path / "tests" / "flows" / "stories.yml").write_text("stories: []\n")
    (tmp_path / "tests" / "test_ok.yml").write_text("stories: []\n")
    passed, report = run(model, stories=tmp_path / "tests" / "test_ok.yml", root=tmp_path)
    assert not passed
    assert "rename" in report and "tests/flows/stories.yml" in report
    assert "test_ok.yml" not in report


# --- a real run ----------------------------------------------------------------------------

RIGHT = "where is my package"
WRONG = "a greeting labelled as a goodbye"
WRONG_STORIES = f"""\
version: "3.1"
stories:
  # Its actions as in tests/test_stories.yml ("track an order, order number and e-mail both
  # asked by the form"), up to the form's first question.
  - story: {RIGHT}
    steps:
      - user: |
          where is my package
        intent: track_order
      - action: action_begin_request
      - action: request_form
      - active_loop: request_form
      - slot_was_set:
          - requested_slot: order_id
  - story: {WRONG}
    steps:
      - user: |
          hi there
        intent: goodbye
      - action: action_small_talk
"""


RANKED_LINE = re.compile(r"      (?P<intent>\w+) +(?P<score>[01]\.\d\d)")
NEIGHBOUR_LINE = re.compile(r'      (?P<score>-?[01]\.\d\d) (?P<intent>\w+) +"(?P<text>.+)"')


@pytest.fixture(scope="module")
def wrong_run(trained_model, tmp_path_factory):
    """One run of the two stories above, and the failed_test_stories.yml Rasa wrote."""
    import rasa.core.test

    folder = tmp_path_factory.mktemp("stories")
    stories = folder / "test_wrong.yml"
    stories.write_text(WRONG_STORIES)
    rasa_test = rasa.core.test.test
    kept: Dict[str, Any] = {}

    async def keeping_rasas_files(*args, out_directory=None, **kwargs):
        result = await rasa_test(*args, out_directory=out_directory, **kwargs)
        shutil.copytree(out_directory, folder / "out")
        kept["out"] = folder / "out"
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rasa.core.test, "test", keeping_rasas_files)
        passed, report = run(trained_model, stories=stories, root=ROOT)
    return passed, report, stories, kept["out"]


@pytest.mark.slow
def test_a_wrong_intent_fails_with_its_ranking_and_neighbours(wrong_run):
    passed, report, stories, _ = wrong_run
    assert not passed
    lines = report.splitlines()
    assert lines[0] == "stories: 1 of 2 pass"
    assert f"  FAILED {WRONG} ({stories})" in lines
    assert f"  FAILED {RIGHT} ({stories})" not in lines
    start = lines.index(f'  wrong intent: "hi there" ({WRONG})')
    assert lines[start + 1] == f"    expected goodbye; the model's top {RANKED}:"
    ranked = [RANKED_LINE.fullmatch(line) for line in lines[start + 2 : start + 2 + RANKED]]
    assert all(ranked), lines[start + 2 : start + 2 + RANKED]
    assert ranked[0] and ranked[0]["intent"] == "greet"
    confidences = [float(m["score"]) for m in ranked if m]
    assert confidences == sorted(confidences, reverse=True)
    assert len({m["intent"] for m in ranked if m}) == RANKED == 3
    assert lines[start + 2 + RANKED] == "    nearest training examples of those intents:"
    neighbours = [
        NEIGHBOUR_LINE.fullmatch(line)
        for line in lines[start + 3 + RANKED : start + 3 + RANKED + NEAREST]
    ]
    assert len(neighbours) == NEAREST == 4
    assert all(neighbours), lines[start + 3 + RANKED :]
    scores = [float(m["score"]) for m in neighbours if m]
    assert scores == sorted(scores, reverse=True)
    assert neighbours[0] and neighbours[0]["intent"] == "greet"
    assert lines[start + 3 + RANKED + NEAREST :] == []  # the right story's line is right
    assert "where is my package" not in report


@pytest.mark.slow
def test_rasa_writes_failed_stories_as_parsed(wrong_run):
    _, _, stories, out = wrong_run
    written = (out / "failed_test_stories.yml").read_text()
    assert failed_stories(written) == [(f"{WRONG} ({stories})", ["predicted: greet: hi there"])]


def test_report_lays_out_failures_and_wrong_intents():
    item = story_check.WrongIntent(
        Line("s", "hi there", "goodbye"),
        [("greet", 0.97), ("thank_you", 0.01), ("affirm", 0.01)],
        [("hi there", "greet", 1.0), ("hi", "greet", 0.8)],
    )
    text = story_check.report([("s (f)", ["predicted: greet: hi there"])], [item], 3)
    expected: List[str] = [
        "stories: 2 of 3 pass",
        "  FAILED s (f)",
        "    predicted: greet: hi there",
        '  wrong intent: "hi there" (s)',
        "    expected goodbye; the model's top 3:",
        f"      {'greet':28} 0.97",
        f"      {'thank_you':28} 0.01",
        f"      {'affirm':28} 0.01",
        "    nearest training examples of those intents:",
        f'      1.00 {"greet":28} "hi there"',
        f'      0.80 {"greet":28} "hi"',
    ]
    assert text.splitlines() == expected
