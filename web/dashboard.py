"""Empathy dashboard figures from plain conversation records (pure).

A conversation is a tracker's sender id, dated and assigned to a channel by its first
customer message; `web/dashboard_queries.py` reads the records from the databases.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from bot.emotion.labels import LABELS

ANGRY = ("anger", "frustration")
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


def figures(conversations: Sequence[Conversation], handoffs: Iterable[Tuple[str, str]],
            ratings: Iterable[Tuple[str, int]], filters: Filters) -> Dict:
    """The dashboard, from the conversations of the date range (all channels), their
    handoffs as (conversation id, reason) and ratings as (conversation id, rating)."""
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
        "containment_rate": _rate(total - len(escalated), total),
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
    ordered by sender id then time. Triggered (text-less) intents are not customers'."""
    found: Dict[str, Conversation] = {}
    for sender, time, intent, data in rows:
        if not data.get("text"):
            continue
        emotion = ((data.get("parse_data") or {}).get("emotion") or {}).get("name")
        conversation = found.setdefault(
            sender, Conversation(sender, data.get("input_channel") or "unknown"))
        conversation.messages.append(Message(float(time), intent, emotion))
    return list(found.values())
