"""The protection programme in a real browser (Chromium), as an election authority lives it: enrol, see a
threat notification arrive from another member's upload, open its plan in one click and work through a
step, track the security checklist. Screenshots at desktop and phone width go to ``out/ui-screenshots``."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from civicshield.demo import synth
from civicshield.service.domain import enrolment, protection, store
from civicshield.service.submission import submit_bytes

from .conftest import PASSWORD, Site, principal
from .test_browser import check, login, wait_for, words

pytestmark = pytest.mark.browser


def _phishing_poster() -> bytes:
    poster = synth.poster("REGISTER ONLINE", size=(640, 480), seed=21).convert("RGB")
    code = zxingcpp.create_barcode("https://kiesraad-stemmen.com/login", zxingcpp.BarcodeFormat.QRCode)
    poster.paste(Image.fromarray(np.asarray(code.to_image(scale=5))).convert("RGB"), (420, 250))
    out = io.BytesIO()
    poster.save(out, format="PNG")
    return out.getvalue()


def _operator(site: Site) -> Any:
    with site.rt.db.session() as s:
        ops = store.create_org(s, "coalition-operators", "operator")
        user = store.create_user(s, ops.id, "ops@coalition.test", "Olga Operator", "platform_admin", PASSWORD)
        return store.principal_for(user)


def test_an_authority_enrols_is_warned_opens_the_plan_and_tracks_its_checklist(
    site: Site, browser: Any, shots: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    login(page, site, "org_admin@factcheck.test")
    page.get_by_role("link", name="Protection").click()
    page.get_by_label("Kind of organization").select_option("election_authority")
    page.get_by_label("Security contact", exact=True).fill("Sam Secure")
    page.get_by_label("Security contact's e-mail").fill("security@factcheck.test")
    page.get_by_label("We accept these terms").check()
    page.get_by_role("button", name="Enrol").click()
    page.wait_for_selector(".flash.success:has-text('Enrolment sent')")
    assert "waiting for the coalition's operators" in words(page.locator("main"))

    operator = _operator(site)
    admin = principal(site.app, site.ids["factcheck:org_admin"])
    with site.rt.db.session() as s:
        mine = enrolment.enrolment_of(s, site.ids["factcheck"])
        assert mine is not None and mine.contact_email == "security@factcheck.test"
        enrolment.decide(s, operator, mine.id, approve=True)
        protection.add_entry(s, admin, "domain", "kiesraad.nl")
    other = principal(site.app, site.ids["other:analyst"])
    submit_bytes(site.rt, site.app.state.celery, other, _phishing_poster(), "register.png")

    def warned() -> bool:
        page.goto(f"{site.url}/ui/protection")
        return "kiesraad-stemmen.com" in words(page.locator("main"))

    wait_for(warned, page)
    inbox = words(page.locator("#inbox"))
    assert "A member organization found an item that impersonates you" in inbox
    assert "A phishing wave or lookalike domain" in inbox  # the playbook the notification names
    check(page, shots, "40-protection")

    page.locator("#inbox").get_by_role("button", name="Open the plan").first.click()
    page.wait_for_url("**/ui/protection/plans/*")
    assert words(page.locator("h1")) == "A phishing wave or lookalike domain"
    first = page.locator("#steps > li").first
    assert "IT administrator" in words(first) and "due" in words(first)
    first.get_by_role("button", name="Mark done").click()
    page.wait_for_selector(".flash.success:has-text('Step marked done.')")
    assert "done" in words(page.locator("#steps > li").first)
    check(page, shots, "41-protection-plan")

    page.get_by_role("link", name="Protection").first.click()
    item = page.locator("#item-mfa-passkeys")
    item.locator("summary").click()
    item.get_by_label("Done").check()
    item.get_by_label("Evidence").fill("Passkeys for the board and spokespeople since November")
    item.get_by_label("Due").fill("2026-12-20")
    item.get_by_role("button", name="Save").click()
    page.wait_for_selector(".flash.success:has-text('Checklist saved.')")
    assert int(page.locator("#score-value").inner_text()) > 0
    assert "Passkeys for the board" in words(page.locator("#item-mfa-passkeys"))

    phone = browser.new_context(viewport={"width": 390, "height": 844})
    small = phone.new_page()
    login(small, site, "org_admin@factcheck.test")
    small.goto(f"{site.url}/ui/protection")
    wide = small.evaluate(
        "() => [...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > "
        "window.innerWidth + 1).map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 8)"
    )
    assert small.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), wide
    small.screenshot(path=str(shots / "42-protection-phone.png"), full_page=True)
    phone.close()
    context.close()


def test_a_workshop_is_organized_attended_and_rated_in_the_browser(
    site: Site, browser: Any, shots: Path
) -> None:
    organizer = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    login(organizer, site, "org_admin@factcheck.test")
    organizer.get_by_role("link", name="Workshops").click()
    organizer.locator("summary", has_text="Organize an event").click()
    organizer.get_by_label("Title").fill("Spotting voice clones before election day")
    organizer.get_by_label("Starts (UTC)").fill("2026-12-10T14:00")
    organizer.get_by_label("Place or meeting link").fill("Den Haag, room 3")
    organizer.get_by_label("Places").fill("12")
    organizer.get_by_role("button", name="Create").click()
    organizer.wait_for_selector(".flash.success:has-text('Event created.')")
    event_url = organizer.url

    member = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    login(member, site, "analyst@other.test")
    member.get_by_role("link", name="Workshops").click()
    member.get_by_role("link", name="Spotting voice clones before election day").click()
    member.get_by_role("button", name="Register").click()
    member.wait_for_selector(".flash.success:has-text('You are registered.')")

    organizer.goto(event_url)
    organizer.get_by_label("Attended: Anna Analyst").check()
    organizer.get_by_role("button", name="Save").click()
    organizer.wait_for_selector(".flash.success:has-text('Attendance saved.')")

    member.reload()
    member.get_by_label("Your rating (1-5)").select_option("4")
    member.get_by_label("What should we improve?").fill("More real examples from our region")
    member.get_by_role("button", name="Send feedback").click()
    member.wait_for_selector(".flash.success:has-text('Thank you for your feedback.')")
    assert member.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    check(member, shots, "43-event-member-phone")

    organizer.reload()
    summary = words(organizer.locator("#summary"))
    assert "1 registered, 1 attended" in summary and "average rating 4.0 of 5" in summary
    assert "More real examples from our region" in words(organizer.locator("main"))
    check(organizer, shots, "44-event-organizer")
    organizer.context.close()
    member.context.close()


def test_the_awareness_quiz_from_public_fact_checks(site: Site, browser: Any, shots: Path) -> None:
    from .conftest import poster_bytes, publish_fake

    for n in range(3):
        publish_fake(site.app, site.ids, poster_bytes(f"QUIZ {n}", 300 + n), f"Fake poster {n}")
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    login(page, site, "org_admin@other.test")
    page.get_by_role("link", name="Awareness").click()
    page.get_by_role("link", name="Deutsch").click()
    assert words(page.locator("h1")).startswith("Sensibilisierung")
    assert len(page.locator("#briefing > li").all()) >= 3
    for fieldset in page.locator("#quiz fieldset").all():
        fieldset.locator("input[type=radio][value=false]").check()  # the published rating of each fake
    page.get_by_role("button", name="Check my answers").click()
    assert words(page.locator(".flash.success")).endswith("You answered 3 of 3 questions right.")
    assert "other-org" in words(page.locator("#results"))
    check(page, shots, "45-awareness")
    page.context.close()
