"""A link to a post submitted to the service: each medium becomes an item queued for analysis, the WARC is
kept as a blob and named in the audit log; a refused address is a clear 422. SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses

import pytest

from civicshield.egress import LOOPBACK
from tests.intake.test_links import site as web  # noqa: F401 - the local web server fixture

from .conftest import World, auth


@pytest.fixture
def linked(world: World) -> World:
    rt = world.client.app.state.rt  # type: ignore[attr-defined]
    rt.settings = dataclasses.replace(
        rt.settings, analysis=dataclasses.replace(rt.settings.analysis, link_networks=LOOPBACK)
    )
    return world


def test_a_post_link_becomes_items_and_a_kept_warc(linked: World, web: str) -> None:  # noqa: F811
    world = linked
    r = world.client.post(
        "/api/v1/items/from-link", json={"url": f"{web}/moved"}, headers=auth(world, "factcheck:analyst")
    )
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["final_url"] == f"{web}/post" and len(body["items"]) == 2
    rt = world.client.app.state.rt  # type: ignore[attr-defined]
    assert rt.blobs.get(body["warc_sha256"]).startswith(b"\x1f\x8b")  # the gzipped WARC is kept
    item = world.client.get(
        f"/api/v1/items/{body['items'][0]['item_id']}", headers=auth(world, "factcheck:viewer")
    ).json()
    assert item["media_kind"] == "image"
    events = world.client.get("/api/v1/audit/events", headers=auth(world, "factcheck:org_admin")).json()
    (linked_event,) = [e for e in events if e["action"] == "item.from_link"]
    assert linked_event["payload"]["warc_sha256"] == body["warc_sha256"]


def test_a_private_address_is_refused_unless_allowed(world: World, web: str) -> None:  # noqa: F811
    r = world.client.post(
        "/api/v1/items/from-link", json={"url": f"{web}/post"}, headers=auth(world, "factcheck:analyst")
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "link_fetch_failed" and "refused" in r.text
