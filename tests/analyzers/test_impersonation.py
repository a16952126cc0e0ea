"""``impersonation``: protected people and domains in real files, and what the verdict makes of them.

The QR codes are written by zxing-cpp's own encoder; the posters are drawn; the lookalikes are typos and
letter swaps made by hand. Precision first: a genuine file that merely names a protected person is never
labelled an impersonation.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PIL import Image, PngImagePlugin
from typer.testing import CliRunner

from civicshield.analyzers.impersonation import ImpersonationAnalyzer
from civicshield.cli import app
from civicshield.demo import synth
from civicshield.errors import InvalidSetting
from civicshield.media import Media
from civicshield.pipeline import Engine
from civicshield.settings import Settings

WATCHLIST = """
[[person]]
name = "Anna de Vries"
organization = "Kiesraad"

[[domain]]
name = "kiesraad.nl"
organization = "Kiesraad"
"""
LINEUP = ("c2pa", "metadata", "impersonation")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    path = tmp_path / "watchlist.toml"
    path.write_text(WATCHLIST, encoding="utf-8")
    return Settings(data_dir=tmp_path / "data", watchlist=path, analyzers=LINEUP)


def _poster_with_qr(path: Path, url: str) -> Path:
    poster = synth.poster("VOTE ONLINE", size=(640, 480), seed=3).convert("RGB")
    code = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode).to_image(scale=5)
    poster.paste(Image.fromarray(np.asarray(code)).convert("RGB"), (400, 240))
    poster.save(path, format="PNG")
    return path


def _verdict(settings: Settings, path: Path) -> tuple[str, list[str]]:
    engine = Engine.from_settings(settings)
    try:
        verdict = engine.analyze(engine.open(path))
    finally:
        engine.close()
    return str(verdict.label), [r.code or "" for r in verdict.reasons if r.decisive]


def test_a_qr_code_to_a_lookalike_domain_is_a_suspected_impersonation(
    settings: Settings, tmp_path: Path
) -> None:
    path = _poster_with_qr(tmp_path / "poster.png", "https://kiesraad-stemmen.com/registreer")
    signal = ImpersonationAnalyzer.from_settings(settings).analyze(Media.open(path))
    assert not signal.abstained and signal.score is not None and signal.score >= 0.9
    (finding,) = signal.findings
    assert finding.code == "impersonation.lookalike_domain"
    assert finding.detail["host"] == "kiesraad-stemmen.com" and finding.detail["where"] == "QR code"
    assert _verdict(settings, path) == ("impersonation_suspected", ["impersonation.lookalike_domain"])


def test_a_qr_code_to_the_official_domain_is_not(settings: Settings, tmp_path: Path) -> None:
    path = _poster_with_qr(tmp_path / "poster.png", "https://www.kiesraad.nl/verkiezingen")
    signal = ImpersonationAnalyzer.from_settings(settings).analyze(Media.open(path))
    assert signal.abstained and signal.evidence["official_links"] == ["www.kiesraad.nl"]
    assert _verdict(settings, path)[0] == "inconclusive"


def test_a_genuine_file_that_names_a_protected_person_is_not_accused(
    settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "anna_de_vries_campaign_visit.jpg"
    synth.save_image(synth.poster("TOWN HALL", size=(480, 360), seed=8), path)
    signal = ImpersonationAnalyzer.from_settings(settings).analyze(Media.open(path))
    assert signal.abstained and [f.code for f in signal.findings] == ["impersonation.person_named"]
    assert "Anna de Vries" in signal.findings[0].message
    assert _verdict(settings, path)[0] == "inconclusive"


def test_a_protected_person_in_a_declared_generation_is_a_suspected_impersonation(
    settings: Settings, tmp_path: Path
) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text(
        "parameters", "Anna de Vries giving a speech, photorealistic\nSteps: 30, Sampler: Euler a, Seed: 1"
    )
    path = tmp_path / "speech.png"
    synth.poster("SPEECH", size=(512, 384), seed=9).save(path, pnginfo=info)
    label, decisive = _verdict(settings, path)
    assert label == "impersonation_suspected"
    assert set(decisive) == {"impersonation.person_named", "metadata.generator"}


def test_without_a_watchlist_it_abstains(tmp_path: Path) -> None:
    path = _poster_with_qr(tmp_path / "poster.png", "https://kiesraad-stemmen.com/")
    signal = ImpersonationAnalyzer.from_settings(Settings()).analyze(Media.open(path))
    assert signal.abstained and "no watchlist" in signal.summary


def test_a_wrong_watchlist_stops_the_start(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[person]]\nname = 'Ann'\n", encoding="utf-8")
    with pytest.raises(InvalidSetting, match="names under 5 characters"):
        Engine.from_settings(Settings(watchlist=bad, analyzers=LINEUP))


def test_the_command_line_takes_a_watchlist(settings: Settings, tmp_path: Path) -> None:
    path = _poster_with_qr(tmp_path / "poster.png", "http://ki\u0435sraad.nl/login")  # a Cyrillic е
    assert settings.watchlist is not None
    result = CliRunner().invoke(
        app,
        ["analyze", str(path), "--json", "--watchlist", str(settings.watchlist), "-a", "impersonation"],
    )
    assert result.exit_code == 0, result.output
    (item,) = json.loads(result.output)["items"]
    assert item["verdict"]["label"] == "impersonation_suspected"
    reasons = [r["text"] for r in item["verdict"]["reasons"] if r["decisive"]]
    assert any("imitates the protected domain kiesraad.nl" in text for text in reasons)


def test_a_qr_code_to_a_lookalike_handle_is_a_suspected_impersonation(tmp_path: Path) -> None:
    path = tmp_path / "watchlist.toml"
    path.write_text('[[handle]]\nplatform = "x"\nname = "kiesraad_nl"\n', encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", watchlist=path, analyzers=LINEUP)
    fake = _poster_with_qr(tmp_path / "follow.png", "https://x.com/kiesraad_nI")  # capital I, not l
    label, decisive = _verdict(settings, fake)
    assert label == "impersonation_suspected" and "impersonation.lookalike_handle" in decisive
    real = _poster_with_qr(tmp_path / "real.png", "https://x.com/kiesraad_nl")
    assert _verdict(settings, real)[0] != "impersonation_suspected"


def test_a_protected_name_in_content_credentials_is_found(settings: Settings, tmp_path: Path) -> None:
    """A picture signed with c2pa's own Builder whose title names the protected person, declared generated by
    AI: the name in the credentials plus the declared generation is a suspected impersonation."""
    from civicshield.signing import make_demo_signer, sign_media

    chain, key = make_demo_signer(tmp_path / "signer", organization="Deepfake Studio")
    src = tmp_path / "plain.jpg"
    synth.poster("RALLY", size=(512, 384), seed=5).convert("RGB").save(src, format="JPEG")
    signed = tmp_path / "signed.jpg"
    sign_media(
        src,
        signed,
        cert_chain_pem=chain.read_bytes(),
        private_key_pem=key.read_bytes(),
        organization="Deepfake Studio",
        digital_source_type="trainedAlgorithmicMedia",
        title="Anna de Vries concedes the election",
    )
    engine = Engine.from_settings(settings)
    try:
        verdict = engine.analyze(engine.open(signed))
    finally:
        engine.close()
    named = [f for s in verdict.signals for f in s.findings if f.code == "impersonation.person_named"]
    assert named and "Content Credentials" in named[0].message
    assert str(verdict.label) == "impersonation_suspected"


def test_a_copy_of_a_protected_visual_is_named_and_accuses_only_with_other_evidence(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from civicshield.cli import app as cli

    official = tmp_path / "official.png"
    synth.poster("VOTE 17 MARCH", size=(640, 480), seed=41).convert("RGB").save(official)
    watchlist = tmp_path / "watchlist.toml"
    made = CliRunner().invoke(
        cli, ["watchlist", "visual", str(watchlist), str(official), "--name", "Ballot poster"]
    )
    assert made.exit_code == 0, made.output
    settings = Settings(data_dir=tmp_path / "data", watchlist=watchlist, analyzers=LINEUP)
    mirrored = tmp_path / "mirrored.jpg"
    Image.open(official).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(mirrored, quality=80)
    label, _ = _verdict(settings, mirrored)
    codes = _codes(settings, mirrored)
    assert "impersonation.visual_match" in codes and label != "impersonation_suspected"
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "election poster, Steps: 20, Sampler: DPM++ 2M")
    generated = tmp_path / "generated.png"
    Image.open(official).save(generated, pnginfo=info)
    assert _verdict(settings, generated)[0] == "impersonation_suspected"
    other = tmp_path / "other.png"
    synth.poster("CONCERT TONIGHT", size=(640, 480), seed=42).convert("RGB").save(other)
    assert "impersonation.visual_match" not in _codes(settings, other)


def _codes(settings: Settings, path: Path) -> set[str]:
    engine = Engine.from_settings(settings)
    try:
        verdict = engine.analyze(engine.open(path))
    finally:
        engine.close()
    return {f.code for s in verdict.signals for f in s.findings}
