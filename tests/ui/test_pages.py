"""Pages without a browser: sign-in, CSRF, organization scoping, roles, the public check, languages."""

from __future__ import annotations

import io
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import func, select

from civicshield.service.domain.tables import Item, Organization, User

from .conftest import PASSWORD, Pages, csrf_of, make_app, poster_bytes, publish_fake, seed


class Structure(HTMLParser):
    """What the accessibility checks need from a page: fields and their labels, landmarks, lang."""

    def __init__(self) -> None:
        super().__init__()
        self.lang = ""
        self.label_for: set[str] = set()
        self.fields: list[tuple[str, dict[str, str | None], bool]] = []
        self.tags: list[str] = []
        self._in_label = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "html":
            self.lang = a.get("lang") or ""
        elif tag == "label":
            self._in_label += 1
            if a.get("for"):
                self.label_for.add(str(a["for"]))
        elif tag in {"input", "select", "textarea"} and a.get("type") != "hidden":
            self.fields.append((tag, a, self._in_label > 0))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._in_label -= 1

    def unlabelled(self) -> list[str]:
        return [
            f"{tag} {a}"
            for tag, a, wrapped in self.fields
            if not wrapped and a.get("id") not in self.label_for and not a.get("aria-label")
        ]


def structure(html: str) -> Structure:
    parsed = Structure()
    parsed.feed(html)
    return parsed


def items(pages: Pages) -> int:
    with pages.app.state.rt.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Item)) or 0)


def upload(pages: Pages, csrf: str, data: bytes, name: str = "fake.jpg") -> None:
    r = pages.client.post(
        "/ui/upload", data={"csrf_token": csrf}, files=[("files", (name, data, "image/jpeg"))]
    )
    assert r.status_code == 200 and "Not accepted" not in r.text


def test_pages_need_a_session(pages: Pages) -> None:
    r = pages.client.get("/ui/cases", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/login?next=/ui/cases"
    r = pages.client.get("/ui/jobs/1/status", headers={"HX-Request": "true"}, follow_redirects=False)
    assert r.headers["HX-Redirect"].startswith("/ui/login")


def test_sign_in_checks_password_csrf_and_next(pages: Pages) -> None:
    page = pages.client.get("/ui/login")
    token = csrf_of(page.text)
    wrong = pages.client.post(
        "/ui/login",
        data={"email": "viewer@factcheck.test", "password": "nope nope nope", "csrf_token": token},
    )
    assert wrong.status_code == 401 and "Wrong email, password or code." in wrong.text
    forged = pages.client.post("/ui/login", data={"email": "viewer@factcheck.test", "password": PASSWORD})
    assert forged.status_code == 403 and "text/html" in forged.headers["content-type"]
    evil = pages.client.post(
        "/ui/login",
        data={
            "email": "viewer@factcheck.test",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "https://evil.example/",
        },
        follow_redirects=False,
    )
    assert evil.headers["location"] == "/ui/"  # no open redirect


def test_every_page_is_labelled_and_has_landmarks(pages: Pages) -> None:
    csrf = pages.login("factcheck:org_admin")
    upload(pages, csrf, poster_bytes("BALLOTS BURNED", 3))
    from civicshield.service.infra.jobs import run_job

    assert run_job(pages.app.state.rt, 1) == "done"
    pages.client.post(
        "/ui/items/1/cases", data={"csrf_token": csrf, "title": "Burned ballots", "tlp": "GREEN"}
    )
    for path in (
        "/ui/",
        "/ui/upload",
        "/ui/items/1",
        "/ui/cases",
        "/ui/cases/1",
        "/ui/banks",
        "/ui/admin",
        "/ui/protection",
        "/ui/events",
        "/ui/awareness",
        "/transparency",
        "/verify",
        "/ui/login?lang=fr",
        "/ui/does-not-exist",
    ):
        r = pages.client.get(path)
        assert r.status_code in (200, 404), path
        page = structure(r.text)
        assert page.unlabelled() == [], path
        assert page.lang in {"en", "fr"}, path
        for landmark in ("header", "main", "footer", "h1"):
            assert page.tags.count(landmark) == 1, (path, landmark)
        assert "default-src 'self'" in r.headers["content-security-policy"], path


def test_another_organizations_rows_are_not_found(pages: Pages) -> None:
    csrf = pages.login("factcheck:reviewer")
    upload(pages, csrf, poster_bytes("SECRET", 4))
    pages.client.post("/ui/items/1/cases", data={"csrf_token": csrf, "title": "Internal", "tlp": "AMBER"})
    pages.client.post("/ui/logout", data={"csrf_token": csrf})
    csrf = pages.login("other:org_admin")
    for path in ("/ui/items/1", "/ui/items/1/preview.png", "/ui/cases/1", "/ui/jobs/1/status"):
        r = pages.client.get(path)
        assert r.status_code == 404, path
    r = pages.client.post("/ui/cases/1/transition", data={"csrf_token": csrf, "to": "triage"})
    assert r.status_code == 404 and "Not found" in r.text
    assert "Internal" not in pages.client.get("/ui/cases").text


def test_roles_limit_what_pages_do(pages: Pages) -> None:
    csrf = pages.login("factcheck:viewer")
    assert pages.client.get("/ui/admin").status_code == 403
    r = pages.client.post(
        "/ui/upload",
        data={"csrf_token": csrf},
        files=[("files", ("a.jpg", poster_bytes("X", 1), "image/jpeg"))],
        headers={"referer": "http://testserver/ui/upload"},
    )
    assert (
        r.url.path == "/ui/upload" and "analysts and above submit files" in r.text
    )  # shown where it came from
    assert items(pages) == 0


def test_refused_actions_come_back_as_messages(pages: Pages) -> None:
    csrf = pages.login("factcheck:analyst")
    upload(pages, csrf, poster_bytes("X", 2))
    pages.client.post("/ui/items/1/cases", data={"csrf_token": csrf, "title": "t"})
    r = pages.client.post(
        "/ui/cases/1/rating",
        data={"csrf_token": csrf, "rating": "false"},
        headers={"referer": "http://testserver/ui/cases/1"},
    )
    assert r.url.path == "/ui/cases/1" and "only reviewers rate cases" in r.text
    bad = pages.client.post("/ui/cases/1/transition", data={"csrf_token": "forged", "to": "triage"})
    assert bad.status_code == 403


def test_upload_fragment_polls_until_done(pages: Pages) -> None:
    csrf = pages.login("factcheck:analyst")
    r = pages.client.post(
        "/ui/upload",
        headers={"HX-Request": "true", "X-CSRF-Token": csrf},
        files=[
            ("files", ("f.jpg", poster_bytes("F", 5), "image/jpeg")),
            ("files", ("junk.jpg", b"not media", "image/jpeg")),
        ],
    )
    assert "<html" not in r.text and r.text.count('class="upload-row"') == 2
    assert 'hx-get="/ui/jobs/1/status"' in r.text and "Not accepted" in r.text
    from civicshield.service.infra.jobs import run_job

    run_job(pages.app.state.rt, 1)
    done = pages.client.get("/ui/jobs/1/status")
    assert 'data-job-state="done"' in done.text and "hx-get" not in done.text  # polling stops


def test_case_review_publishes_with_claimreview_preview(pages: Pages) -> None:
    csrf = pages.login("factcheck:reviewer")
    upload(pages, csrf, poster_bytes("BALLOTS BURNED", 3))
    from civicshield.service.infra.jobs import run_job

    run_job(pages.app.state.rt, 1)
    pages.client.post(
        "/ui/items/1/cases",
        data={"csrf_token": csrf, "title": "Fabricated", "claim": "Burned", "tlp": "CLEAR"},
    )
    for to in ("triage", "in_review"):
        pages.client.post("/ui/cases/1/transition", data={"csrf_token": csrf, "to": to})
    pages.client.post("/ui/cases/1/rating", data={"csrf_token": csrf, "rating": "false", "note": "Generated"})
    page = pages.client.get("/ui/cases/1").text
    assert "Preview of the ClaimReview" in page and "given when the case is published" in page
    unconfirmed = pages.client.post("/ui/cases/1/publish", data={"csrf_token": csrf}).text
    assert "publishing is final" in unconfirmed, unconfirmed[:2000]
    r = pages.client.post("/ui/cases/1/publish", data={"csrf_token": csrf, "confirm": "yes"})
    assert "Published. Copies of this item now match the fact-check." in r.text
    slug = r.text.split("/fact-checks/", 1)[1].split('"', 1)[0]
    assert pages.client.get(f"/fact-checks/{slug}").status_code == 200
    report = pages.client.get("/ui/items/1").text
    assert "case was published" in report  # its own entries are marked, not taken for a hit


def test_public_check_stores_nothing_without_consent(pages: Pages) -> None:
    original = poster_bytes("POLLING STATION CLOSED", 11)
    slug = publish_fake(pages.app, pages.ids, original, "Polling station was not closed")
    before = items(pages)
    blobs = sorted(p.name for p in pages.app.state.rt.blobs.root.rglob("*") if p.is_file())
    token = csrf_of(pages.client.get("/verify").text)
    r = pages.client.post(
        "/verify",
        data={"csrf_token": token},
        files={"file": ("copy.jpg", original, "image/jpeg")},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200 and "<html" not in r.text
    assert "Known fake" in r.text and f"/fact-checks/{slug}" in r.text and "identical file" in r.text
    assert items(pages) == before
    assert sorted(p.name for p in pages.app.state.rt.blobs.root.rglob("*") if p.is_file()) == blobs

    other = poster_bytes("SOMETHING ELSE", 12)
    r = pages.client.post(
        "/verify",
        data={"csrf_token": token, "share": "yes"},
        files={"file": ("tip.jpg", other, "image/jpeg")},
    )
    assert "sent to the fact-checkers" in r.text and "No known match" not in r.text
    with pages.app.state.rt.db.session() as s:
        newest = s.scalars(select(Item).order_by(Item.id.desc()).limit(1)).one()
        assert s.get(Organization, newest.org_id).name == "public-submissions"  # type: ignore[union-attr]
        intake = s.scalar(select(User).where(User.org_id == newest.org_id))
        assert intake is not None and intake.role == "analyst"
    bad = pages.client.post(
        "/verify", data={"csrf_token": token}, files={"file": ("x.jpg", b"junk", "image/jpeg")}
    )
    assert bad.status_code == 415 and "This file could not be checked." in bad.text


def test_public_check_is_rate_limited(tmp_path: pytest.TempPathFactory) -> None:
    from fastapi.testclient import TestClient

    app = make_app(tmp_path / "data", rate=2)  # type: ignore[operator]
    seed(app)
    client = TestClient(app)
    token = csrf_of(client.get("/verify").text)
    codes = [
        client.post(
            "/verify",
            data={"csrf_token": token},
            files={"file": ("x.jpg", poster_bytes("X", 1), "image/jpeg")},
        ).status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]
    app.state.rt.db.dispose()


def test_language_from_query_session_header_and_account(pages: Pages) -> None:
    assert 'lang="nl"' in pages.client.get("/verify", headers={"accept-language": "nl-BE,nl;q=0.9"}).text
    fr = pages.client.get("/verify?lang=fr").text
    assert 'lang="fr"' in fr and "Vérifier un fichier" in fr
    assert 'lang="fr"' in pages.client.get("/verify").text  # remembered for the session
    csrf = pages.login("factcheck:viewer")  # the account's language (English) once signed in
    assert "<h1>Dashboard</h1>" in pages.client.get("/ui/").text
    pages.client.post("/ui/language", data={"csrf_token": csrf, "lang": "fr"})
    assert "<h1>Tableau de bord</h1>" in pages.client.get("/ui/").text
    with pages.app.state.rt.db.session() as s:
        assert s.get(User, pages.ids["factcheck:viewer"]).language == "fr"  # type: ignore[union-attr]


def test_banks_import_search_export(pages: Pages) -> None:
    csrf = pages.login("factcheck:reviewer")
    r = pages.client.post(
        "/ui/banks", data={"csrf_token": csrf, "name": "debunked", "kind": "known_fake", "tlp": "GREEN"}
    )
    assert r.url.path == "/ui/banks/1"
    sha = "ab" * 32
    csv = f"signal_type,hash,label\nsha256,{sha},Fake ballot photo\n"
    r = pages.client.post(
        "/ui/banks/1/import",
        data={"csrf_token": csrf},
        files={"file": ("entries.csv", csv.encode(), "text/csv")},
    )
    assert "Imported entries: 1 new of 1." in r.text
    found = pages.client.get(f"/ui/banks?value={sha}").text
    assert "Fake ballot photo" in found and "debunked" in found
    exported = pages.client.get("/ui/banks/1/export.json")
    assert exported.headers["content-disposition"] == 'attachment; filename="debunked.json"'
    assert json.loads(exported.text)[0]["hash"] == sha
    again = pages.client.post(
        "/ui/banks/1/import",
        data={"csrf_token": csrf},
        files={"file": ("entries.json", exported.content, "application/json")},
    )
    assert "Imported entries: 0 new of 1." in again.text
    broken = pages.client.post(
        "/ui/banks/1/import",
        data={"csrf_token": csrf},
        files={"file": ("bad.csv", b"nope\n1\n", "text/csv")},
        headers={"referer": "http://testserver/ui/banks/1"},
    )
    assert broken.url.path == "/ui/banks/1" and "unknown column" in broken.text


def test_organization_admin(pages: Pages) -> None:
    csrf = pages.login("factcheck:org_admin")
    r = pages.client.post(
        "/ui/admin/keys", data={"csrf_token": csrf, "name": "plugin", "scopes": ["read", "match"]}
    )
    token = r.text.split('id="new-key" class="mono" value="', 1)[1].split('"', 1)[0]
    assert pages.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert token not in pages.client.get("/ui/admin").text  # shown once
    prefix = token.split("_")[1]
    pages.client.post(f"/ui/admin/keys/{prefix}/revoke", data={"csrf_token": csrf})
    assert pages.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    pages.client.post("/ui/admin/default-tlp", data={"csrf_token": csrf, "tlp": "GREEN"})
    no_mail = pages.client.post(
        "/ui/admin/members", data={"csrf_token": csrf, "email": "new@factcheck.test", "role": "viewer"}
    )
    assert "CIVICSHIELD_SMTP_HOST" in no_mail.text  # invitations go by mail: test_onboarding.py
    me = pages.ids["factcheck:org_admin"]
    own = pages.client.post(
        f"/ui/admin/members/{me}/role",
        data={"csrf_token": csrf, "role": "viewer"},
        headers={"referer": "http://testserver/ui/admin"},
    )
    assert "ask another admin" in own.text
    with pages.app.state.rt.db.session() as s:
        assert s.get(Organization, pages.ids["factcheck"]).default_tlp == "GREEN"  # type: ignore[union-attr]
        assert s.scalar(select(User.role).where(User.email == "new@factcheck.test")) is None
        assert s.get(User, me).role == "org_admin"  # type: ignore[union-attr]


def test_static_files_and_vendored_htmx(pages: Pages) -> None:
    js = pages.client.get("/ui/static/vendor/htmx.min.js")
    assert js.status_code == 200 and "htmx" in js.text[:2000]
    assert "Zero-Clause BSD" in pages.client.get("/ui/static/vendor/htmx.LICENSE").text
    assert pages.client.get("/ui/static/ui.css").status_code == 200
    assert pages.client.get("/ui/static/../app.py").status_code == 404


def test_preview_image(pages: Pages) -> None:
    csrf = pages.login("factcheck:analyst")
    upload(pages, csrf, poster_bytes("PREVIEW", 6))
    r = pages.client.get("/ui/items/1/preview.png")
    from PIL import Image

    assert r.headers["content-type"] == "image/png" and max(Image.open(io.BytesIO(r.content)).size) <= 360


def test_the_case_form_records_where_the_claim_comes_from(pages: Pages) -> None:
    csrf = pages.login("factcheck:analyst")
    upload(pages, csrf, poster_bytes("BALLOTS BURNED", 5))
    form = {
        "csrf_token": csrf,
        "title": "Burned ballots",
        "tlp": "GREEN",
        "claim_author": "Election Truth Now",
        "claim_author_kind": "Organization",
        "claim_date": "2026-11-30",
        "claim_url": "https://social.example/posts/991",
    }
    page = pages.client.get("/ui/items/1")
    assert 'name="claim_url"' in page.text and 'name="claim_date"' in page.text
    r = pages.client.post("/ui/items/1/cases", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/ui/cases/")
    from civicshield.service.domain.tables import Case

    with pages.app.state.rt.db.reading() as s:
        case = s.get(Case, int(r.headers["location"].rsplit("/", 1)[1]))
        assert case is not None
        assert (case.claim_author, case.claim_author_kind, str(case.claim_date), case.claim_url) == (
            "Election Truth Now",
            "Organization",
            "2026-11-30",
            "https://social.example/posts/991",
        )
    bad = pages.client.post("/ui/items/1/cases", data={**form, "claim_url": "javascript:alert(1)"})
    assert bad.status_code in (200, 400) and "http(s)" in bad.text


def test_a_second_upload_of_the_same_file_names_the_first(pages: Pages) -> None:
    csrf = pages.login("factcheck:analyst")
    data = poster_bytes("SAME FILE", 6)
    upload(pages, csrf, data)
    again = pages.client.post(
        "/ui/upload",
        data={"csrf_token": csrf},
        files={"files": ("again.jpg", data)},
        headers={"HX-Request": "true"},
    )
    assert again.status_code == 200
    assert "Already uploaded:" in again.text and 'href="/ui/items/1"' in again.text


def test_video_and_audio_items_play_on_their_page(pages: Pages, tmp_path: Path) -> None:
    from civicshield.demo import synth

    csrf = pages.login("factcheck:analyst")
    video = synth.write_video(tmp_path / "speech.mp4", seconds=2.0, text="PLAY ME").read_bytes()
    audio = synth.write_audio(tmp_path / "call.wav", synth.tone(seconds=2.0, seed=3)).read_bytes()
    upload(pages, csrf, video, name="speech.mp4")
    upload(pages, csrf, audio, name="call.wav")
    upload(pages, csrf, poster_bytes("STILL", 7))
    page = pages.client.get("/ui/items/1").text
    assert "<video controls" in page and 'src="/ui/items/1/media"' in page
    assert "<audio controls" in pages.client.get("/ui/items/2").text
    served = pages.client.get("/ui/items/1/media")
    assert served.status_code == 200 and served.headers["content-type"] == "video/mp4"
    assert served.content == video
    part = pages.client.get("/ui/items/1/media", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == video[:100]
    assert pages.client.get("/ui/items/2/media").headers["content-type"] == "audio/wav"
    assert pages.client.get("/ui/items/3/media").status_code == 404  # images are not served this way


def test_moving_a_case_and_commenting_are_confirmed(pages: Pages) -> None:
    csrf = pages.login("factcheck:reviewer")
    upload(pages, csrf, poster_bytes("CONFIRM ME", 8))
    pages.client.post("/ui/items/1/cases", data={"csrf_token": csrf, "title": "Check", "tlp": "GREEN"})
    moved = pages.client.post("/ui/cases/1/transition", data={"csrf_token": csrf, "to": "triage"})
    assert "Case moved to “Triage”." in moved.text
    said = pages.client.post("/ui/cases/1/comments", data={"csrf_token": csrf, "body": "Looks generated."})
    assert "Comment added." in said.text and "Looks generated." in said.text


def test_a_copy_without_credentials_says_what_its_credentialed_original_declares(
    pages: Pages, testdata: Path
) -> None:
    """Issue 11: a phone re-encode of a credentialed Adobe Firefly image read "likely synthetic, no Content
    Credentials" while the same page listed the credentialed original at PDQ distance 2."""
    from PIL import Image

    from civicshield.service.infra.jobs import run_job

    original = (testdata / "c2pa-real/contentauth-example-assets/Firefly_tabby_cat.jpg").read_bytes()
    picture = Image.open(io.BytesIO(original)).convert("RGB")
    picture.thumbnail((800, 800))
    copy = io.BytesIO()
    picture.save(copy, format="JPEG", quality=60)  # what a messaging app makes of it: credentials gone
    csrf = pages.login("factcheck:analyst")
    upload(pages, csrf, original, name="Firefly_tabby_cat.jpg")
    upload(pages, csrf, copy.getvalue(), name="forwarded.jpg")
    for job_id in (1, 2):
        assert run_job(pages.app.state.rt, job_id) == "done"
    page = pages.client.get("/ui/items/2").text
    assert "it looks like" in page and 'href="/ui/items/1"' in page
    assert "Made with Adobe Firefly, which declares it AI-generated" in page
    assert "not this file's own provenance" in page
    own = pages.client.get("/ui/items/1").text
    assert "it looks like" not in own  # the original speaks for itself


def test_a_command_line_bank_and_a_threatexchange_file_import_into_the_service(
    pages: Pages, tmp_path: Path
) -> None:
    """One bank concept: what `civicshield bank` keeps locally, and what a partner's threatexchange tools
    export, both import on the banks page."""
    from civicshield.banks import BankEntry, BankKind, BankStore
    from civicshield.settings import Settings

    store = BankStore.from_settings(Settings(data_dir=tmp_path / "cli"))
    store.create("local", BankKind.KNOWN_FAKE)
    pdq = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"
    store.add_entries("local", [BankEntry.create("pdq", pdq, "Fake poster (from the CLI)")])
    bank_file = (tmp_path / "cli" / "banks" / "local.json").read_bytes()
    csrf = pages.login("factcheck:reviewer")
    pages.client.post(
        "/ui/banks", data={"csrf_token": csrf, "name": "merged", "kind": "known_fake", "tlp": "GREEN"}
    )
    r = pages.client.post(
        "/ui/banks/1/import", data={"csrf_token": csrf}, files={"file": ("local.json", bank_file)}
    )
    assert "Imported entries: 1 new of 1." in r.text
    te = f"# from a partner\nvideo_sha256 {'cd' * 32}\npdq {pdq}\n".encode()
    r = pages.client.post(
        "/ui/banks/1/import", data={"csrf_token": csrf}, files={"file": ("partner.te.txt", te)}
    )
    assert "Imported entries: 1 new of 2." in r.text  # the PDQ was already there
    found = pages.client.get(f"/ui/banks?value={'cd' * 32}").text
    assert "imported from partner.te.txt" in found


def test_the_bank_behind_a_match_is_one_click_away(pages: Pages) -> None:
    """A member of another organization uploads a copy of a published fake: the report names the bank that
    matched as a link to that bank's page, which it may open (the bank is shared, TLP:GREEN)."""
    from civicshield.service.infra.jobs import run_job
    from civicshield.service.submission import submit_bytes

    from .conftest import principal, reencoded

    original = poster_bytes("BALLOTS BURNED", 21)
    publish_fake(pages.app, pages.ids, original, "Ballots were not burned")
    rt = pages.app.state.rt
    who = principal(pages.app, pages.ids["other:analyst"])
    done = submit_bytes(rt, pages.app.state.celery, who, reencoded(original), "copy.jpg")
    assert run_job(rt, done.job_id) == "done"
    pages.login("other:analyst")
    report = pages.client.get(f"/ui/items/{done.item_id}").text
    link = report.split('<a href="/ui/banks/', 1)
    assert len(link) == 2, "the matching bank is not linked"
    bank_id = link[1].split('"', 1)[0]
    page = pages.client.get(f"/ui/banks/{bank_id}")
    assert page.status_code == 200 and "fact-checks" in page.text
