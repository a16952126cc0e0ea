"""Bank export through the API in python-threatexchange's format, within TLP."""

from __future__ import annotations

from .conftest import World, auth

PDQ = ["f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22", "0" * 63 + "1"]


def test_threatexchange_export_holds_only_what_the_caller_may_see(world: World) -> None:
    owner = auth(world, "factcheck:reviewer")
    bank = world.client.post(
        "/api/v1/banks", json={"name": "te", "kind": "known_fake", "tlp": "GREEN"}, headers=owner
    ).json()
    for tlp, digest in (("GREEN", PDQ[0]), ("RED", PDQ[1])):
        entry = {"signal_type": "pdq", "hash": digest, "label": "fake"}
        r = world.client.post(
            f"/api/v1/banks/{bank['id']}/entries", json={"entries": [entry], "tlp": tlp}, headers=owner
        )
        assert r.status_code in (200, 201), r.text
    image_sha = {"signal_type": "sha256", "hash": "ab" * 32, "label": "fake"}
    world.client.post(f"/api/v1/banks/{bank['id']}/entries", json={"entries": [image_sha]}, headers=owner)
    url = f"/api/v1/banks/{bank['id']}/export"
    mine = world.client.get(url, params={"format": "threatexchange"}, headers=owner)
    assert mine.status_code == 200
    assert mine.text.splitlines() == [f"pdq {PDQ[0]}", f"pdq {PDQ[1]}"]
    assert mine.headers["X-Left-Out"] == "1"  # an image's sha256 has no threatexchange type
    theirs = world.client.get(url, params={"format": "threatexchange"}, headers=auth(world, "other:viewer"))
    assert theirs.status_code == 200
    assert theirs.text.splitlines() == [f"pdq {PDQ[0]}"]  # TLP:RED stays home
    bad = world.client.get(url, params={"format": "xml"}, headers=owner)
    assert bad.status_code == 422
