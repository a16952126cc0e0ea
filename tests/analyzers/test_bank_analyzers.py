"""``known_fakes`` and ``official_media`` against banks built from fixtures with the real store on disk."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from civicshield.analyzers.banks import KnownFakesAnalyzer, OfficialMediaAnalyzer
from civicshield.banks import BankKind, BankStore, register_official
from civicshield.errors import AnalyzerUnavailable
from civicshield.media import Media
from civicshield.settings import Settings


def jpeg(img: Image.Image, name: str, quality: int = 70) -> Media:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return Media.from_bytes(buf.getvalue(), name=name)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path)


@pytest.fixture
def store(settings: Settings) -> BankStore:
    return BankStore.from_settings(settings)


def test_no_banks_means_abstain(settings: Settings, bridge: Path) -> None:
    for cls in (KnownFakesAnalyzer, OfficialMediaAnalyzer):
        signal = cls.from_settings(settings).analyze(Media.open(bridge))
        assert signal.abstained
        assert "no " in (signal.abstain_reason or "")


def test_resized_reencoded_copy_is_a_known_fake(settings: Settings, store: BankStore, bridge: Path) -> None:
    store.create("debunked", BankKind.KNOWN_FAKE)
    store.add_media("debunked", Media.open(bridge), "Fake: bridge collapse", "https://fc.example/42")
    analyzer = KnownFakesAnalyzer.from_settings(settings)
    original = Image.open(bridge)
    copy = jpeg(original.resize((original.width // 3, original.height // 3)), "shared.jpg", quality=60)
    signal = analyzer.analyze(copy)
    assert signal.score is not None
    assert signal.score >= 0.95
    finding = signal.findings[0]
    assert finding.code == "known_fakes.match"
    assert finding.detail["bank"] == "debunked"
    assert finding.detail["label"] == "Fake: bridge collapse"
    assert finding.detail["link"] == "https://fc.example/42"
    assert finding.detail["signal_type"] == "pdq"
    assert finding.detail["distance"] <= 31
    assert analyzer.analyze(Media.open(bridge)).score == 0.99  # the very file


def test_unrelated_image_is_not_a_known_fake(
    settings: Settings, store: BankStore, bridge: Path, testdata: Path
) -> None:
    store.create("debunked", BankKind.KNOWN_FAKE)
    store.add_media("debunked", Media.open(bridge), "Fake: bridge collapse")
    other = Media.open(testdata / "threatexchange/pdq/images/reg-test-input/pen-and-coaster.png")
    signal = KnownFakesAnalyzer.from_settings(settings).analyze(other)
    assert signal.abstained
    assert signal.abstain_reason == "not in any known-fake bank; unseen fakes are not caught by this check"


def test_official_image_exact_and_altered(settings: Settings, store: BankStore, bridge: Path) -> None:
    register_official(store, Media.open(bridge), "Ministry photo of the bridge", "https://gov.example/p/1")
    analyzer = OfficialMediaAnalyzer.from_settings(settings)

    exact = analyzer.analyze(Media.open(bridge))
    assert exact.score == 0.0
    assert exact.findings[0].code == "official_media.exact"
    assert exact.findings[0].detail["original_name"] == "aaa-orig.jpg"

    img = Image.open(bridge).convert("RGB")
    w, h = img.size
    edited = img.crop((w // 100, h // 100, w - w // 100, h - h // 100))  # trimmed edges
    ImageDraw.Draw(edited).rectangle((40, 40, 260, 120), fill=(200, 20, 20))  # a pasted-on banner
    altered = analyzer.analyze(jpeg(edited, "edited.jpg"))
    assert altered.score is not None
    assert altered.score >= 0.8
    finding = altered.findings[0]
    assert finding.code == "official_media.altered"
    assert "whose bytes differ" in finding.message
    assert finding.detail["label"] == "Ministry photo of the bridge"
    assert finding.detail["original_sha256"] == Media.open(bridge).sha256
    assert 0 < finding.detail["distance"] <= 31


def test_known_fake_video_reencoded_and_trimmed(
    settings: Settings, store: BankStore, bridge: Path, video_maker: Callable[..., bytes]
) -> None:
    store.create("debunked", BankKind.KNOWN_FAKE)
    fake = Media.from_bytes(video_maker(bridge), name="fake.mp4")
    store.add_media("debunked", fake, "Fake: bridge video")
    reupload = Media.from_bytes(video_maker(bridge, size=(192, 120), start_s=0.5, seconds=9), name="re.mp4")
    signal = KnownFakesAnalyzer.from_settings(settings).analyze(reupload)
    assert signal.score == 0.97
    detail = signal.findings[0].detail
    assert detail["signal_type"] == "vpdq"
    assert detail["query_match_pct"] >= 80


def test_revoiced_official_video(
    settings: Settings, store: BankStore, bridge: Path, testdata: Path, video_maker: Callable[..., bytes]
) -> None:
    speech = testdata / "c2pa/c2pa-rs/fixtures/sample1.wav"
    official = Media.from_bytes(video_maker(bridge, audio=speech), name="address.mp4")
    added = register_official(store, official, "Official address", "https://gov.example/v/7")
    assert {e.signal_type.value for e in added} == {"sha256", "vpdq", "chromaprint"}
    analyzer = OfficialMediaAnalyzer.from_settings(settings)

    other_voice = testdata / "c2pa/c2pa-rs/fixtures/sample1.mp3"
    fake = Media.from_bytes(
        video_maker(bridge, size=(256, 160), audio=other_voice, audio_start_s=30), name="address-dub.mp4"
    )
    signal = analyzer.analyze(fake)
    assert signal.score == 0.95
    finding = signal.findings[0]
    assert finding.code == "official_media.altered"
    assert finding.detail["audio_differs"] is True
    assert "sound track does not" in finding.message

    same_voice = Media.from_bytes(
        video_maker(bridge, size=(256, 160), audio=speech), name="address-small.mp4"
    )
    plain = analyzer.analyze(same_voice)
    assert plain.score == 0.85
    assert sorted(plain.findings[0].detail["matched_signals"]) == ["chromaprint", "vpdq"]
    assert "audio_differs" not in plain.findings[0].detail


def test_official_audio_reused_with_other_pictures(
    settings: Settings, store: BankStore, testdata: Path, video_maker: Callable[..., bytes], bridge: Path
) -> None:
    speech = testdata / "c2pa/c2pa-rs/fixtures/sample1.wav"
    register_official(store, Media.open(speech), "Official radio address")
    other = testdata / "threatexchange/pdq/images/reg-test-input/pen-and-coaster.png"
    fake = Media.from_bytes(video_maker(other, audio=speech, audio_start_s=4.0), name="lipsync.mp4")
    signal = OfficialMediaAnalyzer.from_settings(settings).analyze(fake)
    detail = signal.findings[0].detail
    assert detail["signal_type"] == "chromaprint"
    assert detail["similarity"] >= 0.8
    assert abs(detail["offset_s"] - 4.0) < 0.5


def test_malformed_bank_file_makes_the_analyzer_unavailable(settings: Settings) -> None:
    settings.banks_dir.mkdir(parents=True)
    (settings.banks_dir / "broken.json").write_text("{not json")
    with pytest.raises(AnalyzerUnavailable, match=r"known_fakes: cannot load banks .* line 1"):
        KnownFakesAnalyzer.from_settings(settings)


def test_a_lightly_cropped_copy_resembles_a_known_fake_without_deciding(
    settings: Settings, store: BankStore, bridge: Path
) -> None:
    store.create("debunked", BankKind.KNOWN_FAKE)
    store.add_media("debunked", Media.open(bridge), "Fake: bridge collapse")
    original = Image.open(bridge).convert("RGB")
    w, h = original.size
    dx, dy = round(w * 0.02), round(h * 0.02)  # 4 % of each side cut away: PDQ moves past 31
    signal = KnownFakesAnalyzer.from_settings(settings).analyze(
        jpeg(original.crop((dx, dy, w - dx, h - dy)), "cropped.jpg", quality=90)
    )
    assert signal.abstained  # never evidence of a known fake on its own
    assert "resembles 'Fake: bridge collapse'" in (signal.abstain_reason or "")
    (finding,) = signal.findings
    assert finding.code == "known_fakes.resembles"
    assert 31 < finding.detail["distance"] <= 48


def test_an_allowlisted_picture_is_never_called_a_known_fake(
    settings: Settings, store: BankStore, bridge: Path
) -> None:
    """A genuine photo banked as a fake by mistake: once it is on an allowlist, its copies' known-fake
    matches are set aside (named for review) instead of deciding."""
    store.create("debunked", BankKind.KNOWN_FAKE)
    store.add_media("debunked", Media.open(bridge), "Fake: bridge collapse", "https://fc.example/42")
    original = Image.open(bridge)
    copy = jpeg(original.resize((original.width // 2, original.height // 2)), "shared.jpg", quality=75)
    assert KnownFakesAnalyzer.from_settings(settings).analyze(copy).score == pytest.approx(0.97, abs=0.03)
    store.create("genuine-widely-shared", BankKind.ALLOWLIST)
    store.add_media("genuine-widely-shared", Media.open(bridge), "Agency photo of the bridge", "")
    signal = KnownFakesAnalyzer.from_settings(settings).analyze(copy)
    assert signal.abstained and signal.score is None
    (finding,) = signal.findings
    assert finding.code == "known_fakes.allowlisted"
    assert finding.detail["allowlist"]["bank"] == "genuine-widely-shared"
    assert finding.detail["set_aside"][0]["label"] == "Fake: bridge collapse"
    assert "review the known-fake entry" in (signal.abstain_reason or "")
