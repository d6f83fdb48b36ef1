"""The empathy dashboard shows the figures of known conversations: five conversations on
three days in February 2024 (a range no other test writes to), seeded through Rasa's
tracker API and the shop database, and read back from the page."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from store import models as m
from store.repository import Repository
from tests.live import post
from tests.web.browser_support import expect, screenshot, serious_accessibility_violations, sign_in

pytestmark = pytest.mark.slow

# (day, channel, [(intent, emotion), ...], handoff reason, rating, first request resolved)
CONVERSATIONS = [
    ("2024-02-27", "socketio", [("track_order", "anger"), ("inform", "neutral")], None, 4, True),
    (
        "2024-02-27",
        "rest",
        [("track_refund", "frustration"), ("contact_human_agent", "anger")],
        "customer_request",
        None,
        False,
    ),
    ("2024-02-28", "socketio", [("greet", "joy")], None, 5, None),
    (
        "2024-02-28",
        "socketio",
        [("payment_issue", "anger"), ("payment_issue", "anger")],
        "repeated_anger",
        None,
        None,
    ),
    ("2024-02-29", "rest", [("track_order", "neutral"), ("thank_you", "joy")], None, 3, True),
]


def _at(day: str, minute: int) -> datetime:
    return datetime.fromisoformat(day).replace(hour=10, minute=minute)


@pytest.fixture(scope="module")
def seeded(site):
    for day, channel, turns, reason, rating, resolved in CONVERSATIONS:
        conversation = f"dashboard-{uuid.uuid4().hex[:8]}"
        events = [
            {
                "event": "user",
                "text": f"{intent} message",
                "input_channel": channel,
                "timestamp": _at(day, i).replace(tzinfo=timezone.utc).timestamp(),
                "parse_data": {
                    "intent": {"name": intent, "confidence": 1.0},
                    "entities": [],
                    "text": f"{intent} message",
                    "emotion": {"name": emotion, "intensity": 0.7},
                },
            }
            for i, (intent, emotion) in enumerate(turns)
        ]
        post(site.api(f"/conversations/{conversation}/tracker/events"), events)
        repo = Repository.from_url(site.database, clock=lambda day=day: _at(day, 30))
        if reason:
            handoff = repo.create_handoff(
                conversation,
                channel,
                reason,
                priority=2,
                summary="",
                transcript=[],
                emotion_timeline=[],
            )
            with repo.session() as s:  # long dealt with: keep it out of today's queue
                s.query(m.Handoff).filter_by(reference=handoff.reference).update(
                    {"status": "returned"}
                )
        if rating:
            repo.record_feedback(conversation, channel, rating, turns[0][1], turns[-1][1])
        if resolved is not None:
            repo.record_resolution(conversation, channel, turns[0][0], resolved, 1)
        repo.engine.dispose()


def _figures(page) -> dict:
    """Each chart's rows as {key: shown value}."""
    return page.evaluate("""() => Object.fromEntries(
        [...document.querySelectorAll('#charts .card')].map(card => [card.id,
            Object.fromEntries([...card.querySelectorAll('li[data-key]')].map(li =>
                [li.dataset.key, li.querySelector('.value').textContent]))]))""")


def _show(page, start: str, end: str, channel: str = ""):
    page.get_by_label("From", exact=True).fill(start)
    page.get_by_label("To", exact=True).fill(end)
    page.get_by_label("Channel", exact=True).select_option(channel)
    with page.expect_response(lambda r: "/console/api/dashboard" in r.url):
        page.get_by_role("button", name="Show").click()


def test_dashboard_shows_the_seeded_figures(site, seeded, open_page):
    username, password = site.add_agent("Dana")
    watched = open_page(viewport={"width": 1280, "height": 1100})
    page = watched.page
    sign_in(page, site.url, username, password)
    page.get_by_role("tab", name="Queue").focus()
    page.keyboard.press("ArrowRight")  # tabs follow the keyboard pattern of WAI-ARIA
    expect(page.get_by_role("tab", name="Dashboard")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#panel-dashboard")).to_be_visible()
    expect(page.locator("#chart-volume")).to_be_visible()  # the last 30 days by default
    _show(page, "2024-02-27", "2024-02-29")

    expect(page.locator("#chart-containment .number")).to_have_text("60 %")
    expect(page.locator("#chart-containment .caption")).to_contain_text("of 5 conversations")
    expect(page.locator("#chart-rating .number")).to_have_text("4.0 / 5")
    expect(page.locator("#chart-rating .caption")).to_have_text("from 3 ratings")
    expect(page.locator("#chart-resolution .number")).to_have_text("40 %")
    expect(page.locator("#chart-fallback .number")).to_have_text("0 %")
    expect(page.locator("#chart-fallback .caption")).to_contain_text("of 9 customer messages")
    expect(page.locator("#chart-calm-down .number")).to_have_text("33.3 %")
    expect(page.locator("#chart-calm-down .caption")).to_contain_text("of 3 conversations")
    shown = _figures(page)
    assert shown["chart-volume"] == {"2024-02-27": "2", "2024-02-28": "2", "2024-02-29": "1"}
    assert shown["chart-escalation"] == {
        "customer_request": "20 % (1)",
        "repeated_anger": "20 % (1)",
    }
    emotions = shown["chart-emotions"]
    assert (emotions["anger-start"], emotions["anger-end"]) == ("2", "2")
    assert (emotions["frustration-start"], emotions["frustration-end"]) == ("1", "0")
    assert (emotions["joy-start"], emotions["joy-end"]) == ("1", "2")
    assert (emotions["neutral-start"], emotions["neutral-end"]) == ("1", "1")
    assert list(shown["chart-intents"].items())[0] == ("payment_issue", "2")
    assert shown["chart-intents"] == {
        "payment_issue": "2",
        "track_order": "1",
        "track_refund": "1",
        "contact_human_agent": "1",
    }
    expect(page.locator('#chart-volume li[data-key="2024-02-27"]')).to_contain_text(
        "(rest 1, socketio 1)"
    )  # the split per channel, for screen readers too
    assert {
        key: value
        for key, value in shown["chart-rates-channel"].items()
        if key.startswith(("resolution:", "calm-down:"))
    } == {
        "resolution:rest": "50 %",
        "resolution:socketio": "33.3 %",
        "calm-down:rest": "0 %",
        "calm-down:socketio": "50 %",
    }
    assert shown["chart-rates-day"]["containment:2024-02-27:rest"] == "0 %"
    assert shown["chart-rates-day"]["calm-down:2024-02-29:rest"] == "–"  # nobody was upset
    screenshot(page, "dashboard", full_page=True)

    _show(page, "2024-02-27", "2024-02-29", "socketio")
    expect(page.locator("#chart-containment .number")).to_have_text("66.7 %")
    expect(page.locator("#chart-rating .number")).to_have_text("4.5 / 5")
    expect(page.locator("#chart-resolution .number")).to_have_text("33.3 %")
    expect(page.locator("#chart-calm-down .number")).to_have_text("50 %")
    assert _figures(page)["chart-volume"] == {"2024-02-27": "1", "2024-02-28": "2"}

    _show(page, "2024-02-29", "2024-02-29")
    expect(page.locator("#chart-containment .number")).to_have_text("100 %")
    assert _figures(page)["chart-escalation"] == {}
    assert serious_accessibility_violations(page) == []
    assert watched.errors == []
