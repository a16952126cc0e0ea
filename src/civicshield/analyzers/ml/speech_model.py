"""The AASIST anti-spoofing model, exported to ONNX and run with onnxruntime on the CPU.

Why this file: the published AASIST weights (clovaai/aasist, MIT) are PyTorch state_dicts; the build-time
tools in ``tools/aasist/`` re-implement the architecture from the paper, load the weights strictly, and
export the ONNX file shipped under ``civicshield/data/models/aasist/``. At run time we need neither torch
nor the tools: only that file, checked against ``AASIST.sha256`` before it is loaded
(``SpeechDetector.load``).

Input contract (see the model card): ``waveform`` float32 ``(batch, 64600)``, 16 kHz mono samples in
[-1, 1] (about 4 s). Output ``logits`` ``(batch, 2)``; index 1 is *bona fide* and index 0 *spoof*, as in
the reference code, which we verified on known audio (dev-set TTS and espeak-ng speech score towards index
0). So ``logit0 - logit1`` is the spoof margin and its logistic is the model's P(spoof).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from civicshield.analyzers.ml.onnx_session import open_session
from civicshield.analyzers.ml.weights import ModelFile
from civicshield.errors import AnalyzerUnavailable

__all__ = ["AASIST", "SAMPLE_RATE", "WINDOW_SAMPLES", "AasistSession", "sigmoid"]

SAMPLE_RATE = 16_000
WINDOW_SAMPLES = 64_600
SPOOF_INDEX, BONA_FIDE_INDEX = 0, 1


#: The shipped ONNX file (under ``civicshield/data/models/``) and where it comes from.
AASIST = ModelFile(
    name="AASIST",
    path="aasist/aasist.onnx",
    sha256="a05c5d3a200b593e18a1b388e9e418f2ed173eb6567d53401ff13d9029822c80",
    upstream=(
        "clovaai/aasist@a04c986 models/weights/AASIST.pth "
        "(sha256 51d2d9cf0738172f61e2a384ec50a54a55363240f67c971ed55a92435bc1a1c0), exported by tools/aasist"
    ),
    license="MIT (clovaai/aasist; see data/models/aasist/LICENSE)",
)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic (margins of +-50 occur on synthetic tones)."""
    x = np.asarray(x, dtype=np.float64)
    return np.asarray(np.exp(-np.logaddexp(0.0, -x)), dtype=np.float64)


class AasistSession:
    """An onnxruntime session over the verified model file. Threads are bounded on purpose: the detector
    shares a small CPU with the rest of the pipeline, and each window costs a few GFLOP."""

    def __init__(self, path: Path, *, threads: int = 2, what: str = "speech_detector") -> None:
        self._session = open_session(path, threads=threads, label=f"{what}: speech model")
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or inputs[0].shape[-1] != WINDOW_SAMPLES or outputs[0].shape[-1] != 2:
            raise AnalyzerUnavailable(f"{what}: speech model {path.name} does not have the AASIST contract")
        self._input, self._output = inputs[0].name, outputs[0].name

    def spoof_margins(self, windows: np.ndarray, *, batch: int = 2) -> np.ndarray:
        """``logit_spoof - logit_bona_fide`` for each row of a ``(n, 64600)`` array. Small batches bound
        memory: the first encoder block holds about 70 MB of activations per window."""
        if windows.ndim != 2 or windows.shape[1] != WINDOW_SAMPLES:
            raise ValueError(f"expected (n, {WINDOW_SAMPLES}) windows, got {windows.shape}")
        out = []
        for i in range(0, windows.shape[0], batch):
            chunk = np.ascontiguousarray(windows[i : i + batch], dtype=np.float32)
            logits = np.asarray(self._session.run([self._output], {self._input: chunk})[0], dtype=np.float64)
            out.append(logits[:, SPOOF_INDEX] - logits[:, BONA_FIDE_INDEX])
        return np.concatenate(out) if out else np.zeros(0)
