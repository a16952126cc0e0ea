"""Speaker embeddings: resemblyzer's GE2E voice encoder, exported to ONNX, run with onnxruntime.

Why this file: protected people are recognised by their voice (issue 12). ``resemblyzer`` 0.1.4
(Apache-2.0) ships the weights of a GE2E speaker encoder (Wan et al., ICASSP 2018) trained by its authors on
LibriSpeech, VoxCeleb 1 and 2; it needs torch. ``tools/voice/export.py`` converts them at build time into
``data/models/voice/ge2e.onnx`` (mel filter bank in front, weights stored as float16), checked against
resemblyzer's own ``embed_utterance`` (cosine >= 0.9999 on 24 dev clips). At run time: only that file,
checked against its sha256, and numpy framing (``voice_features``).

A ``Voiceprint`` is a unit 256-d vector; two are compared by cosine similarity. What a similarity means is
measured, not assumed: ``civicshield eval-identity voices`` (see the model card).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from civicshield.analyzers.ml import voice_features
from civicshield.analyzers.ml.onnx_session import open_session
from civicshield.analyzers.ml.weights import ModelFile
from civicshield.errors import AnalyzerUnavailable

__all__ = ["GE2E", "MIN_SPEECH_S", "SpeakerEncoder", "Voiceprint"]

#: The shipped ONNX file (under ``civicshield/data/models/``) and where it comes from.
GE2E = ModelFile(
    name="GE2E",
    path="voice/ge2e.onnx",
    sha256="7634302bee88ee472fdc2c8018659eed9ec3b61b854f41ffe9c2ad9d7726eff5",
    upstream="resemblyzer 0.1.4 (PyPI wheel) resemblyzer/pretrained.pt, exported by tools/voice/export.py",
    license="Apache-2.0 (resemble-ai/Resemblyzer; see data/models/voice/LICENSE)",
    paper="Wan, Wang, Papir, Lopez Moreno, Generalized End-to-End Loss for Speaker Verification, ICASSP 2018",
    input_contract="power (batch, 160, 201) float32: |STFT|^2 of 16 kHz audio, 25 ms Hann windows every "
    "10 ms; output embedding (batch, 256), non-negative and L2-normalized",
)

#: Less loud speech than this (after the silent partials are dropped) gives no voiceprint.
MIN_SPEECH_S = 1.5


@dataclass(frozen=True)
class Voiceprint:
    """One speaker embedding: a unit vector, and how many seconds of sound it was computed from."""

    vector: tuple[float, ...]
    seconds: float

    def similarity(self, other: Voiceprint) -> float:
        return float(np.dot(np.asarray(self.vector), np.asarray(other.vector)))

    @staticmethod
    def mean(prints: list[Voiceprint]) -> Voiceprint:
        """Several samples of one speaker, as one voiceprint (the normalized mean, as resemblyzer does)."""
        if not prints:
            raise ValueError("no voiceprints to average")
        raw = np.mean([np.asarray(p.vector) for p in prints], axis=0)
        return Voiceprint(tuple(float(x) for x in raw / np.linalg.norm(raw)), sum(p.seconds for p in prints))


class SpeakerEncoder:
    """The verified GE2E session. ``voiceprint`` returns ``None`` when the audio holds too little sound."""

    def __init__(self, path: Path | None = None, *, threads: int = 2, what: str = "voices") -> None:
        path = path or GE2E.locate(what)
        self._session = open_session(path, threads=threads, label=f"{what}: speaker model")
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or inputs[0].shape[1:] != [160, 201] or outputs[0].shape[-1] != 256:
            raise AnalyzerUnavailable(f"{what}: speaker model {path.name} does not have the GE2E contract")
        self._input, self._output = inputs[0].name, outputs[0].name

    def voiceprint(self, samples: np.ndarray, *, batch: int = 16) -> Voiceprint | None:
        """The voiceprint of 16 kHz mono ``samples`` in [-1, 1]; ``None`` under ``MIN_SPEECH_S`` of sound."""
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        if samples.size < MIN_SPEECH_S * voice_features.SAMPLE_RATE:
            return None
        seconds = voice_features.loud_seconds(samples)
        if seconds < MIN_SPEECH_S:  # before any framing: too little sound is not worth a spectrogram
            return None
        frames = voice_features.partials(samples)
        out = [
            np.asarray(self._session.run([self._output], {self._input: frames[i : i + batch]})[0])
            for i in range(0, len(frames), batch)
        ]
        raw = np.concatenate(out).mean(axis=0)
        norm = float(np.linalg.norm(raw))
        if not np.isfinite(norm) or norm == 0.0:
            return None
        return Voiceprint(tuple(float(x) for x in raw / norm), seconds)
