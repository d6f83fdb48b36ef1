"""Pure decisions of the empathy policy: what to acknowledge, whether to apologise,
how to word the resolution, and when a human should take over.

Everything here is a function of plain data, so it is tested table-driven; the words
themselves live in domain.yml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Optional, Sequence, Tuple

from heard.contract import NEGATIVE_EMOTIONS

HIGH_INTENSITY = 0.6
FRUSTRATION_ESCALATES_AT = 0.85  # the conversation-level score (actions/frustration.py)
# Faults the shop owns; every other problem is validated without an apology.
SHOP_FAULTS = ("late_delivery", "damaged_item", "double_charge", "refund_overdue")
# Intents whose very subject is the shop's fault, known before any lookup.
FAULT_BY_INTENT = {"report_damaged_item": "damaged_item"}
# The responses that express sympathy (acknowledgements, apologies): never said twice.
SYMPATHY_PREFIXES = tuple(f"utter_{kind}_" for kind in ("ack", "apology"))
# Intents whose reply is warm already; a joy acknowledgement on top would be too much.
WARM_INTENTS = ("thank_you",)


@dataclass(frozen=True)
class Emotion:
    name: str = "neutral"
    confidence: float = 1.0
    intensity: float = 0.0
    cues: Tuple[str, ...] = ()  # intensity cues found, e.g. "waiting", "repeated_contact"

    @classmethod
    def from_parse(cls, parse_data: Optional[Mapping]) -> "Emotion":
        raw = (parse_data or {}).get("emotion")
        if not isinstance(raw, Mapping):
            return cls()
        try:
            return cls(
                str(raw.get("name", "neutral")),
                float(raw.get("confidence", 1.0)),
                float(raw.get("intensity", 0.0)),
                tuple(str(c) for c in raw.get("cues") or ()),
            )
        except (TypeError, ValueError):
            return cls()

    @property
    def level(self) -> str:
        return "high" if self.intensity >= HIGH_INTENSITY else "low"

    @property
    def negative(self) -> bool:
        return self.name in NEGATIVE_EMOTIONS


@dataclass(frozen=True)
class Plan:
    acknowledgement: Optional[str]  # response name, e.g. utter_ack_anger_high
    style: str  # "plain", "calm" (anger), "steps" (confusion), "reassure" (anxiety), "warm"
    offer_human: bool


def plan(emotion: Emotion, intent: str) -> Plan:
    """Acknowledgement first: which one, and how the resolution that follows is worded."""
    if emotion.negative:
        style = {"anger": "calm", "confusion": "steps", "anxiety": "reassure"}.get(
            emotion.name, "plain"
        )
        return Plan(
            f"utter_ack_{emotion.name}_{emotion.level}", style, offer_human=emotion.name == "anger"
        )
    if intent in WARM_INTENTS:  # the thank-you reply is itself the warmth
        return Plan(None, "warm", offer_human=False)
    if emotion.name == "joy":
        return Plan(f"utter_ack_joy_{emotion.level}", "warm", offer_human=False)
    return Plan(None, "plain", offer_human=False)


def apology(fault: Optional[str]) -> Optional[str]:
    """Own the mistake only when the shop made it."""
    return f"utter_apology_{fault}" if fault in SHOP_FAULTS else None


def styled_response(base: str, style: str, available: Iterable[str]) -> str:
    """`utter_x_steps` for a confused customer when the domain has it, else `utter_x`."""
    candidate = f"{base}_{style}"
    return candidate if candidate in set(available) else base


def pick_variation(response: str, variations: int, said: Sequence[str]) -> Optional[int]:
    """The first variation of `response` not yet said in this conversation, or None.

    Said acknowledgements are kept as "response:index" keys; when every variation has been
    used the acknowledgement is left out rather than repeated.
    """
    for index in range(variations):
        if f"{response}:{index}" not in said:
            return index
    return None


# "This is the third time I'm asking", "I've already called twice": the customer has been
# failed before, so a person takes over rather than another round with Heard.
REPEATED_CONTACT = re.compile(
    r"\b((second|third|fourth|fifth|sixth|\d{1,2}(st|nd|rd|th)) time|(how|so) many times|"
    r"again and again|keep (asking|calling|writing|chasing|contacting)|already (asked|called|"
    r"wrote|written|told|contacted|emailed|e-mailed|chased|been in touch)|(called|contacted|"
    r"written|emailed|e-mailed|messaged|asked|chased|rang) (you |this |about this )?(twice|"
    r"three times|several times|multiple times|many times|so many times|repeatedly)|"
    r"(nobody|no one|no-one) (ever )?(answers|replies|replied|got back|gets back|helps)|"
    r"still (no|haven'?t had an?|not had an?) (answer|reply|response))\b",
    re.I,
)
# Emotions that, held over NO_PROGRESS_TURNS turns with nothing resolved, call for a person.
STUCK_EMOTIONS = ("anger", "frustration", "sadness")
NO_PROGRESS_TURNS = 3
# What is at stake for the customer, said back once: "for my sister's wedding" -> "your
# sister's wedding". Bounded words, so linear time.
_STAKES = re.compile(
    r"\b(?:for|before|by) (my|our|the) ((?:[a-z]{1,15}'s |[a-z]{1,15} ){0,2}(?:wedding|birthday|"
    r"anniversary|trip|holiday|holidays|vacation|flight|party|exam|exams|interview|funeral|"
    r"graduation|christening|move|big day|honeymoon|christmas|deadline|surgery|operation))\b|"
    r"\b(birthday|wedding|christmas|anniversary) (gift|present)\b|\b(?:it'?s|it is|this is|"
    r"was) (a|my) (gift|present)\b",
    re.I,
)


def stakes(text: str) -> Optional[str]:
    """What the customer said is riding on this, worded for Heard to say back, or None."""
    match = _STAKES.search(text or "")
    if not match:
        return None
    if match.group(2):
        owner = "your" if match.group(1).lower() in ("my", "our") else "the"
        return f"{owner} {match.group(2).lower()}"
    if match.group(3):
        return f"a {match.group(3).lower()} {match.group(4).lower()}"
    return f"a {match.group(6).lower()}"


@dataclass(frozen=True)
class Turn:
    intent: str
    emotion: Emotion
    repeated_contact: bool = False  # says they have asked or contacted the shop before


def escalation_reason(
    turns: Sequence[Turn],
    identity_failures: int,
    frustration: float = 0.0,
    turns_without_progress: int = 0,
) -> Optional[str]:
    """Why a human should take over now, judged on the user turns since the last handoff
    (latest last), the conversation's frustration score and how many of those turns came
    after the last resolved request."""
    if not turns:
        return None
    if turns[-1].intent == "contact_human_agent":
        return "customer_request"
    if identity_failures >= 3:
        return "identity_failed"
    if turns[-1].repeated_contact and turns[-1].emotion.negative:
        return "repeated_contact"
    heated = [t for t in turns[-3:] if _heated(t.emotion)]  # a calm detail may come between
    if (
        _heated(turns[-1].emotion)
        and len(heated) >= 2
        and any(t.emotion.level == "high" for t in heated)
    ):
        return "repeated_anger"
    if len(turns) >= 2 and all(t.intent == "nlu_fallback" for t in turns[-2:]):
        return "repeated_fallback"
    if len(turns) >= 2 and frustration >= FRUSTRATION_ESCALATES_AT:
        return "rising_frustration"
    stuck = turns[-NO_PROGRESS_TURNS:]
    if (
        turns_without_progress >= NO_PROGRESS_TURNS
        and len(stuck) == NO_PROGRESS_TURNS
        and all(t.emotion.name in STUCK_EMOTIONS for t in stuck)
    ):
        return "no_progress"
    return None


def _heated(emotion: Emotion) -> bool:
    return emotion.name == "anger" or (emotion.name == "frustration" and emotion.level == "high")


def handoff_priority(emotion: Emotion, reason: str) -> int:
    """1 is served first: intense anger, then other anger and frustration, then the rest."""
    if reason == "repeated_anger" or (emotion.name == "anger" and emotion.level == "high"):
        return 1
    if emotion.name in ("anger", "frustration") or reason in (
        "severe_complaint",
        "repeated_contact",
    ):
        return 2
    if emotion.negative:
        return 3
    return 4


def case_priority(base: str, emotions: Iterable[Emotion]) -> str:
    """A case raised in intense anger or frustration is urgent; otherwise it has its
    problem's own priority (`base`)."""
    upset = any(e.name in ("anger", "frustration") and e.level == "high" for e in emotions)
    return "urgent" if upset else base
