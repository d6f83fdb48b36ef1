"""Conversation files (tests/conversations/*.yml, their shape: the README there): the
conversations, their turns and expected effects on the shop, loaded and checked."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple

import yaml

from bot.servers import ROOT

CONVERSATIONS = ROOT / "tests" / "conversations"
EMOTIONS = ("anger", "frustration", "sadness", "anxiety", "confusion", "joy", "neutral")
PRIORITIES = ("low", "normal", "high", "urgent")
Patterns = Tuple["re.Pattern[str]", ...]


def family(emotion: str) -> str:
    """Anger and frustration call for the same calm ownership; every other emotion is its
    own family."""
    return "anger/frustration" if emotion in ("anger", "frustration") else emotion


class ConversationFileError(ValueError):
    """A conversation file of the wrong shape; the message names the file and conversation."""


@dataclass(frozen=True)
class Turn:
    user: str
    emotion: str
    shop_at_fault: bool = False
    reply: Patterns = ()
    not_reply: Patterns = ()


@dataclass(frozen=True)
class ExpectedDb:
    """Effects on the shop; None: not checked (tickets, refunds, cancelled always are)."""

    tickets: Tuple[Tuple[str, Optional[str]], ...] = ()  # (kind, priority or None: any)
    refunds: int = 0
    cancelled: Tuple[str, ...] = ()
    vouchers: Optional[int] = None
    emails: Optional[int] = None
    feedback: Optional[int] = None


@dataclass(frozen=True)
class Conversation:
    id: str
    source: str  # the file, for messages
    turns: Tuple[Turn, ...]
    quick: bool = False
    notes: str = ""
    replies: Patterns = ()
    not_replies: Patterns = ()
    handoff: bool = False
    escalate_by: int = 0  # with handoff: the turn whose reply must hand over at the latest
    db: ExpectedDb = ExpectedDb()


def _mapping(value, where: str, allowed: Sequence[str], required: Sequence[str] = ()) -> dict:
    if not isinstance(value, dict):
        raise ConversationFileError(f"{where}: expected a mapping, got {value!r:.60}")
    unknown = sorted(map(str, set(value) - set(allowed)))
    if unknown:
        raise ConversationFileError(
            f"{where}: unknown key {', '.join(unknown)} (allowed: {', '.join(allowed)})"
        )
    missing = [key for key in required if value.get(key) is None]
    if missing:
        raise ConversationFileError(f"{where}: missing {', '.join(missing)}")
    return value


def _text(value, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ConversationFileError(f"{where}: expected text, got {value!r}")
    return str(value)  # `user: 5` (a rating) or an order number YAML read as a number


def _flag(value, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConversationFileError(f"{where}: expected true or false, got {value!r}")
    return value


def _count(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConversationFileError(f"{where}: expected a count (0 or more), got {value!r}")
    return value


def _list(value, where: str, example: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConversationFileError(f"{where}: expected a list, like {example}")
    return value


def _patterns(value, where: str) -> Patterns:
    compiled = []
    for pattern in _list(value, where, '["(?i)refund"]'):
        if not isinstance(pattern, str):
            raise ConversationFileError(f"{where}: expected regular expressions, got {pattern!r}")
        try:
            compiled.append(re.compile(pattern))
        except re.error as error:
            raise ConversationFileError(
                f"{where}: bad regular expression {pattern!r}: {error}"
            ) from None
    return tuple(compiled)


def _turn(raw, where: str) -> Turn:
    raw = _mapping(raw, where, ("user", "emotion", "shop_at_fault", "expect"), ("user", "emotion"))
    if raw["emotion"] not in EMOTIONS:
        raise ConversationFileError(
            f"{where}: unknown emotion {raw['emotion']!r} (one of {', '.join(EMOTIONS)})"
        )
    expect = _mapping(raw.get("expect") or {}, f"{where}, expect", ("reply", "not_reply"))
    return Turn(
        _text(raw["user"], f"{where}, user"),
        raw["emotion"],
        _flag(raw.get("shop_at_fault", False), f"{where}, shop_at_fault"),
        _patterns(expect.get("reply"), f"{where}, expect.reply"),
        _patterns(expect.get("not_reply"), f"{where}, expect.not_reply"),
    )


def _db(raw, where: str) -> ExpectedDb:
    raw = _mapping(
        raw or {}, where, ("tickets", "refunds", "vouchers", "cancelled", "emails", "feedback")
    )
    tickets = []
    for ticket in _list(raw.get("tickets"), f"{where}, tickets", "[{kind: damage}]"):
        ticket = _mapping(ticket, f"{where}, tickets", ("kind", "priority"), ("kind",))
        priority = ticket.get("priority")
        if priority is not None and priority not in PRIORITIES:
            raise ConversationFileError(
                f"{where}, tickets: unknown priority {priority!r} (one of {', '.join(PRIORITIES)})"
            )
        tickets.append((_text(ticket["kind"], f"{where}, tickets"), priority))
    cancelled = _list(raw.get("cancelled"), f"{where}, cancelled", "[1234567]")
    optional = {
        key: _count(raw[key], f"{where}, {key}")
        for key in ("vouchers", "emails", "feedback")
        if raw.get(key) is not None
    }
    return ExpectedDb(
        tuple(tickets),
        _count(raw.get("refunds", 0), f"{where}, refunds"),
        tuple(sorted(_text(n, f"{where}, cancelled") for n in cancelled)),
        **optional,
    )


def _conversation(raw, where: str, source: str) -> Conversation:
    raw = _mapping(
        raw, where, ("id", "quick", "channel", "notes", "turns", "outcome"), ("id", "turns")
    )
    where = f"{source}: conversation {raw['id']!r}"
    if raw.get("channel", "rest") != "rest":
        raise ConversationFileError(
            f"{where}: channel {raw['channel']!r} is not supported (the runner drives rest only)"
        )
    turns = tuple(
        _turn(t, f"{where}, turn {n}")
        for n, t in enumerate(_list(raw["turns"], f"{where}, turns", "[{user: hi, ...}]"), 1)
    )
    if not turns:
        raise ConversationFileError(f"{where}: turns is empty")
    outcome = _mapping(
        raw.get("outcome") or {},
        f"{where}, outcome",
        ("replies", "not_replies", "handoff", "escalate_by", "db"),
    )
    handoff = _flag(outcome.get("handoff", False), f"{where}, outcome.handoff")
    escalate_by = outcome.get("escalate_by")
    if escalate_by is not None:
        if not handoff:
            raise ConversationFileError(f"{where}: escalate_by needs handoff: true")
        if (
            isinstance(escalate_by, bool)
            or not isinstance(escalate_by, int)
            or not 1 <= escalate_by <= len(turns)
        ):
            raise ConversationFileError(
                f"{where}: escalate_by must be a turn from 1 to {len(turns)}, got {escalate_by!r}"
            )
    return Conversation(
        _text(raw["id"], f"{where}, id"),
        source,
        turns,
        _flag(raw.get("quick", False), f"{where}, quick"),
        str(raw.get("notes") or ""),
        _patterns(outcome.get("replies"), f"{where}, outcome.replies"),
        _patterns(outcome.get("not_replies"), f"{where}, outcome.not_replies"),
        handoff,
        escalate_by or (len(turns) if handoff else 0),
        _db(outcome.get("db"), f"{where}, outcome.db"),
    )


def default_files() -> List[Path]:
    return sorted(CONVERSATIONS.glob("*.yml"))


def _shown(path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(ROOT)) if ROOT in path.parents else str(path)


def load(paths: Iterable[Path]) -> List[Conversation]:
    """Every conversation of these files, checked; ConversationFileError on a bad shape."""
    conversations: List[Conversation] = []
    for path in paths:
        source = _shown(Path(path))
        try:
            document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise ConversationFileError(f"{source}: not valid YAML: {error}") from None
        document = _mapping(document, source, ("conversations",), ("conversations",))
        for n, raw in enumerate(
            _list(
                document["conversations"], f"{source}: conversations", "[{id: ..., turns: [...]}]"
            ),
            1,
        ):
            conversation = _conversation(raw, f"{source}: conversation #{n}", source)
            clash = next((c for c in conversations if c.id == conversation.id), None)
            if clash:
                raise ConversationFileError(
                    f"{source}: conversation {conversation.id!r}: "
                    f"duplicate id (also in {clash.source})"
                )
            conversations.append(conversation)
    return conversations


def select(
    conversations: List[Conversation], quick: bool = False, only: Optional[Sequence[str]] = None
) -> List[Conversation]:
    unknown = sorted(set(only or ()) - {c.id for c in conversations})
    if unknown:
        raise ValueError(f"no conversation with id {', '.join(unknown)}")
    return [c for c in conversations if (not quick or c.quick) and (only is None or c.id in only)]
