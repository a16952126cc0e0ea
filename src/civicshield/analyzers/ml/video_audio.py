"""The adapter through which the video analyzer runs a sound track through the speech detector.

Why an adapter: the speech detector (``ml/speech.py``, ``SpeechDetector.score_waveform``) is its own
analyzer, and it already scores the sound of every video as its own signal. The video analyzer therefore
puts the per-window speech probabilities on its timeline and in its evidence, so that a reviewer sees the
picture and the sound on one time axis, but does *not* add them into its score: fusion would otherwise
count the same sound track twice. Where the speech detector cannot load, the timeline simply has no audio
row and the evidence says why. Tests substitute a fake ``WaveformScorer``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

import numpy as np

from civicshield.errors import AnalyzerUnavailable, MediaError
from civicshield.media import Media, decode_audio

__all__ = ["AudioTrack", "AudioWindow", "SpeechScorer", "WaveformScorer", "load_speech_scorer", "score_track"]

SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class AudioWindow:
    start_s: float
    end_s: float
    probability: float | None

    def to_evidence(self) -> dict[str, Any]:
        p = None if self.probability is None else round(self.probability, 4)
        return {"start_s": round(self.start_s, 3), "end_s": round(self.end_s, 3), "probability": p}


class WaveformScorer(Protocol):
    """P(synthetic speech) of 16 kHz mono samples, with the per-window timeline."""

    @property
    def version(self) -> str: ...

    def unscorable_reason(self, samples: np.ndarray) -> str | None: ...

    def score(self, samples: np.ndarray) -> tuple[float | None, Sequence[AudioWindow]]: ...


@dataclass(frozen=True)
class SpeechScorer:
    """``WaveformScorer`` over a loaded ``SpeechDetector``."""

    version: str
    reason: Callable[[np.ndarray], str | None]
    score_waveform: Callable[[np.ndarray], tuple[float | None, Sequence[Any]]]

    def unscorable_reason(self, samples: np.ndarray) -> str | None:
        return self.reason(samples)

    def score(self, samples: np.ndarray) -> tuple[float | None, Sequence[AudioWindow]]:
        p, windows = self.score_waveform(samples)
        return p, [AudioWindow(float(w.start_s), float(w.end_s), w.probability) for w in windows]


@dataclass(frozen=True)
class AudioTrack:
    """The speech detector's reading of a sound track, or why there is none."""

    probability: float | None
    windows: tuple[AudioWindow, ...] = ()
    reason: str | None = None

    def to_evidence(self) -> dict[str, Any]:
        if self.reason is not None:
            return {"audio_not_scored": self.reason}
        p = None if self.probability is None else round(self.probability, 4)
        return {"audio_probability": p, "audio_windows": [w.to_evidence() for w in self.windows]}


@cache
def _shared_speech() -> SpeechScorer:
    from civicshield.analyzers.ml.speech import SpeechDetector

    detector = SpeechDetector.load()
    return SpeechScorer(
        f"speech_detector:{detector.version}", detector.unscorable_reason, detector.score_waveform
    )


def load_speech_scorer() -> WaveformScorer | str:
    """The shared speech scorer, or why it is unavailable."""
    try:
        return _shared_speech()
    except ImportError as exc:
        return f"the speech detector cannot be imported ({exc})"
    except AnalyzerUnavailable as exc:
        return f"the speech detector is unavailable ({exc.message})"


def score_track(media: Media, scorer: WaveformScorer | str) -> AudioTrack:
    """The speech detector on ``media``'s sound track; a reason instead where it cannot be scored."""
    if not media.info.has_audio:
        return AudioTrack(None, reason="no audio track")
    if isinstance(scorer, str):
        return AudioTrack(None, reason=scorer)
    try:
        samples = decode_audio(media, sample_rate=SAMPLE_RATE)
    except MediaError as exc:
        return AudioTrack(None, reason=f"audio track does not decode ({exc.message})")
    reason = scorer.unscorable_reason(samples)
    if reason is not None:
        return AudioTrack(None, reason=reason)
    p, windows = scorer.score(samples)
    return AudioTrack(p, tuple(windows))
