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

from .conftest import World, auth


def _phishing_poster() -> bytes:
    poster = synth.poster("REGISTER ONLINE", size=(640, 480), seed=12).convert("RGB")
    code = zxingcpp.create_barcode("https://kiesraad-stemmen.com/", zxingcpp.BarcodeFormat.QRCode)
    poster.paste(Image.fromarray(np.asarray(code.to_image(scale=5))).convert("RGB"), (420, 250))
    out = io.BytesIO()
    poster.save(out, format="PNG")
    return out.getvalue()


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


def test_only_admins_change_them_and_bad_entries_are_refused(world: World) -> None:
    r = world.client.post(
        "/api/v1/protection/entries",
        json={"kind": "person", "name": "Anna de Vries"},
        headers=auth(world, "factcheck:analyst"),
    )
    assert r.status_code == 403
    for body, words in (
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
