from __future__ import annotations

from .conftest import World, auth


def test_login_session_and_csrf(world: World) -> None:
    c = world.client
    bad = c.post("/api/v1/session", json={"email": "analyst@factcheck.test", "password": "wrong password"})
    assert bad.status_code == 401
    assert bad.json()["error"]["code"] == "unauthenticated"
    ok = c.post(
        "/api/v1/session", json={"email": "org_admin@factcheck.test", "password": "correct horse battery"}
    )
    assert ok.status_code == 200
    csrf = ok.json()["csrf_token"]
    assert c.get("/api/v1/me").json()["email"] == "org_admin@factcheck.test"
    # unsafe request with the session cookie but no CSRF token is refused
    assert c.post("/api/v1/api-keys", json={"name": "k"}).json()["error"]["code"] == "csrf_failed"
    created = c.post("/api/v1/api-keys", json={"name": "k"}, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("cs_")
    c.cookies.clear()
    assert c.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_api_keys_hashed_at_rest_and_revocable(world: World) -> None:
    from sqlalchemy import select

    from civicshield.service.domain.tables import ApiKey

    token = world.keys["factcheck:org_admin"]
    with world.client.app.state.rt.db.session() as s:  # type: ignore[attr-defined]
        stored = [row.key_hash for row in s.scalars(select(ApiKey))]
    assert token not in stored and all(len(h) == 64 for h in stored)
    prefix = token[3:11]
    h = auth(world, "factcheck:org_admin")
    assert world.client.delete(f"/api/v1/api-keys/{prefix}", headers=h).status_code == 204
    assert world.client.get("/api/v1/me", headers=h).status_code == 401


def test_wrong_and_malformed_credentials(world: World) -> None:
    c = world.client
    for header in ("Bearer cs_deadbeef_nope", "Bearer x", "Basic abc"):
        r = c.get("/api/v1/me", headers={"Authorization": header})
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "unauthenticated"
    assert (
        c.post("/api/v1/session", content=b"{not json", headers={"content-type": "application/json"}).json()[
            "error"
        ]["code"]
        == "invalid_request"
    )


def test_viewer_cannot_create_keys(world: World) -> None:
    r = world.client.post("/api/v1/api-keys", json={"name": "k"}, headers=auth(world, "factcheck:viewer"))
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"
