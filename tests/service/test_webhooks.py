"""Webhooks end to end: the API, TLP routing, and signed deliveries to a real HTTP receiver on 127.0.0.1.

Time is driven through ``deliver_due(rt, now=...)``; signatures carry the real clock, which is what the
receiver (``verify_delivery``) checks them against.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from civicshield.egress import LOOPBACK
from civicshield.errors import SigningError
from civicshield.service.app import create_app
from civicshield.service.domain import alerts
from civicshield.service.domain.tables import Delivery
from civicshield.service.infra.delivery import LEASE_S, claim_due, deliver_due
from civicshield.service.infra.runtime import Runtime
from civicshield.service.settings import ServiceSettings
from civicshield.sharing import validate_claimreview, verify_delivery

from .conftest import Receiver, World, _seed, auth, core_analysis
from .test_jobs import _stop, _worker
from .test_publication import _analyzed_item, _publish

HOOKS = "/api/v1/webhooks"
ADMIN = "factcheck:org_admin"


def _rt(world: World) -> Runtime:
    rt: Runtime = world.client.app.state.rt  # type: ignore[attr-defined]
    return rt


def _hook(world: World, receiver: Receiver, who: str = ADMIN, **body: Any) -> dict[str, Any]:
    r = world.client.post(HOOKS, json={"url": receiver.url, **body}, headers=auth(world, who))
    assert r.status_code == 201, r.text
    hook = dict(r.json())
    receiver.secrets.append(hook["secret"])
    return hook


def _log(world: World, hook_id: int, who: str = ADMIN) -> list[dict[str, Any]]:
    r = world.client.get(f"{HOOKS}/{hook_id}/deliveries", headers=auth(world, who))
    assert r.status_code == 200, r.text
    return list(r.json())


def _ping(world: World, hook_id: int) -> dict[str, Any]:
    r = world.client.post(f"{HOOKS}/{hook_id}/ping", headers=auth(world, ADMIN))
    assert r.status_code == 202, r.text
    return dict(r.json())


def _bank_entries(world: World, org: str, bank_tlp: str, name: str) -> None:
    reviewer = auth(world, f"{org}:reviewer")
    bank = world.client.post("/api/v1/banks", json={"name": name, "tlp": bank_tlp}, headers=reviewer)
    assert bank.status_code == 201, bank.text
    entry = {"signal_type": "sha256", "hash": hashlib.sha256(name.encode()).hexdigest(), "label": name}
    r = world.client.post(
        f"/api/v1/banks/{bank.json()['id']}/entries", json={"entries": [entry]}, headers=reviewer
    )
    assert r.status_code == 201, r.text


def test_published_case_reaches_the_receiver_signed_with_its_claimreview(
    world: World, receiver: Receiver, tmp_path: Path
) -> None:
    hook = _hook(world, receiver, events=["case.published"], max_tlp="AMBER")
    assert hook["secret"].startswith("cswh_") and hook["secrets_in_grace"] == 0
    listed = world.client.get(HOOKS, headers=auth(world, ADMIN)).json()
    assert [h["id"] for h in listed] == [hook["id"]] and listed[0]["secret"] is None  # shown once

    item_id, _ = _analyzed_item(world, tmp_path)
    published = _publish(world, item_id, "GREEN")
    outcomes = deliver_due(_rt(world))
    assert [o.state for o in outcomes] == ["delivered"]

    [got] = receiver.got
    assert got.verified, got.reason
    doc = got.json
    assert doc["event"] == "case.published" and doc["tlp"] == "GREEN"
    assert doc["id"] == got.headers["CivicShield-Delivery"] == f"dlv_{outcomes[0].delivery_id}"
    assert doc["org"]["name"] == "factcheck-org"
    assert doc["data"]["url"] == published["fact_check_url"]
    assert validate_claimreview(doc["data"]["claimreview"], recommended=False) == []

    [entry] = _log(world, hook["id"])
    assert entry["state"] == "delivered" and entry["attempts"] == 1 and entry["last_status"] == 200
    assert entry["next_attempt_at"] is None and entry["delivered_at"] is not None
    assert deliver_due(_rt(world)) == []  # nothing is sent twice


def test_500_twice_then_delivered_on_the_third_attempt(world: World, receiver: Receiver) -> None:
    hook = _hook(world, receiver)
    receiver.script = [(500, {}), (503, {"Retry-After": "3000"})]
    ping = _ping(world, hook["id"])
    rt, t0 = _rt(world), dt.datetime.now(dt.UTC)

    first = deliver_due(rt, now=t0)
    assert [(o.state, o.attempt, o.status) for o in first] == [("pending", 1, 500)]
    assert first[0].next_attempt_at is not None
    assert dt.timedelta(seconds=15) <= first[0].next_attempt_at - t0 <= dt.timedelta(seconds=30)
    assert deliver_due(rt, now=t0 + dt.timedelta(seconds=5)) == []  # backing off
    [entry] = _log(world, hook["id"])
    assert (entry["state"], entry["attempts"], entry["last_status"]) == ("pending", 1, 500)
    assert entry["last_error"].startswith("HTTP 500") and entry["next_attempt_at"] is not None

    t1 = t0 + dt.timedelta(seconds=31)
    second = deliver_due(rt, now=t1)
    assert [(o.state, o.attempt, o.status) for o in second] == [("pending", 2, 503)]
    assert second[0].next_attempt_at is not None
    assert second[0].next_attempt_at - t1 >= dt.timedelta(seconds=3000)  # Retry-After honoured
    assert deliver_due(rt, now=t1 + dt.timedelta(seconds=2999)) == []

    third = deliver_due(rt, now=t1 + dt.timedelta(seconds=3601))
    assert [(o.state, o.attempt, o.status) for o in third] == [("delivered", 3, 200)]
    [entry] = _log(world, hook["id"])
    assert entry["id"] == ping["id"]
    assert (entry["state"], entry["attempts"], entry["last_status"], entry["last_error"]) == (
        "delivered",
        3,
        200,
        None,
    )
    assert len(receiver.got) == 3 and all(g.verified for g in receiver.got)
    assert {g.headers["CivicShield-Delivery"] for g in receiver.got} == {ping["wire_id"]}


def test_gives_up_after_the_last_attempt_and_on_a_final_4xx(world: World, receiver: Receiver) -> None:
    from civicshield.sharing import RetryPolicy

    hook = _hook(world, receiver)
    receiver.script = [(500, {}), (500, {}), (410, {})]
    _ping(world, hook["id"])
    rt, t0, policy = _rt(world), dt.datetime.now(dt.UTC), RetryPolicy(max_attempts=2, jitter=0)
    assert deliver_due(rt, now=t0, policy=policy)[0].state == "pending"
    assert deliver_due(rt, now=t0 + dt.timedelta(hours=1), policy=policy)[0].state == "failed"
    _ping(world, hook["id"])  # 410 Gone is not worth repeating
    assert deliver_due(rt, now=t0 + dt.timedelta(hours=2), policy=policy)[0].state == "failed"
    log = _log(world, hook["id"])
    assert [(e["state"], e["attempts"], e["last_status"]) for e in log] == [
        ("failed", 1, 410),
        ("failed", 2, 500),
    ]


def test_tampered_body_and_wrong_secret_are_rejected(world: World, receiver: Receiver) -> None:
    hook = _hook(world, receiver)
    _ping(world, hook["id"])
    deliver_due(_rt(world))
    [got] = receiver.got
    assert got.verified and got.json["event"] == "ping"
    tampered = got.body.replace(b'"ping"', b'"pong"')
    with pytest.raises(SigningError) as err:
        verify_delivery(tampered, got.headers, secrets=[hook["secret"]])
    assert err.value.detail["reason"] == "bad_signature"

    receiver.secrets[:] = ["cswh_" + "x" * 40]  # the receiver holds another secret: it answers 400
    _ping(world, hook["id"])
    [outcome] = deliver_due(_rt(world))
    assert receiver.got[-1].reason == "bad_signature"
    assert (outcome.state, outcome.status) == ("failed", 400)  # a 400 is final: repeating cannot help


def test_tlp_own_org_up_to_max_tlp_other_orgs_only_clear_or_green(world: World, receiver: Receiver) -> None:
    own = _hook(world, receiver, events=["bank.entry_added"], max_tlp="AMBER")
    other = _hook(world, receiver, who="other:org_admin", events=["bank.entry_added"], max_tlp="RED")
    _bank_entries(world, "factcheck", "AMBER", "amber-bank")
    _bank_entries(world, "factcheck", "GREEN", "green-bank")
    _bank_entries(world, "factcheck", "RED", "red-bank")  # over the own webhook's max_tlp
    deliver_due(_rt(world))

    def banks_seen(hook: dict[str, Any]) -> list[str]:
        wire = {
            e["wire_id"] for e in _log(world, hook["id"], who="other:org_admin" if hook is other else ADMIN)
        }
        docs = [g.json for g in receiver.got if g.headers["CivicShield-Delivery"] in wire]
        assert all(g.verified for g in receiver.got)
        return sorted(d["data"]["bank"]["name"] for d in docs)

    assert banks_seen(own) == ["amber-bank", "green-bank"]
    assert banks_seen(other) == ["green-bank"]
    green = next(g.json for g in receiver.got if g.json["data"]["bank"]["name"] == "green-bank")
    assert green["tlp"] == "GREEN" and green["data"]["count"] == 1
    assert green["data"]["entries"][0]["signal_type"] == "sha256"


def test_another_orgs_webhook_is_404_on_every_route(world: World, receiver: Receiver) -> None:
    hook = _hook(world, receiver)
    delivery = _ping(world, hook["id"])
    deliver_due(_rt(world))
    c, base, other = world.client, f"{HOOKS}/{hook['id']}", auth(world, "other:org_admin")
    calls = [
        c.get(base, headers=other),
        c.patch(base, json={"active": False}, headers=other),
        c.post(f"{base}/rotate-secret", json={}, headers=other),
        c.post(f"{base}/ping", headers=other),
        c.get(f"{base}/deliveries", headers=other),
        c.get(f"{base}/deliveries/{delivery['id']}", headers=other),
        c.post(f"{base}/deliveries/{delivery['id']}/redeliver", headers=other),
        c.delete(base, headers=other),
    ]
    assert [(r.status_code, r.json()["error"]["code"]) for r in calls] == [(404, "not_found")] * len(calls)
    assert c.get(HOOKS, headers=other).json() == []
    assert c.get(base, headers=auth(world, "factcheck:reviewer")).status_code == 403  # admins only
    assert c.get(HOOKS, headers=auth(world, "factcheck:reviewer")).status_code == 403
    assert c.get(base, headers=auth(world, ADMIN)).json()["active"] is True  # untouched
    mine_elsewhere = _hook(world, receiver, who="other:org_admin")
    r = c.get(
        f"{base}/deliveries/{delivery['id']}".replace(str(hook["id"]), str(mine_elsewhere["id"]), 1),
        headers=other,
    )
    assert r.status_code == 404  # a delivery is reached only through its own webhook


def test_redeliver_sends_the_same_event_again_under_a_new_delivery_id(
    world: World, receiver: Receiver
) -> None:
    hook = _hook(world, receiver)
    first = _ping(world, hook["id"])
    base = f"{HOOKS}/{hook['id']}/deliveries/{first['id']}"
    early = world.client.post(f"{base}/redeliver", headers=auth(world, ADMIN))
    assert early.status_code == 409 and early.json()["error"]["code"] == "conflict"  # still pending
    deliver_due(_rt(world))
    again = world.client.post(f"{base}/redeliver", headers=auth(world, ADMIN))
    assert again.status_code == 202, again.text
    assert again.json()["redelivery_of"] == first["id"] and again.json()["state"] == "pending"
    deliver_due(_rt(world))
    a, b = receiver.got
    assert a.verified and b.verified
    assert a.headers["CivicShield-Delivery"] != b.headers["CivicShield-Delivery"]
    assert a.json["event_id"] == b.json["event_id"]  # receivers de-duplicate on it
    detail = world.client.get(base, headers=auth(world, ADMIN)).json()
    assert detail["payload"]["event"] == "ping" and detail["state"] == "delivered"


def test_rotation_signs_with_both_secrets_during_the_grace_period(world: World, receiver: Receiver) -> None:
    hook = _hook(world, receiver)
    old = hook["secret"]
    r = world.client.post(
        f"{HOOKS}/{hook['id']}/rotate-secret", json={"grace_s": 3600}, headers=auth(world, ADMIN)
    )
    assert r.status_code == 200, r.text
    new = r.json()["secret"]
    assert new != old and r.json()["secrets_in_grace"] == 1
    rt = _rt(world)
    for secrets in ([old], [new]):  # a receiver still on the old secret, and one already switched
        receiver.secrets[:] = secrets
        _ping(world, hook["id"])
        deliver_due(rt)
        assert receiver.got[-1].verified, receiver.got[-1].reason
    receiver.secrets[:] = [old]  # after the grace period only the new secret signs
    _ping(world, hook["id"])
    deliver_due(rt, now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=2))
    assert receiver.got[-1].reason == "bad_signature"
    assert receiver.got[-1].headers["CivicShield-Signature"].count("v1=") == 1
    revoke = world.client.post(
        f"{HOOKS}/{hook['id']}/rotate-secret", json={"grace_s": 0}, headers=auth(world, ADMIN)
    )
    assert revoke.json()["secrets_in_grace"] == 0


def test_create_validates_and_update_delete_manage(world: World, receiver: Receiver) -> None:
    admin = auth(world, ADMIN)
    for url in (
        "ftp://example.org/hook",
        "http://user:pw@example.org/hook",
        "http:///nohost",
        "javascript:alert(1)",
        "http://example.org/a b",
        "http://example.org:99999/",
        "https://example.org/#frag",
        "http://evil.example\\@good.example/",
    ):
        r = world.client.post(HOOKS, json={"url": url}, headers=admin)
        assert r.status_code == 400, (url, r.text)
        assert r.json()["error"]["code"] == "usage_error"
    bad_event = world.client.post(
        HOOKS, json={"url": receiver.url, "events": ["case.deleted"]}, headers=admin
    )
    assert bad_event.status_code == 422
    hook = _hook(world, receiver, events=["case.published"])
    base = f"{HOOKS}/{hook['id']}"
    r = world.client.patch(
        base,
        json={"events": ["bank.entry_added", "case.published"], "max_tlp": "CLEAR", "active": False},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["events"], r.json()["max_tlp"], r.json()["active"]) == (
        ["bank.entry_added", "case.published"],
        "CLEAR",
        False,
    )
    assert world.client.post(f"{base}/ping", headers=admin).status_code == 409  # inactive
    assert world.client.patch(base, json={"url": "http://a:b@x.org"}, headers=admin).status_code == 400
    world.client.patch(base, json={"active": True}, headers=admin)
    _ping(world, hook["id"])
    assert world.client.delete(base, headers=admin).status_code == 204
    assert world.client.get(base, headers=admin).status_code == 404
    assert deliver_due(_rt(world)) == []  # its deliveries went with it


def test_claims_are_exclusive_and_a_lost_worker_is_retried(world: World, receiver: Receiver) -> None:
    hook = _hook(world, receiver)
    for _ in range(6):
        _ping(world, hook["id"])
    rt, t0 = _rt(world), dt.datetime.now(dt.UTC)
    results: list[list[int]] = [[], [], []]

    def claim(i: int) -> None:
        results[i] = [c.delivery_id for c in claim_due(rt, now=t0, limit=4)]

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    claimed = [i for r in results for i in r]
    assert len(claimed) == len(set(claimed)) == 6  # nobody got a delivery twice
    assert deliver_due(rt, now=t0 + dt.timedelta(seconds=LEASE_S - 1)) == []  # leased to "dead" claimers
    outcomes = deliver_due(rt, now=t0 + dt.timedelta(seconds=LEASE_S + 1))  # leases over: claimed again
    assert sorted(o.delivery_id for o in outcomes) == sorted(claimed)
    assert {(o.state, o.attempt) for o in outcomes} == {("delivered", 2)}


def _wait_delivered(world: World, hook_id: int, count: int, timeout: float = 40) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    log: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        log = _log(world, hook_id)
        if sum(e["state"] == "delivered" for e in log) >= count:
            return log
        time.sleep(0.2)
    raise AssertionError(f"expected {count} delivered: {log}")


def test_a_worker_process_delivers_on_commit_and_on_its_sweep(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = ServiceSettings(
        data_dir=tmp_path / "data",
        secret_key="k",
        webhook_allowed_networks=LOOPBACK,
        analysis=core_analysis(tmp_path / "data"),
    )
    monkeypatch.setenv("CIVICSHIELD_WEBHOOK_ALLOWED_NETWORKS", ",".join(LOOPBACK))  # the worker's settings
    app = create_app(settings)
    world = _seed(settings, app)
    worker = _worker(settings, "hooks", tmp_path / "worker.log")
    try:
        hook = _hook(world, receiver)
        _ping(world, hook["id"])  # the API commits, then sends civicshield.deliver_webhooks
        _wait_delivered(world, hook["id"], 1)
        with _rt(world).db.session() as s:  # queued without waking anyone: the worker's sweep finds it
            body = alerts.envelope(s, world.ids["factcheck"], "ping", "CLEAR", {"via": "sweep"})
            s.add(Delivery(webhook_id=hook["id"], event="ping", payload=body))
        log = _wait_delivered(world, hook["id"], 2)
    finally:
        _stop(worker)
        app.state.rt.db.dispose()
    assert all(g.verified for g in receiver.got), (tmp_path / "worker.log").read_text()[-3000:]
    assert [g.json["data"].get("via") for g in receiver.got] == [None, "sweep"]
    assert {e["attempts"] for e in log} == {1}
