"""The agent console against the real servers: sign-in, the queue, taking a conversation
over from Heard in the customer's widget, and handing it back."""

from __future__ import annotations

import re

import pytest

from tests.web.browser_support import (
    Widget,
    expect,
    screenshot,
    serious_accessibility_violations,
    sign_in,
)

pytestmark = pytest.mark.slow


def test_console_refuses_a_visitor_who_has_not_signed_in(site, open_page):
    watched = open_page()
    page = watched.page
    page.goto(f"{site.url}/console/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("#app")).to_be_hidden()
    assert page.locator(".queue-item, .transcript").count() == 0
    assert page.request.get(f"{site.url}/console/api/queue").status == 401
    assert serious_accessibility_violations(page) == []
    screenshot(page, "console-signin")

    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).not_to_be_empty()
    expect(page.get_by_label("Password")).to_be_focused()
    expect(page.locator("#app")).to_be_hidden()
    # The failed sign-in's 401 is the only error the page reports.
    assert [e for e in watched.errors if "/console/api/login" not in e] == []


def test_agent_takes_over_replies_and_hands_back(site, open_page):
    username, password = site.add_agent("Sam")

    customer = open_page()
    shop = customer.page
    shop.goto(f"{site.url}/shop/")
    widget = Widget(shop).open()
    widget.say("where is my order 2345678?")
    widget.wait_for_heard("e-mail")
    widget.say("jane.doe@example.com")
    widget.wait_for_heard("DHL")
    widget.say("This is RIDICULOUS, I want a human NOW")
    widget.wait_for_heard("ticket number")
    reference = re.search(r"HO-[A-Z0-9]{6}", " ".join(widget.heard_messages())).group(0)

    agent = open_page()
    console = agent.page
    sign_in(console, site.url, username, password)
    expect(console.get_by_text("Signed in as Sam")).to_be_visible()
    item = console.locator(f'.queue-item[data-reference="{reference}"]')
    expect(item).to_be_visible()
    expect(console).to_have_title(re.compile(r"^\(\d+\) Heard · Agent console$"))
    item.click()
    detail = console.locator("#handoff")
    expect(detail.get_by_role("heading", level=2)).to_contain_text(reference)
    expect(detail.locator(".transcript")).to_contain_text("This is RIDICULOUS, I want a human NOW")
    expect(detail.locator(".summary")).to_contain_text("Reason:")
    expect(detail.locator(".chips .chip").last).to_contain_text(re.compile("anger|frustration"))
    expect(detail.locator(".order")).to_contain_text("2345678")
    assert detail.locator("svg.timeline circle").count() == detail.locator(".chips li").count() >= 2

    detail.get_by_role("button", name="Take").click()
    joined = widget.log.locator(".heard-notice", has_text="Sam from our team has joined")
    expect(joined).to_be_visible()
    expect(shop.locator(".heard-status")).to_have_text("You're talking to Sam")

    reply = detail.get_by_label("Reply to the customer")
    expect(reply).to_be_focused()
    reply.fill("Hi, Sam here. I'm checking order 2345678 with DHL now: https://www.dhl.com/")
    detail.get_by_role("button", name="Send reply").click()
    from_agent = widget.log.locator(".heard-from-agent").last
    expect(from_agent).to_contain_text("Sam")
    expect(from_agent).to_contain_text("I'm checking order 2345678 with DHL now")
    link = from_agent.get_by_role("link")
    expect(link).to_have_attribute("href", "https://www.dhl.com/")
    expect(link).to_have_attribute("rel", "noopener noreferrer")

    heard_before = widget.heard_count()
    widget.say("Thank you Sam, that's a relief")
    expect(detail.locator(".transcript .line-customer").last).to_contain_text(
        "Thank you Sam, that's a relief"
    )  # the console's 2 s poll
    assert widget.heard_count() == heard_before  # Heard stays quiet while Sam has it
    screenshot(console, "console", full_page=True)
    assert serious_accessibility_violations(console) == []
    # An agent's markup is text too, and only http(s) addresses become links.
    markup = "<img src=x onerror=alert(1)> javascript:alert(1)"
    reply.fill(markup)
    reply.press("Enter")
    expect(widget.log.locator(".heard-from-agent .heard-text").last).to_have_text(markup)
    assert widget.log.locator(".heard-from-agent").last.locator("img, a").count() == 0

    detail.get_by_role("button", name="Hand back to Heard").click()
    expect(item).to_have_count(0)
    expect(widget.log.locator(".heard-notice", has_text="Heard is back")).to_be_visible()
    widget.wait_for_more_heard(heard_before)  # Heard's "I'm back" line
    expect(shop.locator(".heard-status")).to_have_text("Customer service")
    widget.say("what is your refund policy?")
    widget.wait_for_heard("30 days")
    assert customer.errors == [] and agent.errors == []


def test_sign_out_hides_everything_again(site, open_page):
    username, password = site.add_agent("Riya")
    page = open_page().page
    sign_in(page, site.url, username, password)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("#app")).to_be_hidden()
    assert page.request.get(f"{site.url}/console/api/queue").status == 401
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
