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
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from bench.conversation_files import (
    ConversationFileError,
    ExpectedDb,
    Patterns,
    default_files,
    family,
    load,
    select,
)
from bench.conversation_play import Effects, Played, ReplyIndex, play, say
from bench.report import percentile, print_table
from bot.servers import Servers
from bot.training import ensure_trained
from heard.contract import NEGATIVE_EMOTIONS
from store.repository import Repository

FALLBACKS = {"utter_default", "utter_clarify"}
RATING = "utter_ask_rating"


# --- checks: did the conversation do what its file says? ----------------------------------


def handoff_line_turns(played: Played, index: ReplyIndex) -> List[Optional[int]]:
    """Per recorded handoff, the first turn from the one it was recorded on whose reply
    holds a handoff line (None: the customer was never told)."""
    told = [
        n
        for n, exchange in enumerate(played.exchanges, 1)
        if any(index.is_handoff(line) for line in exchange.lines)
    ]
    return [next((n for n in told if n >= h.turn), None) for h in played.effects.handoffs]


def escalation(played: Played, index: ReplyIndex) -> Optional[str]:
    """timely, late or missed when the conversation must be handed over; else None."""
    if not played.conversation.handoff:
        return None
    if not played.effects.handoffs:
        return "missed"
    told = handoff_line_turns(played, index)[0]
    return "timely" if told is not None and told <= played.conversation.escalate_by else "late"


def tickets_match(
    expected: Sequence[Tuple[str, Optional[str]]], got: Sequence[Tuple[str, str]]
) -> bool:
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
    return (
        ", ".join(f"{kind} ({priority or 'any priority'})" for kind, priority in tickets) or "none"
    )


def db_failures(expected: ExpectedDb, got: Effects) -> List[str]:
    failed = []
    if not tickets_match(expected.tickets, got.tickets):
        failed.append(
            f"db: tickets opened: {_tickets(got.tickets)}; expected: {_tickets(expected.tickets)}"
        )
    for name in ("refunds", "vouchers", "emails", "feedback"):
        want, have = getattr(expected, name), getattr(got, name)
        if want is not None and want != have:
            failed.append(f"db: {have} {name} created, expected {want}")
    if tuple(expected.cancelled) != got.cancelled:
        failed.append(
            f"db: orders cancelled: {', '.join(got.cancelled) or 'none'}; "
            f"expected: {', '.join(expected.cancelled) or 'none'}"
        )
    return failed


def _pattern_failures(
    where: str, lines: Sequence[str], must: Patterns, must_not: Patterns
) -> List[str]:
    failed = [
        f"{where}: no reply matches {p.pattern!r}"
        for p in must
        if not any(p.search(line) for line in lines)
    ]
    failed += [
        f"{where}: {p.pattern!r} matches {line!r}"
        for p in must_not
        for line in lines
        if p.search(line)
    ]
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
        failed.append(
            f"handoff: recorded, but the customer was told "
            f"{f'in turn {told}' if told else 'never'}, "
            f"expected by turn {c.escalate_by}"
        )
    elif not c.handoff and played.effects.handoffs:
        failed.append(
            f"handoff: {', '.join(h.reason for h in played.effects.handoffs)} "
            f"recorded, expected none"
        )
    return failed + db_failures(c.db, played.effects)


# --- the scorecard's measures (each over all conversations played) -----------------------


def understood(played: Sequence[Played], index: ReplyIndex) -> Tuple[int, int]:
    """(turns answered without a fallback line, turns)."""
    exchanges = [e for p in played for e in p.exchanges]
    return (
        sum(
            not e.error and not any(FALLBACKS & index.names(line) for line in e.lines)
            for e in exchanges
        ),
        len(exchanges),
    )


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
            if (turn.emotion in NEGATIVE_EMOTIONS and gold != previous) or said:
                scored += 1
                matches += (
                    gold in said
                    if turn.emotion in NEGATIVE_EMOTIONS
                    else not said - {family("joy")}
                )
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
    return sum(
        n - 1
        for p in played
        for n in Counter(
            line for e in p.exchanges for line in e.lines if index.is_sympathy(line)
        ).values()
    )


def rating_requests(played: Sequence[Played], index: ReplyIndex) -> Tuple[int, int]:
    """(rating requests in reply to a negative turn, all rating requests)."""
    upset = total = 0
    for p in played:
        for turn, exchange in zip(p.conversation.turns, p.exchanges):
            asked = sum(RATING in index.names(line) for line in exchange.lines)
            total += asked
            upset += asked if turn.emotion in NEGATIVE_EMOTIONS else 0
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
    values = [
        v
        for e in p.exchanges
        for line in e.lines
        for _, fields in index.matches(line)
        for v in fields.items()
    ]
    addressed = any(name == "first_name" and value in p.shop.first_names for name, value in values)
    verified = any(value in p.shop.first_names for _, value in values) or any(
        fact in line for e in p.exchanges for line in e.lines for fact in p.shop.order_facts
    )
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
        "escalations timely / late / missed": (
            f"{esc['timely']} / {esc['late']} / {esc['missed']} of {esc['due']}"
        ),
        "unwanted handoffs": (
            f"{esc['unwanted']} of {esc['not_due']} conversations "
            f"({esc['unwanted'] / esc['not_due']:.0%})"
            if esc["not_due"]
            else "n/a (every conversation expects one)"
        ),
        "verified customers addressed by first name": _share(*personalisation(played, index)),
        "turn latency p50 / p95": (
            f"{percentile(latencies, 0.5):.0f} / {percentile(latencies, 0.95):.0f} ms"
            if latencies
            else "n/a"
        ),
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
    handoffs = [
        f"{h.reason} (recorded in turn {h.turn}, told {f'in turn {told}' if told else 'never'})"
        for h, told in zip(fx.handoffs, handoff_line_turns(played, index))
    ]
    out.append(
        f"  shop: tickets {_tickets(fx.tickets)}; refunds {fx.refunds}; vouchers "
        f"{fx.vouchers}; cancelled {', '.join(fx.cancelled) or 'none'}; e-mails "
        f"{fx.emails}; feedback {fx.feedback}; handoffs {', '.join(handoffs) or 'none'}"
    )
    return "\n".join(out)


# --- the command ----------------------------------------------------------------------------


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.conversations",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick", action="store_true", help="only the conversations marked quick: true"
    )
    parser.add_argument("--only", nargs="+", metavar="ID", help="only these conversations")
    parser.add_argument(
        "--files",
        nargs="+",
        type=Path,
        metavar="YML",
        help="play these files instead of tests/conversations/*.yml",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="print every failed conversation's checks and transcript",
    )
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for one reply (default 60)"
    )
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
    servers = Servers.in_folder(
        ensure_trained(), Path(tempfile.mkdtemp(prefix="heard-conversations-"))
    )
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
            print(
                f"  {'FAIL' if failed else 'ok  '}  {conversation.id}  "
                f"({len(conversation.turns)} turns, {seconds:.1f} s"
                f"{f', {len(failed)} checks failed' if failed else ''})",
                flush=True,
            )
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
        print(
            f"\nfailed: {', '.join(p.conversation.id for p, _ in failed)} "
            "(--verbose shows their checks and transcripts)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
