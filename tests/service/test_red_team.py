"""Probes from the red-team run (issue 16), kept in the suite so what they found stays fixed.

Each test names the defect it reproduces. They run on SQLite and PostgreSQL (the ``world`` fixture).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from civicshield.demo import synth
from civicshield.service import audit, store
from civicshield.service.db.tables import Case, Comment, User
from civicshield.service.jobs import run_job

from .conftest import World, auth


def _item(world: World, tmp_path: Path, who: str = "factcheck:analyst") -> int:
    path = synth.save_image(synth.poster("RED TEAM", size=(320, 240), seed=9), tmp_path / "probe.jpg")
    with path.open("rb") as fh:
        r = world.client.post("/api/v1/items", files={"file": ("probe.jpg", fh)}, headers=auth(world, who))
    assert r.status_code == 202, r.text
    assert run_job(world.client.app.state.rt, r.json()["job"]["id"]) == "done"  # type: ignore[attr-defined]
    return int(r.json()["id"])


# ---- item 4: success before commit ------------------------------------------------------------------


def test_a_created_case_is_committed_before_the_201_is_sent(world: World, tmp_path: Path) -> None:
    """Seen: a 201 on case creation, then at once a transition on it: 404 in 4 of 40 tries. Here the
    database is read, from another connection, at the moment the response starts."""
    app = world.client.app
    item_id = _item(world, tmp_path)
    seen: list[int] = []

    async def watching(scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def on_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and scope["path"] == "/api/v1/cases":
                with app.state.rt.db.reading() as s:  # type: ignore[attr-defined]
                    seen.append(int(s.scalar(select(func.count()).select_from(Case)) or 0))
            await send(message)

        await app(scope, receive, on_send)  # type: ignore[arg-type]

    client = TestClient(watching)  # type: ignore[arg-type]
    r = client.post(
        "/api/v1/cases",
        json={"item_id": item_id, "title": "probe", "claim": "", "tlp": "AMBER"},
        headers=auth(world, "factcheck:analyst"),
    )
    assert r.status_code == 201, r.text
    assert seen == [1]


# ---- item 5: concurrent audited writes --------------------------------------------------------------


def test_concurrent_comments_all_land_in_one_unbroken_audit_chain(world: World, tmp_path: Path) -> None:
    """Seen on PostgreSQL: 16 simultaneous comments on one case, 2-5 succeeded, the rest failed with
    ``UniqueViolation audit_events_org_id_seq_key``."""
    rt = world.client.app.state.rt  # type: ignore[attr-defined]
    item_id = _item(world, tmp_path)
    r = world.client.post(
        "/api/v1/cases",
        json={"item_id": item_id, "title": "busy case", "claim": "", "tlp": "AMBER"},
        headers=auth(world, "factcheck:analyst"),
    )
    case_id = r.json()["id"]
    with rt.db.session() as s:
        reviewer = s.get(User, world.ids["factcheck:reviewer:user"])
        who = store.principal_for(reviewer)
    start = threading.Barrier(16)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            start.wait(10)
            with rt.db.session() as s:
                store.comment(s, who, store.get_case(s, who, case_id), f"comment {n}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with rt.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Comment).where(Comment.case_id == case_id)) == 16
        assert audit.verify_chain(s, world.ids["factcheck"]) is None


def test_concurrent_comments_through_the_api(world: World, tmp_path: Path) -> None:
    item_id = _item(world, tmp_path)
    headers = auth(world, "factcheck:reviewer")
    case_id = world.client.post(
        "/api/v1/cases", json={"item_id": item_id, "title": "api busy", "tlp": "AMBER"}, headers=headers
    ).json()["id"]
    start = threading.Barrier(8)
    codes: list[int] = []

    def post(n: int) -> None:
        with TestClient(world.client.app) as client:
            start.wait(10)
            r = client.post(f"/api/v1/cases/{case_id}/comments", json={"body": f"c{n}"}, headers=headers)
            codes.append(r.status_code)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert codes == [201] * 8
