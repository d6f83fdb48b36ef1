"""Empathy dashboard figures from plain conversation records (pure).

A conversation is a tracker's sender id, dated and assigned to a channel by its first
customer message; `web/dashboard_queries.py` reads the records from the databases. What
counts as contained, resolved, a fallback and calming down is decided here, once:
`contained`, `resolved`, `Message.fallback`, `started_upset` and `calmed_down`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta, timezone
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

from heard.contract import EMOTIONS, NEGATIVE_EMOTIONS

ANGRY = ("anger", "frustration")
FALLBACK = "nlu_fallback"  # the intent of a message Heard did not understand
DEFAULT_DAYS = 30
MAX_DAYS = 366
TOP_INTENTS = 10
_CHANNEL = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


class FilterError(ValueError):
    """A dashboard filter that can't be used; the message is for people."""


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # included
    channel: str = ""

    @property
    def window(self) -> Tuple[float, float]:
        """[from, to) as Unix times (UTC), what the tracker's timestamps are."""
        begin = datetime(self.start.year, self.start.month, self.start.day, tzinfo=timezone.utc)
        return begin.timestamp(), (
            begin + timedelta(days=(self.end - self.start).days + 1)
        ).timestamp()


def _day(value: Optional[str], name: str) -> Optional[date]:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(f"'{name}' must be a date like 2026-11-25.") from None


def parse_filters(args: Dict[str, Optional[str]], today: date) -> Filters:
    """The filters of a dashboard request; FilterError when they can't be used."""
    end = _day(args.get("to"), "to") or today
    start = _day(args.get("from"), "from") or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise FilterError("'from' must not be after 'to'.")
    if (end - start).days + 1 > MAX_DAYS:
        raise FilterError(f"Choose a range of at most {MAX_DAYS} days.")
    channel = (args.get("channel") or "").strip()
    if channel and not _CHANNEL.match(channel):
        raise FilterError("'channel' must be a channel name such as socketio or rest.")
    return Filters(start, end, channel)


@dataclass(frozen=True)
class Message:
    time: float
    intent: Optional[str]
    emotion: Optional[str]
    intensity: Optional[float] = None  # of the emotion, 0 to 1

    @property
    def fallback(self) -> bool:
        return self.intent == FALLBACK

    @property
    def upset(self) -> bool:
        return self.emotion in NEGATIVE_EMOTIONS


@dataclass
class Conversation:
    id: str
    channel: str
    messages: List[Message] = field(default_factory=list)  # customer messages, in order

    @property
    def day(self) -> str:
        return datetime.fromtimestamp(self.messages[0].time, timezone.utc).date().isoformat()


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def contained(conversation: Conversation, escalated: Set[str]) -> bool:
    """Solved without a human: no handoff, and the customer's last message was understood.
    A conversation that ended on a fallback (Heard did not get what was asked and the
    customer gave up) had no human either, but it was abandoned, not contained."""
    return conversation.id not in escalated and not conversation.messages[-1].fallback


def resolved(conversation: Conversation, completed: Set[str]) -> bool:
    """At least one of the customer's requests was completed, by the actions' own record
    (`resolutions` rows with `resolved` true; `completed` holds their conversation ids)."""
    return conversation.id in completed


def started_upset(conversation: Conversation) -> bool:
    """The first customer message was felt as anger, frustration, sadness, anxiety or
    confusion: the conversations the calm-down rate is about."""
    return conversation.messages[0].upset


def calmed_down(conversation: Conversation) -> bool:
    """The customer ended less upset than they started: the last customer message is not
    negative (any known emotion outside NEGATIVE_EMOTIONS), or negative (the same emotion or
    another) with a lower intensity. An unknown last emotion or intensity is not calmer;
    a conversation of one message never is."""
    first, last = conversation.messages[0], conversation.messages[-1]
    if not first.upset or last.emotion is None:
        return False
    if not last.upset:
        return True
    return (
        first.intensity is not None
        and last.intensity is not None
        and last.intensity < first.intensity
    )


@dataclass
class Counts:
    """The sums behind the figures of some conversations (one day and channel, say). Sums
    add up across days and channels, so the conversations retention deleted stay in the
    figures as their Counts (bot/retention.py), added to those of the stored ones."""

    conversations: int = 0
    contained: int = 0
    resolved: int = 0
    customer_messages: int = 0
    fallbacks: int = 0
    started_upset: int = 0
    calmed_down: int = 0
    ratings: int = 0
    rating_total: int = 0
    reasons: Counter = field(default_factory=Counter)  # handoff reason -> conversations
    starts: Counter = field(default_factory=Counter)  # first emotion -> conversations
    ends: Counter = field(default_factory=Counter)  # last emotion -> conversations
    angry_intents: Counter = field(default_factory=Counter)  # intent -> angry messages

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    def items(self) -> Iterator[Tuple[str, str, int]]:
        """(name, key, value) for each count that isn't 0; key is "" for plain numbers."""
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Counter):
                yield from ((f.name, key, n) for key, n in sorted(value.items()) if n)
            elif value:
                yield f.name, "", value

    @classmethod
    def from_items(cls, items: Iterable[Tuple[str, str, int]]) -> "Counts":
        counts = cls()
        for name, key, value in items:
            if isinstance(getattr(counts, name), Counter):
                getattr(counts, name)[key] += value
            else:
                setattr(counts, name, getattr(counts, name) + value)
        return counts

    def add(
        self, conversation: Conversation, reasons: Set[str], done: bool, scores: Sequence[int]
    ) -> None:
        """Counts one conversation in, given its handoff reasons, whether a request of it
        was completed, and its ratings."""
        self.conversations += 1
        self.contained += contained(conversation, {conversation.id} if reasons else set())
        self.resolved += resolved(conversation, {conversation.id} if done else set())
        self.customer_messages += len(conversation.messages)
        self.fallbacks += sum(m.fallback for m in conversation.messages)
        self.started_upset += started_upset(conversation)
        self.calmed_down += calmed_down(conversation)
        self.ratings += len(scores)
        self.rating_total += sum(scores)
        self.reasons.update(reasons)
        for counter, emotion in (
            (self.starts, conversation.messages[0].emotion),
            (self.ends, conversation.messages[-1].emotion),
        ):
            if emotion:
                counter[emotion] += 1
        self.angry_intents.update(
            m.intent for m in conversation.messages if m.emotion in ANGRY and m.intent
        )


DayChannel = Tuple[str, str]  # (ISO day, channel)


def tally(
    conversations: Iterable[Conversation],
    handoffs: Iterable[Tuple[str, str]],
    ratings: Iterable[Tuple[str, int]],
    resolutions: Iterable[Tuple[str, bool]] = (),
) -> Dict[DayChannel, Counts]:
    """The Counts of each day and channel of `conversations`, with their handoffs as
    (conversation id, reason), ratings as (conversation id, rating) and the actions'
    records of requests as (conversation id, resolved); others' records are left out."""
    reasons: Dict[str, Set[str]] = {}
    for conversation_id, reason in handoffs:
        reasons.setdefault(conversation_id, set()).add(reason)
    scores: Dict[str, List[int]] = {}
    for conversation_id, rating in ratings:
        scores.setdefault(conversation_id, []).append(rating)
    completed = {conversation_id for conversation_id, done in resolutions if done}
    groups: Dict[DayChannel, Counts] = {}
    for c in conversations:
        groups.setdefault((c.day, c.channel), Counts()).add(
            c, reasons.get(c.id, set()), c.id in completed, scores.get(c.id, ())
        )
    return groups


def _rates(counts: Counts) -> Dict:
    """Containment, resolution, fallback and calm-down of some conversations, with the
    counts each rate is taken over (the calm-down rate is None when nobody started upset)."""
    return {
        "conversations": counts.conversations,
        "containment_rate": _rate(counts.contained, counts.conversations),
        "resolution_rate": _rate(counts.resolved, counts.conversations),
        "customer_messages": counts.customer_messages,
        "fallback_rate": _rate(counts.fallbacks, counts.customer_messages),
        "started_upset": counts.started_upset,
        "calm_down_rate": _rate(counts.calmed_down, counts.started_upset)
        if counts.started_upset
        else None,
    }


def _by_count(counter: Counter) -> List[Tuple[str, int]]:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))


def figures(
    conversations: Sequence[Conversation],
    handoffs: Iterable[Tuple[str, str]],
    ratings: Iterable[Tuple[str, int]],
    filters: Filters,
    resolutions: Iterable[Tuple[str, bool]] = (),
    retained: Optional[Dict[DayChannel, Counts]] = None,
) -> Dict:
    """The dashboard, from the conversations of the date range (all channels), their
    handoffs as (conversation id, reason), ratings as (conversation id, rating) and the
    actions' records of requests as (conversation id, resolved), plus the Counts retention
    kept of the range's deleted conversations (`retained`, by day and channel)."""
    groups = tally(conversations, handoffs, ratings, resolutions)
    for key, counts in (retained or {}).items():
        groups[key] = groups.get(key, Counts()) + counts
    channels = sorted({channel for _, channel in groups})
    chosen = sorted(
        (key, counts)
        for key, counts in groups.items()
        if not filters.channel or key[1] == filters.channel
    )
    by_channel: Dict[str, Counts] = {}
    for (_, channel), counts in chosen:
        by_channel[channel] = by_channel.get(channel, Counts()) + counts
    total = sum((counts for _, counts in chosen), Counts())
    overall = _rates(total)

    return {
        "from": filters.start.isoformat(),
        "to": filters.end.isoformat(),
        "channel": filters.channel,
        "conversations": total.conversations,
        "conversations_per_day": [
            {"day": d, "channel": ch, "count": counts.conversations} for (d, ch), counts in chosen
        ],
        "containment_rate": overall["containment_rate"],
        "resolution_rate": overall["resolution_rate"],
        "fallback_rate": overall["fallback_rate"],
        "customer_messages": overall["customer_messages"],
        "calm_down_rate": overall["calm_down_rate"],
        "started_upset": overall["started_upset"],
        "rates_per_channel": [
            {"channel": ch, **_rates(counts)} for ch, counts in sorted(by_channel.items())
        ],
        "rates_per_day": [
            {"day": d, "channel": ch, **_rates(counts)} for (d, ch), counts in chosen
        ],
        "escalation_rate_by_reason": [
            {"reason": r, "rate": _rate(n, total.conversations), "count": n}
            for r, n in _by_count(total.reasons)
        ],
        "average_rating": round(total.rating_total / total.ratings, 2) if total.ratings else None,
        "ratings_count": total.ratings,
        "emotion_start_vs_end": [
            {"emotion": e, "start": total.starts[e], "end": total.ends[e]} for e in EMOTIONS
        ],
        "angry_intents": [
            {"intent": i, "count": n} for i, n in _by_count(total.angry_intents)[:TOP_INTENTS]
        ],
        "channels": channels,
    }


def conversations_from(
    rows: Iterable[Tuple[str, float, Optional[str], Dict]],
) -> List[Conversation]:
    """Conversations from customer-message rows (sender id, time, intent, event data),
    ordered by sender id then time. Triggered (text-less) intents are not customers'. The
    intent is the tracker's intent_name column, else the parse data's."""
    found: Dict[str, Conversation] = {}
    for sender, time, intent, data in rows:
        if not data.get("text"):
            continue
        parse = data.get("parse_data") or {}
        emotion = parse.get("emotion") or {}
        intensity = emotion.get("intensity")
        conversation = found.setdefault(
            sender, Conversation(sender, data.get("input_channel") or "unknown")
        )
        conversation.messages.append(
            Message(
                float(time),
                intent or (parse.get("intent") or {}).get("name"),
                emotion.get("name"),
                float(intensity) if isinstance(intensity, (int, float)) else None,
            )
        )
    return list(found.values())
