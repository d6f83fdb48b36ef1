"""The console's Tickets tab against the real servers: a customer reports a damaged coffee
maker in the widget, Heard opens the case, and an agent finds it with the filters, reads
it with its conversation, gives it to a colleague and closes it."""

from __future__ import annotations

import re

import pytest

from store import models as shop
from store.repository import Repository, utcnow
from store.tickets import TicketFilter, TicketRecords
from tests.web.browser_support import (
    Widget,
    expect,
    screenshot,
    serious_accessibility_violations,
    sign_in,
)

pytestmark = pytest.mark.slow

ORDER = "3456789"  # Jane Doe's delivered coffee maker (store/seed.py)


def close_open_damage_cases(database: str) -> None:
    """One damage case is open per order: closing any an earlier test left open makes this
    conversation open its own, so its words are the ticket's."""
    repo = Repository.from_url(database)
    records = TicketRecords(repo.engine)
    for ticket in records.page(TicketFilter(kind="damage", text=ORDER, limit=100))[0]:
        records.close(ticket.reference, "test-setup", utcnow())
    repo.engine.dispose()


def heard_says(widget: Widget, pattern: str, before: int) -> None:
    """Waits (within the page's time limit) for one more of Heard's messages matching."""
    said = widget.log.locator(".heard-from-heard", has_text=re.compile(pattern, re.I))
    expect(said.nth(before)).to_be_visible()


def matching(widget: Widget, pattern: str) -> int:
    return widget.log.locator(".heard-from-heard", has_text=re.compile(pattern, re.I)).count()


def test_agent_filters_opens_reassigns_and_closes_a_ticket(site, open_page):
    username, password = site.add_agent("Ines")
    colleague, _ = site.add_agent("Kim")
    close_open_damage_cases(site.database)

    customer = open_page()
    widget = Widget(customer.page)
    customer.page.goto(f"{site.url}/shop/")
    widget.open()
    for text, reply in [
        (f"The coffee maker from order {ORDER} arrived with the glass jug smashed", "e-?mail"),
        ("jane.doe@example.com", "replacement|refund"),
        ("A replacement, please", r"TK-[A-Z0-9]{6}"),
    ]:
        before = matching(widget, reply)
        widget.say(text)
        heard_says(widget, reply, before)
    reference = re.findall(r"TK-[A-Z0-9]{6}", " ".join(widget.heard_messages()))[-1]
    session_id = customer.page.evaluate("localStorage.getItem('heard.session_id')")

    agent = open_page()
    page = agent.page
    sign_in(page, site.url, username, password)
    page.get_by_role("tab", name="Queue").focus()
    page.keyboard.press("ArrowLeft")  # the tabs wrap round: Queue, Dashboard, Tickets
    tickets_tab = page.get_by_role("tab", name="Tickets")
    expect(tickets_tab).to_have_attribute("aria-selected", "true")
    expect(tickets_tab).to_be_focused()
    panel = page.get_by_role("tabpanel", name="Tickets")

    panel.get_by_label("Kind").select_option("damage")
    panel.get_by_label("Order number or reference").fill(ORDER)
    panel.get_by_role("button", name="Show", exact=True).click()
    item = panel.locator(f'.ticket-item[data-reference="{reference}"]')
    expect(item).to_be_visible()
    expect(panel.locator(".ticket-item")).to_have_count(1)  # the only open one (see above)
    expect(item).to_contain_text("damage")
    expect(item).to_contain_text(f"order {ORDER}")

    item.focus()
    page.keyboard.press("Enter")
    detail = panel.locator("#ticket")
    heading = detail.get_by_role("heading", level=2)
    expect(heading).to_have_text(f"{reference} · damage")
    expect(heading).to_be_focused()
    expect(detail.locator(".summary")).to_contain_text("glass jug smashed")
    expect(detail.locator(".ticket-facts")).to_contain_text("Jane Doe · j***@example.com")
    expect(detail.locator(".ticket-facts")).to_contain_text("returns")
    assert "jane.doe@example.com" not in detail.inner_text()

    show = detail.get_by_role("button", name="Show conversation")
    show.click()
    transcript = detail.get_by_role("list", name="Conversation")
    expect(transcript.locator(".line-customer").first).to_contain_text("glass jug smashed")
    expect(detail.get_by_role("button", name="Hide conversation")).to_have_attribute(
        "aria-expanded", "true"
    )

    detail.get_by_label("Reassign to").select_option(f"agent:{colleague}")
    detail.get_by_role("button", name="Reassign", exact=True).click()
    expect(detail.get_by_role("status")).to_have_text("Reassigned to Kim.")
    expect(detail.locator(".ticket-facts")).to_contain_text("Assigned to")
    expect(detail.locator(".ticket-facts")).to_contain_text("by Ines")
    expect(item).to_contain_text("with Kim")
    expect(transcript).to_contain_text("glass jug smashed")  # still open after the change
    assert serious_accessibility_violations(page) == []
    screenshot(page, "console-tickets", full_page=True)

    detail.get_by_role("button", name="Close ticket").click()
    expect(detail.get_by_role("status")).to_have_text("Ticket closed.")
    expect(detail.get_by_role("button", name="Close ticket")).to_have_count(0)
    expect(heading).to_be_focused()
    expect(item).to_have_count(0)  # the list shows open tickets
    panel.get_by_label("Status", exact=True).select_option("closed")
    panel.get_by_role("button", name="Show", exact=True).click()
    expect(item).to_contain_text("closed")

    repo = Repository.from_url(site.database)
    with repo.session() as s:
        stored = s.query(shop.Ticket).filter_by(reference=reference).one()
        assert (stored.kind, stored.order_number, stored.conversation_id) == (
            "damage",
            ORDER,
            session_id,
        )
        assert (stored.status, stored.closed_by, stored.assignee, stored.assigned_by) == (
            "closed",
            username,
            colleague,
            username,
        )
    repo.engine.dispose()
    assert customer.errors == [] and agent.errors == []


def test_a_bad_search_is_explained_and_changes_nothing(site, open_page):
    username, password = site.add_agent("Ola")
    watched = open_page()
    page = watched.page
    sign_in(page, site.url, username, password)
    page.get_by_role("tab", name="Tickets").click()
    panel = page.get_by_role("tabpanel", name="Tickets")
    expect(panel.get_by_role("heading", name=re.compile(r"^Tickets"))).to_be_visible()
    panel.get_by_label("Order number or reference").fill("50% off")
    panel.get_by_role("button", name="Show", exact=True).click()
    expect(panel.get_by_role("alert")).to_contain_text("'q' is part of an order number")
    # The refused search's 400 is the only error the page reports.
    assert [e for e in watched.errors if "status of 400" not in e] == []
    assert serious_accessibility_violations(page) == []
