"""A reviewer records where a file came from on its report page; an admin gives training consent on the
organization's page. Both confirmed on the page and refused to those who may not."""

from __future__ import annotations

import re
from pathlib import Path

from civicshield.service.infra.jobs import run_job
from civicshield.service.submission import submit_bytes

from .conftest import Pages, poster_bytes, principal


def _item(pages: Pages) -> int:
    rt = pages.app.state.rt
    who = principal(pages.app, pages.ids["factcheck:analyst"])
    done = submit_bytes(rt, pages.app.state.celery, who, poster_bytes("ORIGIN", 7), "origin.png")
    assert run_job(rt, done.job_id) == "done"
    return done.item_id


def test_a_reviewer_records_the_origin_and_an_analyst_cannot(pages: Pages) -> None:
    item = _item(pages)
    csrf = pages.login("factcheck:reviewer")
    page = pages.client.get(f"/ui/items/{item}")
    assert "No reviewer has recorded where this file comes from." in page.text
    assert 'name="origin"' in page.text
    r = pages.client.post(
        f"/ui/items/{item}/label", data={"csrf_token": csrf, "origin": "genuine", "note": "camera original"}
    )
    assert r.status_code == 200 and "Conclusion saved." in r.text
    assert "Genuine (a camera photo, not generated)" in r.text and "camera original" in r.text

    pages.client.post("/ui/logout", data={"csrf_token": csrf})
    csrf = pages.login("factcheck:analyst")
    page = pages.client.get(f"/ui/items/{item}")
    assert 'name="origin"' not in page.text  # no form for analysts ...
    r = pages.client.post(
        f"/ui/items/{item}/label",
        data={"csrf_token": csrf, "origin": "ai_generated"},
        headers={"referer": f"/ui/items/{item}"},
    )
    assert "reviewers and above label items" in r.text  # ... and the action is refused, said
    assert "Genuine (a camera photo, not generated)" in pages.client.get(f"/ui/items/{item}").text


def test_an_admin_gives_training_consent(pages: Pages) -> None:
    csrf = pages.login("factcheck:org_admin")
    page = pages.client.get("/ui/admin")
    assert "Learning from our reviewers" in page.text and 'id="training-consent"' in page.text
    r = pages.client.post("/ui/admin/training-consent", data={"csrf_token": csrf, "consent": "yes"})
    assert "Training consent saved." in r.text
    assert re.search(r'id="training-consent"[^>]* checked', r.text)
    r = pages.client.post("/ui/admin/training-consent", data={"csrf_token": csrf})
    assert "Training consent saved." in r.text
    assert not re.search(r'id="training-consent"[^>]* checked', r.text)  # withdrawn


def test_a_report_page_gives_the_verdict_in_the_pages_language(pages: Pages, testdata: Path) -> None:
    """Adobe Firefly's own file, whose credentials declare AI generation: in French on a French page."""
    from civicshield.report import messages

    rt = pages.app.state.rt
    who = principal(pages.app, pages.ids["factcheck:analyst"])
    data = (testdata / "c2pa-real" / "contentauth-example-assets" / "Firefly_tabby_cat.jpg").read_bytes()
    done = submit_bytes(rt, pages.app.state.celery, who, data, "cat.jpg")
    assert run_job(rt, done.job_id) == "done"
    pages.login("factcheck:analyst")
    french = pages.client.get(f"/ui/items/{done.item_id}?lang=fr").text
    assert messages.catalogue("fr")["headline"]["ai_generated_declared"] in french
    assert "Les Content Credentials déclarent une génération par IA" in french
    english = pages.client.get(f"/ui/items/{done.item_id}?lang=en").text
    assert "The file itself declares or carries a trace of AI generation." in english
