"""Empathy dashboard figures from plain conversation records (pure).

A conversation is a tracker's sender id, dated and assigned to a channel by its first
customer message; `web/dashboard_queries.py` reads the records from the databases. What
counts as contained, resolved, a fallback and calming down is decided here, once:
`contained`, `resolved`, `Message.fallback`, `started_upset` and `calmed_down`.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from bot.emotion.labels import LABELS, NEGATIVE

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
        return begin.timestamp(), (begin + timedelta(days=(self.end - self.start).days + 1)
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
        return self.emotion in NEGATIVE


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
    negative (any known emotion outside NEGATIVE), or negative (the same emotion or
    another) with a lower intensity. An unknown last emotion or intensity is not calmer;
    a conversation of one message never is."""
    first, last = conversation.messages[0], conversation.messages[-1]
    if not first.upset or last.emotion is None:
        return False
    if not last.upset:
        return True
    return (first.intensity is not None and last.intensity is not None
            and last.intensity < first.intensity)


def _rates(group: Sequence[Conversation], escalated: Set[str], completed: Set[str]) -> Dict:
    """Containment, resolution, fallback and calm-down of some conversations, with the
    counts each rate is taken over (the calm-down rate is None when nobody started upset)."""
    messages = [m for c in group for m in c.messages]
    upset = [c for c in group if started_upset(c)]
    return {
        "conversations": len(group),
        "containment_rate": _rate(sum(contained(c, escalated) for c in group), len(group)),
        "resolution_rate": _rate(sum(resolved(c, completed) for c in group), len(group)),
        "customer_messages": len(messages),
        "fallback_rate": _rate(sum(m.fallback for m in messages), len(messages)),
        "started_upset": len(upset),
        "calm_down_rate": _rate(sum(calmed_down(c) for c in upset), len(upset)) if upset
        else None,
    }


def figures(conversations: Sequence[Conversation], handoffs: Iterable[Tuple[str, str]],
            ratings: Iterable[Tuple[str, int]], filters: Filters,
            resolutions: Iterable[Tuple[str, bool]] = ()) -> Dict:
    """The dashboard, from the conversations of the date range (all channels), their
    handoffs as (conversation id, reason), ratings as (conversation id, rating) and the
    actions' records of requests as (conversation id, resolved)."""
    channels = sorted({c.channel for c in conversations})
    chosen = [c for c in conversations if not filters.channel or c.channel == filters.channel]
    ids = {c.id for c in chosen}
    total = len(chosen)

    per_day = Counter((c.day, c.channel) for c in chosen)
    reasons: Dict[str, set] = {}
    for conversation_id, reason in handoffs:
        if conversation_id in ids:
            reasons.setdefault(reason, set()).add(conversation_id)
    escalated = set().union(*reasons.values()) if reasons else set()
    completed = {conversation_id for conversation_id, done in resolutions
                 if done and conversation_id in ids}
    overall = _rates(chosen, escalated, completed)
    by_channel: Dict[str, List[Conversation]] = {}
    by_day: Dict[Tuple[str, str], List[Conversation]] = {}
    for c in chosen:
        by_channel.setdefault(c.channel, []).append(c)
        by_day.setdefault((c.day, c.channel), []).append(c)
    scores = [rating for conversation_id, rating in ratings if conversation_id in ids]
    starts = Counter(c.messages[0].emotion for c in chosen)
    ends = Counter(c.messages[-1].emotion for c in chosen)
    angry = Counter(m.intent for c in chosen for m in c.messages
                    if m.emotion in ANGRY and m.intent)

    return {
        "from": filters.start.isoformat(), "to": filters.end.isoformat(),
        "channel": filters.channel,
        "conversations": total,
        "conversations_per_day": [{"day": d, "channel": ch, "count": n}
                                  for (d, ch), n in sorted(per_day.items())],
        "containment_rate": overall["containment_rate"],
        "resolution_rate": overall["resolution_rate"],
        "fallback_rate": overall["fallback_rate"],
        "customer_messages": overall["customer_messages"],
        "calm_down_rate": overall["calm_down_rate"],
        "started_upset": overall["started_upset"],
        "rates_per_channel": [{"channel": ch, **_rates(group, escalated, completed)}
                              for ch, group in sorted(by_channel.items())],
        "rates_per_day": [{"day": d, "channel": ch, **_rates(group, escalated, completed)}
                          for (d, ch), group in sorted(by_day.items())],
        "escalation_rate_by_reason": [
            {"reason": r, "rate": _rate(len(c), total), "count": len(c)}
            for r, c in sorted(reasons.items(), key=lambda item: (-len(item[1]), item[0]))],
        "average_rating": round(sum(scores) / len(scores), 2) if scores else None,
        "ratings_count": len(scores),
        "emotion_start_vs_end": [{"emotion": e, "start": starts[e], "end": ends[e]}
                                 for e in LABELS],
        "angry_intents": [{"intent": i, "count": n} for i, n in
                          sorted(angry.items(), key=lambda item: (-item[1], item[0]))
                          [:TOP_INTENTS]],
        "channels": channels,
    }


def conversations_from(rows: Iterable[Tuple[str, float, Optional[str], Dict]]
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
            sender, Conversation(sender, data.get("input_channel") or "unknown"))
        conversation.messages.append(Message(
            float(time), intent or (parse.get("intent") or {}).get("name"), emotion.get("name"),
            float(intensity) if isinstance(intensity, (int, float)) else None))
    return list(found.values())
