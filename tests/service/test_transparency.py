"""The public transparency log in the service (issue 15): only public (TLP:CLEAR) fact-checks and bank
entries enter it; heads are signed; the API's proofs verify with the RFC 9162 algorithms; a downloaded copy
verifies with ``civicshield transparency verify`` and stops verifying once a stored entry is changed.
SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import update
from typer.testing import CliRunner

from civicshield.cli import app
from civicshield.service.domain.tables import TransparencyEntry
from civicshield.transparency.merkle import verify_consistency, verify_inclusion
from civicshield.transparency.verify import public_key, verify_copy

from .conftest import World, auth
from .test_events import _publish

PDQ = "f" * 16 + "0" * 16 + "a5" * 16


def test_the_public_log_holds_only_public_facts_and_its_proofs_verify(world: World, tmp_path: Path) -> None:
    public = _publish(world, 11, "A fake poster about postal votes", "false")
    secret = _publish(world, 12, "A restricted case", "false", tlp="AMBER")
    first = world.client.get("/api/v1/transparency/head").json()  # no sign-in: the log is public
    assert first["size"] == 1
    bank = world.client.post(
        "/api/v1/banks",
        json={"name": "public-fakes", "tlp": "CLEAR"},
        headers=auth(world, "factcheck:reviewer"),
    ).json()
    added = world.client.post(
        f"/api/v1/banks/{bank['id']}/entries",
        json={"entries": [{"signal_type": "pdq", "hash": PDQ, "quality": 100, "label": "fake poster"}]},
        headers=auth(world, "factcheck:reviewer"),
    )
    assert added.status_code == 201, added.text
    amber = world.client.post(
        "/api/v1/banks", json={"name": "partners", "tlp": "AMBER"}, headers=auth(world, "factcheck:reviewer")
    ).json()
    world.client.post(
        f"/api/v1/banks/{amber['id']}/entries",
        json={"entries": [{"signal_type": "pdq", "hash": "0" * 48 + "ff" * 8, "quality": 90}]},
        headers=auth(world, "factcheck:reviewer"),
    )
    second = world.client.get("/api/v1/transparency/head").json()
    assert second["size"] == 2
    entries = world.client.get("/api/v1/transparency/entries").json()
    assert [e["kind"] for e in entries] == ["fact_check.published", "bank.entry_added"]
    assert public in entries[0]["payload"]["url"] and secret not in json.dumps(entries)
    assert entries[1]["payload"]["value"] == PDQ

    key = public_key(second["public_key"])
    log = world.client.get("/api/v1/transparency/log").json()
    assert verify_copy(log, trusted_key=key).ok
    leaves = [bytes.fromhex(h) for h in _leaves(log)]
    proof = world.client.get("/api/v1/transparency/proof/inclusion?seq=0&tree_size=2").json()["path"]
    assert verify_inclusion(leaves[0], 0, 2, [bytes.fromhex(h) for h in proof], bytes.fromhex(second["root"]))
    grown = world.client.get("/api/v1/transparency/proof/consistency?first=1&second=2").json()["path"]
    assert verify_consistency(
        1, 2, [bytes.fromhex(h) for h in grown], bytes.fromhex(first["root"]), bytes.fromhex(second["root"])
    )
    assert world.client.get("/api/v1/transparency/proof/inclusion?seq=5&tree_size=2").status_code == 400
    assert world.client.get("/api/v1/transparency/proof/consistency?first=1&second=9").status_code == 404

    saved = tmp_path / "log.json"
    saved.write_text(json.dumps(log), encoding="utf-8")
    runner = CliRunner()
    assert (
        runner.invoke(app, ["transparency", "verify", str(saved), "--key", second["public_key"]]).exit_code
        == 0
    )
    rt = world.client.app.state.rt  # type: ignore[attr-defined]
    with rt.db.session() as s:  # someone with database access rewrites history
        s.execute(update(TransparencyEntry).where(TransparencyEntry.seq == 0).values(payload={"url": "x"}))
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(world.client.get("/api/v1/transparency/log").json()), encoding="utf-8")
    result = runner.invoke(app, ["transparency", "verify", str(forged), "--key", second["public_key"]])
    assert result.exit_code == 6 and "tampered" in result.output


def _leaves(log: dict[str, object]) -> list[str]:
    from civicshield.transparency.log import LogEntry

    return [
        LogEntry(e["seq"], e["kind"], e["at"], e["payload"]).leaf.hex()  # type: ignore[index]
        for e in log["entries"]  # type: ignore[attr-defined]
    ]


def test_public_statistics_count_public_fact_checks_only(world: World) -> None:
    _publish(world, 21, "Fake video of a candidate", "false")
    _publish(world, 22, "Genuine photo said to be fake", "authentic")
    _publish(world, 23, "Restricted", "manipulated", tlp="AMBER")
    data = world.client.get("/api/v1/transparency/stats").json()  # public, no sign-in
    assert data["fact_checks"] == 2 and data["ratings"] == {"false": 1, "authentic": 1}
    assert sum(w["fact_checks"] for w in data["per_week"]) == 2
    assert data["median_hours_to_publication"] is not None and data["median_hours_to_publication"] >= 0
    assert data["transparency_log_entries"] == 2
    assert world.client.get("/api/v1/transparency/stats?year=2001").json()["fact_checks"] == 0
    csv = world.client.get("/api/v1/transparency/stats.csv")
    assert csv.headers["content-type"].startswith("text/csv") and csv.text.startswith("week,fact_checks\r\n")
    assert csv.text.strip().split("\r\n")[1].endswith(",2")
    page = world.client.get("/transparency")
    assert page.status_code == 200 and "2 public fact-checks" in page.text and "<svg" in page.text
    assert "civicshield transparency verify log.json --key" in page.text and "Restricted" not in page.text
