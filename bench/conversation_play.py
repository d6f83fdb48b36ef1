"""Playing a conversation against the real servers, on a freshly seeded shop, and reading
what came of it: Heard's replies (told apart by the domain.yml response they were made from)
and the rows it added to the shop."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional, Set, Tuple

import yaml

from bench.conversation_files import Conversation, family
from bot.servers import ROOT
from store import models
from store.repository import Repository
from store.seed import seed
from tests.live import post

DOMAIN = ROOT / "domain.yml"


# --- what Heard said: replies by the domain.yml response they were made from ----------

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def template_pattern(text: str) -> Tuple["re.Pattern[str]", Tuple[str, ...]]:
    """A response text as a regex (each {placeholder} a non-greedy group) and the
    placeholders' names, in order."""
    parts = PLACEHOLDER.split(text)  # literal, name, literal, name, ..., literal
    regex = "".join("(.*?)" if i % 2 else re.escape(part) for i, part in enumerate(parts))
    return re.compile(regex, re.DOTALL), tuple(parts[1::2])


class ReplyIndex:
    """Response name -> the regexes of its variations; tells which response a reply is."""

    def __init__(self, responses: Dict[str, list]):
        self.patterns = {
            name: [
                template_pattern(v["text"])
                for v in variations or []
                if isinstance(v, dict) and v.get("text")
            ]
            for name, variations in responses.items()
        }
        self._cache: Dict[str, List[Tuple[str, Dict[str, str]]]] = {}

    @classmethod
    def from_domain(cls, path: Path = DOMAIN) -> "ReplyIndex":
        return cls(yaml.safe_load(path.read_text(encoding="utf-8"))["responses"])

    def matches(self, line: str) -> List[Tuple[str, Dict[str, str]]]:
        """(response name, placeholder values) for every variation the line is."""
        if line not in self._cache:
            self._cache[line] = [
                (name, dict(zip(fields, match.groups())))
                for name, variations in self.patterns.items()
                for pattern, fields in variations
                for match in [pattern.fullmatch(line)]
                if match
            ]
        return self._cache[line]

    def names(self, line: str) -> Set[str]:
        return {name for name, _ in self.matches(line)}

    def acknowledged(self, line: str) -> Set[str]:
        """The emotion families a line acknowledges (utter_ack_<emotion>_<level>)."""
        return {
            family(name.split("_")[2]) for name in self.names(line) if name.startswith("utter_ack_")
        }

    def is_apology(self, line: str) -> bool:
        return any(name.startswith("utter_apology_") for name in self.names(line))

    def is_handoff(self, line: str) -> bool:
        return any(name.startswith("utter_handoff_") for name in self.names(line))

    def is_sympathy(self, line: str) -> bool:
        return bool(self.acknowledged(line)) or self.is_apology(line)


# --- playing a conversation against the servers -------------------------------------------

Rows = Dict[str, Dict[tuple, dict]]  # table -> primary key -> row


@dataclass(frozen=True)
class Exchange:
    lines: Tuple[str, ...]
    buttons: Tuple[str, ...] = ()
    ms: float = 0.0
    error: Optional[str] = None  # the reply never came: timeout, HTTP error


@dataclass(frozen=True)
class Handoff:
    reason: str
    turn: int  # the customer message it was recorded on (1-based)


@dataclass(frozen=True)
class Effects:
    tickets: Tuple[Tuple[str, str], ...] = ()  # (kind, priority)
    refunds: int = 0
    vouchers: int = 0
    cancelled: Tuple[str, ...] = ()
    emails: int = 0
    feedback: int = 0
    handoffs: Tuple[Handoff, ...] = ()


@dataclass(frozen=True)
class Shop:
    """What only a verified customer is told: first names, products and tracking codes."""

    first_names: FrozenSet[str] = frozenset()
    order_facts: FrozenSet[str] = frozenset()


@dataclass(frozen=True)
class Played:
    conversation: Conversation
    exchanges: Tuple[Exchange, ...]
    effects: Effects
    shop: Shop


def reset(repo: Repository) -> None:
    """Every row of every table gone, then the seed: each conversation meets the same shop."""
    with repo.engine.begin() as connection:
        for table in reversed(models.Base.metadata.sorted_tables):
            connection.execute(table.delete())
    seed(repo)


def rows(repo: Repository) -> Rows:
    with repo.engine.connect() as connection:
        return {
            table.name: {
                tuple(row[c.name] for c in table.primary_key): dict(row)
                for row in connection.execute(table.select()).mappings()
            }
            for table in models.Base.metadata.sorted_tables
        }


def effects(before: Rows, after: Rows) -> Effects:
    """What a conversation did to the shop: rows added since `before`, orders cancelled."""

    def added(table: str) -> List[dict]:
        return [
            row
            for key, row in sorted(after.get(table, {}).items())
            if key not in before.get(table, {})
        ]

    old_orders = before.get("orders", {})
    return Effects(
        tickets=tuple(sorted((t["kind"], t["priority"]) for t in added("tickets"))),
        refunds=len(added("refunds")),
        vouchers=len(added("vouchers")),
        cancelled=tuple(
            sorted(
                number
                for (number,), order in after.get("orders", {}).items()
                if order["status"] == "cancelled"
                and old_orders.get((number,), {}).get("status") != "cancelled"
            )
        ),
        emails=len(added("outbound_emails")),
        feedback=len(added("feedback")),
        handoffs=tuple(
            Handoff(
                h["reason"], sum(line.get("sender") == "customer" for line in h["transcript"] or [])
            )
            for h in added("handoffs")
        ),
    )


def shop_facts(state: Rows) -> Shop:
    return Shop(
        frozenset(c["first_name"] for c in state.get("customers", {}).values()),
        frozenset(
            [i["product"] for i in state.get("order_items", {}).values()]
            + [o["tracking_code"] for o in state.get("orders", {}).values() if o["tracking_code"]]
        ),
    )


def say(rasa_url: str, sender: str, text: str, timeout: float) -> Exchange:
    started = time.perf_counter()
    try:
        messages = post(
            f"{rasa_url}/webhooks/rest/webhook",
            {"sender": sender, "message": text},
            timeout=timeout,
        )
    except (OSError, ValueError) as error:  # timeout, refused, HTTP error, not JSON
        return Exchange((), error=f"{type(error).__name__}: {error}")
    return Exchange(
        tuple(m["text"] for m in messages if m.get("text")),
        tuple(b.get("title", "") for m in messages for b in m.get("buttons") or []),
        (time.perf_counter() - started) * 1000,
    )


def play(
    conversation: Conversation, rasa_url: str, repo: Repository, timeout: float = 60.0
) -> Played:
    """One conversation on a freshly seeded shop, as a new customer (sender)."""
    reset(repo)
    before = rows(repo)
    sender = f"scorecard-{uuid.uuid4().hex[:10]}"
    exchanges = tuple(say(rasa_url, sender, turn.user, timeout) for turn in conversation.turns)
    return Played(conversation, exchanges, effects(before, rows(repo)), shop_facts(before))
