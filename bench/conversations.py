"""`make eval-conversations`: the conversation scorecard.

Plays every conversation of tests/conversations/*.yml (their shape: the README there)
against the real servers, each on a freshly seeded shop database and with a new sender,
checks it, and prints one table: task success, understanding, empathy (acknowledgements,
apologies, repeated sympathy, rating requests), escalations, personalisation and latency.
Heard's replies are told apart by the domain.yml response they were made from, so the
scorecard follows the wording wherever it changes.
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple

import yaml

from actions.store import models
from actions.store.repository import Repository
from actions.store.seed import seed
from bench.report import percentile, print_table
from bot.servers import ROOT, Servers
from bot.training import ensure_trained
from tests.live import post

CONVERSATIONS = ROOT / "tests" / "conversations"
DOMAIN = ROOT / "domain.yml"
EMOTIONS = ("anger", "frustration", "sadness", "anxiety", "confusion", "joy", "neutral")
NEGATIVE = ("anger", "frustration", "sadness", "anxiety", "confusion")
PRIORITIES = ("low", "normal", "high", "urgent")
FALLBACKS = {"utter_default", "utter_clarify"}
RATING = "utter_ask_rating"
Patterns = Tuple["re.Pattern[str]", ...]


def family(emotion: str) -> str:
    """Anger and frustration call for the same calm ownership; every other emotion is its
    own family."""
    return "anger/frustration" if emotion in ("anger", "frustration") else emotion


# --- conversation files ------------------------------------------------------------------

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
        raise ConversationFileError(f"{where}: unknown key {', '.join(unknown)} "
                                    f"(allowed: {', '.join(allowed)})")
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
                f"{where}: bad regular expression {pattern!r}: {error}") from None
    return tuple(compiled)


def _turn(raw, where: str) -> Turn:
    raw = _mapping(raw, where, ("user", "emotion", "shop_at_fault", "expect"),
                   ("user", "emotion"))
    if raw["emotion"] not in EMOTIONS:
        raise ConversationFileError(f"{where}: unknown emotion {raw['emotion']!r} "
                                    f"(one of {', '.join(EMOTIONS)})")
    expect = _mapping(raw.get("expect") or {}, f"{where}, expect", ("reply", "not_reply"))
    return Turn(_text(raw["user"], f"{where}, user"), raw["emotion"],
                _flag(raw.get("shop_at_fault", False), f"{where}, shop_at_fault"),
                _patterns(expect.get("reply"), f"{where}, expect.reply"),
                _patterns(expect.get("not_reply"), f"{where}, expect.not_reply"))


def _db(raw, where: str) -> ExpectedDb:
    raw = _mapping(raw or {}, where, ("tickets", "refunds", "vouchers", "cancelled",
                                      "emails", "feedback"))
    tickets = []
    for ticket in _list(raw.get("tickets"), f"{where}, tickets", "[{kind: damage}]"):
        ticket = _mapping(ticket, f"{where}, tickets", ("kind", "priority"), ("kind",))
        priority = ticket.get("priority")
        if priority is not None and priority not in PRIORITIES:
            raise ConversationFileError(f"{where}, tickets: unknown priority {priority!r} "
                                        f"(one of {', '.join(PRIORITIES)})")
        tickets.append((_text(ticket["kind"], f"{where}, tickets"), priority))
    cancelled = _list(raw.get("cancelled"), f"{where}, cancelled", "[1234567]")
    optional = {key: _count(raw[key], f"{where}, {key}") for key in
                ("vouchers", "emails", "feedback") if raw.get(key) is not None}
    return ExpectedDb(tuple(tickets), _count(raw.get("refunds", 0), f"{where}, refunds"),
                      tuple(sorted(_text(n, f"{where}, cancelled") for n in cancelled)),
                      **optional)


def _conversation(raw, where: str, source: str) -> Conversation:
    raw = _mapping(raw, where, ("id", "quick", "channel", "notes", "turns", "outcome"),
                   ("id", "turns"))
    where = f"{source}: conversation {raw['id']!r}"
    if raw.get("channel", "rest") != "rest":
        raise ConversationFileError(f"{where}: channel {raw['channel']!r} is not supported "
                                    "(the runner drives rest only)")
    turns = tuple(_turn(t, f"{where}, turn {n}") for n, t in
                  enumerate(_list(raw["turns"], f"{where}, turns", "[{user: hi, ...}]"), 1))
    if not turns:
        raise ConversationFileError(f"{where}: turns is empty")
    outcome = _mapping(raw.get("outcome") or {}, f"{where}, outcome",
                       ("replies", "not_replies", "handoff", "escalate_by", "db"))
    handoff = _flag(outcome.get("handoff", False), f"{where}, outcome.handoff")
    escalate_by = outcome.get("escalate_by")
    if escalate_by is not None:
        if not handoff:
            raise ConversationFileError(f"{where}: escalate_by needs handoff: true")
        if isinstance(escalate_by, bool) or not isinstance(escalate_by, int) \
                or not 1 <= escalate_by <= len(turns):
            raise ConversationFileError(f"{where}: escalate_by must be a turn from 1 to "
                                        f"{len(turns)}, got {escalate_by!r}")
    return Conversation(
        _text(raw["id"], f"{where}, id"), source, turns,
        _flag(raw.get("quick", False), f"{where}, quick"), str(raw.get("notes") or ""),
        _patterns(outcome.get("replies"), f"{where}, outcome.replies"),
        _patterns(outcome.get("not_replies"), f"{where}, outcome.not_replies"),
        handoff, escalate_by or (len(turns) if handoff else 0),
        _db(outcome.get("db"), f"{where}, outcome.db"))


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
        for n, raw in enumerate(_list(document["conversations"], f"{source}: conversations",
                                      "[{id: ..., turns: [...]}]"), 1):
            conversation = _conversation(raw, f"{source}: conversation #{n}", source)
            clash = next((c for c in conversations if c.id == conversation.id), None)
            if clash:
                raise ConversationFileError(f"{source}: conversation {conversation.id!r}: "
                                            f"duplicate id (also in {clash.source})")
            conversations.append(conversation)
    return conversations


def select(conversations: List[Conversation], quick: bool = False,
           only: Optional[Sequence[str]] = None) -> List[Conversation]:
    unknown = sorted(set(only or ()) - {c.id for c in conversations})
    if unknown:
        raise ValueError(f"no conversation with id {', '.join(unknown)}")
    return [c for c in conversations
            if (not quick or c.quick) and (only is None or c.id in only)]


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
        self.patterns = {name: [template_pattern(v["text"]) for v in variations or []
                                if isinstance(v, dict) and v.get("text")]
                         for name, variations in responses.items()}
        self._cache: Dict[str, List[Tuple[str, Dict[str, str]]]] = {}

    @classmethod
    def from_domain(cls, path: Path = DOMAIN) -> "ReplyIndex":
        return cls(yaml.safe_load(path.read_text(encoding="utf-8"))["responses"])

    def matches(self, line: str) -> List[Tuple[str, Dict[str, str]]]:
        """(response name, placeholder values) for every variation the line is."""
        if line not in self._cache:
            self._cache[line] = [(name, dict(zip(fields, match.groups())))
                                 for name, variations in self.patterns.items()
                                 for pattern, fields in variations
                                 for match in [pattern.fullmatch(line)] if match]
        return self._cache[line]

    def names(self, line: str) -> Set[str]:
        return {name for name, _ in self.matches(line)}

    def acknowledged(self, line: str) -> Set[str]:
        """The emotion families a line acknowledges (utter_ack_<emotion>_<level>)."""
        return {family(name.split("_")[2]) for name in self.names(line)
                if name.startswith("utter_ack_")}

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
        return {table.name: {tuple(row[c.name] for c in table.primary_key): dict(row)
                             for row in connection.execute(table.select()).mappings()}
                for table in models.Base.metadata.sorted_tables}


def effects(before: Rows, after: Rows) -> Effects:
    """What a conversation did to the shop: rows added since `before`, orders cancelled."""
    def added(table: str) -> List[dict]:
        return [row for key, row in sorted(after.get(table, {}).items())
                if key not in before.get(table, {})]

    old_orders = before.get("orders", {})
    return Effects(
        tickets=tuple(sorted((t["kind"], t["priority"]) for t in added("tickets"))),
        refunds=len(added("refunds")),
        vouchers=len(added("vouchers")),
        cancelled=tuple(sorted(number for (number,), order in after.get("orders", {}).items()
                               if order["status"] == "cancelled"
                               and old_orders.get((number,), {}).get("status") != "cancelled")),
        emails=len(added("outbound_emails")),
        feedback=len(added("feedback")),
        handoffs=tuple(Handoff(h["reason"], sum(line.get("speaker") == "customer"
                                                for line in h["transcript"] or []))
                       for h in added("handoffs")))


def shop_facts(state: Rows) -> Shop:
    return Shop(frozenset(c["first_name"] for c in state.get("customers", {}).values()),
                frozenset([i["product"] for i in state.get("order_items", {}).values()]
                          + [o["tracking_code"] for o in state.get("orders", {}).values()
                             if o["tracking_code"]]))


def say(rasa_url: str, sender: str, text: str, timeout: float) -> Exchange:
    started = time.perf_counter()
    try:
        messages = post(f"{rasa_url}/webhooks/rest/webhook",
                        {"sender": sender, "message": text}, timeout=timeout)
    except (OSError, ValueError) as error:  # timeout, refused, HTTP error, not JSON
        return Exchange((), error=f"{type(error).__name__}: {error}")
    return Exchange(tuple(m["text"] for m in messages if m.get("text")),
                    tuple(b.get("title", "") for m in messages for b in m.get("buttons") or []),
                    (time.perf_counter() - started) * 1000)


def play(conversation: Conversation, rasa_url: str, repo: Repository, timeout: float = 60.0) -> Played:
    """One conversation on a freshly seeded shop, as a new customer (sender)."""
    reset(repo)
    before = rows(repo)
    sender = f"scorecard-{uuid.uuid4().hex[:10]}"
    exchanges = tuple(say(rasa_url, sender, turn.user, timeout) for turn in conversation.turns)
    return Played(conversation, exchanges, effects(before, rows(repo)), shop_facts(before))


# --- checks: did the conversation do what its file says? ----------------------------------

def handoff_line_turns(played: Played, index: ReplyIndex) -> List[Optional[int]]:
    """Per recorded handoff, the first turn from the one it was recorded on whose reply
    holds a handoff line (None: the customer was never told)."""
    told = [n for n, exchange in enumerate(played.exchanges, 1)
            if any(index.is_handoff(line) for line in exchange.lines)]
    return [next((n for n in told if n >= h.turn), None) for h in played.effects.handoffs]


def escalation(played: Played, index: ReplyIndex) -> Optional[str]:
    """timely, late or missed when the conversation must be handed over; else None."""
    if not played.conversation.handoff:
        return None
    if not played.effects.handoffs:
        return "missed"
    told = handoff_line_turns(played, index)[0]
    return "timely" if told is not None and told <= played.conversation.escalate_by else "late"


def tickets_match(expected: Sequence[Tuple[str, Optional[str]]],
                  got: Sequence[Tuple[str, str]]) -> bool:
    if len(expected) != len(got):
        return False
    left = list(got)
    for kind, priority in sorted(expected, key=lambda t: t[1] is None):  # exact ones first
        match = next((t for t in left if t[0] == kind and priority in (None, t[1])), None)
        if match is None:
            return False
        left.remove(match)
    return True


def _tickets(tickets) -> str:
    return ", ".join(f"{kind} ({priority or 'any priority'})"
                     for kind, priority in tickets) or "none"


def db_failures(expected: ExpectedDb, got: Effects) -> List[str]:
    failed = []
    if not tickets_match(expected.tickets, got.tickets):
        failed.append(f"db: tickets opened: {_tickets(got.tickets)}; "
                      f"expected: {_tickets(expected.tickets)}")
    for name in ("refunds", "vouchers", "emails", "feedback"):
        want, have = getattr(expected, name), getattr(got, name)
        if want is not None and want != have:
            failed.append(f"db: {have} {name} created, expected {want}")
    if tuple(expected.cancelled) != got.cancelled:
        failed.append(f"db: orders cancelled: {', '.join(got.cancelled) or 'none'}; "
                      f"expected: {', '.join(expected.cancelled) or 'none'}")
    return failed


def _pattern_failures(where: str, lines: Sequence[str], must: Patterns,
                      must_not: Patterns) -> List[str]:
    failed = [f"{where}: no reply matches {p.pattern!r}"
              for p in must if not any(p.search(line) for line in lines)]
    failed += [f"{where}: {p.pattern!r} matches {line!r}"
               for p in must_not for line in lines if p.search(line)]
    return failed


def failures(played: Played, index: ReplyIndex) -> List[str]:
    """Every check of the conversation that failed; none: the task succeeded."""
    c, failed = played.conversation, []
    for n, (turn, exchange) in enumerate(zip(c.turns, played.exchanges), 1):
        if exchange.error:
            failed.append(f"turn {n}: no reply ({exchange.error})")
        failed += _pattern_failures(f"turn {n}", exchange.lines, turn.reply, turn.not_reply)
    every_line = [line for exchange in played.exchanges for line in exchange.lines]
    failed += _pattern_failures("outcome", every_line, c.replies, c.not_replies)
    outcome = escalation(played, index)
    if outcome == "missed":
        failed.append("handoff: none recorded, expected one")
    elif outcome == "late":
        told = handoff_line_turns(played, index)[0]
        failed.append(f"handoff: recorded, but the customer was told "
                      f"{f'in turn {told}' if told else 'never'}, "
                      f"expected by turn {c.escalate_by}")
    elif not c.handoff and played.effects.handoffs:
        failed.append(f"handoff: {', '.join(h.reason for h in played.effects.handoffs)} "
                      f"recorded, expected none")
    return failed + db_failures(c.db, played.effects)


# --- the scorecard's measures (each over all conversations played) -----------------------

def understood(played: Sequence[Played], index: ReplyIndex) -> Tuple[int, int]:
    """(turns answered without a fallback line, turns)."""
    exchanges = [e for p in played for e in p.exchanges]
    return (sum(not e.error and not any(FALLBACKS & index.names(line) for line in e.lines)
                for e in exchanges), len(exchanges))


def acknowledgements(played: Sequence[Played], index: ReplyIndex) -> Tuple[int, int]:
    """(matches, scored turns). Scored: a change to a negative feeling (the first turn
    follows no feeling), and any turn Heard acknowledged. A negative turn matches with an
    acknowledgement of its family; a neutral or joyful one with no negative one."""
    matches = scored = 0
    for p in played:
        previous = None
        for turn, exchange in zip(p.conversation.turns, p.exchanges):
            said = set().union(*map(index.acknowledged, exchange.lines))
            gold = family(turn.emotion)
            if (turn.emotion in NEGATIVE and gold != previous) or said:
                scored += 1
                matches += (gold in said if turn.emotion in NEGATIVE
                            else not said - {family("joy")})
            previous = gold
    return matches, scored


def apologies(played: Sequence[Played], index: ReplyIndex) -> Tuple[int, int]:
    """(apology lines in conversations where the shop is never at fault, conversations
    where it is at fault and Heard never apologised)."""
    needless = missing = 0
    for p in played:
        said = sum(index.is_apology(line) for e in p.exchanges for line in e.lines)
        if any(turn.shop_at_fault for turn in p.conversation.turns):
            missing += not said
        else:
            needless += said
    return needless, missing


def repeated_sympathy(played: Sequence[Played], index: ReplyIndex) -> int:
    """Acknowledgement or apology lines said again, word for word, in one conversation."""
    return sum(n - 1 for p in played for n in Counter(
        line for e in p.exchanges for line in e.lines if index.is_sympathy(line)).values())


def rating_requests(played: Sequence[Played], index: ReplyIndex) -> Tuple[int, int]:
    """(rating requests in reply to a negative turn, all rating requests)."""
    upset = total = 0
    for p in played:
        for turn, exchange in zip(p.conversation.turns, p.exchanges):
            asked = sum(RATING in index.names(line) for line in exchange.lines)
            total += asked
            upset += asked if turn.emotion in NEGATIVE else 0
    return upset, total


def escalations(played: Sequence[Played], index: ReplyIndex) -> Counter:
    """timely, late, missed (of `due`), and unwanted handoffs (of `not_due` conversations)."""
    counts = Counter(escalation(p, index) for p in played if p.conversation.handoff)
    counts["due"] = sum(p.conversation.handoff for p in played)
    calm = [p for p in played if not p.conversation.handoff]
    counts["unwanted"] = sum(bool(p.effects.handoffs) for p in calm)
    counts["not_due"] = len(calm)
    return counts


def personalised(p: Played, index: ReplyIndex) -> Tuple[bool, bool]:
    """(identity verified: a reply names the customer or tells an order fact, addressed by
    first name at least once)."""
    values = [v for e in p.exchanges for line in e.lines
              for _, fields in index.matches(line) for v in fields.items()]
    addressed = any(name == "first_name" and value in p.shop.first_names
                    for name, value in values)
    verified = any(value in p.shop.first_names for _, value in values) or any(
        fact in line for e in p.exchanges for line in e.lines for fact in p.shop.order_facts)
    return verified, addressed


def personalisation(played: Sequence[Played], index: ReplyIndex) -> Tuple[int, int]:
    """(verified conversations addressed by first name, verified conversations)."""
    pairs = [personalised(p, index) for p in played]
    return sum(v and a for v, a in pairs), sum(v for v, _ in pairs)


def _share(n: int, of: int) -> str:
    return f"{n}/{of} ({n / of:.0%})" if of else "n/a (nothing to score)"


def scorecard(played: Sequence[Played], index: ReplyIndex) -> Dict[str, str]:
    latencies = [e.ms for p in played for e in p.exchanges if not e.error]
    needless, missing = apologies(played, index)
    upset, ratings = rating_requests(played, index)
    esc = escalations(played, index)
    return {
        "conversations (turns)": f"{len(played)} ({sum(len(p.exchanges) for p in played)})",
        "task success": _share(sum(not failures(p, index) for p in played), len(played)),
        "understood turns (no fallback)": _share(*understood(played, index)),
        "acknowledgement matches the emotion family": _share(*acknowledgements(played, index)),
        "apologies where the shop is not at fault": str(needless),
        "missing apologies (shop at fault, none said)": str(missing),
        "repeated sympathy lines": str(repeated_sympathy(played, index)),
        "rating requests to upset customers": f"{upset} of {ratings} rating requests",
        "escalations timely / late / missed": (f"{esc['timely']} / {esc['late']} / "
                                               f"{esc['missed']} of {esc['due']}"),
        "unwanted handoffs": (f"{esc['unwanted']} of {esc['not_due']} conversations "
                              f"({esc['unwanted'] / esc['not_due']:.0%})" if esc["not_due"]
                              else "n/a (every conversation expects one)"),
        "verified customers addressed by first name": _share(*personalisation(played, index)),
        "turn latency p50 / p95": (f"{percentile(latencies, 0.5):.0f} / "
                                   f"{percentile(latencies, 0.95):.0f} ms"
                                   if latencies else "n/a"),
    }


def report(played: Played, failed: Sequence[str], index: ReplyIndex) -> str:
    """A failed conversation: its failed checks, the transcript, what it did to the shop."""
    c, fx = played.conversation, played.effects
    out = [f"FAIL {c.id} ({c.source}){': ' + c.notes if c.notes else ''}"]
    out += [f"  - {check}" for check in failed]
    for n, (turn, exchange) in enumerate(zip(c.turns, played.exchanges), 1):
        gold = turn.emotion + (", shop at fault" if turn.shop_at_fault else "")
        out.append(f"  {n}. customer [{gold}]: {turn.user}")
        out += [f"     heard: {line}" for line in exchange.lines]
        if exchange.buttons:
            out.append(f"     buttons: {' | '.join(exchange.buttons)}")
        if exchange.error:
            out.append(f"     (no reply: {exchange.error})")
    handoffs = [f"{h.reason} (recorded in turn {h.turn}, told "
                f"{f'in turn {told}' if told else 'never'})"
                for h, told in zip(fx.handoffs, handoff_line_turns(played, index))]
    out.append(f"  shop: tickets {_tickets(fx.tickets)}; refunds {fx.refunds}; vouchers "
               f"{fx.vouchers}; cancelled {', '.join(fx.cancelled) or 'none'}; e-mails "
               f"{fx.emails}; feedback {fx.feedback}; handoffs {', '.join(handoffs) or 'none'}")
    return "\n".join(out)


# --- the command ----------------------------------------------------------------------------

def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.conversations", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="only the conversations marked quick: true")
    parser.add_argument("--only", nargs="+", metavar="ID", help="only these conversations")
    parser.add_argument("--files", nargs="+", type=Path, metavar="YML",
                        help="play these files instead of tests/conversations/*.yml")
    parser.add_argument("--verbose", action="store_true",
                        help="print every failed conversation's checks and transcript")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds to wait for one reply (default 60)")
    args = parser.parse_args(argv)
    try:
        conversations = load(args.files or default_files())
    except (ConversationFileError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    try:
        conversations = select(conversations, args.quick, args.only)
    except ValueError as error:
        parser.error(str(error))
    if not conversations:
        print("no conversations to play (tests/conversations/*.yml, --quick, --only)")
        return 0
    index = ReplyIndex.from_domain()
    servers = Servers.in_folder(ensure_trained(),
                                Path(tempfile.mkdtemp(prefix="heard-conversations-")))
    servers.start()
    played: List[Played] = []
    try:
        servers.wait_until_ready()
        repo = Repository.from_url(servers.database_url)
        # The first reply loads lazily built parts; it would otherwise skew the latency.
        say(servers.rasa_url, "scorecard-warm-up", "hi", args.timeout)
        print(f"playing {len(conversations)} conversations", flush=True)
        for conversation in conversations:
            played.append(play(conversation, servers.rasa_url, repo, args.timeout))
            failed = failures(played[-1], index)
            seconds = sum(e.ms for e in played[-1].exchanges) / 1000
            print(f"  {'FAIL' if failed else 'ok  '}  {conversation.id}  "
                  f"({len(conversation.turns)} turns, {seconds:.1f} s"
                  f"{f', {len(failed)} checks failed' if failed else ''})", flush=True)
    except RuntimeError as error:  # a server did not start (the message names its log)
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        servers.stop()

    print_table(scorecard(played, index))
    failed = [(p, checks) for p in played for checks in [failures(p, index)] if checks]
    if failed and args.verbose:
        print("\n" + "\n\n".join(report(p, checks, index) for p, checks in failed))
    elif failed:
        print(f"\nfailed: {', '.join(p.conversation.id for p, _ in failed)} "
              "(--verbose shows their checks and transcripts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
