"""The ``video_detector`` on clips made here, with fake CLIP and speech scorers (the adapters' seams) and
the real face models."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from civicshield.analyzers.ml.faces_detect import FaceModels
from civicshield.analyzers.ml.video import AUTHENTIC, SYNTHETIC, VideoDetector, VideoPolicy, aggregate
from civicshield.analyzers.ml.video_audio import AudioWindow, load_speech_scorer, score_track
from civicshield.analyzers.ml.video_frames import FrameScore
from civicshield.analyzers.ml.video_sampling import SamplingPolicy, sample_frames
from civicshield.demo import synth
from civicshield.media import Media

ROOT = Path(__file__).resolve().parents[2]
DEV = Path(os.environ.get("CIVICSHIELD_DEV", ROOT.parent / "shared" / "datasets" / "dev")).resolve()
NO_FACES = "face models not loaded in this test"


@dataclass(frozen=True)
class FakeScorer:
    probability: float
    min_side: int = 200
    version: str = "fake-clip"
    synthetic_threshold: float = 0.9
    authentic_threshold: float = 0.1

    def score(self, image: Image.Image) -> float:
        return self.probability

    def domain_reason(self, image: Image.Image) -> str | None:
        return None if min(image.size) >= self.min_side else f"under {self.min_side} px"


@dataclass(frozen=True)
class FakeSpeech:
    version: str = "fake-speech"

    def unscorable_reason(self, samples: np.ndarray) -> str | None:
        return None if samples.size >= 16_000 else "too short"

    def score(self, samples: np.ndarray) -> tuple[float | None, Sequence[AudioWindow]]:
        seconds = samples.size / 16_000
        return 0.4, [AudioWindow(0.0, min(4.0, seconds), 0.35), AudioWindow(2.0, seconds, 0.45)]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Media:
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    return Media.open(synth.write_video(path, seconds=4.0, fps=10, with_audio=True))


def _cut_clip(seconds: float = 3.0, fps: int = 10, cut_s: float = 1.5) -> Media:
    """A clip with a hard cut from one poster to another at ``cut_s``."""
    first = np.asarray(synth.poster("ONE", size=(320, 240), seed=1))
    second = np.asarray(synth.poster("TWO", size=(320, 240), seed=9))[:, :, ::-1]
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "28"}
        for i in range(int(seconds * fps)):
            rgb = np.ascontiguousarray(first if i / fps < cut_s else second)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return Media.from_bytes(buf.getvalue(), name="cut.mp4")


def test_per_frame_series_and_timeline(clip: Media) -> None:
    signal = VideoDetector(FakeScorer(0.7), NO_FACES, FakeSpeech()).analyze(clip)
    assert signal.score == pytest.approx(0.7)
    frames = signal.evidence["frames"]
    assert [f["t"] for f in frames] == pytest.approx([0.0, 1.0, 2.0, 3.0])
    assert all(f["frame_probability"] == pytest.approx(0.7) and f["reason"] == "periodic" for f in frames)
    assert signal.evidence["faces_not_scored"] == NO_FACES
    assert signal.evidence["audio_probability"] == pytest.approx(0.4)
    assert len(signal.evidence["audio_windows"]) == 2
    assert not signal.findings  # no thresholds measured in this policy
    (png,) = signal.artefacts
    assert png.media_type == "image/png" and png.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert Image.open(io.BytesIO(png.data)).size == (720, 300)


def test_thresholds_give_findings(clip: Media) -> None:
    policy = VideoPolicy(synthetic_threshold=0.6, authentic_threshold=0.2, audio=False)
    high = VideoDetector(FakeScorer(0.7), NO_FACES, "off", policy).analyze(clip)
    assert [f.code for f in high.findings] == [SYNTHETIC]
    assert high.findings[0].detail["threshold"] == 0.6
    low = VideoDetector(FakeScorer(0.1), NO_FACES, "off", policy).analyze(clip)
    assert [f.code for f in low.findings] == [AUTHENTIC]
    middle = VideoDetector(FakeScorer(0.4), NO_FACES, "off", policy).analyze(clip)
    assert not middle.findings


def test_abstains_without_a_frame_detector(clip: Media) -> None:
    signal = VideoDetector("the CLIP image detector cannot be imported (test)", NO_FACES, "off").analyze(clip)
    assert signal.abstained and "no frame detector" in (signal.abstain_reason or "")


def test_abstains_when_no_frame_is_in_the_detectors_domain(clip: Media) -> None:
    signal = VideoDetector(FakeScorer(0.9, min_side=256), NO_FACES, "off").analyze(clip)
    assert signal.abstained and "domain" in (signal.abstain_reason or "")
    assert signal.evidence["frames"][0]["frame_not_scored"] == "under 256 px"


def test_scene_changes_are_sampled_between_seconds() -> None:
    frames = sample_frames(_cut_clip())
    reasons = [(round(f.timestamp_s, 1), f.reason) for f in frames]
    assert (1.5, "scene change") in reasons, reasons
    assert [t for t, r in reasons if r == "periodic"] == [0.0, 1.0, 2.0]


def test_sampling_is_bounded_and_spans_the_video(clip: Media) -> None:
    frames = sample_frames(clip, SamplingPolicy(max_frames=3, scene_share=0.0))
    assert len(frames) == 3
    assert frames[-1].timestamp_s > 2.5  # the interval grew to span 4 s with 3 frames


def test_aggregate_is_a_high_quantile_of_frame_suspicion() -> None:
    frames = [FrameScore(i, float(i), "periodic", 0.1, 0.9 if i == 9 else None, 0) for i in range(10)]
    assert aggregate(frames, 0.9) == pytest.approx(0.18)
    assert aggregate(frames, 1.0) == pytest.approx(0.9)
    assert aggregate([FrameScore(0, 0.0, "periodic", None, None, 0)], 0.9) is None


def _face_photo() -> Path:
    manifest = DEV / "manifest.csv"
    if not manifest.is_file():
        pytest.fail(f"development set not found at {DEV} (set CIVICSHIELD_DEV)")
    with manifest.open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["modality"] == "image" and r["label"] == "real"]
    return DEV / rows[0]["path"]


def test_face_crops_are_scored(video_maker: Callable[..., bytes]) -> None:
    data = video_maker(_face_photo(), seconds=2.0, fps=5, size=(384, 512))
    media = Media.from_bytes(data, name="face.mp4")
    detector = VideoDetector(FakeScorer(0.3), FaceModels.load(), "off", VideoPolicy(audio=False))
    signal = detector.analyze(media)
    frames = signal.evidence["frames"]
    assert signal.evidence["frames_with_faces"] >= 1
    assert any(f["face_probability"] == pytest.approx(0.3) for f in frames)


def test_sound_track_goes_through_the_speech_detector(tmp_path: Path) -> None:
    """The real adapter: per-window probabilities when the speech detector loads, its reason otherwise."""
    media = Media.open(synth.write_video(tmp_path / "talk.mp4", seconds=6.0, fps=5, with_audio=True))
    scorer = load_speech_scorer()
    track = score_track(media, scorer)
    if isinstance(scorer, str):
        assert track.reason == scorer and track.probability is None
    else:
        assert track.reason is None and track.windows
        assert all(w.probability is None or 0.0 <= w.probability <= 1.0 for w in track.windows)
    silent = Media.open(synth.write_video(tmp_path / "mute.mp4", seconds=1.0, fps=5, with_audio=False))
    assert score_track(silent, scorer).reason == "no audio track"
