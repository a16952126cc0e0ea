"""The web interface in a real browser (Chromium): the fact-checker's journey, the public check, languages.

Each key page is checked for unlabelled inputs and missing landmarks, and saved as a screenshot in
``out/ui-screenshots`` for people to look at.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from civicshield.service.domain.tables import Item, Organization, User
from civicshield.signing import sign_media

from .conftest import PASSWORD, Site, poster_bytes, principal, publish_fake, reencoded

pytestmark = pytest.mark.browser

PAGE_CHECKS = """() => {
  const problems = [];
  const html = (el) => el.outerHTML.slice(0, 100);
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden') continue;
    const labelled = el.labels && el.labels.length;
    if (!labelled && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby')) {
      problems.push('unlabelled: ' + html(el));
    }
  }
  for (const el of document.querySelectorAll('button, a[href]')) {
    const named = (el.textContent || "").trim() || el.getAttribute("aria-label");
    if (!named) problems.push("unnamed: " + html(el));
  }
  for (const img of document.querySelectorAll('img')) if (!img.hasAttribute('alt')) problems.push('no alt');
  if (!document.documentElement.lang) problems.push('no lang attribute');
  if (document.querySelectorAll('main').length !== 1) problems.push('not exactly one main');
  if (!document.querySelector('body > header')) problems.push('no banner');
  if (!document.querySelector('body > footer')) problems.push('no contentinfo');
  if (document.querySelectorAll('h1').length !== 1) problems.push('not exactly one h1');
  return problems;
}"""


def check(page: Any, shots: Path, name: str) -> None:
    """Accessibility basics of the page as rendered, then a full-page screenshot."""
    page.wait_for_load_state("load")  # images too
    assert page.evaluate(PAGE_CHECKS) == [], name
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def words(locator: Any) -> str:
    """Rendered text with whitespace folded (flex items come back on separate lines)."""
    return " ".join(locator.inner_text().split())


def login(page: Any, site: Site, email: str) -> None:
    """Sign in through the form, whatever the page's language."""
    page.goto(f"{site.url}/ui/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{site.url}/ui/")


def items_count(site: Site) -> int:
    with site.rt.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Item)) or 0)


def register_webhook(site: Site) -> str | None:
    """A webhook of the fact-checkers for published cases, when the webhooks work is there; its secret."""
    try:
        from civicshield.service.domain import subscriptions
    except ImportError:
        return None
    with site.rt.db.session() as s:
        hook = subscriptions.create_webhook(
            s,
            principal(site.app, site.ids["factcheck:org_admin"]),
            url=site.receiver_url,
            events=["case.published"],
            max_tlp="GREEN",
            egress=site.rt.settings.webhook_egress,
        )
        return hook.secret


def wait_for(predicate: Any, page: Any, timeout_ms: int = 15_000) -> None:
    waited = 0
    while not predicate():
        assert waited < timeout_ms, "timed out"
        page.wait_for_timeout(100)
        waited += 100


def test_fact_checker_journey(site: Site, browser: Any, shots: Path, tmp_path: Path) -> None:
    secret = register_webhook(site)
    fake = tmp_path / "ballots-burned.jpg"
    fake.write_bytes(poster_bytes("BALLOTS BURNED", 3))
    other = tmp_path / "rally.jpg"
    other.write_bytes(poster_bytes("RALLY TONIGHT", 8, size=(640, 640)))
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()

    page.goto(f"{site.url}/ui/")
    assert page.url.startswith(f"{site.url}/ui/login")
    check(page, shots, "01-login")
    login(page, site, "reviewer@factcheck.test")
    check(page, shots, "02-dashboard-empty")

    page.get_by_role("link", name="Upload", exact=True).click()
    page.get_by_label("Choose files").set_input_files([str(fake), str(other)])
    page.get_by_role("button", name="Upload and analyze").click()
    page.wait_for_selector("[data-job-state=done] >> nth=1", timeout=20_000)
    assert page.locator(".upload-row").count() == 2
    assert page.locator("[data-job-state=done]").first.inner_text().count("Inconclusive") == 1
    check(page, shots, "03-upload-done")

    page.locator(".upload-row", has_text="ballots-burned.jpg").get_by_role(
        "link", name="Open the report"
    ).click()
    page.wait_for_selector("h1:has-text('ballots-burned.jpg')")
    assert words(page.locator(".verdict.big")) == "? Inconclusive"  # symbol and words
    assert page.get_by_role("img", name="Preview of ballots-burned.jpg").is_visible()
    check(page, shots, "04-report")

    page.get_by_label("Title").fill("Photo of burned ballots is fabricated")
    page.get_by_label("Claim being checked").fill("Ballots were burned in Ghent on election night")
    page.get_by_label("Sharing label (TLP)").select_option("CLEAR")
    page.get_by_role("button", name="Open case").click()
    page.wait_for_selector("h1:has-text('Photo of burned ballots is fabricated')")
    page.get_by_role("button", name="Move to triage").click()
    page.get_by_role("button", name="Start review").click()
    page.wait_for_selector(".badges:has-text('In review')")
    page.get_by_label("Assigned to").select_option(str(site.ids["factcheck:reviewer"]))
    page.get_by_role("button", name="Assign").click()
    page.get_by_label("Add a comment").fill("No such event in police reports; the poster font is generated.")
    page.get_by_role("button", name="Comment", exact=True).click()
    page.get_by_label("Rating", exact=True).select_option("false")
    page.get_by_label("Explanation for readers").fill("The image was generated; no ballots were burned.")
    page.get_by_role("button", name="Save rating").click()
    page.wait_for_selector("text=Preview of the ClaimReview")
    assert page.locator("dl.preview").inner_text().count("Ballots were burned in Ghent") == 1
    check(page, shots, "05-case-in-review")

    page.get_by_label("publish now").check()  # publishing is final: the form asks first
    page.get_by_role("button", name="Publish fact-check").click()
    page.wait_for_selector(".flash.success:has-text('Published.')")
    check(page, shots, "06-case-published")
    public_url = page.get_by_role("link", name="Public fact-check page").get_attribute("href")
    assert public_url and public_url.startswith(f"{site.url}/fact-checks/")

    page.goto(public_url)
    assert "Photo of burned ballots is fabricated" in page.locator("h1").inner_text()
    page.screenshot(path=str(shots / "07-public-fact-check.png"), full_page=True)
    page.goto(f"{site.url}/verify")
    assert page.get_by_role("link", name="Photo of burned ballots is fabricated").is_visible()

    copy = tmp_path / "forwarded-copy.jpg"  # the fake comes back, re-encoded by a platform
    copy.write_bytes(reencoded(fake.read_bytes()))
    page.goto(f"{site.url}/ui/upload")
    page.get_by_label("Choose files").set_input_files(str(copy))
    page.get_by_role("button", name="Upload and analyze").click()
    page.wait_for_selector(".upload-row:has-text('forwarded-copy.jpg') [data-job-state=done]", timeout=20_000)
    page.get_by_role("link", name="Dashboard").click()
    hits = words(page.locator("#hits-h + ul"))
    assert "forwarded-copy.jpg: ✖ Known fake fact-checks — Photo of burned ballots is fabricated" in hits
    assert "ballots-burned.jpg" not in hits  # an item's own publication is not a hit
    check(page, shots, "08-dashboard")
    page.get_by_role("link", name="forwarded-copy.jpg").first.click()
    assert words(page.locator(".verdict.big")) == "✖ Known fake"  # the banks speak first
    match_row = page.locator("#banks-h + .table-scroll table tbody tr").first
    assert match_row.get_by_role("link", name="Read").get_attribute("href") == public_url
    assert "ballots-burned.jpg" in words(page.locator("#similar-h + ul"))  # similar earlier item (PDQ)
    check(page, shots, "08b-report-of-copy")
    page.get_by_role("link", name="Banks").click()
    page.get_by_role("link", name="fact-checks").click()
    assert page.locator("tbody tr").count() >= 2  # sha256 + PDQ of the published item
    check(page, shots, "09-bank")

    if secret is not None:
        from civicshield.sharing import verify_delivery

        wait_for(lambda: any(b"Photo of burned ballots" in r["body"] for r in site.received), page)
        got = next(r for r in site.received if b"Photo of burned ballots" in r["body"])
        verify_delivery(got["body"], got["headers"], secrets=[secret])
        assert json.loads(got["body"])["event"] == "case.published"
    context.close()


def test_org_admin_pages(site: Site, browser: Any, shots: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    login(page, site, "org_admin@factcheck.test")
    page.get_by_role("link", name="Organization").click()
    page.get_by_label("Name of the new key").fill("newsroom plugin")
    page.get_by_role("button", name="Create key").click()
    token = page.get_by_label("API key", exact=True).input_value()
    assert token.startswith("cs_")
    page.get_by_label("Role of Vera Viewer").select_option("analyst")
    page.get_by_label("Role of Vera Viewer").locator("xpath=..").get_by_role("button", name="Change").click()
    page.wait_for_selector(".flash.success:has-text('Role changed.')")
    check(page, shots, "10-organization")
    with site.rt.db.session() as s:
        assert s.get(User, site.ids["factcheck:viewer"]).role == "analyst"  # type: ignore[union-attr]
    context.close()


def test_public_verification(site: Site, browser: Any, shots: Path, tmp_path: Path) -> None:
    original = poster_bytes("POLLING STATION CLOSED", 11)
    slug = publish_fake(site.app, site.ids, original, "Polling station was not closed")
    copy = tmp_path / "forwarded.jpg"
    copy.write_bytes(reencoded(original))
    plain = tmp_path / "official.jpg"
    plain.write_bytes(poster_bytes("OFFICIAL RESULTS", 5, size=(640, 480)))
    signed = tmp_path / "official-signed.jpg"
    chain, key = site.signer
    sign_media(
        plain,
        signed,
        cert_chain_pem=chain.read_bytes(),
        private_key_pem=key.read_bytes(),
        organization="Kiesraad",
    )

    context = browser.new_context(viewport={"width": 1100, "height": 900})  # no account
    page = context.new_page()
    page.goto(f"{site.url}/verify")
    check(page, shots, "11-verify")

    before = items_count(site)
    page.get_by_label("File to check").set_input_files(str(copy))
    page.get_by_role("button", name="Check", exact=True).click()
    result = page.locator("#verify-result .result")
    result.wait_for()
    assert words(result.locator(".verdict.big")) == "✖ Known fake"
    link = result.get_by_role("link", name="Read the fact-check")
    assert slug in (link.first.get_attribute("href") or "")
    assert "Polling station was not closed" in result.inner_text()
    check(page, shots, "12-verify-known-fake")
    assert items_count(site) == before  # checked, not stored

    page.get_by_label("File to check").set_input_files(str(signed))
    page.get_by_role("button", name="Check", exact=True).click()
    page.wait_for_selector("#verify-result h2:has-text('official-signed.jpg')")
    assert words(result.locator(".verdict.big")) == "✔ Authentic provenance"
    assert "Valid, from a trusted signer" in result.inner_text()
    assert "Kiesraad" in result.locator(".manifest").inner_text()
    check(page, shots, "13-verify-authentic")
    assert items_count(site) == before

    page.get_by_label("File to check").set_input_files(str(copy))
    page.get_by_label("Send this file to the fact-checkers").check()
    page.get_by_role("button", name="Check", exact=True).click()
    page.wait_for_selector("#verify-result :text('sent to the fact-checkers')")
    assert items_count(site) == before + 1
    with site.rt.db.session() as s:
        newest = s.scalars(select(Item).order_by(Item.id.desc()).limit(1)).one()
        assert s.get(Organization, newest.org_id).name == "public-submissions"  # type: ignore[union-attr]
    context.close()


def test_languages(site: Site, browser: Any, shots: Path) -> None:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.goto(f"{site.url}/verify?lang=nl")
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.locator("h1").inner_text() == "Is deze foto, video of opname echt?"
    page.get_by_role("link", name="Français").click()
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_label("Fichier à vérifier").is_visible()
    check(page, shots, "14-verify-fr")

    login(page, site, "analyst@factcheck.test")  # signed in, the account's language (English) applies
    assert page.locator("h1").inner_text() == "Dashboard"
    page.get_by_label("Language").select_option("nl")
    page.get_by_role("button", name="Change").click()
    page.wait_for_selector("h1:has-text('Overzicht')")
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.get_by_role("link", name="Bestanden uploaden").is_visible()
    check(page, shots, "15-dashboard-nl")
    with site.rt.db.session() as s:
        assert s.get(User, site.ids["factcheck:analyst"]).language == "nl"  # type: ignore[union-attr]
    page.get_by_role("button", name="Afmelden").click()
    context.close()

    fresh = browser.new_context()  # a new browser: the account's language is used again after sign-in
    page = fresh.new_page()
    login(page, site, "analyst@factcheck.test")
    assert page.locator("h1").inner_text() == "Overzicht"
    fresh.close()


def test_keyboard_only_sign_in(site: Site, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{site.url}/ui/login")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineWidth")
    assert outline == "3px"  # a visible focus ring
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "email":
            break
    page.keyboard.type("viewer@other.test")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/ui/")
    assert page.locator("h1").inner_text() == "Dashboard"
    context.close()


def test_dropping_files_fills_the_file_input(site: Site, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{site.url}/verify")
    page.wait_for_load_state("load")
    name = page.evaluate("""() => {
      const drop = new DataTransfer();
      drop.items.add(new File([new Uint8Array([255, 216, 255])], 'dropped.jpg', {type: 'image/jpeg'}));
      document.querySelector('[data-dropzone]').dispatchEvent(
        new DragEvent('drop', {dataTransfer: drop, bubbles: true, cancelable: true}));
      return document.getElementById('verify-file').files[0].name;
    }""")
    assert name == "dropped.jpg"
    context.close()


PHONE = {"width": 390, "height": 844}  # an iPhone 12-15 in portrait


def _no_sideways_scroll(page: Any, where: str) -> None:
    wide = page.evaluate("document.documentElement.scrollWidth")
    culprits = page.evaluate(
        """(limit) => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > limit + 1).slice(0, 5)
        .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""",
        PHONE["width"],
    )
    assert wide <= PHONE["width"], f"{where}: {wide} px wide on a {PHONE['width']} px screen: {culprits}"


def test_pages_fit_a_phone_screen(site: Site, browser: Any, shots: Path) -> None:
    """Issue 11: pages usable at phone width, without scrolling sideways."""
    slug = publish_fake(site.app, site.ids, poster_bytes("PHONE SCREEN", 12), "A fake for the phone test")
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    for path in ("/verify", f"/fact-checks/{slug}", "/ui/login"):
        page.goto(f"{site.url}{path}")
        _no_sideways_scroll(page, path)
    check(page, shots, "16-phone-login")
    login(page, site, "reviewer@factcheck.test")
    for path in ("/ui/", "/ui/upload", "/ui/cases", "/ui/banks", "/ui/items/1", "/ui/cases/1"):
        page.goto(f"{site.url}{path}")
        _no_sideways_scroll(page, path)
    check(page, shots, "17-phone-case")
    page.goto(f"{site.url}/verify")
    check(page, shots, "18-phone-verify")
    context.close()


def test_the_cli_html_report_fits_a_phone_screen(
    browser: Any, shots: Path, testdata: Path, tmp_path: Path
) -> None:
    """The report ``civicshield analyze --report`` writes is mailed and opened on phones too: a long file
    name and a wide photo must not make the reader scroll sideways."""
    from typer.testing import CliRunner

    from civicshield.cli import app

    photo = tmp_path / ("a-very-long-file-name-as-messaging-apps-write-them-" * 2 + "IMG_20261206.jpg")
    photo.write_bytes((testdata / "threatexchange/pdq/images/bridge-mods/aaa-orig.jpg").read_bytes())
    report = tmp_path / "report.html"
    env = {"CIVICSHIELD_DATA_DIR": str(tmp_path / "data"), "CIVICSHIELD_ANALYZERS": "c2pa,metadata,phash"}
    result = CliRunner().invoke(app, ["analyze", str(photo), "--report", str(report)], env=env)
    assert result.exit_code == 0, result.output
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    page.goto(report.as_uri())
    _no_sideways_scroll(page, "the HTML report")
    page.screenshot(path=str(shots / "19-phone-cli-report.png"), full_page=True)
    context.close()
