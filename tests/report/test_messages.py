"""The verdict in nl, fr and de: catalogues complete against the English reference, every finding code the
library emits translated, numbers taken from the finding's own detail, English as the fallback."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from civicshield.cli.app import app
from civicshield.media import Media
from civicshield.pipeline import Engine
from civicshield.report import messages
from civicshield.settings import Settings

SRC = Path(__file__).resolve().parents[2] / "src" / "civicshield"
OTHERS = [lang for lang in messages.LANGUAGES if lang != "en"]


@pytest.mark.parametrize("lang", OTHERS)
def test_every_catalogue_has_the_references_keys_and_placeholders(lang: str) -> None:
    reference, other = messages.catalogue("en"), messages.catalogue(lang)
    for part in messages.PARTS:
        assert other[part].keys() == reference[part].keys(), part
        for key, template in reference[part].items():
            assert messages.placeholders(other[part][key]) == messages.placeholders(template), key
            assert other[part][key] != template, f"{lang} {key} is not translated"


def test_every_verdict_label_of_the_policy_has_a_headline() -> None:
    policy = json.loads((SRC / "data" / "policy" / "default.json").read_text())
    labels = {r["label"] for r in policy["rules"]} | {policy["fallback"]["label"]}
    assert labels <= messages.catalogue("en")["headline"].keys()


def test_every_verdict_label_has_words_in_every_language_and_english_is_the_reports() -> None:
    from civicshield.fusion import Label
    from civicshield.report.html import LABEL_TEXT

    english = messages.catalogue("en")["label"]
    assert english == {label: words for label, (_, words) in LABEL_TEXT.items()}
    assert set(english) == {str(label) for label in Label}
    assert (
        messages.label_words("possibly_synthetic", "x", "nl")
        == "Onzeker: zwakke aanwijzingen voor AI-generatie"
    )


@pytest.mark.parametrize("lang", ["nl", "fr"])
def test_a_verdict_reads_the_same_in_the_report_and_on_the_pages(lang: str) -> None:
    """One wording per language: the CLI and its HTML report (message catalogues) and the service's pages
    (gettext catalogues) name each verdict alike."""
    from civicshield.service.pages import i18n, labels

    words = messages.catalogue(lang)["label"]
    for label, english in labels.VERDICT_WORDS.items():
        if label in words:
            assert words[label] == i18n.gettext(lang, english), label


def _emitted_codes() -> set[str]:
    """Finding codes written in the source: literals passed to ``Finding``, the constants analyzers pass,
    and the codes built from parts (listed with where they come from)."""
    code = r"\"([a-z][a-z_0-9]*\.[a-z][a-z_0-9]*)\""
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r"Finding\(\s*" + code, text))
        if "Finding(" in text:
            found |= set(re.findall(r"^[A-Z_]+ = " + code, text, flags=re.M))
    built = {
        "known_fakes.resembles",  # analyzers/banks.py: f"{self.name}.resembles"
        "official_media.resembles",
        "impersonation.face_match",  # analyzers/impersonation.py: f"impersonation.{hit.kind}_match"
        "impersonation.voice_match",
        "watermark.sd1",  # analyzers/watermark.py: the schemes' codes
        "watermark.sdxl",
    }
    return found | built


def test_every_finding_code_the_library_emits_is_translated() -> None:
    emitted = _emitted_codes()
    assert {"detector.synthetic", "c2pa.tampered", "known_fakes.allowlisted", "metadata.camera"} <= emitted
    assert emitted <= messages.catalogue("en")["reason"].keys()


def test_placeholders_come_from_the_detail_and_missing_ones_fall_back_to_english() -> None:
    detail = {"detector": "clip_detector", "probability": 0.9712, "threshold": 0.955949, "model_version": "x"}
    english = "CLIP detector: probability 0.97 of AI generation, at or above its threshold 0.96"
    assert messages.reason("detector.synthetic", detail, english, "nl") == (
        "Detector clip_detector: kans 0.97 op AI-generatie, op of boven de drempel 0.96"
    )
    assert messages.reason("detector.synthetic", {"probability": 0.97}, english, "de") == english
    assert messages.reason("no.such_code", detail, english, "fr") == english
    assert messages.reason("detector.synthetic", detail, english, "en") == english
    assert (
        messages.reason("video_detector.undecodable", {}, "x", "de")
        == "Diese Prüfung konnte die Datei nicht dekodieren"
    )


def test_a_real_verdict_reads_in_dutch_with_its_credentials_facts(testdata: Path) -> None:
    """Adobe Firefly's own file: its credentials declare AI generation (``reference_results.md``)."""
    path = testdata / "c2pa-real" / "contentauth-example-assets" / "Firefly_tabby_cat.jpg"
    engine = Engine.from_settings(Settings(analyzers=("c2pa", "metadata")))
    report = engine.analyze(Media.open(path)).to_dict()
    assert report["verdict"]["label"] == "ai_generated_declared"
    dutch = messages.translated(report, "nl")
    assert dutch["verdict"]["headline"] == messages.catalogue("nl")["headline"]["ai_generated_declared"]
    texts = [r["text"] for r in dutch["verdict"]["reasons"] if r["code"] == "c2pa.ai_declared"]
    assert texts == ["De Content Credentials verklaren dat het met AI is gemaakt"]
    signed = [
        r["text"]
        for r in dutch["verdict"]["reasons"]
        if r["code"] in ("c2pa.trusted", "c2pa.valid_untrusted")
    ]
    assert signed and "Adobe" in signed[0]  # the signer's name, from the finding's own detail
    assert messages.translated(report, "en") == report


def test_the_command_line_speaks_german(testdata: Path, tmp_path: Path) -> None:
    path = testdata / "c2pa-real" / "contentauth-example-assets" / "Firefly_tabby_cat.jpg"
    args = ["analyze", str(path), "-a", "c2pa", "-a", "metadata", "-v", "--lang", "de"]
    done = CliRunner().invoke(app, [*args, "--report", str(tmp_path / "r.html")], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    assert "erklären" in done.output  # the table wraps at the terminal's width: one word of the German reason
    html = (tmp_path / "r.html").read_text()
    assert "Die Content Credentials erklären eine KI-Erzeugung" in html
    assert messages.catalogue("de")["headline"]["ai_generated_declared"] in html
    assert "🤖 KI-erzeugt (erklärt)" in html  # the verdict's badge too
    assert "KI-erzeugt" in done.output
    refused = CliRunner().invoke(app, ["analyze", str(path), "--lang", "xx"])
    assert refused.exit_code == 2
