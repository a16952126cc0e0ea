"""Protected people's faces and voices in the ``impersonation`` analyzer, on real labelled files.

Who is who comes from the development set's sources, not from our models: PhotoMaker's photos of one
person (``examples/yangmi_woman/``), deepface's labelled group photo, Tortoise's real reference recordings
of a voice (``tortoise/voices/pat/``) and Tortoise's clone of that voice. Precision first: a genuine photo
or recording of a protected person shows a likeness and is not accused; the likeness plus another line of
evidence (declared generation, a synthetic-speech detection) is ``impersonation_suspected``.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin
from typer.testing import CliRunner

from civicshield.analyzers.impersonation import reference_face, reference_voice
from civicshield.cli import app
from civicshield.errors import UsageError
from civicshield.media import Media
from civicshield.pipeline import Engine
from civicshield.protection.watchlist import ProtectedPerson, Watchlist, person_table
from civicshield.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEV = Path(os.environ.get("CIVICSHIELD_DATASETS", ROOT.parent / "shared" / "datasets")).resolve() / "dev"


def _by_source(fragment: str) -> list[Path]:
    with (DEV / "manifest.csv").open(newline="", encoding="utf-8") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda r: r["source_path"])
    found = [DEV / r["path"] for r in rows if fragment in r["source_path"]]
    assert found, f"nothing in the dev set from {fragment}"
    return found


def _verdict(settings: Settings, path: Path) -> tuple[str, set[str]]:
    engine = Engine.from_settings(settings)
    try:
        verdict = engine.analyze(engine.open(path))
    finally:
        engine.close()
    codes = {f.code for s in verdict.signals for f in s.findings}
    return str(verdict.label), codes


def _settings(tmp_path: Path, person: ProtectedPerson, analyzers: tuple[str, ...]) -> Settings:
    path = tmp_path / "watchlist.toml"
    path.write_text(person_table(person), encoding="utf-8")
    assert Watchlist.load(path).people[0].name == person.name
    return Settings(data_dir=tmp_path / "data", watchlist=path, analyzers=analyzers)


def test_a_face_enrolled_from_one_photo_is_found_in_another_and_alone_accuses_no_one(tmp_path: Path) -> None:
    first, second, *_ = _by_source("examples/yangmi_woman/")
    person = ProtectedPerson("Yang Example", faces=(reference_face(Media.open(first)),))
    settings = _settings(tmp_path, person, ("c2pa", "metadata", "impersonation"))
    label, codes = _verdict(settings, second)  # a genuine photo of the protected person
    assert "impersonation.face_match" in codes
    assert label != "impersonation_suspected"


def test_the_face_of_a_protected_person_in_a_declared_generation_is_a_suspected_impersonation(
    tmp_path: Path,
) -> None:
    first, second, *_ = _by_source("examples/yangmi_woman/")
    person = ProtectedPerson("Yang Example", faces=(reference_face(Media.open(first)),))
    settings = _settings(tmp_path, person, ("c2pa", "metadata", "impersonation"))
    fake = tmp_path / "candidate.png"
    info = PngImagePlugin.PngInfo()  # what Stable Diffusion web UIs write into their PNGs
    info.add_text("parameters", "portrait of a politician, Steps: 30, Sampler: Euler a, Model: sdxl_base")
    Image.open(second).convert("RGB").save(fake, pnginfo=info)
    label, codes = _verdict(settings, fake)
    assert label == "impersonation_suspected"
    assert "impersonation.face_match" in codes


def test_someone_else_is_not_the_protected_person(tmp_path: Path) -> None:
    (yang, *_) = _by_source("examples/yangmi_woman/")
    person = ProtectedPerson("Yang Example", faces=(reference_face(Media.open(yang)),))
    settings = _settings(tmp_path, person, ("impersonation",))
    for other in _by_source("examples/scarletthead_woman/")[:2] + _by_source("tests/unit/dataset/img1.jpg"):
        assert "impersonation.face_match" not in _verdict(settings, other)[1]


def test_a_voice_clone_of_a_protected_person_flagged_as_synthetic_is_a_suspected_impersonation(
    tmp_path: Path,
) -> None:
    references = _by_source("tortoise/voices/pat/")
    person = ProtectedPerson("Pat Example", voices=tuple(reference_voice(Media.open(p)) for p in references))
    settings = _settings(tmp_path, person, ("c2pa", "speech_detector", "impersonation"))
    clones = [p for p in _by_source("/pat.mp3")]  # Tortoise's clones of that voice
    outcomes = [_verdict(settings, clone) for clone in clones]
    assert any("impersonation.voice_match" in codes for _, codes in outcomes)
    for label, codes in outcomes:  # only a clone the speech detector also flags is called impersonation
        # (the speech detector gives weak signs only; with a protected voice matched, they corroborate)
        flagged = bool(codes & {"detector.synthetic", "detector.possibly_synthetic"})
        flagged_and_matched = flagged and "impersonation.voice_match" in codes
        assert (label == "impersonation_suspected") is flagged_and_matched
    assert any(label == "impersonation_suspected" for label, _ in outcomes)


def test_another_speaker_does_not_sound_like_the_protected_person(tmp_path: Path) -> None:
    references = _by_source("tortoise/voices/pat/")
    person = ProtectedPerson("Pat Example", voices=tuple(reference_voice(Media.open(p)) for p in references))
    settings = _settings(tmp_path, person, ("impersonation",))
    for other in _by_source("tortoise/voices/freeman/") + _by_source("librispeech")[:3]:
        assert "impersonation.voice_match" not in _verdict(settings, other)[1]


def test_references_that_cannot_identify_anyone_are_refused_with_the_reason(tmp_path: Path) -> None:
    group = _by_source("selfie-many-people.jpg")[0]
    with pytest.raises(UsageError, match="faces of similar size"):
        reference_face(Media.open(group))
    blank = tmp_path / "blank.png"
    Image.new("RGB", (320, 240), (120, 160, 200)).save(blank)
    with pytest.raises(UsageError, match="no face"):
        reference_face(Media.open(blank))
    with pytest.raises(UsageError, match="photo"):
        reference_face(Media.open(_by_source("tortoise/voices/pat/")[0]))
    with pytest.raises(UsageError, match="audio or video"):
        reference_voice(Media.open(blank))


def test_enrol_appends_embeddings_and_show_lists_them(tmp_path: Path) -> None:
    watchlist = tmp_path / "w.toml"
    photos = _by_source("examples/yangmi_woman/")
    runner = CliRunner()
    first = runner.invoke(
        app, ["watchlist", "enrol", str(watchlist), "--name", "Yang Example", "--face", str(photos[0])]
    )
    assert first.exit_code == 0, first.output
    again = runner.invoke(
        app,
        [
            "watchlist",
            "enrol",
            str(watchlist),
            "--name",
            "Yang Example",
            "--face",
            str(photos[1]),
            "--alias",
            "Y. Example",
        ],
    )
    assert again.exit_code == 0, again.output
    person = Watchlist.load(watchlist).person("yang example")
    assert person is not None and (len(person.faces), person.aliases) == (2, ("Y. Example",))
    assert str(photos[0]) not in watchlist.read_text(encoding="utf-8")  # embeddings, not the reference file
    refused = runner.invoke(app, ["watchlist", "enrol", str(watchlist), "--name", "Yang Example"])
    assert refused.exit_code == 2 and "already" in refused.output
    shown = runner.invoke(app, ["watchlist", "show", str(watchlist)])
    assert shown.exit_code == 0 and "Yang Example" in shown.output
