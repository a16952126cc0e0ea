"""Cutting a 16 kHz waveform into the model's fixed-length windows, and a simple energy VAD.

Why fixed windows: AASIST was trained on 64,600-sample (about 4 s) segments and its graph sizes follow
from that length, so the exported model takes exactly that many samples. Longer audio is covered by
overlapping windows (the last one aligned to the end, so no window is padded when the audio is longer
than one window); shorter audio is repeated to fill one window, which is how the published evaluation
pads short utterances.

Why a VAD at all: the model has only ever seen speech. Silence, near-silence or a file that is mostly
empty tells it nothing, so such audio (and such windows) is not scored rather than scored at random. The
VAD is deliberately simple (frame energy against an absolute floor and against the loudest frame): it
separates sound from silence, not speech from music or tones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["VadConfig", "Window", "cut", "plan_windows", "speech_frames", "speech_seconds"]


@dataclass(frozen=True)
class Window:
    """Samples ``[start, end)`` of the audio; ``end - start`` is less than the model length only when the
    audio itself is shorter (then the window is repeated to fill the model input)."""

    start: int
    end: int

    def seconds(self, sample_rate: int) -> tuple[float, float]:
        return self.start / sample_rate, self.end / sample_rate


def plan_windows(n_samples: int, length: int, hop: int) -> list[Window]:
    """Windows of ``length`` every ``hop`` samples; the last is aligned to the end of the audio.

    >>> [(w.start, w.end) for w in plan_windows(160_000, 64_600, 32_000)]
    [(0, 64600), (32000, 96600), (64000, 128600), (95400, 160000)]
    >>> [(w.start, w.end) for w in plan_windows(40_000, 64_600, 32_000)]
    [(0, 40000)]
    """
    if n_samples <= 0:
        return []
    if n_samples <= length:
        return [Window(0, n_samples)]
    starts = list(range(0, n_samples - length, hop))
    starts.append(n_samples - length)
    return [Window(s, s + length) for s in starts]


def cut(samples: np.ndarray, window: Window, length: int) -> np.ndarray:
    """The window's samples as float32, repeated to ``length`` when the window is shorter."""
    piece = np.asarray(samples[window.start : window.end], dtype=np.float32)
    if piece.size >= length:
        return piece[:length]
    return np.tile(piece, length // piece.size + 1)[:length]


@dataclass(frozen=True)
class VadConfig:
    """Frame energy thresholds. A frame is active when its RMS is above ``floor_dbfs`` *and* within
    ``dynamic_range_db`` of the loudest frame (so a steady hiss under speech does not count as speech)."""

    frame_s: float = 0.025
    hop_s: float = 0.010
    floor_dbfs: float = -50.0
    dynamic_range_db: float = 40.0


def speech_frames(samples: np.ndarray, sample_rate: int, vad: VadConfig) -> np.ndarray:
    """One boolean per ``hop_s`` frame: is there sound energy here?"""
    frame, hop = int(vad.frame_s * sample_rate), int(vad.hop_s * sample_rate)
    if samples.size < frame:
        return np.zeros(0, dtype=bool)
    n = 1 + (samples.size - frame) // hop
    idx = np.arange(frame)[None, :] + hop * np.arange(n)[:, None]
    rms = np.sqrt(np.mean(np.square(samples[idx], dtype=np.float64), axis=1))
    db = 20 * np.log10(np.maximum(rms, 1e-10))
    return np.asarray(db > max(vad.floor_dbfs, float(db.max()) - vad.dynamic_range_db))


def speech_seconds(active: np.ndarray, window: Window, sample_rate: int, vad: VadConfig) -> float:
    """Seconds of active frames whose start falls inside ``window``."""
    hop = int(vad.hop_s * sample_rate)
    first, last = window.start // hop, (window.end - 1) // hop + 1
    return float(np.count_nonzero(active[first:last])) * vad.hop_s
