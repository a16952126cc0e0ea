"""Isolation matrix: every API route with an object id × every role of another organization.

Another organization's object must never be readable or writable: the answer is 404 (or 403 when the
caller's role could not use the route at all, which says nothing about the object). The owner's admin, as
a control, does not get 404 — so the ids used are real.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from civicshield.demo import synth
from civicshield.service.infra.jobs import run_job

from .conftest import World, auth

ROLES = ("viewer", "analyst", "reviewer", "org_admin")
# Valid bodies, so that the answer is about access and not about validation.
BODIES = {
    "/entries": {"entries": [{"signal_type": "sha256", "hash": "ab" * 32, "label": "x"}]},
    "/transition": {"to": "triage"},
    "/assign": {"user_id": None},
    "/comments": {"body": "a comment"},
    "/rating": {"rating": "false"},
}


def _objects(world: World, tmp_path: Path) -> dict[str, str]:
    c, admin, reviewer = world.client, auth(world, "factcheck:org_admin"), auth(world, "factcheck:reviewer")
    path = synth.save_image(synth.poster(size=(300, 300)), tmp_path / "p.png", "PNG")
    with path.open("rb") as fh:
        item = c.post("/api/v1/items", files={"file": ("p.png", fh)}, headers=admin).json()
    run_job(c.app.state.rt, item["job"]["id"])  # type: ignore[attr-defined]
    case = c.post(
        "/api/v1/cases", json={"item_id": item["id"], "title": "t", "tlp": "AMBER"}, headers=admin
    ).json()
    bank = c.post("/api/v1/banks", json={"name": "private", "tlp": "AMBER"}, headers=reviewer).json()
    ids = {
        "item_id": str(item["id"]),
        "job_id": str(item["job"]["id"]),
        "case_id": str(case["id"]),
        "bank_id": str(bank["id"]),
        "prefix": world.keys["factcheck:viewer"][3:11],
    }
    hook = c.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["case.published"]},
        headers=admin,
    )
    if hook.status_code == 201:
        ids["webhook_id"] = str(hook.json()["id"])
        deliveries = c.get(f"/api/v1/webhooks/{ids['webhook_id']}/deliveries", headers=admin)
        if deliveries.status_code == 200 and deliveries.json():
            ids["delivery_id"] = str(deliveries.json()[0]["id"])
    return ids


def _routes(world: World) -> list[tuple[str, str]]:
    """Every documented API operation whose path names an object (from the OpenAPI schema)."""
    paths = world.client.get("/openapi.json").json()["paths"]
    return [
        (method.upper(), path)
        for path, ops in paths.items()
        if path.startswith("/api/v1/") and "{" in path
        for method in ops
    ]


def test_other_organizations_objects_answer_404(world: World, tmp_path: Path) -> None:
    ids = _objects(world, tmp_path)
    checked = 0
    for method, template in _routes(world):
        params = re.findall(r"{(\w+)}", template)
        if not all(p in ids for p in params):
            continue
        url = template
        for p in params:
            url = url.replace("{" + p + "}", ids[p])
        body = next((b for suffix, b in BODIES.items() if template.endswith(suffix)), {})
        for role in ROLES:
            r = world.client.request(method, url, json=body, headers=auth(world, f"other:{role}"))
            if r.status_code == 422:  # validated before access: must not depend on the object either
                owner = world.client.request(
                    method, url, json=body, headers=auth(world, "factcheck:org_admin")
                )
                assert owner.status_code == 422, f"{method} {url}: 422 for other:{role} only"
                continue
            assert r.status_code in (403, 404), (
                f"other:{role} {method} {url} -> {r.status_code} {r.text[:200]}"
            )
            if role == "org_admin":
                assert r.status_code == 404, f"other:org_admin {method} {url} -> {r.status_code}"
            assert ids.get("case_id", "x") not in r.text or r.status_code == 404
        if method != "DELETE":  # the control must not delete what later routes use
            control = world.client.request(method, url, json=body, headers=auth(world, "factcheck:org_admin"))
            assert control.status_code != 404, f"owner {method} {url} -> 404"
        checked += 1
    assert checked >= 10, f"only {checked} routes checked"


@pytest.mark.parametrize("role", ROLES)
def test_lists_never_show_other_organizations_private_objects(
    world: World, tmp_path: Path, role: str
) -> None:
    ids = _objects(world, tmp_path)
    h = auth(world, f"other:{role}")
    assert all(str(c["id"]) != ids["case_id"] for c in world.client.get("/api/v1/cases", headers=h).json())
    assert all(str(b["id"]) != ids["bank_id"] for b in world.client.get("/api/v1/banks", headers=h).json())
