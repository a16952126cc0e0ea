"""API keys are read from the database once every ``key_cache_s`` seconds (``service.infra.key_cache``):
this process's changes take effect at once, another process's within that time, and 0 turns it off."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from civicshield.service.app import create_app
from civicshield.service.domain.security import Role
from civicshield.service.domain.tables import Organization, User
from civicshield.service.infra.key_cache import KeyCache
from tests.service.conftest import World, auth


def _other_process_revokes(world: World, token: str) -> None:
    """What another API process or ``civicshield admin`` would do: a write this process never sees."""
    engine = create_engine(world.settings.db_url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE api_keys SET revoked = :yes WHERE prefix = :p"), {"yes": True, "p": token[3:11]}
        )
    engine.dispose()


@pytest.mark.parametrize("cache_s", [1, 0])
def test_another_process_revocation_takes_effect_within_the_cache_time(world: World, cache_s: int) -> None:
    """With a one-second cache the key works for up to a second more; with none, not at all."""
    app = create_app(world.settings.with_(key_cache_s=cache_s))
    try:
        c, h = TestClient(app), auth(world, "factcheck:analyst")
        assert c.get("/api/v1/me", headers=h).status_code == 200
        _other_process_revokes(world, world.keys["factcheck:analyst"])
        assert c.get("/api/v1/me", headers=h).status_code == (200 if cache_s else 401)
        time.sleep(cache_s + 0.1)
        r = c.get("/api/v1/me", headers=h)
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
    finally:
        app.state.rt.db.dispose()


def test_this_process_changes_to_users_and_organizations_take_effect_at_once(world: World) -> None:
    c, rt = world.client, world.client.app.state.rt  # type: ignore[attr-defined]
    analyst, viewer = auth(world, "factcheck:analyst"), auth(world, "other:viewer")
    assert c.get("/api/v1/me", headers=analyst).json()["role"] == Role.ANALYST
    assert c.get("/api/v1/me", headers=viewer).status_code == 200
    with rt.db.session() as s:
        s.get(User, world.ids["factcheck:analyst:user"]).role = Role.VIEWER
    assert c.get("/api/v1/me", headers=analyst).json()["role"] == Role.VIEWER
    with rt.db.session() as s:
        s.get(User, world.ids["factcheck:analyst:user"]).active = False
    assert c.get("/api/v1/me", headers=analyst).status_code == 401
    with rt.db.session() as s:
        s.get(Organization, world.ids["other"]).suspended_at = s.get(
            Organization, world.ids["other"]
        ).created_at
    assert c.get("/api/v1/me", headers=viewer).status_code == 401


def test_cache_expires_and_never_keeps_a_principal_read_before_a_change() -> None:
    now = [100.0]
    cache = KeyCache(5, clock=lambda: now[0])
    principal = object()
    stamp = cache.stamp()
    cache.put("cs_a", principal, stamp)  # type: ignore[arg-type]
    assert cache.get("cs_a") is principal and cache.get("cs_b") is None
    now[0] += 5
    assert cache.get("cs_a") is None
    stale = cache.stamp() - 1  # a read that began before the last change committed
    cache.put("cs_a", principal, stale)  # type: ignore[arg-type]
    assert cache.get("cs_a") is None
