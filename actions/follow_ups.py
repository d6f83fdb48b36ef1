"""Follow-ups: short messages that lean on Heard's last answer ("how long will that take?",
"why?", "can you e-mail me that?"). Pure readings of the text; the answers are built from
the facts of the last resolution (actions/dialogue.py) and worded in domain.yml.

The patterns are bounded alternations, so they run in linear time on any input.
"""

from __future__ import annotations

import re
from typing import Optional

from heard.formats import EMAIL_RE, ORDER_NUMBER_RE

# kind -> pattern; the first kind whose pattern matches wins, so the specific ones come first.
KINDS = (
    (
        "wait",
        re.compile(
            r"\bhow (long|much longer) (will|do|must|should|have) i (have to |got to )?(wait|hold)|"
            r"\b(when|how soon) will (someone|somebody|a person|an agent|a colleague|a human|they)"
            r" (join|come|answer|reply|be here|get back|pick)|\bam i (still )?in the queue|"
            r"\bhow long (is|until) (the queue|the wait|someone|an agent)|\bstill waiting for (the|an?)"
            r" (agent|colleague|person|human)",
            re.I,
        ),
    ),
    (
        "not_asked",
        re.compile(
            r"\b(that'?s|that is|this is|it'?s) not what i (asked|meant|wanted|said)|\bnot what i "
            r"(asked|meant)|\byou (misunderstood|got it wrong|didn'?t understand)|\bthat'?s not my "
            r"question|\bthat (doesn'?t|does not|didn'?t) answer|\bwrong (answer|thing)|"
            r"\bi (didn'?t|did not) ask (for|about) that",
            re.I,
        ),
    ),
    (
        "repeat",
        re.compile(
            r"\b(say|repeat) (that|it|this) (again|one more time)|\brepeat (that|it|please)|"
            r"\bcome again\b|^\s*(sorry|pardon)\s*\??\s*$|\bpardon\b|\bdidn'?t (catch|get) (that|it)|"
            r"\bwhat did you (just )?say",
            re.I,
        ),
    ),
    (
        "email",
        re.compile(
            r"\b(e-?mail|send|forward|mail) (me )?(that|this|it|those|these|the details|a copy|a "
            r"summary|the info\w*|confirmation)\b|\b(in|by) (writing|e-?mail)\b|\bput (that|this|it)"
            r" in (an )?e-?mail|\bget (that|this|it) (in writing|by e-?mail)",
            re.I,
        ),
    ),
    (
        "next",
        re.compile(
            r"\bwhat happens (next|now)\b|"
            r"\bwhat (comes|do i do|should i do|now|do i need to do) ?(next|now)?\b\s*\??\s*$|"
            r"\bwhat'?s next\b|\bnext steps?\b|\band then what\b|\bthen what\b|\bwhat now\b",
            re.I,
        ),
    ),
    (
        "why",
        re.compile(
            r"^\W*(but |and |so |ok,? |okay,? )?(why|how come)\b|\bwhat'?s the reason\b|\bwhy (is|was|"
            r"did|does|can'?t|cannot|won'?t|not|so)\b",
            re.I,
        ),
    ),
    (
        "when",
        re.compile(
            r"\bhow long\b|\bhow many (days|weeks|hours)\b|\bhow soon\b|\bby when\b|\bwhen (will|do|"
            r"can|should|would|is|does)\b|^\W*(and |so |ok,? )?when\b|\bwhat (date|day|time)\b",
            re.I,
        ),
    ),
)
ANAPHORA = re.compile(r"\b(that|it|this|those|these|they|them)\b|^\W*(and|so|but|ok|okay)\b", re.I)
MAX_WORDS = 16  # a follow-up is short; a long message says what it wants itself
BARE_WORDS = 3  # "why?", "how long?": nothing but the follow-up


def kind(text: str) -> Optional[str]:
    """The follow-up a short message asks for, or None. A message with an order number or
    an e-mail address in it brings something new, so it is never a follow-up."""
    if len(text.split()) > MAX_WORDS or ORDER_NUMBER_RE.search(text) or EMAIL_RE.search(text):
        return None
    return next((name for name, pattern in KINDS if pattern.search(text)), None)


# Kinds that could also be a question of their own ("when do you deliver?").
AMBIGUOUS = ("when", "why")


def leans_on_last_answer(kind_: str, text: str, intent: str, requests: frozenset) -> bool:
    """Whether a message of this kind refers back ("that", "it", "and ...") or says nothing
    else, or was not read as a request of its own: "how long does delivery take?" is a
    question, "how long will that take?" a follow-up."""
    return (
        kind_ not in AMBIGUOUS
        or intent not in requests
        or len(text.split()) <= BARE_WORDS
        or bool(ANAPHORA.search(text))
    )
