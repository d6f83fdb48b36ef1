"""Pure conversions between how people speak and what the dialogue reads and shows.

A recogniser writes "two three four five six seven eight" and "jane dot doe at example
dot com"; the NLU expects "2345678" and "jane.doe@example.com". Buttons can't be clicked
on a phone, so their titles are read out as choices.
"""

from __future__ import annotations

from typing import Iterable, List, Optional, Sequence

DIGIT_WORDS = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_REPEAT = {"double": 2, "triple": 3}
MIN_DIGIT_RUN = 3  # "one" alone is a word, not an order number
# What the caller is asked for: the recogniser can be given these as a grammar hint.
GRAMMARS = {
    "digits": tuple(DIGIT_WORDS) + tuple(_REPEAT),
    "yes_no": ("yes", "no", "yeah", "nope", "correct", "that's right", "that's wrong"),
}


def _digit_run(tokens: Sequence[str], i: int) -> tuple:
    """Digits spelled from tokens[i:], and how many tokens they used."""
    digits, j = "", i
    while j < len(tokens):
        word = tokens[j].lower()
        if word in _REPEAT and j + 1 < len(tokens) and tokens[j + 1].lower() in DIGIT_WORDS:
            digits += DIGIT_WORDS[tokens[j + 1].lower()] * _REPEAT[word]
            j += 2
        elif word in DIGIT_WORDS and not (word == "o" and not digits):
            digits += DIGIT_WORDS[word]
            j += 1
        elif word.isdigit():
            digits += word
            j += 1
        else:
            break
    return digits, j - i


def digits_from_words(text: str) -> str:
    """Runs of three or more spoken digits become one number; other words stay."""
    tokens = text.split()
    out: List[str] = []
    i = 0
    while i < len(tokens):
        digits, used = _digit_run(tokens, i)
        if used and len(digits) >= MIN_DIGIT_RUN and not (used == 1 and tokens[i].isdigit()):
            out.append(digits)
            i += used
        else:
            out.append(tokens[i])
            i += 1
    return " ".join(out)


def email_from_words(text: str) -> str:
    """'jane dot doe at example dot com' -> 'jane.doe@example.com' (when it reads as one)."""
    words = text.lower().split()
    if "at" not in words or "dot" not in words[words.index("at") :]:
        return text
    at = words.index("at")
    local = words[:at]
    # The address starts after any lead-in such as "it's" or "my email is".
    for cut, word in enumerate(local):
        if word in ("is", "it's", "its"):
            local = local[cut + 1 :]
    domain = words[at + 1 :]
    if not local or not domain:
        return text
    return f"{_joined(local)}@{_joined(domain)}"


def expectation(titles: Sequence[str]) -> Optional[str]:
    """What buttons ask for, as a recogniser hint: yes/no questions, or numbers (ratings)."""
    firsts = [t.strip().split()[0].strip(",.!").lower() for t in titles if t and t.strip()]
    if firsts and all(f in ("yes", "no") for f in firsts):
        return "yes_no"
    if firsts and all(f.isdigit() for f in firsts):
        return "digits"
    return None


def normalise(text: str, expect: Optional[str] = None) -> str:
    """Recogniser text -> the text the dialogue gets, given what Heard asked for."""
    # "[unk]" is what a grammar-constrained recogniser writes for words outside it.
    text = " ".join(w for w in text.split() if w != "[unk]")
    text = digits_from_words(text)
    if expect == "email":
        text = email_from_words(text)
    return text


def with_choices(text: str, titles: Iterable[str], template: str = "You can say {choices}.") -> str:
    """Button titles read out as choices, unless the text already names them all.

    `template` is the domain's `utter_voice_choices` wording.
    """
    titles = [t.strip() for t in titles if t and t.strip()]
    if not titles or all(t.lower() in text.lower() for t in titles):
        return text
    choices = titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + f" or {titles[-1]}"
    return f"{text} {template.format(choices=choices)}"


_SPOKEN_SYMBOLS = {"dot": ".", "underscore": "_", "dash": "-", "hyphen": "-"}


def _joined(words: List[str]) -> str:
    """Spoken address words as written: "dot" is ".", "underscore" "_"..."""
    return "".join(_SPOKEN_SYMBOLS.get(w, w) for w in words)
