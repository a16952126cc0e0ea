"""``speech_detector``: probability that speech is synthetic, from the AASIST anti-spoofing model.

What it is: AASIST (Jung et al., ICASSP 2022), trained by its authors on ASVspoof 2019 Logical Access,
run over overlapping 4-second windows of the 16 kHz mono sound track (audio files, and the audio of
videos). Each window's spoof margin (``logit_spoof - logit_bona_fide``) is averaged over the windows
that contain sound, and a Platt calibration fitted on the development set turns that mean margin into
P(synthetic). The per-window probabilities are kept as evidence and drawn as a timeline.

Why these choices (measured with ``tools/aasist/evaluate.py``, numbers in the model card): the mean of
window margins separated the development set at least as well as the median, the maximum or the top
windows; trimming silence or normalising loudness did not help; the raw softmax is badly over-confident
on speech unlike ASVspoof's, so the score is recalibrated; its cut sits at about 5 % false positives on
the development set's real speech, so it reports only ``detector.possibly_synthetic`` (weak signs).

What it cannot tell: the model has seen 2019-era TTS and voice conversion on one English corpus. It
flags formant synthesis and older vocoders readily, but modern zero-shot voice cloning often passes as
bona fide, and clean studio or audiobook speech (a different recording chain from ASVspoof's) is often
scored as synthetic. Codecs, noise, music, non-English speech and telephone bandwidth are outside what it
was trained on. So the score is weak evidence, ``detector.authentic`` means only "scores like the bona fide
speech we measured", and too-short or silent audio is an abstention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Self

import numpy as np

from civicshield.analyzers.base import Analyzer, Example
from civicshield.analyzers.ml.speech_model import AASIST, SAMPLE_RATE, WINDOW_SAMPLES, AasistSession, sigmoid
from civicshield.analyzers.ml.speech_windows import (
    VadConfig,
    Window,
    cut,
    plan_windows,
    speech_frames,
    speech_seconds,
)
from civicshield.analyzers.ml.weights import verified
from civicshield.media import Media, MediaKind, decode_audio
from civicshield.report.plots import line_plot
from civicshield.settings import Option, Settings
from civicshield.signals import Artefact, Finding, Signal

__all__ = ["AUTHENTIC", "POSSIBLY_SYNTHETIC", "SpeechDetector", "SpeechPolicy", "WindowScore"]

# Weak signs only (issue 11): the cut holds about 5 % false positives on genuine speech, far from the 0.1 %
# a detector needs before it may report ``detector.synthetic`` ("signs of AI generation") on its own.
POSSIBLY_SYNTHETIC = "detector.possibly_synthetic"
AUTHENTIC = "detector.authentic"


@dataclass(frozen=True)
class SpeechPolicy:
    """Named, versioned numbers. Calibration and thresholds come from the development-set evaluation
    recorded in the model card (``data/models/aasist/MODEL_CARD.md``); change them only with it."""

    version: str = "speech-2026.11.1"
    hop_samples: int = 32_000  # 2 s: windows overlap by half, so every moment is seen twice
    min_duration_s: float = 2.0
    min_speech_s: float = 1.0  # sound needed in the whole item, and in a window for it to be scored
    vad: VadConfig = field(default_factory=VadConfig)
    # P(synthetic) = sigmoid(platt_slope * mean_margin + platt_intercept)
    platt_slope: float = 0.1529
    platt_intercept: float = -0.3635
    synthetic_threshold: float = 0.663  # 4.6 % of dev real clips at or above (13 % of dev AI clips)
    authentic_threshold: float = 0.281  # 4.7 % of dev AI clips at or below (21 % of dev real clips)
    confidence: float = 0.3  # a weak detector out of its training domain (dev AUC 0.67)
    threads: int = 2

    def calibrate(self, margin: np.ndarray | float) -> np.ndarray:
        return sigmoid(self.platt_slope * np.asarray(margin, dtype=np.float64) + self.platt_intercept)


@dataclass(frozen=True)
class WindowScore:
    """One window of the timeline; ``probability`` is None when the window held too little sound."""

    start_s: float
    end_s: float
    speech_s: float
    margin: float | None
    probability: float | None

    def to_evidence(self) -> dict[str, Any]:
        return {
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "speech_s": round(self.speech_s, 2),
            "probability": None if self.probability is None else round(self.probability, 4),
        }


class SpeechDetector(Analyzer):
    name = "speech_detector"
    examples = (Example("voice_message.wav", "detector.possibly_synthetic", needs="espeak-ng"),)
    description = (
        "Probability that speech is synthetic (TTS or voice conversion), from the AASIST anti-spoofing "
        "model (ASVspoof 2019 LA) over 4-second windows of the audio or of a video's sound track. Weak "
        "on modern voice cloning and on speech unlike its training data; see its model card."
    )
    kinds = frozenset({MediaKind.AUDIO, MediaKind.VIDEO})
    options = MappingProxyType(
        {
            "threads": Option(
                "threads",
                "CPU threads for the model (per worker process).",
            ),
        }
    )

    def __init__(self, session: AasistSession, policy: SpeechPolicy | None = None) -> None:
        self.session = session
        self.policy = policy or SpeechPolicy()

    @classmethod
    def load(cls, policy: SpeechPolicy | None = None, *, model_path: Path | None = None) -> Self:
        """The shipped model (or a copy at ``model_path``), verified against the published sha256 before
        onnxruntime sees it: a missing or altered file is ``AnalyzerUnavailable``."""
        policy = policy or SpeechPolicy()
        path = (
            AASIST.locate(cls.name) if model_path is None else verified(model_path, AASIST.sha256, cls.name)
        )
        return cls(AasistSession(path, threads=policy.threads, what=cls.name), policy)

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls.load(cls.configured(SpeechPolicy(), settings))

    @property
    def version(self) -> str:
        return f"{AASIST.version_id}/{self.policy.version}"

    def unscorable_reason(self, samples: np.ndarray) -> str | None:
        """Why 16 kHz mono ``samples`` cannot be scored (too short, silent), or None."""
        seconds = samples.size / SAMPLE_RATE
        if seconds < self.policy.min_duration_s:
            return (
                f"audio is {seconds:.1f} s long; the speech detector needs at least "
                f"{self.policy.min_duration_s:.0f} s"
            )
        active = float(np.count_nonzero(speech_frames(samples, SAMPLE_RATE, self.policy.vad)))
        sound_s = active * self.policy.vad.hop_s
        if sound_s < self.policy.min_speech_s:
            return (
                f"no speech: {sound_s:.1f} s of sound above {self.policy.vad.floor_dbfs:.0f} dBFS "
                f"(needs {self.policy.min_speech_s:.0f} s); silence tells the detector nothing"
            )
        return None

    def score_waveform(self, samples: np.ndarray) -> tuple[float | None, tuple[WindowScore, ...]]:
        """Calibrated P(synthetic) of 16 kHz mono float ``samples`` and the per-window timeline.

        For other analyzers (a video's sound track). No abstention checks beyond the per-window sound
        check: the aggregate is None when no window holds enough sound; call ``unscorable_reason`` first.
        """
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        windows = plan_windows(samples.size, WINDOW_SAMPLES, self.policy.hop_samples)
        active = speech_frames(samples, SAMPLE_RATE, self.policy.vad)
        sound = [speech_seconds(active, w, SAMPLE_RATE, self.policy.vad) for w in windows]
        keep = [i for i, s in enumerate(sound) if s >= self.policy.min_speech_s]
        margins = np.full(len(windows), np.nan)
        if keep:
            batch = np.stack([cut(samples, windows[i], WINDOW_SAMPLES) for i in keep])
            margins[keep] = self.session.spoof_margins(batch)
        scores = tuple(
            _window_score(w, s, m, self.policy) for w, s, m in zip(windows, sound, margins, strict=True)
        )
        if not keep:
            return None, scores
        return float(self.policy.calibrate(float(np.mean(margins[keep])))), scores

    def analyze(self, media: Media) -> Signal:
        evidence: dict[str, Any] = {"model_version": self.version}
        if not media.info.has_audio:
            return Signal.abstain(self.name, "no audio track to analyse", evidence=evidence)
        samples = decode_audio(media, sample_rate=SAMPLE_RATE)
        evidence["duration_s"] = round(samples.size / SAMPLE_RATE, 3)
        reason = self.unscorable_reason(samples)
        if reason is not None:
            return Signal.abstain(self.name, reason, evidence=evidence)
        p, windows = self.score_waveform(samples)
        evidence["windows"] = [w.to_evidence() for w in windows]
        if p is None:
            return Signal.abstain(
                self.name, "no 4-second window holds enough sound to score", evidence=evidence
            )
        scored = [w for w in windows if w.probability is not None]
        evidence.update(
            probability=round(p, 4),
            aggregate="calibrated mean of window spoof margins",
            max_window_probability=round(max(w.probability or 0.0 for w in scored), 4),
            synthetic_threshold=self.policy.synthetic_threshold,
            authentic_threshold=self.policy.authentic_threshold,
        )
        return Signal(
            analyzer=self.name,
            score=p,
            confidence=self.policy.confidence,
            summary=f"probability of synthetic speech {p:.2f} over {len(scored)} window(s) ({self.version})",
            findings=tuple(self._findings(p, len(scored))),
            evidence=evidence,
            artefacts=(self._timeline(scored, media.name),),
        )

    def _findings(self, p: float, n_windows: int) -> list[Finding]:
        policy = self.policy
        detail: dict[str, Any] = {
            "detector": self.name,
            "probability": round(p, 4),
            "windows": n_windows,
            "model_version": self.version,
        }
        if p >= policy.synthetic_threshold:
            return [
                Finding(
                    POSSIBLY_SYNTHETIC,
                    f"speech scores as synthetic (P={p:.2f} >= {policy.synthetic_threshold:.2f}, a cut that "
                    "about 5 in 100 genuine recordings reach): weak signs only",
                    {**detail, "threshold": policy.synthetic_threshold},
                )
            ]
        if p <= policy.authentic_threshold:
            return [
                Finding(
                    AUTHENTIC,
                    f"speech scores like the bona fide speech measured (P={p:.2f} <= "
                    f"{policy.authentic_threshold:.2f}); not proof of authenticity",
                    {**detail, "threshold": policy.authentic_threshold},
                )
            ]
        return []

    def _timeline(self, scored: list[WindowScore], name: str) -> Artefact:
        points = [((w.start_s + w.end_s) / 2, float(w.probability or 0.0)) for w in scored]
        png = line_plot(
            {"P(synthetic), 4-s windows": points},
            title="Synthetic-speech probability over time",
            xlabel="window centre (s)",
            ylabel="P(synthetic)",
            threshold=self.policy.synthetic_threshold,
        )
        return Artefact(
            "speech_timeline.png",
            "image/png",
            png,
            caption=f"{name}: calibrated P(synthetic) of each 4-second window (hop 2 s)",
        )


def _window_score(window: Window, sound_s: float, margin: float, policy: SpeechPolicy) -> WindowScore:
    start, end = window.seconds(SAMPLE_RATE)
    if np.isnan(margin):
        return WindowScore(start, end, sound_s, None, None)
    return WindowScore(start, end, sound_s, float(margin), float(policy.calibrate(margin)))
