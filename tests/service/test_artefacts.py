"""Analyzer images (heatmaps, face boxes, timelines) are kept as blobs and shown on the report page."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from civicshield.demo import synth
from civicshield.service.app import create_app
from civicshield.service.infra.jobs import run_job
from civicshield.service.settings import ServiceSettings
from civicshield.settings import Settings

from .conftest import _seed, auth


def _signed_in(app: object, email: str) -> TestClient:
    client = TestClient(app)  # type: ignore[arg-type]
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/ui/login").text)
    assert token is not None
    r = client.post(
        "/ui/login", data={"email": email, "password": "correct horse battery", "csrf_token": token[1]}
    )
    assert r.status_code == 200, r.text[:300]
    return client


def test_artefact_images_are_stored_and_served_to_the_owner_only(tmp_path: Path) -> None:
    analysis = Settings(data_dir=tmp_path / "data", plugins=("heat=tests.service.heat_plugin:HeatAnalyzer",))
    settings = ServiceSettings(data_dir=tmp_path / "data", secret_key="k", analysis=analysis)
    app = create_app(settings)
    world = _seed(settings, app)
    path = synth.save_image(synth.poster(size=(300, 300)), tmp_path / "p.png", "PNG")
    with path.open("rb") as fh:
        item = world.client.post(
            "/api/v1/items", files={"file": ("p.png", fh)}, headers=auth(world, "factcheck:analyst")
        )
    item_id, job_id = item.json()["id"], item.json()["job"]["id"]
    assert run_job(app.state.rt, job_id) == "done"
    job = world.client.get(f"/api/v1/jobs/{job_id}", headers=auth(world, "factcheck:analyst")).json()
    heat = next(s for s in job["report"]["signals"] if s["analyzer"] == "heat")
    sha = heat["artefacts"][0]["blob"]

    owner = _signed_in(app, "analyst@factcheck.test")
    page = owner.get(f"/ui/items/{item_id}").text
    assert re.search(rf'src="/ui/items/{item_id}/artefacts/{sha}"', page)
    image = owner.get(f"/ui/items/{item_id}/artefacts/{sha}")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert owner.get(f"/ui/items/{item_id}/artefacts/{'0' * 64}").status_code == 404

    other = _signed_in(app, "analyst@other.test")
    assert other.get(f"/ui/items/{item_id}/artefacts/{sha}").status_code == 404
    app.state.rt.db.dispose()
