"""TAXII 2.1: discovery to objects, pagination, filters, TLP per organization, errors, and a real client."""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import stix2
import uvicorn

from civicshield.service.api.taxii import COLLECTION_ALIAS, COLLECTION_ID, STIX_MEDIA, TAXII_MEDIA
from civicshield.service.domain import store
from civicshield.service.domain.tables import User
from civicshield.sharing import validate_stix
from civicshield.sharing.tlp import TLP, TLP2_MARKING_IDS

from .conftest import World, auth
from .test_exports import analyzed_item, publish_case

ROOT = "/taxii2/api/"
OBJECTS = f"{ROOT}collections/{COLLECTION_ID}/objects/"
ACCEPT = {"Accept": TAXII_MEDIA}


def taxii(world: World, who: str) -> dict[str, str]:
    return {**auth(world, who), **ACCEPT}


@dataclass
class Published:
    world: World
    cases: dict[str, int]  # TLP -> case id
    bundles: dict[str, dict[str, Any]]  # TLP -> the owner's STIX export


@pytest.fixture
def published(world: World, tmp_path: Path) -> Published:
    """GREEN, AMBER, CLEAR and RED cases on two images; the AMBER and CLEAR ones share an image, so its
    file object belongs to both, under different markings."""
    first, second = analyzed_item(world, tmp_path, seed=3), analyzed_item(world, tmp_path, seed=11)
    cases = {
        "GREEN": publish_case(world, first, "GREEN", "Burned ballots photo is fabricated"),
        "AMBER": publish_case(world, second, "AMBER", "Leaked memo video is a deepfake"),
        "CLEAR": publish_case(world, second, "CLEAR", "Leaked memo video is a deepfake (public)"),
        "RED": publish_case(world, first, "RED", "Source-protected investigation"),
    }
    viewer = auth(world, "factcheck:viewer")
    bundles = {
        tlp: world.client.get(f"/api/v1/cases/{cid}/stix", headers=viewer).json()
        for tlp, cid in cases.items()
    }
    return Published(world, cases, bundles)


def walk(world: World, headers: dict[str, str], url: str, limit: int, **params: str) -> list[dict[str, Any]]:
    """Every page of an objects or manifest listing, following ``next``."""
    pages: list[dict[str, Any]] = []
    query: dict[str, Any] = {"limit": limit, **params}
    while True:
        r = world.client.get(url, params=query, headers=headers)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == TAXII_MEDIA
        page = r.json()
        pages.append(page)
        assert len(page.get("objects", [])) <= limit
        if page.get("objects"):
            assert r.headers["X-TAXII-Date-Added-First"].endswith("Z")
            assert len(r.headers["X-TAXII-Date-Added-Last"]) == len("2026-05-01T12:00:00.000000Z")
        if not page["more"]:
            assert "next" not in page
            return pages
        query = {"limit": limit, "next": page["next"], **params}


def _ids(bundle: dict[str, Any]) -> set[str]:
    return {o["id"] for o in bundle["objects"]}


def test_discovery_to_objects_walks_every_page_once(published: Published) -> None:
    world, headers = published.world, taxii(published.world, "factcheck:viewer")
    discovery = world.client.get("/taxii2/", headers=headers)
    assert discovery.headers["content-type"] == TAXII_MEDIA
    root = discovery.json()["default"]
    assert root == ROOT and discovery.json()["api_roots"] == [ROOT]
    api = world.client.get(root, headers=headers).json()
    assert TAXII_MEDIA in api["versions"] and api["max_content_length"] > 0
    (collection,) = world.client.get(f"{root}collections/", headers=headers).json()["collections"]
    assert collection["id"] == COLLECTION_ID and collection["alias"] == COLLECTION_ALIAS
    assert (collection["can_read"], collection["can_write"]) == (True, False)
    assert collection["media_types"] == [STIX_MEDIA]
    assert world.client.get(f"{root}collections/{COLLECTION_ALIAS}/", headers=headers).json() == collection

    pages = walk(world, headers, f"{root}collections/{collection['id']}/objects/", limit=2)
    listed = [o for p in pages for o in p.get("objects", [])]
    assert len(pages) > 5
    assert len({(o["id"], o.get("modified")) for o in listed}) == len(listed)  # each exactly once
    expected = set().union(*(_ids(published.bundles[tlp]) for tlp in ("GREEN", "AMBER", "CLEAR")))
    assert {o["id"] for o in listed} == expected  # the owner gets everything up to AMBER+STRICT, not RED
    assert [o["id"] for o in walk(world, headers, OBJECTS, limit=1000)[0]["objects"]] == [
        o["id"] for o in listed
    ]
    everything = {"type": "bundle", "id": published.bundles["GREEN"]["id"], "objects": listed}
    assert validate_stix(everything) == []

    manifest = [
        m
        for p in walk(world, headers, f"{root}collections/{COLLECTION_ID}/manifest/", limit=3)
        for m in p.get("objects", [])
    ]
    assert [m["id"] for m in manifest] == [o["id"] for o in listed]
    assert all(m["media_type"] == STIX_MEDIA and m["date_added"].endswith("Z") for m in manifest)


def test_objects_come_in_dependency_order(published: Published) -> None:
    world = published.world
    listed = world.client.get(OBJECTS, headers=taxii(world, "other:viewer")).json()["objects"]
    position = {o["id"]: i for i, o in enumerate(listed)}
    for o in listed:
        refs = [o.get("created_by_ref"), *o.get("object_marking_refs", []), *o.get("object_refs", [])]
        assert all(position[r] < position[o["id"]] for r in refs if r), o["id"]


def test_other_organizations_receive_clear_and_green_only(published: Published) -> None:
    world = published.world
    r = world.client.get(OBJECTS, headers=taxii(world, "other:viewer"))
    listed = r.json()["objects"]
    ids = {o["id"] for o in listed}
    assert ids == _ids(published.bundles["GREEN"]) | _ids(published.bundles["CLEAR"])
    markings = {ref for o in listed for ref in o.get("object_marking_refs", [])}
    assert markings == {TLP2_MARKING_IDS[TLP.GREEN], TLP2_MARKING_IDS[TLP.CLEAR]}
    amber_only = _ids(published.bundles["AMBER"]) - _ids(published.bundles["CLEAR"])
    assert amber_only and not amber_only & ids
    amber_report = next(o["id"] for o in published.bundles["AMBER"]["objects"] if o["type"] == "report")
    for path in (f"{OBJECTS}{amber_report}/", f"{OBJECTS}{amber_report}/versions/"):
        hidden = world.client.get(path, headers=taxii(world, "other:viewer"))
        assert hidden.status_code == 404 and hidden.json()["http_status"] == "404"
        assert world.client.get(path, headers=taxii(world, "factcheck:viewer")).status_code == 200


def test_added_after_returns_only_later_objects(world: World, tmp_path: Path) -> None:
    item = analyzed_item(world, tmp_path)
    first = publish_case(world, item, "GREEN", "First fact-check")
    headers = taxii(world, "other:viewer")
    before = world.client.get(OBJECTS, headers=headers)
    last = before.headers["X-TAXII-Date-Added-Last"]
    assert before.headers["X-TAXII-Date-Added-First"] == last  # one case, one publication time
    time.sleep(0.01)
    second = publish_case(world, item, "GREEN", "Second fact-check")
    owner = auth(world, "factcheck:viewer")
    bundles = [world.client.get(f"/api/v1/cases/{c}/stix", headers=owner).json() for c in (first, second)]

    later = world.client.get(OBJECTS, params={"added_after": last}, headers=headers)
    assert {o["id"] for o in later.json()["objects"]} == _ids(bundles[1]) - _ids(bundles[0])
    assert later.headers["X-TAXII-Date-Added-First"] > last
    empty = world.client.get(
        OBJECTS, params={"added_after": later.headers["X-TAXII-Date-Added-Last"]}, headers=headers
    )
    assert empty.status_code == 200 and empty.json() == {"more": False}
    assert "X-TAXII-Date-Added-First" not in empty.headers


def test_match_filters_object_and_versions(published: Published) -> None:
    world, headers = published.world, taxii(published.world, "other:viewer")
    indicators = world.client.get(OBJECTS, params={"match[type]": "indicator,report"}, headers=headers).json()
    assert {o["type"] for o in indicators["objects"]} == {"indicator", "report"}
    report = next(o for o in published.bundles["GREEN"]["objects"] if o["type"] == "report")
    by_id = world.client.get(OBJECTS, params={"match[id]": report["id"]}, headers=headers).json()
    assert by_id["objects"] == [report]
    one = world.client.get(f"{OBJECTS}{report['id']}/", headers=headers)
    assert one.json() == {"more": False, "objects": [report]}
    assert one.headers["X-TAXII-Date-Added-First"] == one.headers["X-TAXII-Date-Added-Last"]
    exact = world.client.get(
        f"{OBJECTS}{report['id']}/", params={"match[version]": report["modified"]}, headers=headers
    )
    assert exact.json()["objects"] == [report]
    other = world.client.get(
        f"{OBJECTS}{report['id']}/", params={"match[version]": "2001-01-01T00:00:00.000Z"}, headers=headers
    )
    assert other.json() == {"more": False}
    versions = world.client.get(f"{OBJECTS}{report['id']}/versions/", headers=headers).json()
    assert versions == {"more": False, "versions": [report["modified"]]}
    assert world.client.get(OBJECTS, params={"match[spec_version]": "2.0"}, headers=headers).json() == {
        "more": False
    }


def test_authentication(published: Published) -> None:
    world = published.world
    for headers in (
        ACCEPT,
        {**ACCEPT, "Authorization": "Bearer cs_nothing_here"},
        {**ACCEPT, "Authorization": "Basic !!!"},
    ):
        r = world.client.get(OBJECTS, headers=headers)
        assert r.status_code == 401
        assert r.headers["content-type"] == TAXII_MEDIA
        assert r.headers["WWW-Authenticate"].startswith("Basic ")
        body = r.json()
        assert body["http_status"] == "401" and body["title"] == "Unauthorized" and body["description"]
    basic = base64.b64encode(f"taxii:{world.keys['other:viewer']}".encode()).decode()
    r = world.client.get(OBJECTS, headers={**ACCEPT, "Authorization": f"Basic {basic}"})
    assert r.status_code == 200 and r.json()["objects"]
    assert world.client.get("/taxii2/", headers=ACCEPT).status_code == 401


def test_key_without_read_scope_is_forbidden(world: World) -> None:
    with world.client.app.state.rt.db.session() as s:  # type: ignore[attr-defined]
        user = s.get(User, world.ids["other:viewer:user"])
        key = store.create_api_key(s, store.principal_for(user), "match only", ["match"])
    r = world.client.get("/taxii2/", headers={**ACCEPT, "Authorization": f"Bearer {key.token}"})
    assert r.status_code == 403 and r.json()["http_status"] == "403"


@pytest.mark.parametrize(
    "accept",
    [
        "application/json",
        "application/taxii+json;version=2.0",
        "application/stix+json;version=2.1",
        "application/taxii+json;q=0",
    ],
)
def test_wrong_media_type_is_not_acceptable(world: World, accept: str) -> None:
    r = world.client.get(OBJECTS, headers={**auth(world, "other:viewer"), "Accept": accept})
    assert r.status_code == 406
    assert r.headers["content-type"] == TAXII_MEDIA and r.json()["http_status"] == "406"


@pytest.mark.parametrize(
    "accept", ["application/taxii+json", "*/*", "text/html, application/taxii+json;version=2.1"]
)
def test_taxii_media_ranges_are_acceptable(world: World, accept: str) -> None:
    r = world.client.get("/taxii2/", headers={**auth(world, "other:viewer"), "Accept": accept})
    assert r.status_code == 200 and r.headers["content-type"] == TAXII_MEDIA


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=many",
        "added_after=yesterday",
        "added_after=2026-01-01T00:00:00",
        "next=garbage",
        "limit=1&limit=2",
        "match[version]=all,last",
        "match[version]=soon",
    ],
)
def test_malformed_filters_are_bad_requests(world: World, query: str) -> None:
    r = world.client.get(f"{OBJECTS}?{query}", headers=taxii(world, "other:viewer"))
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == TAXII_MEDIA and r.json()["http_status"] == "400"


def test_limits_and_unknown_resources(world: World) -> None:
    headers = taxii(world, "other:viewer")
    assert world.client.get(OBJECTS, params={"limit": 10**6}, headers=headers).json() == {"more": False}
    for path in (
        f"{ROOT}collections/nope/",
        f"{ROOT}collections/nope/objects/",
        f"{ROOT}status/123/",
        f"{OBJECTS}indicator--00000000-0000-4000-8000-000000000000/",
        "/taxii2/elsewhere/",
    ):
        r = world.client.get(path, headers=headers)
        assert r.status_code == 404 and r.json()["http_status"] == "404", path
    moved = world.client.get(f"{ROOT}collections", headers=headers, follow_redirects=False)
    assert moved.status_code == 308 and moved.headers["location"].endswith(f"{ROOT}collections/")
    write = world.client.post(OBJECTS, json={"objects": []}, headers=headers)
    assert write.status_code == 403 and write.json()["http_status"] == "403"
    delete = world.client.delete(
        f"{OBJECTS}indicator--00000000-0000-4000-8000-000000000000/", headers=headers
    )
    assert delete.status_code == 403


# ---- a real TAXII client against a real server ------------------------------------------------------------


@pytest.fixture
def live_url(published: Published) -> Iterator[str]:
    """The app served by uvicorn on an ephemeral port of 127.0.0.1, in a thread."""
    config = uvicorn.Config(
        published.world.client.app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
        ws="none",
        http="h11",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=20)


def test_taxii2_client_pulls_the_collection(published: Published, live_url: str) -> None:
    from taxii2client.v21 import Server, as_pages

    world = published.world
    seen: dict[str, set[str]] = {}
    for who in ("factcheck:viewer", "other:viewer"):
        server = Server(f"{live_url}/taxii2/", user="opencti", password=world.keys[who])
        assert server.title == "CivicShield"
        (collection,) = server.default.collections
        assert collection.id == COLLECTION_ID and collection.can_read and not collection.can_write
        pages = list(as_pages(collection.get_objects, per_request=3))
        objects = [o for page in pages for o in page.get("objects", [])]
        assert len(pages) > 1 and len(objects) == len({o["id"] for o in objects})
        seen[who] = {o["id"] for o in objects}
        # and the OASIS stix2 library reads what it pulled, custom checks on (no allow_custom)
        parsed = stix2.parse({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects})
        assert {o.type for o in parsed.objects} >= {"report", "indicator", "file"}
        manifest = collection.get_manifest()
        assert {m["id"] for m in manifest["objects"]} == seen[who]
        report = next(o for o in objects if o["type"] == "report")
        assert collection.get_object(report["id"])["objects"] == [report]
        assert collection.object_versions(report["id"])["versions"] == [report["modified"]]
        server.close()
    bundles = published.bundles
    assert seen["other:viewer"] == _ids(bundles["GREEN"]) | _ids(bundles["CLEAR"])
    assert seen["factcheck:viewer"] == seen["other:viewer"] | _ids(bundles["AMBER"])
