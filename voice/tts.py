"""The text-to-speech boundary, plus pure helpers deciding how Heard sounds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, Protocol

from heard.contract import ORDER_NUMBER
from voice.audio import AudioChunk


@dataclass(frozen=True)
class Prosody:
    """Relative to the voice's default: rate and pitch are multipliers, volume is 0..1."""

    rate: float = 1.0
    pitch: float = 1.0
    volume: float = 1.0


NEUTRAL = Prosody()


class TextToSpeech(Protocol):
    def synthesize(self, text: str, prosody: Prosody = NEUTRAL) -> AudioChunk:
        """Speech for `text` as PCM16 mono at the implementation's configured rate."""


# Target prosody at full intensity; an upset caller gets a slower, lower, softer voice
# (a calm counterpart lowers arousal). Joy may be matched with a touch more energy.
_AT_FULL_INTENSITY: Dict[str, Prosody] = {
    "anger": Prosody(rate=0.80, pitch=0.85, volume=0.80),
    "frustration": Prosody(rate=0.85, pitch=0.90, volume=0.85),
    "anxiety": Prosody(rate=0.85, pitch=0.90, volume=0.85),
    "sadness": Prosody(rate=0.85, pitch=0.90, volume=0.85),
    "confusion": Prosody(rate=0.85, pitch=1.00, volume=1.00),
    "joy": Prosody(rate=1.05, pitch=1.05, volume=1.00),
    "neutral": NEUTRAL,
}


def prosody_for(emotion_name: str, intensity: float) -> Prosody:
    """Interpolates from neutral towards the emotion's target by intensity (0..1)."""
    target = _AT_FULL_INTENSITY.get((emotion_name or "").lower(), NEUTRAL)
    k = min(max(float(intensity), 0.0), 1.0)

    def mix(a: float, b: float) -> float:
        return round(a + (b - a) * k, 3)

    return Prosody(mix(1.0, target.rate), mix(1.0, target.pitch), mix(1.0, target.volume))


# Trailing punctuation stays: it ends the sentence, it isn't part of the link.
_URL = re.compile(r"\b(?:https?://|www\.)\S+?(?=[.,;:!?)]*(?:\s|$))", re.IGNORECASE)
_CURRENCY = {"€": "euros", "$": "dollars", "£": "pounds"}
_MONEY = re.compile(r"([€$£])\s?(\d+)(?:[.,](\d{2}))?\b")
# Not part of a longer number, a decimal or a thousands-separated amount.
_ORDER_NUMBER = re.compile(rf"(?<![\d.,])(?:{ORDER_NUMBER})(?![\d.,]\d)")


def _money(m: "re.Match[str]") -> str:
    whole, cents, unit = m.group(2), m.group(3), _CURRENCY[m.group(1)]
    return f"{whole} {unit} {int(cents)}" if cents and int(cents) else f"{whole} {unit}"


def speakable(text: str) -> str:
    """Written text -> text a synthesiser says well.

    URLs are dropped (nobody can type one from hearing it), amounts get their currency
    word, and 6-8 digit order numbers are read digit by digit as people dictate them.
    """
    text = _URL.sub("", text)
    text = _MONEY.sub(_money, text)
    text = _ORDER_NUMBER.sub(lambda m: " ".join(m.group(0)), text)
    text = re.sub(r"\s+([,.!?;:])", r"\1", text)  # no orphan punctuation where a URL was
    return re.sub(r"\s{2,}", " ", text).strip()
