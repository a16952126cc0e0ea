"""Service fixtures: a real app over a real database, each test on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from civicshield.service import store
from civicshield.service.app import create_app
from civicshield.service.security import use_password_hasher
from civicshield.service.settings import ServiceSettings
from civicshield.settings import Settings

use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))  # speed; argon2id still

PG_ADMIN_URL = os.environ.get("CIVICSHIELD_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _fresh_pg_database() -> str:
    name = f"cs_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(url: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db.sqlite'}"
        return
    url = _fresh_pg_database()
    yield url
    drop_pg_database(url)


@dataclass
class World:
    client: TestClient
    settings: ServiceSettings
    keys: dict[str, str]  # "<org>:<role>" -> API key
    ids: dict[str, int]


def _seed(app_settings: ServiceSettings, app) -> World:  # type: ignore[no-untyped-def]
    rt = app.state.rt
    keys: dict[str, str] = {}
    ids: dict[str, int] = {}
    with rt.db.session() as s:
        for org_name, kind in (("factcheck", "fact_checker"), ("other", "broadcaster")):
            org = store.create_org(s, f"{org_name}-org", kind)
            ids[org_name] = org.id
            for role in ("viewer", "analyst", "reviewer", "org_admin"):
                user = store.create_user(
                    s, org.id, f"{role}@{org_name}.test", role.title(), role, "correct horse battery"
                )
                ids[f"{org_name}:{role}:user"] = user.id
                key = store.create_api_key(
                    s,
                    store.principal_for(user),
                    f"{role} key",
                    ["read", "submit", "match", "review", "admin"],
                )
                keys[f"{org_name}:{role}"] = key.token
    return World(client=TestClient(app), settings=app_settings, keys=keys, ids=ids)


# The service's own behaviour does not depend on the ML detectors (tested in tests/analyzers); the core
# analyzers keep these tests fast and their machine labels independent of a detector's opinion of a drawing.
CORE_ANALYZERS = ("c2pa", "metadata", "watermark", "phash", "known_fakes", "official_media")


def core_analysis(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir / "analysis", analyzers=CORE_ANALYZERS)


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    settings = ServiceSettings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret",
        analysis=core_analysis(tmp_path / "data"),
    )
    app = create_app(settings)
    world = _seed(settings, app)
    yield world
    app.state.rt.db.dispose()


def auth(world: World, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.keys[who]}"}
