"""Stored XSS: hostile text in every field people can fill never runs as script, on any page.

The red-team run (issue 16, item 1) put ``</script><script>…</script><img src=x onerror=…>`` in a TLP:CLEAR
case's title and claim; the public fact-check page rendered it unescaped and sent no content security policy,
so the script ran for anyone who opened it. Here the same kind of payload goes into every free-text field a
member or the public can set (organization and person names, file name, case title, claim, rating note,
comment, bank entry label and link, API key name), and Chromium opens every page that shows them. A
payload that ran would open a dialog or set ``window.__xss``; each page must also show the text as text.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from civicshield.banks.model import BankEntry
from civicshield.service.domain import banks, publication, store
from civicshield.service.infra.jobs import run_job
from civicshield.service.infra.runtime import Runtime
from civicshield.service.submission import submit_bytes
from civicshield.service.web.headers import CONTENT_SECURITY_POLICY

from .conftest import PASSWORD, Site, poster_bytes

pytestmark = pytest.mark.browser

SCRIPT = "window.__xss=(window.__xss||0)+1;alert(document.domain)"
PAYLOAD = (
    f'</script><script>{SCRIPT}</script><img src=x onerror="{SCRIPT}">'
    f'\'"><svg onload="{SCRIPT}"></svg>{{{{7*7}}}}'
)
VISIBLE = "</script><script>"  # what a reader must see on the page, as text


def hostile(field: str) -> str:
    return f"{field} {PAYLOAD}"


def _plant(site: Site) -> dict[str, Any]:
    """An organization whose every free-text field is hostile, with a published TLP:CLEAR fact-check."""
    rt: Runtime = site.rt
    with rt.db.session() as s:
        org = store.create_org(s, hostile("org"), "fact_checker")
        admin = store.create_user(s, org.id, "admin@hostile.test", hostile("admin"), "org_admin", PASSWORD)
        reviewer = store.create_user(
            s, org.id, "reviewer@hostile.test", hostile("reviewer"), "reviewer", PASSWORD
        )
        who = store.principal_for(reviewer)
        boss = store.principal_for(admin)
        store.create_api_key(s, boss, hostile("key")[:80], ["submit"])
    done = submit_bytes(rt, site.app.state.celery, who, poster_bytes("HOSTILE", 77), hostile("file") + ".jpg")
    assert run_job(rt, done.job_id) == "done"
    with rt.db.session() as s:
        item = store.get_item(s, who, done.item_id)
        case = store.create_case(s, who, item, hostile("title"), hostile("claim"), "CLEAR")
        store.comment(s, who, case, hostile("comment"))
        store.transition(s, who, case, "triage")
        store.transition(s, who, case, "in_review")
        store.rate(s, who, case, "false", hostile("note"))
        publication.publish(s, who, case, rt.settings.base_url)
        bank = banks.create_bank(s, who, "hostile-bank", "known_fake", "AMBER")
        entry = BankEntry.create("sha256", "ab" * 32, hostile("label"), link="javascript:alert(1)")
        banks.add_entries(s, who, bank, [entry])
        return {"slug": case.slug, "case": case.id, "item": item.id, "bank": bank.id}


@pytest.fixture(scope="module")
def planted(site: Site) -> dict[str, Any]:
    return _plant(site)


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    page.wait_for_timeout(150)  # onerror/onload handlers of broken images fire after load


def test_no_hostile_value_runs_on_any_page(site: Site, browser: Any, planted: dict[str, Any]) -> None:
    context = browser.new_context()
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    public = [f"/fact-checks/{planted['slug']}?lang={lang}" for lang in ("en", "nl", "fr", "de")]
    members = [
        "/ui/",
        "/ui/cases",
        f"/ui/cases/{planted['case']}",
        f"/ui/items/{planted['item']}",
        "/ui/banks",
        f"/ui/banks/{planted['bank']}",
        "/ui/banks?q=label",
        "/ui/admin",
    ]
    seen: dict[str, str] = {}
    for path in public:
        _open(page, site.url + path)
        seen[path] = page.inner_text("body")
        assert page.evaluate("window.__xss === undefined"), path
    page.goto(f"{site.url}/ui/login")
    page.locator("#email").fill("admin@hostile.test")
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{site.url}/ui/")
    for path in members:
        _open(page, site.url + path)
        seen[path] = page.inner_text("body")
        assert page.evaluate("window.__xss === undefined"), path
    context.close()
    assert dialogs == []
    for path in public:  # escaped, not dropped: the reader sees what was written
        assert f"title {VISIBLE}" in seen[path], path
        assert f"claim {VISIBLE}" in seen[path], path
    assert f"comment {VISIBLE}" in seen[f"/ui/cases/{planted['case']}"]
    assert f"label {VISIBLE}" in seen[f"/ui/banks/{planted['bank']}"]
    assert f"file {VISIBLE}" in seen[f"/ui/items/{planted['item']}"]


def test_public_page_escapes_and_sends_a_policy(site: Site, planted: dict[str, Any]) -> None:
    client = TestClient(site.app)
    page = client.get(f"/fact-checks/{planted['slug']}?lang=fr")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "<script>window" not in page.text and "<img src=x" not in page.text
    _, _, rest = page.text.partition('<script type="application/ld+json">')
    block, _, _ = rest.partition("</script>")
    assert "<" not in block  # nothing in the data can end the block early
    served = client.get(f"/fact-checks/{planted['slug']}.jsonld?lang=fr").json()
    assert json.loads(block) == served
    assert served["claimReviewed"] == hostile("claim")  # the stored text, unchanged


@pytest.mark.parametrize("path", ["/verify", "/ui/login", "/healthz", "/api/v1/items/1", "/no-such-page"])
def test_every_response_carries_the_policy(site: Site, path: str) -> None:
    response = TestClient(site.app).get(path)
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"


def test_every_template_environment_escapes(site: Site) -> None:
    from civicshield.report.html import _env as report_env
    from civicshield.service.api.public import _env as public_env
    from civicshield.service.pages import i18n, templating

    environments = [report_env(), public_env] + [templating.environment(lang) for lang in i18n.LANGUAGES]
    for env in environments:
        names = env.list_templates()
        assert names
        for name in names:
            rendered = env.from_string("{{ v }}").render(v=PAYLOAD)
            assert "<script>" not in rendered, name
            assert env.autoescape is True or env.autoescape(name), name


def test_user_links_keep_only_safe_schemes() -> None:
    from civicshield.report.jinja import safe_href

    assert safe_href("https://example.org/a?b=1") == "https://example.org/a?b=1"
    assert safe_href("/fact-checks/abc") == "/fact-checks/abc"
    for bad in (
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "data:text/html,x",
        "//evil.test",
        "java\nscript:x",
    ):
        assert safe_href(bad) == "#", bad
