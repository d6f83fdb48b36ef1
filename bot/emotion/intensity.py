"""How strongly a customer feels, from the words and the way they are written.

intensity = 0.15 + 0.3 x the classifier's confidence + the sum of cue weights - 0.15 when
the feeling is played down ("a bit", "slightly"), clipped to [0, 1]. Neutral messages get
only a fraction of the cues (a calm request in capitals is still calm). 0.6 is "high" for
the empathy policy; the weights are set so that Heard agrees with a hand-graded file
(tests/data/emotion_intensity.tsv) and are documented in the README. On a call,
`with_voice` then moves the intensity by the caller's vocal arousal (voice/README.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, Mapping, Optional, Tuple

_WORD = re.compile(r"[A-Za-z']+")
_PROFANITY = re.compile(
    r"\b(damn|damned|hell|wtf|ffs|crap|crappy|shit\w*|bullshit|fuck\w*|f[*#@]+\w*|bloody|"
    r"screw(ed)? (you|this)|pissed|sucks?)\b",
    re.I,
)
_INTENSIFIERS = re.compile(
    r"\b(very|so|extremely|absolutely|totally|completely|really|seriously|utterly|"
    r"incredibly|ridiculous(ly)?|unacceptable|outrageous|disgusting|terrible|awful|worst|"
    r"never|beyond)\b",
    re.I,
)
_REPEATED_CONTACT = re.compile(
    r"\b(again|still|(second|third|fourth|fifth|\d+(st|nd|rd|th)) time|"
    r"(how|so) many times|every time|keep (asking|calling|writing|getting)|"
    r"already (asked|called|wrote|written|told|contacted)|nobody (answers|replies|helps)|"
    r"no one (answers|replies|helps))\b",
    re.I,
)
# Words that on their own say the feeling is strong (not just which feeling it is).
_STRONG = re.compile(
    r"\b(furious|livid|fuming|seething|raging|outraged?|enraged|so (angry|mad)|hate|despise|"
    r"useless|pathetic|disgrace(ful)?|disgusted|disgusting|shameless|joke|scam\w*|thie(f|ves)|"
    r"theft|fraud|crooks?|criminals?|liars?|lied|robbery|court|lawyer|solicitor|police|sue|"
    r"devastated|heartbroken|crushed|gutted|in tears|crying|beside myself|"
    r"terrified|petrified|panic\w*|frantic|scared to death|worried sick|sick with worry|"
    r"desperate|shaking|losing my mind|insane|"
    r"thrilled|ecstatic|over the moon|lifesaver|saved my \w+|amazing)\b",
    re.I,
)
# Words that play a feeling down: "a bit worried", "slightly annoyed".
_MITIGATORS = re.compile(
    r"\b(a (little|bit|tad)|slightly|somewhat|kind of|a touch|not a big deal|"
    r"no big deal|minor|small (issue|question|problem))\b",
    re.I,
)
_WAITING = re.compile(
    r"\b((\d+|a|one|two|three|four|five|six|several|few|many) (days?|weeks?|months?|hours?)|"
    r"since (monday|tuesday|wednesday|thursday|friday|saturday|sunday|last|yesterday|\d+)|"
    r"forever|ages)\b",
    re.I,
)

WEIGHTS: Dict[str, float] = {
    "capitals": 0.2,
    "exclamations": 0.1,
    "repeated_punctuation": 0.1,
    "profanity": 0.2,
    "intensifier": 0.08,  # per intensifier, at most two
    "repeated_contact": 0.15,
    "waiting": 0.1,
    "strong_words": 0.25,
}
MITIGATION = 0.15  # subtracted when the customer plays the feeling down
BASE = 0.15
CONFIDENCE_WEIGHT = 0.3
NEUTRAL_SHARE = 0.3


@dataclass(frozen=True)
class Cues:
    capitals: bool
    exclamations: bool
    repeated_punctuation: bool
    profanity: bool
    intensifiers: int
    repeated_contact: bool
    waiting: bool
    strong_words: bool = False
    played_down: bool = False

    def names(self) -> Tuple[str, ...]:
        """The cues present, by name (intensifiers counted as one)."""
        return tuple(name for name, value in vars(self).items() if value)

    def score(self) -> float:
        return (
            WEIGHTS["capitals"] * self.capitals
            + WEIGHTS["exclamations"] * self.exclamations
            + WEIGHTS["repeated_punctuation"] * self.repeated_punctuation
            + WEIGHTS["profanity"] * self.profanity
            + WEIGHTS["intensifier"] * min(self.intensifiers, 2)
            + WEIGHTS["repeated_contact"] * self.repeated_contact
            + WEIGHTS["waiting"] * self.waiting
            + WEIGHTS["strong_words"] * self.strong_words
            - MITIGATION * self.played_down
        )


def cues(text: str) -> Cues:
    words = [w for w in _WORD.findall(text) if len(w) > 1]
    shouted = [w for w in words if w.isupper() and w not in ("OK", "ID", "PS")]
    return Cues(
        capitals=len(shouted) >= 2 and len(shouted) >= 0.3 * len(words),
        exclamations="!" in text,
        repeated_punctuation=bool(re.search(r"[!?]{2,}", text)),
        profanity=bool(_PROFANITY.search(text)),
        intensifiers=len(_INTENSIFIERS.findall(text)),
        repeated_contact=bool(_REPEATED_CONTACT.search(text)),
        waiting=bool(_WAITING.search(text)),
        strong_words=bool(_STRONG.search(text)),
        played_down=bool(_MITIGATORS.search(text)),
    )


def intensity(text: str, label: str, confidence: float, found: Optional[Cues] = None) -> float:
    cue_score = (found or cues(text)).score()
    if label == "neutral":
        value = NEUTRAL_SHARE * max(0.0, cue_score)
    else:
        value = BASE + CONFIDENCE_WEIGHT * confidence + cue_score
    return round(min(1.0, max(0.0, value)), 3)


# On a call the voice channel adds {"voice": {"arousal": 0..1, "cues": [...], ...}} to the
# message metadata (voice/prosody.py); arousal 0.5 is the caller's usual voice. Per label,
# (raise, lower): intensity += weight * (arousal - 0.5), raise above 0.5, lower below, so at
# most +-weight/2. The label itself never changes: a shouted neutral request stays neutral.
VOICE_WEIGHTS: Dict[str, Tuple[float, float]] = {
    "anger": (0.6, 0.2),
    "frustration": (0.6, 0.2),
    "anxiety": (0.5, 0.2),
    "confusion": (0.4, 0.2),
    "sadness": (0.4, 0.0),  # a quiet, slow voice is how sadness sounds, not less of it
    "joy": (0.3, 0.2),
    "neutral": (0.2, 0.2),
}
VOICE_CUES = {
    "loud": "loud_voice",
    "quiet": "quiet_voice",
    "high_pitch": "raised_pitch",
    "low_pitch": "lowered_pitch",
    "fast": "fast_speech",
    "slow": "slow_speech",
}


@dataclass(frozen=True)
class Voice:
    arousal: float  # 0 calm, 0.5 the caller's usual, 1 shouting
    cues: Tuple[str, ...]  # emotion cue names, e.g. "loud_voice"


def voice_from_metadata(metadata: object) -> Optional[Voice]:
    """The voice part of a message's metadata, checked; None if absent or malformed.

    Unknown cue names are dropped (a newer voice channel may send more)."""
    raw = metadata.get("voice") if isinstance(metadata, Mapping) else None
    if not isinstance(raw, Mapping):
        return None
    score, names = raw.get("arousal"), raw.get("cues", [])
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 1:
        return None  # also NaN
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        return None
    cues = tuple(dict.fromkeys(VOICE_CUES[n] for n in names if n in VOICE_CUES))
    return Voice(float(score), cues)


def with_voice(value: float, label: str, voice: Optional[Voice]) -> float:
    """The text's intensity moved by the voice's arousal, clipped to [0, 1]."""
    if voice is None:
        return value
    up, down = VOICE_WEIGHTS.get(label, VOICE_WEIGHTS["neutral"])
    delta = voice.arousal - 0.5
    return round(min(1.0, max(0.0, value + (up if delta > 0 else down) * delta)), 3)
