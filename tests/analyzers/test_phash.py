"""The ``phash`` analyzer abstains and carries the hashes as evidence."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from civicshield.analyzers.phash import REASON, PerceptualHashAnalyzer
from civicshield.media import Media
from civicshield.settings import Settings


def analyzer(tmp_path: Path) -> PerceptualHashAnalyzer:
    return PerceptualHashAnalyzer.from_settings(Settings(data_dir=tmp_path))


def test_image_hash_in_evidence(tmp_path: Path, bridge: Path) -> None:
    signal = analyzer(tmp_path).analyze(Media.open(bridge))
    assert signal.abstained
    assert signal.abstain_reason == REASON
    assert signal.evidence["pdq"] == {
        "hash": "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22",
        "quality": 100,
        "low_quality": False,
    }
    assert signal.findings == ()


def test_low_quality_is_flagged(tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (200, 200), (90, 120, 200)).save(buf, "PNG")
    signal = analyzer(tmp_path).analyze(Media.from_bytes(buf.getvalue(), name="flat.png"))
    assert signal.abstained
    assert signal.evidence["pdq"]["low_quality"] is True
    assert signal.has("phash.low_quality")


def test_video_frames_and_sound_track(
    tmp_path: Path, bridge: Path, testdata: Path, video_maker: Callable[..., bytes]
) -> None:
    data = video_maker(bridge, seconds=8, audio=testdata / "c2pa/c2pa-rs/fixtures/sample1.wav")
    signal = analyzer(tmp_path).analyze(Media.from_bytes(data, name="clip.mp4"))
    vpdq = signal.evidence["vpdq"]
    assert vpdq["frames"][0].startswith("0,100,")
    assert len(vpdq["frames"]) == 8
    assert vpdq["seconds_per_hash"] == 1.0
    assert signal.evidence["chromaprint"]["words"] > 0
    (artefact,) = signal.artefacts
    assert artefact.data.decode().splitlines() == vpdq["frames"]
    assert signal.to_dict()["abstained"] is True
