"""One way to open an onnxruntime session on a verified model file, shared by the ONNX detectors.

Apart from ``weights`` on purpose: onnxruntime is optional (the ``ml`` extra), and ``weights`` is also used
where it is not needed (the OpenCV face models, the evaluation code), so it must import without it. A
detector that imports this module fails to import when onnxruntime is missing, and the analyzer registry
names the extra to install.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import onnxruntime as ort  # type: ignore[import-untyped]

from civicshield.errors import AnalyzerUnavailable

__all__ = ["open_session"]


def open_session(path: Path, *, threads: int, label: str, model: bytes | None = None) -> Any:
    """A CPU ``InferenceSession`` on ``path`` (or on ``model``, that file's bytes after a rewrite), with
    ``threads`` intra-op threads (at least one) and one inter-op thread: the detectors share a small CPU
    with the rest of the pipeline. A file onnxruntime cannot load is ``AnalyzerUnavailable``, worded
    ``"{label} {file name} cannot be loaded: …"``."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: graph clean-up notes are not for the user's terminal
    try:
        source = model if model is not None else str(path)
        return ort.InferenceSession(source, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors on a bad file
        raise AnalyzerUnavailable(f"{label} {path.name} cannot be loaded: {exc}") from exc
