"""Which frames of a video the detectors look at: one a second, plus the first frame of each new shot.

Why both: a face swap or an inserted generated shot can be short; sampling at a fixed rate alone can step
over a shot that lasts under a second, while the first frame after a cut is where new content starts. A
cut is found by comparing colour histograms of consecutive decoded frames (on a 64x36 thumbnail, cheap
enough to do for every frame): their total-variation distance jumps towards 1 at a hard cut and stays
near 0 within a shot.

Bounded: at most ``max_frames`` frames are kept. For videos longer than the periodic budget the periodic
interval grows so that the samples still span the whole video, and scene-change frames only fill the share
of the budget left to them. Decoding still visits every frame (that is what finding cuts needs), within
the ``Limits`` on duration and decoded frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from civicshield.errors import MediaTooLarge
from civicshield.media import Media, open_container

__all__ = ["SampledFrame", "SamplingPolicy", "histogram_distance", "sample_frames"]

THUMB = (64, 36)
BINS = 16


@dataclass(frozen=True)
class SamplingPolicy:
    """Named numbers of frame sampling."""

    fps: float = 1.0
    max_frames: int = 120
    scene_share: float = 0.25  # of max_frames, kept for scene-change frames
    scene_threshold: float = 0.4  # histogram distance of a hard cut (0 = identical colours, 1 = disjoint)
    min_scene_gap_s: float = 0.5  # a flash or a fast fade must not fill the budget

    @property
    def periodic_budget(self) -> int:
        return max(1, self.max_frames - int(self.max_frames * self.scene_share))


@dataclass(frozen=True)
class SampledFrame:
    """A kept frame: its index among decoded frames, time, RGB pixels and why it was kept."""

    index: int
    timestamp_s: float
    rgb: np.ndarray = field(repr=False)
    reason: str  # "periodic" or "scene change"
    change: float = 0.0  # histogram distance to the previous decoded frame


def _histogram(thumb: np.ndarray) -> np.ndarray:
    channels = [np.bincount(thumb[:, :, c].ravel() // (256 // BINS), minlength=BINS) for c in range(3)]
    h = np.concatenate(channels).astype(np.float64)
    return np.asarray(h / h.sum(), dtype=np.float64)


def histogram_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Total-variation distance between two normalised colour histograms, in [0, 1]."""
    return float(0.5 * np.abs(a - b).sum())


def _interval(media: Media, policy: SamplingPolicy) -> float:
    duration = media.info.duration_s or 0.0
    return max(1.0 / policy.fps, duration / policy.periodic_budget)


def sample_frames(media: Media, policy: SamplingPolicy | None = None) -> list[SampledFrame]:
    """Frames at ``1/fps`` intervals (longer for long videos) and at scene changes, in time order."""
    policy = policy or SamplingPolicy()
    interval = _interval(media, policy)
    scene_budget = policy.max_frames - policy.periodic_budget
    limits = media.limits
    kept: list[SampledFrame] = []
    next_t, last_scene_t, scenes, previous = 0.0, -np.inf, 0, None
    with open_container(media) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for decoded, frame in enumerate(container.decode(stream), start=1):
            if decoded > limits.max_decoded_frames:
                raise MediaTooLarge(f"{media.name}: more than {limits.max_decoded_frames} decoded frames")
            t = float(frame.time) if frame.time is not None else (decoded - 1) / 25.0
            if t > limits.max_duration_s:
                raise MediaTooLarge(f"{media.name}: video runs past {limits.max_duration_s:.0f} s")
            hist = _histogram(frame.reformat(width=THUMB[0], height=THUMB[1], format="rgb24").to_ndarray())
            change = 0.0 if previous is None else histogram_distance(hist, previous)
            previous = hist
            reason = None
            if t + 1e-6 >= next_t:
                reason, next_t = "periodic", (int(t / interval + 1e-6) + 1) * interval
            elif (
                change >= policy.scene_threshold
                and scenes < scene_budget
                and t - last_scene_t >= policy.min_scene_gap_s
            ):
                reason, scenes, last_scene_t = "scene change", scenes + 1, t
            if reason is not None:
                kept.append(SampledFrame(decoded - 1, t, frame.to_ndarray(format="rgb24"), reason, change))
                if len(kept) >= policy.max_frames:
                    break
    return kept
