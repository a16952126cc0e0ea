"""``verify_copy`` and ``civicshield transparency verify`` on logs built for each failure the issue names:
tampered, truncated, forked, rewritten since a checkpoint, a forged signature, and malformed input."""

from __future__ import annotations

import base64
import copy as copying
import datetime as dt
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from civicshield.cli import app
from civicshield.transparency.log import FORMAT, LogEntry, SignedHead
from civicshield.transparency.merkle import tree_head
from civicshield.transparency.verify import public_key, verify_copy

AT = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)


def _key_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def _log(key: Ed25519PrivateKey, payloads: list[dict[str, Any]], head_sizes: list[int]) -> dict[str, Any]:
    entries = [
        LogEntry(n, "fact_check.published", "2026-12-05T12:00:00+00:00", p) for n, p in enumerate(payloads)
    ]
    heads = [
        SignedHead.sign(key, n, tree_head([e.leaf for e in entries[:n]]), AT).to_dict() for n in head_sizes
    ]
    return {
        "log": FORMAT,
        "public_key": _key_b64(key),
        "entries": [e.to_dict() for e in entries],
        "heads": heads,
    }


PAYLOADS = [{"url": f"https://cs.example/fact-checks/{n}", "rating": "false"} for n in range(6)]


def test_an_intact_log_verifies_with_the_pinned_key() -> None:
    key = Ed25519PrivateKey.generate()
    result = verify_copy(_log(key, PAYLOADS, [3, 6]), trusted_key=public_key(_key_b64(key)))
    assert result.ok and (result.entries, result.heads) == (6, 2) and not result.key_from_copy


def test_a_changed_entry_is_tampering() -> None:
    key = Ed25519PrivateKey.generate()
    log = _log(key, PAYLOADS, [3, 6])
    log["entries"][4]["payload"]["rating"] = "authentic"
    result = verify_copy(log)
    assert [p.split(":")[0] for p in result.problems] == ["tampered"]


def test_a_missing_tail_is_truncation_and_a_missing_middle_is_out_of_sequence() -> None:
    key = Ed25519PrivateKey.generate()
    log = _log(key, PAYLOADS, [6])
    cut = copying.deepcopy(log)
    del cut["entries"][5]
    assert any(p.startswith("truncated") for p in verify_copy(cut).problems)
    hole = copying.deepcopy(log)
    del hole["entries"][2]
    assert any("out of sequence" in p for p in verify_copy(hole).problems)


def test_two_histories_signed_for_the_same_size_are_a_fork() -> None:
    key = Ed25519PrivateKey.generate()
    log = _log(key, PAYLOADS, [6])
    other = _log(key, [*PAYLOADS[:5], {"url": "https://cs.example/other"}], [6])
    log["heads"].append(other["heads"][0])
    assert any(p.startswith("forked") for p in verify_copy(log).problems)


def test_history_rewritten_and_re_signed_is_caught_by_a_checkpoint() -> None:
    key = Ed25519PrivateKey.generate()
    before = _log(key, PAYLOADS, [6])
    checkpoint = before["heads"][0]
    rewritten = _log(
        key, [{"url": "https://cs.example/fact-checks/0", "rating": "authentic"}, *PAYLOADS[1:]], [6]
    )
    assert verify_copy(rewritten).ok  # consistent with itself: only a checkpoint shows the rewrite
    result = verify_copy(rewritten, checkpoint=checkpoint)
    assert any(
        p.startswith("rewritten since the checkpoint") or p.startswith("forked") for p in result.problems
    )


def test_a_head_signed_by_another_key_is_refused() -> None:
    key, mallory = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    log = _log(mallory, PAYLOADS, [6])
    assert any("signature" in p for p in verify_copy(log, trusted_key=key.public_key()).problems)


def test_the_command_line_exits_6_on_a_bad_copy_and_2_on_bad_input(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    good, bad, junk = tmp_path / "good.json", tmp_path / "bad.json", tmp_path / "junk.json"
    log = _log(key, PAYLOADS, [6])
    good.write_text(json.dumps(log), encoding="utf-8")
    log["entries"][0]["payload"]["url"] = "https://elsewhere.example/"
    bad.write_text(json.dumps(log), encoding="utf-8")
    junk.write_text("{not json", encoding="utf-8")
    runner = CliRunner()
    ok = runner.invoke(app, ["transparency", "verify", str(good), "--key", _key_b64(key)])
    assert ok.exit_code == 0 and "verified: 6 entries, 1 signed heads" in ok.output
    failed = runner.invoke(app, ["transparency", "verify", str(bad), "--key", _key_b64(key)])
    assert failed.exit_code == 6 and "tampered" in failed.output
    assert runner.invoke(app, ["transparency", "verify", str(junk)]).exit_code == 2
    assert runner.invoke(app, ["transparency", "verify", str(good), "--key", "not-a-key"]).exit_code == 2
