"""When Heard isn't sure what the customer wants: which two requests to offer as buttons."""

from __future__ import annotations

from typing import Any, Collection, Dict, List, Optional, Sequence

from actions import info
from actions.requests import REQUESTS

# Requests worth offering; not small talk, yes/no, bare details or out of scope. Each has
# a button (title and "/intent" payload) in domain.yml's `utter_clarify_options`.
OFFERABLE = frozenset({*REQUESTS, *info.ANSWERS, "complaint", "review", "contact_human_agent"})
# The two most likely intents are offered when their summed probability reaches this.
# Tuned on validation data (out-of-fold training predictions and CLINC150 val), never on
# the test set: `python -m bench.nlu_validation`.
OFFER_FLOOR = 0.25
# A misunderstood message whose likeliest reading is a request, this likely and this far
# ahead of the next request, is remembered: details given next resume it.
GUESS_FLOOR = 0.15
GUESS_LEAD = 0.1


def options(ranking: Sequence[Dict[str, Any]], floor: float = OFFER_FLOOR) -> List[str]:
    """The two most likely requests of an intent ranking, when both are offerable and
    together likely enough; otherwise none."""
    ranked = [r for r in ranking if r.get("name") != "nlu_fallback"][:2]
    names = [str(r.get("name")) for r in ranked]
    if len(names) < 2 or not set(names) <= OFFERABLE:
        return []
    if sum(float(r.get("confidence") or 0.0) for r in ranked) < floor:
        return []
    return names


def buttons(intents: Sequence[str], menu: Sequence[Dict[str, Any]]) -> List[Dict[str, str]]:
    """The buttons of `menu` (the domain's `utter_clarify_options`) for `intents`, in order."""
    by_payload = {b["payload"]: b for variation in menu for b in variation.get("buttons", [])}
    return [dict(by_payload[f"/{intent}"]) for intent in intents]


# Close readings where one answer serves both: tracking a late order says it is late, with
# the new date and the offer of compensation, and writes nothing.
SAFE_READING = {frozenset({"track_order", "report_late_delivery"}): "track_order"}


def safe_reading(ranking: Sequence[Dict[str, Any]]) -> Optional[str]:
    """The request that answers both of the two likeliest readings, when there is one."""
    names = frozenset(
        str(r.get("name")) for r in [r for r in ranking if r.get("name") != "nlu_fallback"][:2]
    )
    return SAFE_READING.get(names)


def likely_request(ranking: Sequence[Dict[str, Any]], requests: Collection[str]) -> Optional[str]:
    """The request a misunderstood message most likely made, when it clearly leads."""
    ranked = [r for r in ranking if r.get("name") != "nlu_fallback"]
    if not ranked or ranked[0].get("name") not in requests:
        return None
    top = float(ranked[0].get("confidence") or 0.0)
    runner_up = max(
        (float(r.get("confidence") or 0.0) for r in ranked[1:] if r.get("name") in requests),
        default=0.0,
    )
    return str(ranked[0]["name"]) if top >= GUESS_FLOOR and top - runner_up >= GUESS_LEAD else None
