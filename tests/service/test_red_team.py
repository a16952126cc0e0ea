"""Probes from the red-team run (issue 16), kept in the suite so what they found stays fixed.

Each test names the defect it reproduces. They run on SQLite and PostgreSQL (the ``world`` fixture).
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from civicshield.demo import synth
from civicshield.service.domain import audit, store
from civicshield.service.domain.tables import Case, Comment, User
from civicshield.service.infra.jobs import run_job

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


# ---- item 9: disclosure ----------------------------------------------------------------------------


def _published(world: World, tmp_path: Path, tlp: str) -> bytes:
    from .test_publication import _analyzed_item, _publish

    item_id, path = _analyzed_item(world, tmp_path)
    _publish(world, item_id, tlp)
    return path.read_bytes()


def _verify(world: World, data: bytes) -> str:
    client = TestClient(world.client.app)
    page = client.get("/verify").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    r = client.post(
        "/verify",
        data={"csrf_token": token},
        files={"file": ("copy.jpg", data, "image/jpeg")},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200, r.text[:300]
    return r.text


def test_public_check_says_nothing_of_a_green_fact_check(world: World, tmp_path: Path) -> None:
    """Seen: anonymous /verify answered "Known fake, identical file" for a TLP:GREEN-only fact-check.
    TLP:GREEN stays within the community: the public hears only of TLP:CLEAR entries."""
    data = _published(world, tmp_path, "GREEN")
    text = _verify(world, data)
    assert "identical file" not in text and "/fact-checks/" not in text
    assert "No match with published fact-checks" in text


def test_public_check_still_names_a_clear_fact_check(world: World, tmp_path: Path) -> None:
    text = _verify(world, _published(world, tmp_path, "CLEAR"))
    assert "identical file" in text and "/fact-checks/" in text


def test_bank_entry_counts_leave_out_what_the_caller_cannot_read(world: World) -> None:
    """Seen: a bank's entry count included entries whose TLP hid them from the caller."""
    owner = auth(world, "factcheck:reviewer")
    bank = world.client.post(
        "/api/v1/banks", json={"name": "mixed", "kind": "known_fake", "tlp": "GREEN"}, headers=owner
    ).json()
    entries = [{"signal_type": "sha256", "hash": f"{n:064x}", "label": f"e{n}"} for n in range(4)]
    for tlp, part in (("GREEN", entries[:2]), ("AMBER", entries[2:3]), ("RED", entries[3:])):
        r = world.client.post(
            f"/api/v1/banks/{bank['id']}/entries", json={"entries": part, "tlp": tlp}, headers=owner
        )
        assert r.status_code in (200, 201), r.text
    counts = {
        who: next(
            b["entries"]
            for b in world.client.get("/api/v1/banks", headers=auth(world, who)).json()
            if b["id"] == bank["id"]
        )
        for who in ("factcheck:viewer", "other:viewer")
    }
    assert counts == {"factcheck:viewer": 4, "other:viewer": 2}


def test_login_takes_as_long_for_unknown_addresses(world: World) -> None:
    """Seen: 341 ms median for an existing address, 638 ms for an unknown one (two hashes instead of one).
    Counted in password-hash operations, not seconds: both paths must do exactly one verification."""
    from argon2 import PasswordHasher

    from civicshield.service.domain import security

    calls: list[str] = []

    class Counting(PasswordHasher):
        def hash(self, *args: Any, **kwargs: Any) -> str:
            calls.append("hash")
            return super().hash(*args, **kwargs)

        def verify(self, *args: Any, **kwargs: Any) -> bool:
            calls.append("verify")
            return super().verify(*args, **kwargs)

    before = security._hasher
    security.use_password_hasher(Counting(time_cost=1, memory_cost=1024, parallelism=1))
    world.client.post("/api/v1/session", json={"email": "warm@up.test", "password": "x" * 12})  # once
    try:
        for email in ("analyst@factcheck.test", "nobody@nowhere.test"):
            calls.clear()
            r = world.client.post("/api/v1/session", json={"email": email, "password": "wrong password!"})
            assert r.status_code == 401
            assert calls == ["verify"], email
    finally:
        security.use_password_hasher(before)


# ---- item 10: smaller ------------------------------------------------------------------------------


def test_a_key_cannot_create_a_key_with_more_scopes(world: World) -> None:
    """Seen: a key with only the admin scope created a key with every scope."""
    admin_only = world.client.post(
        "/api/v1/api-keys",
        json={"name": "admin only", "scopes": ["admin"]},
        headers=auth(world, "factcheck:org_admin"),
    )
    assert admin_only.status_code == 201, admin_only.text
    headers = {"Authorization": f"Bearer {admin_only.json()['token']}"}
    wider = world.client.post(
        "/api/v1/api-keys", json={"name": "wider", "scopes": ["admin", "submit", "review"]}, headers=headers
    )
    assert wider.status_code == 403 and wider.json()["error"]["code"] == "forbidden"
    same = world.client.post("/api/v1/api-keys", json={"name": "same", "scopes": ["admin"]}, headers=headers)
    assert same.status_code == 201


def test_the_longest_valid_label_is_stored(world: World) -> None:
    """Seen: a 2,000-character label passed validation and PostgreSQL's 300-character column gave a 500."""
    owner = auth(world, "factcheck:reviewer")
    bank = world.client.post(
        "/api/v1/banks", json={"name": "long", "kind": "known_fake", "tlp": "GREEN"}, headers=owner
    ).json()
    entry = {
        "signal_type": "sha256",
        "hash": "ab" * 32,
        "label": "L" * 2000,
        "link": "https://x.test/" + "p" * 1900,
    }
    r = world.client.post(f"/api/v1/banks/{bank['id']}/entries", json={"entries": [entry]}, headers=owner)
    assert r.status_code in (200, 201), r.text
    listed = world.client.get(f"/api/v1/banks/{bank['id']}/entries", headers=owner).json()
    assert [e["label"] for e in listed] == ["L" * 2000]


def test_a_chunked_body_over_the_limit_is_413(world: World) -> None:
    """Seen: a 1 GiB chunked upload got 400 (FastAPI's "error parsing the body") instead of 413."""
    limit = world.settings.max_upload_bytes
    chunk = b"x" * (1 << 20)
    boundary = "probe"

    def body() -> Any:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
        yield head.encode()
        for _ in range(limit // len(chunk) + 2):
            yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    r = world.client.post(
        "/api/v1/items",
        content=body(),
        headers={
            **auth(world, "factcheck:analyst"),
            "content-type": f"multipart/form-data; boundary={boundary}",
        },
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"


def test_an_anonymous_upload_is_refused_before_its_body_is_read(world: World) -> None:
    """Seen: an unauthenticated 150 MiB body was parsed before the 401."""
    read = 0

    def body() -> Any:
        nonlocal read
        for _ in range(150):
            read += 1
            yield b"x" * (1 << 20)

    for path in ("/api/v1/items", "/api/v1/match/file", "/api/v1/banks"):
        read = 0
        r = world.client.post(
            path, content=body(), headers={"content-type": "multipart/form-data; boundary=x"}
        )
        assert r.status_code == 401, path
        assert read <= 1, f"{path}: {read} MiB read before the 401"


def test_wrong_credentials_are_refused_before_the_upload_is_read(world: World) -> None:
    read = 0

    def body() -> Any:
        nonlocal read
        for _ in range(50):
            read += 1
            yield b"x" * (1 << 20)

    r = world.client.post(
        "/api/v1/items",
        content=body(),
        headers={
            "Authorization": "Bearer cs_deadbeef_nope",
            "content-type": "multipart/form-data; boundary=x",
        },
    )
    assert r.status_code == 401
    assert read <= 1


# ---- item 7: sessions ------------------------------------------------------------------------------


def _signed_in(world: World, email: str = "reviewer@factcheck.test") -> tuple[TestClient, str]:
    client = TestClient(world.client.app)
    r = client.post("/api/v1/session", json={"email": email, "password": "correct horse battery"})
    assert r.status_code == 200, r.text
    return client, str(r.json()["csrf_token"])


def _copy(world: World, client: TestClient) -> TestClient:
    thief = TestClient(world.client.app)
    thief.cookies.update(dict(client.cookies.items()))
    return thief


def test_sign_out_ends_the_session_for_every_copy_of_the_cookie(world: World) -> None:
    """Seen: after sign-out a copied cookie still worked and could create a bank."""
    client, csrf = _signed_in(world)
    thief = _copy(world, client)
    assert thief.get("/api/v1/me").status_code == 200
    assert client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert thief.get("/api/v1/me").status_code == 401
    made = thief.post(
        "/api/v1/banks",
        json={"name": "stolen", "kind": "known_fake", "tlp": "RED"},
        headers={"X-CSRF-Token": csrf},
    )
    assert made.status_code == 401


def test_sign_out_from_the_pages_ends_the_session_too(world: World) -> None:
    client = TestClient(world.client.app)
    page = client.get("/ui/login").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    r = client.post(
        "/ui/login",
        data={"email": "reviewer@factcheck.test", "password": "correct horse battery", "csrf_token": token},
    )
    assert r.status_code == 200 and r.url.path == "/ui/"
    thief = _copy(world, client)
    csrf = r.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post("/ui/logout", data={"csrf_token": csrf})
    assert thief.get("/ui/cases", follow_redirects=False).status_code in (302, 303, 401)


def test_an_idle_session_expires(world: World) -> None:
    from sqlalchemy import update

    from civicshield.service.domain.tables import WebSession, utcnow

    client, _ = _signed_in(world)
    assert client.get("/api/v1/me").status_code == 200
    idle = world.settings.sessions.idle_s
    with world.client.app.state.rt.db.session() as s:  # type: ignore[attr-defined]
        s.execute(update(WebSession).values(last_seen_at=utcnow() - dt.timedelta(seconds=idle + 5)))
    assert client.get("/api/v1/me").status_code == 401


def test_a_session_ends_at_its_maximum_age_however_busy(world: World) -> None:
    from sqlalchemy import update

    from civicshield.service.domain.tables import WebSession, utcnow

    client, _ = _signed_in(world)
    with world.client.app.state.rt.db.session() as s:  # type: ignore[attr-defined]
        s.execute(update(WebSession).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    assert client.get("/api/v1/me").status_code == 401


def test_changing_the_password_ends_the_other_sessions(world: World) -> None:
    here, csrf = _signed_in(world)
    there, _ = _signed_in(world)
    listed = here.get("/api/v1/sessions").json()
    assert len(listed) == 2 and sum(s["current"] for s in listed) == 1
    wrong = here.post(
        "/api/v1/me/password",
        json={"current_password": "not it at all", "new_password": "a much better passphrase"},
        headers={"X-CSRF-Token": csrf},
    )
    assert wrong.status_code == 401
    ok = here.post(
        "/api/v1/me/password",
        json={"current_password": "correct horse battery", "new_password": "a much better passphrase"},
        headers={"X-CSRF-Token": csrf},
    )
    assert ok.status_code == 204, ok.text
    assert there.get("/api/v1/me").status_code == 401
    assert here.get("/api/v1/me").status_code == 200
    old = TestClient(world.client.app).post(
        "/api/v1/session", json={"email": "reviewer@factcheck.test", "password": "correct horse battery"}
    )
    assert old.status_code == 401


def test_a_person_ends_one_of_their_sessions(world: World) -> None:
    here, csrf = _signed_in(world)
    there, _ = _signed_in(world)
    other = next(s for s in here.get("/api/v1/sessions").json() if not s["current"])
    assert here.delete(f"/api/v1/sessions/{other['id']}", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert there.get("/api/v1/me").status_code == 401
    stranger, stranger_csrf = _signed_in(world, "viewer@other.test")
    mine = here.get("/api/v1/sessions").json()[0]["id"]
    assert (
        stranger.delete(f"/api/v1/sessions/{mine}", headers={"X-CSRF-Token": stranger_csrf}).status_code
        == 404
    )


# ---- item 6: audit chain anchoring -----------------------------------------------------------------


def _audited(world: World, n: int) -> None:
    for i in range(n):
        r = world.client.post(
            "/api/v1/api-keys",
            json={"name": f"audited {i}", "scopes": ["read"]},
            headers=auth(world, "factcheck:org_admin"),
        )
        assert r.status_code == 201


def _verify_log(world: World, kept: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    admin = auth(world, "factcheck:org_admin")
    if kept is None:
        r = world.client.get("/api/v1/audit/verify", headers=admin)
    else:
        r = world.client.post("/api/v1/audit/verify", json={"checkpoints": kept}, headers=admin)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _checkpoint(world: World) -> list[dict[str, Any]]:
    admin = auth(world, "factcheck:org_admin")
    assert world.client.post("/api/v1/audit/checkpoints", headers=admin).status_code == 201
    exported = world.client.get("/api/v1/audit/checkpoints", headers=admin).json()
    assert "BEGIN PUBLIC KEY" in exported["public_key"]
    return list(exported["checkpoints"])


def test_deleting_the_last_audit_rows_is_detected(world: World) -> None:
    """Seen: deleting the newest rows of an organization's chain passed verification."""
    from sqlalchemy import delete

    from civicshield.service.domain.tables import AuditEvent

    _audited(world, 3)
    kept = _checkpoint(world)
    assert _verify_log(world)["intact"] and _verify_log(world, kept)["intact"]
    org = world.ids["factcheck"]
    with world.client.app.state.rt.db.session() as s:  # type: ignore[attr-defined]
        top = s.scalar(select(func.max(AuditEvent.seq)).where(AuditEvent.org_id == org))
        s.execute(delete(AuditEvent).where(AuditEvent.org_id == org, AuditEvent.seq > top - 2))
    with world.client.app.state.rt.db.reading() as s:  # type: ignore[attr-defined]
        assert audit.verify_chain(s, org) is None  # the bare chain cannot tell
    result = _verify_log(world, kept)
    assert not result["intact"] and any("truncated" in p for p in result["problems"])
    assert not _verify_log(world)["intact"]


def test_a_rewritten_chain_is_detected(world: World) -> None:
    """Seen: forging a row and recomputing every later hash passed verification."""
    from civicshield.service.domain.tables import AuditEvent, as_utc

    _audited(world, 4)
    kept = _checkpoint(world)
    org = world.ids["factcheck"]
    with world.client.app.state.rt.db.session() as s:  # type: ignore[attr-defined]
        rows = list(s.scalars(select(AuditEvent).where(AuditEvent.org_id == org).order_by(AuditEvent.seq)))
        rows[2].actor = "someone else"
        prev = rows[1].hash
        for ev in rows[2:]:
            ev.prev_hash = prev
            ev.hash = audit._digest(
                prev,
                ev.seq,
                ev.actor,
                ev.action,
                ev.object_type,
                ev.object_id,
                ev.payload,
                as_utc(ev.at).isoformat(),
            )
            prev = ev.hash
    with world.client.app.state.rt.db.reading() as s:  # type: ignore[attr-defined]
        assert audit.verify_chain(s, org) is None  # consistent again, as the attacker wanted
    result = _verify_log(world, kept)
    assert not result["intact"] and any("rewritten" in p for p in result["problems"])


def test_checkpoints_deleted_from_the_database_are_caught_by_a_kept_copy(world: World) -> None:
    from sqlalchemy import delete

    from civicshield.service.domain.tables import AuditCheckpoint, AuditEvent

    _audited(world, 2)
    kept = _checkpoint(world)
    org = world.ids["factcheck"]
    with world.client.app.state.rt.db.session() as s:  # type: ignore[attr-defined]
        s.execute(delete(AuditCheckpoint))
        top = s.scalar(select(func.max(AuditEvent.seq)).where(AuditEvent.org_id == org))
        s.execute(delete(AuditEvent).where(AuditEvent.org_id == org, AuditEvent.seq == top))
    assert _verify_log(world)["intact"]  # nothing left in the service to compare with
    assert not _verify_log(world, kept)["intact"]


def test_a_forged_checkpoint_does_not_verify(world: World) -> None:
    _audited(world, 2)
    kept = _checkpoint(world)
    forged = [{**kept[-1], "seq": kept[-1]["seq"] - 1}]
    result = _verify_log(world, forged)
    assert any("signature" in p for p in result["problems"])


def test_only_admins_read_their_own_audit_log(world: World) -> None:
    _audited(world, 1)
    mine = world.client.get("/api/v1/audit/events", headers=auth(world, "factcheck:org_admin")).json()
    assert mine and all(e["hash"] for e in mine)
    theirs = world.client.get("/api/v1/audit/events", headers=auth(world, "other:org_admin")).json()
    assert {e["hash"] for e in mine}.isdisjoint({e["hash"] for e in theirs})
    assert (
        world.client.get("/api/v1/audit/events", headers=auth(world, "factcheck:reviewer")).status_code == 403
    )


# ---- item 2: memory through /verify ----------------------------------------------------------------


def _verify_post(world: World, data: bytes, name: str = "x.png") -> Any:
    client = TestClient(world.client.app)
    page = client.get("/verify").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return client.post(
        "/verify",
        data={"csrf_token": token},
        files={"file": (name, data, "image/png")},
        headers={"HX-Request": "true"},
    )


def test_an_anonymous_huge_image_is_refused_before_decoding(world: World) -> None:
    """Seen: an anonymous 231 KB PNG of 8,900 x 8,900 pixels took the API process from 1.7 to 4.1 GB."""
    import io
    import resource

    from PIL import Image

    buf = io.BytesIO()
    Image.new("1", (8900, 8900)).save(buf, format="PNG")  # 1 bit a pixel here: about 10 MB to make it
    assert len(buf.getvalue()) < 300_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    r = _verify_post(world, buf.getvalue(), "bomb.png")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert r.status_code == 413, r.text[:300]
    assert grown_mb < 100, f"the API process grew by {grown_mb:.0f} MB"
    assert world.client.app.state.rt.public_checker._pool is None  # type: ignore[attr-defined]


def test_anonymous_checks_run_in_another_process(world: World) -> None:
    import io
    import os

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 30, 30)).save(buf, format="PNG")
    r = _verify_post(world, buf.getvalue())
    assert r.status_code == 200, r.text[:300]
    pool = world.client.app.state.rt.public_checker._pool  # type: ignore[attr-defined]
    assert pool is not None
    pids = [p.pid for p in pool._processes.values()]
    assert pids and os.getpid() not in pids


def test_anonymous_checks_beyond_capacity_are_told_to_retry(world: World) -> None:
    import io

    from PIL import Image

    checker = world.client.app.state.rt.public_checker  # type: ignore[attr-defined]
    held = [checker._slots.acquire(blocking=False) for _ in range(checker.concurrency)]
    assert all(held)
    try:
        buf = io.BytesIO()
        Image.new("RGB", (64, 64)).save(buf, format="PNG")
        r = _verify_post(world, buf.getvalue())
        assert r.status_code == 503
    finally:
        for _ in held:
            checker._slots.release()


def test_concurrent_uploads_all_land(world: World, tmp_path: Path) -> None:
    """Seen under the load benchmark on PostgreSQL: simultaneous uploads of one organization deadlocked (each
    held a key-share lock on the organization through the item's foreign key, then wanted to lock it for the
    audit append). Every upload must be accepted and stored."""
    data = synth.save_image(
        synth.poster("BURST", size=(200, 150), seed=5), tmp_path / "burst.jpg"
    ).read_bytes()
    headers = auth(world, "factcheck:analyst")
    start = threading.Barrier(12)
    codes: list[int] = []

    def post(n: int) -> None:
        with TestClient(world.client.app) as client:
            start.wait(10)
            r = client.post("/api/v1/items", files={"file": (f"b{n}.jpg", data)}, headers=headers)
            codes.append(r.status_code)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(codes) == [202] * 12
