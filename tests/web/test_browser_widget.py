"""The chat widget on the demo shop, in headless Chromium, against the real servers."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.web.browser_support import (
    DESKTOP,
    PHONE,
    ROOT,
    Widget,
    expect,
    screenshot,
    serious_accessibility_violations,
)

pytestmark = pytest.mark.slow


def _responses(prefix: str) -> set:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    return {
        variation["text"]
        for name, variations in domain["responses"].items()
        if name.startswith(prefix)
        for variation in variations
    }


def test_customer_tracks_an_order_and_rates_the_chat(site, open_page):
    watched = open_page()
    page = watched.page
    page.goto(f"{site.url}/shop/")
    widget = Widget(page).open()
    widget.say("where is my order 2345678?")
    expect(widget.log.locator(".heard-from-customer .heard-text").last).to_have_text(
        re.compile("where is my order 2345678")
    )
    widget.wait_for_heard("e-mail")
    widget.say("jane.doe@example.com")
    widget.wait_for_heard("DHL")
    assert any("Jane" in m for m in widget.heard_messages())
    widget.wait_for_heard("anything else")  # the rating waits until the customer is done
    widget.say("no, that's all")
    rating = page.get_by_role("group", name="Suggested replies")
    expect(rating.get_by_role("button")).to_have_text(["1", "2", "3", "4", "5"])
    answered = widget.heard_count()
    rating.get_by_role("button", name="5").click()
    expect(rating).to_have_count(0)
    expect(widget.log.locator(".heard-from-customer .heard-text").last).to_have_text("5")
    widget.wait_for_more_heard(answered)  # Heard thanks for the rating
    screenshot(page, "widget-desktop")
    assert watched.errors == []


def test_typing_indicator_shows_while_heard_answers(site, open_page):
    page = open_page().page
    page.goto(f"{site.url}/shop/")
    widget = Widget(page).open()
    typing = page.locator(".heard-typing")
    expect(typing).to_be_hidden()
    # Heard answers within milliseconds: record the indicator's changes rather than race it.
    page.evaluate("""() => {
        const dots = document.querySelector('.heard-typing');
        window.typingSeen = [];
        new MutationObserver(() => window.typingSeen.push(!dots.hidden))
            .observe(dots, {attributes: true, attributeFilter: ['hidden']});
    }""")
    widget.say("what is your refund policy?")
    widget.wait_for_heard("30 days")
    expect(typing).to_be_hidden()
    assert page.evaluate("window.typingSeen")[:2] == [True, False]


def test_an_angry_message_gets_an_acknowledgement(site, open_page):
    page = open_page().page
    page.goto(f"{site.url}/shop/")
    widget = Widget(page).open()
    widget.say("This is absolutely unacceptable, you people are useless and I'm furious")
    acknowledgements = _responses("utter_ack_anger") | _responses("utter_ack_frustration")
    first = widget.log.locator(".heard-from-heard .heard-text").first
    expect(first).to_be_visible()
    assert first.inner_text() in acknowledgements  # acknowledged before anything else
    widget.wait_for_more_heard(1)  # then what Heard offers to do
    assert not any("!" in m for m in widget.heard_messages())  # calm wording


def test_html_from_the_customer_is_shown_as_text(site, open_page):
    watched = open_page()
    page = watched.page
    page.goto(f"{site.url}/shop/")
    widget = Widget(page).open()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    typed = "<img src=x onerror=alert(1)><b>bold</b>"
    widget.say(typed)
    mine = widget.log.locator(".heard-from-customer .heard-text").last
    expect(mine).to_have_text(typed)
    assert mine.locator("img, b").count() == 0
    widget.wait_for_more_heard(0)
    assert widget.log.locator("img, b, script").count() == 0
    assert dialogs == []
    # After a reload the history comes from the server: still text.
    page.reload()
    expect(widget.log.locator(".heard-from-customer .heard-text").first).to_have_text(typed)
    assert widget.log.locator("img, b, script").count() == 0
    assert dialogs == [] and watched.errors == []


def test_the_conversation_survives_a_reload_and_is_shared_by_tabs(site, open_page):
    watched = open_page()
    page = watched.page
    page.goto(f"{site.url}/shop/")
    widget = Widget(page).open()
    widget.say("what is your refund policy?")
    widget.wait_for_heard("30 days")
    widget.wait_for_heard("anything else")  # Heard's last message of the turn
    session = page.evaluate("localStorage.getItem('heard.session_id')")
    assert re.fullmatch(r"[0-9a-f-]{36}", session)
    before = widget.log.locator(".heard-msg").all_inner_texts()

    page.reload()
    expect(page.get_by_role("log")).to_be_visible()  # it was open, so it opens again
    expect(widget.log.locator(".heard-msg")).to_have_count(len(before))
    assert widget.log.locator(".heard-msg").all_inner_texts() == before
    assert page.evaluate("localStorage.getItem('heard.session_id')") == session

    second = open_page(context=page.context).page  # another tab, same browser profile
    second.goto(f"{site.url}/shop/")
    other = Widget(second)
    expect(other.log.locator(".heard-msg")).to_have_count(len(before))
    answered = widget.heard_count()
    other.say("how long does delivery take?")
    # The first tab sees the question (from the other tab) and Heard's answer (same room).
    expect(
        widget.log.locator(".heard-from-customer", has_text="how long does delivery take")
    ).to_have_count(1)
    widget.wait_for_more_heard(answered)
    assert watched.errors == []


def test_keyboard_only_use(site, open_page):
    page = open_page().page
    page.goto(f"{site.url}/shop/")
    launcher = page.get_by_role("button", name="Chat with Heard")
    launcher.focus()
    page.keyboard.press("Enter")
    box = page.get_by_role("textbox", name="Type your message")
    expect(box).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    page.keyboard.type("what is your refund policy?")
    page.keyboard.press("Enter")
    Widget(page).wait_for_heard("30 days")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")


def test_phone_layout_fills_the_screen(site, open_page):
    watched = open_page(viewport=PHONE)
    page = watched.page
    page.goto(f"{site.url}/shop/")
    widget = Widget(page).open()
    box = page.get_by_role("dialog").bounding_box()
    assert box["width"] == PHONE["width"] and box["height"] == PHONE["height"]
    widget.say("what is your refund policy?")
    widget.wait_for_heard("30 days")
    screenshot(page, "widget-phone")
    # The panel covers the page, so Tab cycles inside it, both ways.
    for key in ["Tab"] * 12 + ["Shift+Tab"] * 12:
        page.keyboard.press(key)
        assert page.evaluate(
            "document.getElementById('heard-panel').contains(document.activeElement)"
        ), key
    assert watched.errors == []


def test_call_button_explains_when_calls_are_unavailable(site, open_page):
    page = open_page().page
    status = page.request.get(f"{site.url}/webhooks/browser_voice/status")
    if status.ok and status.json().get("available") is True:
        pytest.skip("the browser voice channel is available here: nothing to explain")
    page.goto(f"{site.url}/shop/")
    widget = Widget(page).open()
    call = page.get_by_role("button", name="Call Heard")
    expect(call).to_have_attribute("aria-disabled", "true")
    expect(call).to_have_accessible_description(re.compile("Calls aren't available"))
    call.focus()  # still focusable, so its explanation is one key away
    page.keyboard.press("Enter")
    expect(widget.log.locator(".heard-notice").last).to_have_text(
        re.compile("Calls aren't available")
    )


def test_one_script_tag_embeds_it_in_another_site(site, open_page):
    watched = open_page()
    page = watched.page
    # Another origin (127.0.0.1 is not localhost), with a page the test serves.
    other = site.url.replace("localhost", "127.0.0.1") + "/another-shop/"
    page.route(
        other,
        lambda route: route.fulfill(
            content_type="text/html",
            body=(
                "<!doctype html><html lang='en'><head><title>Another shop</title></head><body>"
                "<main><h1>Another shop</h1></main>"
                f"<script src='{site.url}/widget/heard-widget.js' defer></script></body></html>"
            ),
        ),
    )
    page.goto(other)
    widget = Widget(page).open()
    widget.say("what is your refund policy?")
    widget.wait_for_heard("30 days")
    page.reload()  # the history comes across origins too
    expect(widget.log.locator(".heard-from-customer .heard-text")).to_have_text(
        ["what is your refund policy?"]
    )
    assert watched.errors == []


def test_the_widget_says_when_it_cannot_reach_the_server(site, open_page):
    page = open_page().page
    page.route("**/vendor/socket.io.min.js", lambda route: route.abort())
    page.goto(f"{site.url}/shop/")
    widget = Widget(page).open()
    expect(widget.log.locator(".heard-notice")).to_have_text(
        re.compile("can't reach customer service")
    )
    page.unroute("**/vendor/socket.io.min.js")
    widget.say("what is your refund policy?")  # the next message connects again
    widget.wait_for_heard("30 days")


def test_shop_and_widget_pass_axe_without_console_errors(site, open_page):
    for viewport in (DESKTOP, PHONE):
        watched = open_page(viewport=viewport)
        page = watched.page
        page.goto(f"{site.url}/shop/")
        assert serious_accessibility_violations(page) == []  # closed widget on the shop
        widget = Widget(page).open()
        widget.say("where is my order 2345678?")
        widget.wait_for_heard("e-mail")
        assert serious_accessibility_violations(page) == []
        assert watched.errors == []


def test_front_end_code_never_builds_html_from_strings():
    """What the browser tests show for some inputs holds for all: no HTML parsing of
    strings in our scripts, and no inline scripts, handlers or styles in our pages (the
    console's Content-Security-Policy would refuse them)."""
    static = ROOT / "web" / "static"
    scripts = [p for p in static.rglob("*.js") if "vendor" not in p.parts]
    pages = list(static.rglob("*.html"))
    assert scripts and pages
    html_apis = re.compile(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|"
        r"\beval\(|new Function|setAttribute\(\"style\""
    )
    assert [p.name for p in scripts if html_apis.search(p.read_text())] == []
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+=|\sstyle=|<style", re.I)
    assert [p.name for p in pages if inline.search(p.read_text())] == []
