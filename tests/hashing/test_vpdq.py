"""vPDQ against ThreatExchange's reference frame hashes and match percentages (``threatexchange/vpdq``).

The reference files hash *every* frame (30 fps); hashing at one frame per second selects frames 0, 30, 60...
which we compare line by line. Frame numbers, qualities and timestamps agree exactly; hashes differ by a few
bits on some frames (mean ~1.5, max 4-6 at native size) because our RGB frames come from a different
swscale build than the one that made the files, and PDQ bits near the median flip on 1-LSB pixel changes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from civicshield.errors import BankFormatError
from civicshield.hashing.vpdq import VideoHash, VpdqFrame, hash_video, match_vpdq
from civicshield.media import Media

VIDEOS = ["chair-19-sd-bar", "chair-20-sd-bar", "chair-22-sd-sepia-bar", "test-padded-dimensions"]
SMALL = (128, 128)


def reference(testdata: Path, name: str, small: bool = False) -> VideoHash:
    suffix = "-128x128" if small else ""
    return VideoHash.from_text(
        (testdata / f"threatexchange/vpdq/expected-hashes/{name}{suffix}.txt").read_text()
    )


def video(testdata: Path, name: str) -> Media:
    return Media.open(testdata / f"threatexchange/vpdq/videos/{name}.mp4")


def distances(ours: VideoHash, ref: VideoHash) -> np.ndarray:
    by_number = {f.frame_number: f for f in ref.frames}
    return np.array(
        [(int(f.hash, 16) ^ int(by_number[f.frame_number].hash, 16)).bit_count() for f in ours.frames]
    )


def same_frames(ours: VideoHash, ref: VideoHash) -> None:
    by_number = {f.frame_number: f for f in ref.frames}
    for f in ours.frames:
        r = by_number[f.frame_number]
        assert (f.quality, f.timestamp_s) == (r.quality, r.timestamp_s)


@pytest.fixture(scope="module")
def one_fps(testdata: Path) -> dict[tuple[str, bool], VideoHash]:
    out = {}
    for name in VIDEOS:
        out[name, False] = hash_video(video(testdata, name))
        if name != "test-padded-dimensions":
            out[name, True] = hash_video(video(testdata, name), size=SMALL)
    return out


CASES = [(n, False) for n in VIDEOS] + [(n, True) for n in VIDEOS if n != "test-padded-dimensions"]


@pytest.fixture(scope="module")
def every_frame_small(testdata: Path) -> dict[str, VideoHash]:
    names = ("chair-19-sd-bar", "chair-22-sd-sepia-bar")
    return {n: hash_video(video(testdata, n), seconds_per_hash=0, size=SMALL) for n in names}


@pytest.mark.parametrize(("name", "small"), CASES, ids=[f"{n}-{'128' if s else 'native'}" for n, s in CASES])
def test_one_frame_per_second_matches_reference_lines(
    testdata: Path, one_fps: dict[tuple[str, bool], VideoHash], name: str, small: bool
) -> None:
    ours, ref = one_fps[name, small], reference(testdata, name, small)
    assert [f.frame_number for f in ours.frames] == list(range(0, len(ref), 30))
    same_frames(ours, ref)
    d = distances(ours, ref)
    assert d.max() <= (8 if small else 6)
    assert d.mean() <= 3.0


def test_every_frame_matches_reference(testdata: Path, every_frame_small: dict[str, VideoHash]) -> None:
    ours = every_frame_small["chair-19-sd-bar"]
    ref = reference(testdata, "chair-19-sd-bar", small=True)
    assert len(ours) == len(ref) == 564
    same_frames(ours, ref)
    d = distances(ours, ref)
    assert d.max() <= 10
    assert d.mean() <= 3.0


def test_a_video_matches_itself_fully(testdata: Path) -> None:
    for name in VIDEOS:
        ref = reference(testdata, name)
        m = match_vpdq(ref, ref)
        assert (m.query_pct, m.target_pct) == (100.0, 100.0)


def test_chair_19_vs_sepia_from_reference_files(testdata: Path) -> None:
    """The documented brute-force semantics (unique frames, quality >= 50, distance <= 31) and the C++ tool's
    (all frames, distance < 31) on the shipped reference files."""
    sepia, chair = reference(testdata, "chair-22-sd-sepia-bar"), reference(testdata, "chair-19-sd-bar")
    m = match_vpdq(sepia, chair)
    assert (m.query_frames, m.target_frames, m.query_matched, m.target_matched) == (656, 562, 563, 562)
    assert (round(m.query_pct, 2), round(m.target_pct, 2)) == (85.82, 100.0)
    cpp = match_vpdq(sepia, chair, unique=False, distance=30)
    # The published example divides by exactly these counts: 456/673 = 67.76 %, 456/564 = 80.85 %.
    assert (cpp.query_frames, cpp.target_frames) == (673, 564)
    assert (round(cpp.query_pct, 2), round(cpp.target_pct, 2)) == (83.95, 100.0)


@pytest.mark.xfail(
    strict=True,
    reason="the README's 67.76/80.85 % came from hash files of an early vpdq build "
    "(456 matched frames each way); the shipped reference files match 565/564 frames",
)
def test_published_readme_percentages(testdata: Path) -> None:
    m = match_vpdq(
        reference(testdata, "chair-22-sd-sepia-bar"),
        reference(testdata, "chair-19-sd-bar"),
        unique=False,
        distance=30,
    )
    assert (round(m.query_pct, 2), round(m.target_pct, 2)) == (67.76, 80.85)


def test_our_hashes_give_the_reference_percentages(
    testdata: Path, one_fps: dict[tuple[str, bool], VideoHash], every_frame_small: dict[str, VideoHash]
) -> None:
    # Every frame, downsampled (fast): percentages within a frame or two of the reference files'.
    sepia, chair = every_frame_small["chair-22-sd-sepia-bar"], every_frame_small["chair-19-sd-bar"]
    ref = match_vpdq(
        reference(testdata, "chair-22-sd-sepia-bar", True), reference(testdata, "chair-19-sd-bar", True)
    )
    ours = match_vpdq(sepia, chair)
    assert abs(ours.query_pct - ref.query_pct) <= 0.5
    assert ours.target_pct == ref.target_pct == 100.0
    # One frame per second: identical to the reference files cut to the same frames.
    for small in (False, True):
        q, t = one_fps["chair-22-sd-sepia-bar", small], one_fps["chair-19-sd-bar", small]
        keep = {f.frame_number for f in q.frames}
        cut = [
            VideoHash(tuple(f for f in reference(testdata, n, small).frames if f.frame_number in keep))
            for n in ("chair-22-sd-sepia-bar", "chair-19-sd-bar")
        ]
        assert match_vpdq(q, t) == match_vpdq(cut[0], cut[1])


def test_matching_semantics() -> None:
    a = VpdqFrame(0, 100, "0" * 64, 0.0)
    near = VpdqFrame(1, 100, "0" * 56 + "ffffffff", 1.0)  # distance 32 from a
    low = VpdqFrame(2, 10, "f" * 64, 2.0)
    m = match_vpdq(VideoHash((a, a, low)), VideoHash((near,)))
    assert (m.query_frames, m.target_frames, m.query_matched) == (1, 1, 0)
    assert match_vpdq(VideoHash((a,)), VideoHash((near,)), distance=32).query_pct == 100.0
    assert match_vpdq(VideoHash((low,)), VideoHash((a,))).query_pct == 0.0  # nothing left after filtering


def test_text_and_json_round_trip(testdata: Path) -> None:
    ref = reference(testdata, "chair-20-sd-bar")
    assert VideoHash.from_text(ref.to_text()) == ref
    assert VideoHash.from_text(ref.to_text(";")) == ref
    assert VideoHash.parse(json.dumps([f.to_line() for f in ref.frames])) == ref  # bank JSON files
    shared = VideoHash.parse(ref.to_wire())  # the sharing form keeps all matching needs, not frame numbers
    assert [(f.hash, f.quality, f.timestamp_s) for f in shared.frames] == [
        (f.hash, f.quality, f.timestamp_s) for f in ref.frames
    ]
    assert json.loads(ref.to_wire())[0] == f"{ref.frames[0].hash},{ref.frames[0].quality},0.000"
    assert ref.summary()["frames"] == 614


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no frames"),
        ("0,100,abc,0.000", "frame 1: not a PDQ hash"),
        ("0,100," + "0" * 64 + ",0.000\n1,x," + "0" * 64 + ",0.033", "frame 2: vPDQ frame has a non-numeric"),
        ("0,101," + "0" * 64 + ",0.000", "out-of-range"),
        ("0,100," + "0" * 64, "4 comma-separated fields"),
    ],
)
def test_malformed_frame_lists(text: str, message: str) -> None:
    with pytest.raises(BankFormatError, match=message):
        VideoHash.from_text(text)


def test_malformed_json() -> None:
    with pytest.raises(BankFormatError, match="malformed"):
        VideoHash.parse("[")
    with pytest.raises(BankFormatError, match="list of"):
        VideoHash.parse('["a", 1]')
    with pytest.raises(BankFormatError, match="frame 1 is not 'hash,quality,timestamp'"):
        VideoHash.parse('["ab,cd"]')
