"""Per-frame results of the video detector and the timeline drawn from them.

Why a timeline: a video score is one number over many frames; a reviewer needs to see *when* the
detector reacted (one shot? the whole clip? only while a face is on screen?) and whether the sound track
reacted at the same moment. The plot has up to three series, told apart by dash pattern as well as colour:
whole-frame probability, face-crop probability (only frames with a scored face), speech windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from civicshield.analyzers.ml.video_audio import AudioWindow
from civicshield.report.plots import line_plot
from civicshield.signals import Artefact

__all__ = ["FrameScore", "timeline"]


@dataclass(frozen=True)
class FrameScore:
    """One sampled frame: time, why it was sampled, whole-frame and best face-crop probability."""

    index: int
    timestamp_s: float
    reason: str
    frame_probability: float | None
    face_probability: float | None
    faces: int
    frame_skipped: str | None = None

    @property
    def suspicion(self) -> float | None:
        """The larger of the whole-frame and the face-crop probability; None when neither was scored."""
        values = [p for p in (self.frame_probability, self.face_probability) if p is not None]
        return max(values) if values else None

    def to_evidence(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": self.index,
            "t": round(self.timestamp_s, 3),
            "reason": self.reason,
            "frame_probability": _round(self.frame_probability),
            "face_probability": _round(self.face_probability),
            "faces": self.faces,
        }
        if self.frame_skipped:
            out["frame_not_scored"] = self.frame_skipped
        return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def timeline(
    name: str, frames: Sequence[FrameScore], audio: Sequence[AudioWindow], threshold: float | None
) -> Artefact:
    """The per-frame (and per-speech-window) probabilities as a PNG line plot."""
    series: dict[str, list[tuple[float, float]]] = {}
    whole = [(f.timestamp_s, f.frame_probability) for f in frames if f.frame_probability is not None]
    if whole:
        series["frame P(AI)"] = [(t, float(p)) for t, p in whole]
    faces = [(f.timestamp_s, f.face_probability) for f in frames if f.face_probability is not None]
    if faces:
        series["face crop P(AI)"] = [(t, float(p)) for t, p in faces]
    speech = [((w.start_s + w.end_s) / 2, w.probability) for w in audio if w.probability is not None]
    if speech:
        series["speech P(synthetic), 4-s windows"] = [(t, float(p)) for t, p in speech]
    png = line_plot(
        series,
        title="AI-generation probability over time",
        xlabel="time (s)",
        ylabel="probability",
        threshold=threshold,
    )
    return Artefact(
        "video_timeline.png",
        "image/png",
        png,
        caption=f"{name}: CLIP detector on sampled frames and face crops; speech detector windows",
    )
