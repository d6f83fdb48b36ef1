"""How spoken words become what the dialogue reads, and buttons become spoken choices."""

import pytest

from voice import spoken


@pytest.mark.parametrize(
    "said, text",
    [
        ("two three four five six seven eight", "2345678"),
        ("my order is one two three four five six seven", "my order is 1234567"),
        ("nine oh one two three four five", "9012345"),
        ("double seven eight nine zero one two", "7789012"),
        ("it's 2345678", "it's 2345678"),
        ("I have one question", "I have one question"),  # a lone digit word stays a word
        ("two or three days", "two or three days"),
        ("", ""),
    ],
)
def test_spoken_digits_become_numbers(said, text):
    assert spoken.digits_from_words(said) == text


@pytest.mark.parametrize(
    "said, expect, text",
    [
        ("jane dot doe at example dot com", "email", "jane.doe@example.com"),
        ("my email is mei dot chen at example dot org", "email", "mei.chen@example.org"),
        ("omar underscore h at example dot com", "email", "omar_h@example.com"),
        ("look at the dot on the screen", None, "look at the dot on the screen"),  # not asked
        ("I don't know it", "email", "I don't know it"),
        ("three four five six seven eight nine", "digits", "3456789"),
    ],
)
def test_normalise_uses_what_heard_asked_for(said, expect, text):
    assert spoken.normalise(said, expect) == text


def test_buttons_are_read_out_as_choices_with_the_domain_wording():
    said = spoken.with_choices(
        "How was your experience?", ["Great", "Okay", "Poor"], "You can say {choices}."
    )
    assert said == "How was your experience? You can say Great, Okay or Poor."


def test_choices_already_in_the_text_are_not_repeated():
    text = "Shall I cancel it? Yes or no?"
    assert spoken.with_choices(text, ["Yes", "No"]) == text
    assert spoken.with_choices("Anything else?", []) == "Anything else?"


@pytest.mark.parametrize(
    "titles, expect",
    [
        (["Yes, cancel it", "No, keep it"], "yes_no"),
        (["1", "2", "3", "4", "5"], "digits"),
        (["Replacement", "Refund"], None),
        (["Yes", "Tell me more"], None),
        ([], None),
    ],
)
def test_buttons_say_what_the_recogniser_should_expect(titles, expect):
    assert spoken.expectation(titles) == expect


def test_words_outside_a_grammar_are_dropped():
    assert spoken.normalise("[unk] yes [unk]", "yes_no") == "yes"
    assert spoken.normalise("[unk]", "digits") == ""
