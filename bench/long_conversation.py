"""One long conversation: a chatty customer who keeps asking, and what each turn costs by
its position in the conversation (a tracker grows with every turn: so may a turn's work)."""

from __future__ import annotations

import random
import statistics
import time
import uuid
from typing import Callable, List, Optional, Sequence

from bench.conversation_play import say

# Short exchanges a chatty customer strings together, with orders and e-mails of the seeded
# shop (store/seed.py) that pass the identity check. Nothing here writes to the shop
# in a way that changes a later answer: no refund, voucher, complaint or e-mail is asked
# for; no cancellation is asked for that the shop would confirm first (one misread "no"
# leaves the question open, and a later "ok" cancels); no line is in that the assistant
# misread as a write (e.g. "why is it late?" got a voucher) or twice failed to understand
# (a handoff). Lines from tests/conversations/ and bench/turns.py's FLOWS.
EPISODES: List[List[str]] = [
    [
        "hi",
        "where is my order 2345678?",
        "jane.doe@example.com",
        "when will it arrive?",
        "great, thanks",
    ],
    ["what is your refund policy?", "which payment methods do you take?", "cool thx"],
    [
        "hi, what's the status of 4567890? omar.haddad@example.com",
        "when will it arrive?",
        "alright, thanks for letting me know",
    ],
    ["my refund for 9012345 hasn't shown up yet, mei.chen@example.org", "when?", "ok thanks"],
    ["hi by the way, how's your day going?", "haha ok"],
    ["do you deliver to pickup points?", "brilliant, thank you"],
    ["status 10234567", "lukas.weber@example.com", "ok ty"],
    [
        "Hey, where are my blue sneakers? order 123456",
        "ana.souza@example.com",
        "ok, as long as it comes",
    ],
    ["How long do I have to return something?", "thank you"],
    [
        "is my chair still being made? 6789012 omar.haddad@example.com",
        "when will it ship?",
        "no, that's everything. thank you",
    ],
    [
        "am I talking to a real person or a computer?",
        "ok fine. how long does shipping usually take to austria?",
        "great thanks",
    ],
    ["what's the weather like where you are? pouring here", "anyway"],
    ["cancel 10234567 please. lukas.weber@example.com", "why?", "ok understood"],
    [
        "what is your customer service phone number? and are you open on sundays",
        "so saturday is ok to call?",
        "alright",
    ],
    [
        "how much would it cost me to cancel order 6789012? just asking for now",
        "ok, I'll think about it",
        "thanks",
    ],
    ["I need a present by friday, do you have express shipping?", "ok"],
    ["tracking info for 2345678 please, jane.doe@example.com", "when will it arrive?", "thanks"],
    [
        "I have order 3456789 - how do refunds work with you?",
        "ok good to know",
        "thanks for explaining",
    ],
    [
        "I'm confused, is cancelling free or not?? the website says one thing and my friend "
        "says another",
        "so if I ordered yesterday morning I'd pay something?",
        "ok I get it now, thanks",
    ],
    [
        "is my refund actually coming? I'm getting nervous. 9012345 mei.chen@example.org",
        "when will it arrive?",
        "ok",
    ],
    [
        "Just a question before I order: if something arrives broken, do I have to send it back "
        "to get a new one?",
        "good to know, thanks",
    ],
    [
        "I bought a phone case a while back, order 5678901. can I still return it?",
        "ok, never mind then",
    ],
    ["do u guys take paypal", "what about buy now pay later thing? klarna?", "no that's all"],
]


def chatty_script(turns: int, seed: int) -> List[str]:
    """`turns` customer messages: the episodes in a shuffled order (the same for a seed),
    again and again."""
    order = random.Random(seed)
    lines: List[str] = []
    while len(lines) < turns:
        for episode in order.sample(EPISODES, len(EPISODES)):
            lines += episode
    return lines[:turns]


def play(
    rasa_url: str,
    script: Sequence[str],
    stop_at: float,
    timeout: float = 30.0,
    before_turn: Callable[[], None] = lambda: None,
) -> List[Optional[float]]:
    """Each turn's latency in ms (None: the reply never came), as one new customer, until
    the script ends or the clock passes `stop_at` (time.monotonic())."""
    sender = f"bench-{uuid.uuid4().hex[:10]}"
    latencies: List[Optional[float]] = []
    for text in script:
        if time.monotonic() > stop_at:
            break
        before_turn()
        exchange = say(rasa_url, sender, text, timeout)
        latencies.append(None if exchange.error else exchange.ms)
    return latencies


def window_ends(turns: int) -> List[int]:
    """The turns that end the windows reported: 10, 100, 400 as far as the conversation
    goes, and its last turn (none when no turn was played)."""
    return sorted({end for end in (10, 100, 400, turns) if 0 < end <= turns})


def window_p50(
    conversations: Sequence[Sequence[Optional[float]]], end: int, width: int = 10
) -> Optional[float]:
    """p50 over turns end-width+1..end of every conversation that got that far."""
    samples = [
        ms
        for latencies in conversations
        if len(latencies) >= end
        for ms in latencies[max(0, end - width) : end]
        if ms is not None
    ]
    return statistics.median(samples) if samples else None


def slope_per_100_turns(conversations: Sequence[Sequence[Optional[float]]]) -> Optional[float]:
    """Least-squares slope of latency over turn position, in ms per 100 turns."""
    points = [
        (turn, ms)
        for latencies in conversations
        for turn, ms in enumerate(latencies, 1)
        if ms is not None
    ]
    if len({turn for turn, _ in points}) < 2:
        return None
    return 100 * statistics.linear_regression(*zip(*points)).slope
