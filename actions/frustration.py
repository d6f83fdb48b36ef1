"""Conversation-level frustration: one score in [0, 1] per conversation, updated each turn.

It rises with negative emotions (weighted by how strongly they are felt), misunderstood
messages, the same request asked again and mentions of waiting; it cools a little every
turn, a lot when a request is resolved, and with joy or thanks. Escalation reads it.

The Rasa server updates it in each turn (`rasa_seam.turn`), before any action runs.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from actions.conversation import user_turns
from actions.empathy import Emotion, Turn

WEIGHTS = {"anger": 0.5, "frustration": 0.45, "sadness": 0.25, "anxiety": 0.25, "confusion": 0.2}
DECAY = 0.85  # each turn, when nothing new goes wrong
FALLBACK = 0.15
REPEATED_REQUEST = 0.2
WAITING = 0.1
CALMING = 0.5  # joy or thanks halve it
RESOLVED = 0.5  # a resolved request halves it
NOT_REQUESTS = (
    "inform",
    "affirm",
    "deny",
    "greet",
    "goodbye",
    "thank_you",
    "nlu_fallback",
    "follow_up",
    "bot_challenge",
    "out_of_scope",
)


def asked_again(turns: Sequence[Turn]) -> bool:
    """The latest request was already made earlier in the conversation."""
    if not turns or turns[-1].intent in NOT_REQUESTS:
        return False
    return any(t.intent == turns[-1].intent for t in turns[:-1])


def update(previous: float, turns: Sequence[Turn]) -> float:
    """The score after the latest of `turns` (the conversation's user turns so far)."""
    if not turns:
        return previous
    latest: Turn = turns[-1]
    emotion: Emotion = latest.emotion
    score = previous * DECAY
    score += WEIGHTS.get(emotion.name, 0.0) * emotion.intensity
    score += FALLBACK * (latest.intent == "nlu_fallback")
    score += REPEATED_REQUEST * asked_again(turns)
    score += WAITING * ("waiting" in emotion.cues)
    if emotion.name == "joy" or latest.intent == "thank_you":
        score *= CALMING
    return round(min(1.0, max(0.0, score)), 3)


def after_resolution(score: float) -> float:
    return round(score * RESOLVED, 3)


def after_message(previous: float, said: Sequence[Mapping[str, Any]]) -> float:
    """The score after the latest of `said` (the session's user events, as dicts)."""
    return update(previous, user_turns(said))
