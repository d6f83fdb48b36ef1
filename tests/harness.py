"""Runs Heard's actions the way the action server does, against a real database."""

from __future__ import annotations

import asyncio
import inspect
import string
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Dict, List, Optional, Sequence

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import frustration
from heard.contract import FRUSTRATION
from heard.paths import ROOT

CONVERSATION = "test-conversation"


@lru_cache(maxsize=1)
def domain() -> Dict[str, Any]:
    """The domain as Rasa sends it to the action server."""
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain.yml")).as_dict()


def default_slots() -> Dict[str, Any]:
    return {name: spec.get("initial_value") for name, spec in domain()["slots"].items()}


def user_event(
    text: str,
    intent: str,
    emotion: str = "neutral",
    intensity: float = 0.0,
    entities: Sequence[dict] = (),
    confidence: float = 1.0,
    cues: Sequence[str] = (),
    ranking: Sequence[dict] = (),
    clauses: Sequence[dict] = (),
) -> dict:
    return {
        "event": "user",
        "text": text,
        "timestamp": 1764064800.0,
        "parse_data": {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": list(ranking),
            "entities": list(entities),
            "clauses": list(clauses),
            "emotion": {
                "name": emotion,
                "confidence": 0.9,
                "intensity": intensity,
                "cues": list(cues),
            },
        },
        "input_channel": "rest",
    }


@dataclass
class Result:
    messages: List[dict]
    events: List[dict]

    @property
    def responses(self) -> List[str]:
        """Response names; a variation an action picked itself is traced back to its name."""
        return [m.get("response") or response_of(m.get("text")) for m in self.messages]

    @property
    def slots(self) -> Dict[str, Any]:
        return {e["name"]: e["value"] for e in self.events if e.get("event") == "slot"}

    def texts(self) -> List[str]:
        return [render(m) for m in self.messages]


def response_of(text: str) -> str:
    for name, variations in domain()["responses"].items():
        if any(v.get("text") == text for v in variations):
            return name
    return text


def render(message: dict) -> str:
    """The text a customer would see; fails when a template value is missing."""
    if not message.get("response"):
        return message["text"]
    template = domain()["responses"][message["response"]][0]["text"]
    values = {**message, **message.get("custom", {})}
    names = {n for _, n, _, _ in string.Formatter().parse(template) if n}
    missing = [n for n in names if values.get(n) in (None, "")]
    assert not missing, f"{message['response']} rendered without {missing}"
    return template.format(**{n: values[n] for n in names})


@dataclass
class Turn:
    """One user message and the action that answers it."""

    text: str = ""
    intent: str = "inform"
    emotion: str = "neutral"
    intensity: float = 0.0
    entities: Sequence[dict] = ()
    confidence: float = 1.0
    cues: Sequence[str] = ()
    ranking: Sequence[dict] = ()  # the NLU's intent ranking, e.g. under an nlu_fallback
    clauses: Sequence[dict] = ()  # nlu/clauses.py: each clause's intent


@dataclass
class Conversation:
    """Slots and events carried from one action run to the next."""

    repo: Any
    slots: Dict[str, Any] = field(default_factory=default_slots)
    events: List[dict] = field(default_factory=list)
    sender: str = CONVERSATION

    def hear(self, turn: Turn) -> float:
        """A message the Rasa server takes in without running an action: it updates the
        frustration score in the turn (rasa_seam/turn.py), from the same function."""
        self.events.append(
            user_event(
                turn.text,
                turn.intent,
                turn.emotion,
                turn.intensity,
                turn.entities,
                turn.confidence,
                turn.cues,
                turn.ranking,
                turn.clauses,
            )
        )
        said = [e for e in self.events if e["event"] == "user"]
        score = frustration.after_message(float(self.slots.get(FRUSTRATION) or 0), said)
        self.slots[FRUSTRATION] = score
        self.events.append({"event": "slot", "name": FRUSTRATION, "value": score})
        return score

    def run(self, action_class, turn: Optional[Turn] = None, **slots: Any) -> Result:
        self.slots.update(slots)
        if turn is not None:
            self.events.append(
                user_event(
                    turn.text,
                    turn.intent,
                    turn.emotion,
                    turn.intensity,
                    turn.entities,
                    turn.confidence,
                    turn.cues,
                    turn.ranking,
                    turn.clauses,
                )
            )
        latest = next((e["parse_data"] for e in reversed(self.events) if e["event"] == "user"), {})
        tracker = Tracker(
            self.sender,
            dict(self.slots),
            latest,
            list(self.events),
            False,
            None,
            {},
            "action_listen",
        )
        dispatcher = CollectingDispatcher()
        takes_repo = "repo" in inspect.signature(action_class).parameters
        action = action_class(repo=self.repo) if takes_repo else action_class()
        events = asyncio.run(action.run(dispatcher, tracker, domain()))
        result = Result(dispatcher.messages, events)
        self.slots.update(result.slots)
        for message in dispatcher.messages:
            self.events.append({"event": "bot", "text": render(message), "timestamp": 1764064801.0})
        return result

    def verified(self, order: str, email: str) -> "Conversation":
        self.slots.update(order_id=order, email=email, verified_order=order)
        return self


def stored(repo: Any, model: type, **equal: Any) -> List[Any]:
    """The rows of `model` in the shop database whose columns equal `equal`, in the order
    they were written: what a test checks an action did, read from the tables themselves."""
    with repo.session() as s:
        return s.query(model).filter_by(**equal).order_by(*model.__table__.primary_key).all()
