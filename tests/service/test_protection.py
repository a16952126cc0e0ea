"""An organization's protected people and domains (issue 12): TLP:RED to everyone else, changed by its admins
only, audited, and looked for in the analysis of every item the organization submits."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import zxingcpp
from PIL import Image

from civicshield.demo import synth
from civicshield.service.infra.jobs import run_job
from civicshield.service.settings import MailSettings

from .conftest import Mailbox, World, auth


def _phishing_poster() -> bytes:
    poster = synth.poster("REGISTER ONLINE", size=(640, 480), seed=12).convert("RGB")
    code = zxingcpp.create_barcode("https://kiesraad-stemmen.com/", zxingcpp.BarcodeFormat.QRCode)
    poster.paste(Image.fromarray(np.asarray(code.to_image(scale=5))).convert("RGB"), (420, 250))
    out = io.BytesIO()
    poster.save(out, format="PNG")
    return out.getvalue()


def _enrolled(world: World, org: str) -> None:
    """``org`` joins the protection programme and a coalition operator approves it."""
    from civicshield.service.domain import store

    r = world.client.post(
        "/api/v1/protection/enrolment",
        json={
            "kind": "election_authority",
            "contact_name": "Sam Secure",
            "contact_email": f"security@{org}.test",
            "consent": True,
        },
        headers=auth(world, f"{org}:org_admin"),
    )
    assert r.status_code == 201, r.text
    rt = world.client.app.state.rt  # type: ignore[attr-defined]
    with rt.db.session() as s:
        if "ops:platform_admin" not in world.keys:
            ops = store.create_org(s, "coalition-operators", "operator")
            user = store.create_user(
                s, ops.id, "ops@coalition.test", "Ops", "platform_admin", "correct horse battery"
            )
            world.keys["ops:platform_admin"] = store.create_api_key(
                s, store.principal_for(user), "ops", ["read", "admin"]
            ).token
    approved = world.client.post(
        f"/api/v1/admin/protection/enrolments/{r.json()['id']}/approve",
        json={},
        headers=auth(world, "ops:platform_admin"),
    )
    assert approved.status_code == 200 and approved.json()["state"] == "approved", approved.text


def _protect(world: World, who: str, kind: str, name: str) -> int:
    r = world.client.post(
        "/api/v1/protection/entries", json={"kind": kind, "name": name}, headers=auth(world, who)
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_entries_are_the_organizations_own(world: World) -> None:
    person = _protect(world, "factcheck:org_admin", "person", "Anna de Vries")
    _protect(world, "factcheck:org_admin", "domain", "Kiesraad.NL")
    mine = world.client.get("/api/v1/protection/entries", headers=auth(world, "factcheck:viewer")).json()
    assert [(e["kind"], e["name"]) for e in mine] == [("person", "Anna de Vries"), ("domain", "kiesraad.nl")]
    theirs = world.client.get("/api/v1/protection/entries", headers=auth(world, "other:org_admin"))
    assert theirs.status_code == 200 and theirs.json() == []  # TLP:RED: another organization sees nothing
    gone = world.client.delete(f"/api/v1/protection/entries/{person}", headers=auth(world, "other:org_admin"))
    assert gone.status_code == 404
    events = world.client.get("/api/v1/audit/events", headers=auth(world, "factcheck:org_admin")).json()
    assert [e["action"] for e in events].count("protection.added") == 2
    assert [e["action"] for e in events].count("protection.read") == 1  # the viewer's read above


def test_only_admins_change_them_and_bad_entries_are_refused(world: World) -> None:
    r = world.client.post(
        "/api/v1/protection/entries",
        json={"kind": "person", "name": "Anna de Vries"},
        headers=auth(world, "factcheck:analyst"),
    )
    assert r.status_code == 403
    handle = world.client.post(
        "/api/v1/protection/entries",
        json={"kind": "handle", "platform": "x", "name": "@Kiesraad_NL"},
        headers=auth(world, "factcheck:org_admin"),
    )
    assert handle.status_code == 201 and handle.json()["name"] == "x:kiesraad_nl"
    for body, words in (
        ({"kind": "handle", "platform": "myspace", "name": "kiesraad"}, "platform must be one of"),
        ({"kind": "person", "name": "Ann"}, "names under 5 characters"),
        ({"kind": "domain", "name": "not a domain"}, "is not a domain name"),
        ({"kind": "group", "name": "Anna de Vries"}, ""),
    ):
        r = world.client.post(
            "/api/v1/protection/entries", json=body, headers=auth(world, "factcheck:org_admin")
        )
        assert r.status_code in (400, 422), r.text
        assert words in r.text


def _analyze(world: World, who: str, data: bytes) -> str:
    r = world.client.post("/api/v1/items", files={"file": ("poster.png", data)}, headers=auth(world, who))
    assert r.status_code == 202, r.text
    job_id = r.json()["job"]["id"]
    assert run_job(world.client.app.state.rt, job_id) == "done"  # type: ignore[attr-defined]
    job = world.client.get(f"/api/v1/jobs/{job_id}", headers=auth(world, who)).json()
    return str(job["label"])


def test_an_organizations_submissions_are_checked_against_its_own_protected_domains(
    world: World, tmp_path: Path
) -> None:
    _protect(world, "factcheck:org_admin", "domain", "kiesraad.nl")
    poster = _phishing_poster()
    assert _analyze(world, "factcheck:analyst", poster) == "impersonation_suspected"
    # Another organization's submission is not checked against this organization's TLP:RED list (telling the
    # protected organization about it is the notification step still to come).
    assert _analyze(world, "other:analyst", poster) != "impersonation_suspected"


def test_the_protected_organization_is_told_when_another_member_submits_an_impersonation(
    world: World, mailbox: Mailbox
) -> None:
    """The candidate's team learns of a fake of them submitted anywhere in the coalition — inbox, webhook and
    e-mail through a real SMTP server; the submitter's verdict reveals nothing of the other organization's
    TLP:RED list."""
    rt = world.client.app.state.rt  # type: ignore[attr-defined]
    rt.settings = rt.settings.with_(mail=MailSettings(host=mailbox.host, port=mailbox.port))
    hook = world.client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["impersonation.detected"], "max_tlp": "AMBER"},
        headers=auth(world, "factcheck:org_admin"),
    )
    assert hook.status_code == 201, hook.text
    _enrolled(world, "factcheck")
    _protect(world, "factcheck:org_admin", "domain", "kiesraad.nl")
    poster = _phishing_poster()
    assert _analyze(world, "other:analyst", poster) != "impersonation_suspected"
    assert _analyze(world, "other:analyst", poster) != "impersonation_suspected"  # the same item again
    theirs = world.client.get("/api/v1/notifications", headers=auth(world, "other:viewer")).json()
    assert theirs == []
    (note,) = world.client.get("/api/v1/notifications", headers=auth(world, "factcheck:viewer")).json()
    assert note["kind"] == "impersonation_detected" and note["count"] == 2  # folded, not two lines
    assert "kiesraad-stemmen.com" in note["body"] and "kiesraad.nl" in note["body"]
    # The submitter's default label is AMBER: the protected organization learns that a member found it, not
    # who or which file.
    assert note["title"].startswith("A member organization found") and "item_sha256" not in note["detail"]
    with world.client.app.state.rt.db.reading() as s:  # type: ignore[attr-defined]
        from civicshield.service.domain.tables import Delivery, Webhook

        events = [(d.event, d.webhook_id) for d in s.query(Delivery).join(Webhook).all()]
    assert events == [("impersonation.detected", hook.json()["id"])]
    (mail,) = mailbox.to("org_admin@factcheck.test")  # one mail for the folded pair, to the admins only
    assert "Suspected impersonation" in mail["Subject"] and "kiesraad-stemmen.com" in mail.get_content()
    assert mailbox.to("org_admin@other.test") == [] and mailbox.to("viewer@factcheck.test") == []
    done = world.client.post(
        f"/api/v1/notifications/{note['id']}/resolve", headers=auth(world, "factcheck:reviewer")
    )
    assert done.status_code == 200 and done.json()["resolved_at"] is not None
    assert world.client.get("/api/v1/notifications", headers=auth(world, "factcheck:viewer")).json() == []
    elsewhere = world.client.post(
        f"/api/v1/notifications/{note['id']}/acknowledge", headers=auth(world, "other:viewer")
    )
    assert elsewhere.status_code == 404


def _dev(fragment: str) -> list[Path]:
    import csv
    import os

    root = Path(__file__).resolve().parents[2]
    dev = Path(os.environ.get("CIVICSHIELD_DATASETS", root.parent / "shared" / "datasets")).resolve() / "dev"
    with (dev / "manifest.csv").open(newline="", encoding="utf-8") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda r: r["source_path"])
    return [dev / r["path"] for r in rows if fragment in r["source_path"]]


def _generated_copy(photo: Path) -> bytes:
    """The photo as a Stable Diffusion web UI would save a picture it made (its ``parameters`` text)."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "portrait of a candidate at a rally, Steps: 30, Sampler: Euler a")
    out = io.BytesIO()
    Image.open(photo).convert("RGB").save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def test_a_protected_persons_face_is_enrolled_as_an_embedding_and_found_in_another_members_fake(
    world: World, mailbox: Mailbox
) -> None:
    """The issue's case: an election authority enrols a candidate's face; another member submits a generated
    picture of the candidate; the authority's inbox, mail and webhook say so. PhotoMaker's photos of one
    person stand in for the candidate (who is who comes from the dataset's folders)."""
    rt = world.client.app.state.rt  # type: ignore[attr-defined]
    rt.settings = rt.settings.with_(mail=MailSettings(host=mailbox.host, port=mailbox.port))
    first, second, *_ = _dev("examples/yangmi_woman/")
    _enrolled(world, "factcheck")
    person = _protect(world, "factcheck:org_admin", "person", "Yang Example")
    photo = ("reference.jpg", first.read_bytes())
    url = f"/api/v1/protection/entries/{person}/faces"
    assert (
        world.client.post(url, files={"file": photo}, headers=auth(world, "factcheck:viewer")).status_code
        == 403
    )
    assert (
        world.client.post(url, files={"file": photo}, headers=auth(world, "other:org_admin")).status_code
        == 404
    )
    blank = io.BytesIO()
    Image.new("RGB", (320, 240), (90, 140, 200)).save(blank, format="PNG")
    refused = world.client.post(
        url, files={"file": ("sky.png", blank.getvalue())}, headers=auth(world, "factcheck:org_admin")
    )
    assert refused.status_code == 400 and "no face" in refused.text
    enrolled = world.client.post(url, files={"file": photo}, headers=auth(world, "factcheck:org_admin"))
    assert enrolled.status_code == 201, enrolled.text
    assert (enrolled.json()["faces"], enrolled.json()["voices"]) == (1, 0)
    assert "vector" not in enrolled.text and "0." not in enrolled.text  # the embedding is never returned

    assert _analyze(world, "other:analyst", _generated_copy(second)) != "impersonation_suspected"
    (note,) = world.client.get("/api/v1/notifications", headers=auth(world, "factcheck:viewer")).json()
    assert note["kind"] == "impersonation_detected"
    assert "Yang Example" in note["body"] and "looks like" in note["body"]
    (mail,) = mailbox.to("org_admin@factcheck.test")
    assert "Yang Example" in mail.get_content()
    (to_contact,) = mailbox.to("security@factcheck.test")  # the programme's named security contact
    assert f"/ui/protection/notifications/{note['id']}/plan" in to_contact.get_content()
    assert note["detail"]["playbook"] == "candidate-deepfake"
    # A genuine photo of the same person, submitted by another member, is not an impersonation.
    assert (
        _analyze(world, "other:analyst", _dev("examples/yangmi_woman/")[2].read_bytes())
        != "impersonation_suspected"
    )
    again = world.client.get("/api/v1/notifications", headers=auth(world, "factcheck:viewer")).json()
    assert [n["id"] for n in again] == [note["id"]]

    cleared = world.client.delete(url, headers=auth(world, "factcheck:org_admin"))
    assert cleared.status_code == 200 and cleared.json()["faces"] == 0
    events = world.client.get("/api/v1/audit/events", headers=auth(world, "factcheck:org_admin")).json()
    actions = [e["action"] for e in events]
    assert "protection.reference_added" in actions and "protection.references_deleted" in actions


def test_an_official_visual_is_protected_by_its_hash_and_flat_pictures_are_refused(world: World) -> None:
    poster = io.BytesIO()
    synth.poster("VOTE 17 MARCH", size=(640, 480), seed=41).convert("RGB").save(poster, format="PNG")
    url = "/api/v1/protection/visuals?name=Ballot%20poster"
    made = world.client.post(
        url, files={"file": ("poster.png", poster.getvalue())}, headers=auth(world, "factcheck:org_admin")
    )
    assert made.status_code == 201, made.text
    assert (made.json()["kind"], made.json()["name"]) == ("visual", "Ballot poster")
    flat = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 200, 200)).save(flat, format="PNG")
    refused = world.client.post(
        url, files={"file": ("flat.png", flat.getvalue())}, headers=auth(world, "factcheck:org_admin")
    )
    assert refused.status_code == 400 and "too flat" in refused.text
    denied = world.client.post(
        url, files={"file": ("poster.png", poster.getvalue())}, headers=auth(world, "factcheck:analyst")
    )
    assert denied.status_code == 403
    rt = world.client.app.state.rt  # type: ignore[attr-defined]
    from civicshield.service.domain import protection

    with rt.db.reading() as s:
        (visual,) = protection.watchlist_of(s, world.ids["factcheck"]).visuals
    assert visual.name == "Ballot poster" and len(visual.pdq) == 64
