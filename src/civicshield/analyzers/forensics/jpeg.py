"""What a JPEG's quantisation tables say about how it was saved.

Why: error-level analysis only means something relative to the quality the file was last saved at, and a
person reading an ELA heatmap needs that quality. Encoders built on libjpeg (Pillow, most web tools) scale
the example tables of the JPEG standard (ITU-T T.81, Annex K) by the IJG rule, so finding the quality
whose scaled table is closest recovers the setting; a table far from every scaled one means another
encoder (many cameras, some editors) and the estimate is only approximate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

__all__ = ["JpegQuality", "estimate_quality", "ijg_table"]

# ITU-T T.81 Annex K.1, luminance, row-major.
STANDARD_LUMA = np.array(
    [
        [16, 11, 10, 16, 24, 40, 51, 61],
        [12, 12, 14, 19, 26, 58, 60, 55],
        [14, 13, 16, 24, 40, 57, 69, 56],
        [14, 17, 22, 29, 51, 87, 80, 62],
        [18, 22, 37, 56, 68, 109, 103, 77],
        [24, 35, 55, 64, 81, 104, 113, 92],
        [49, 64, 78, 87, 103, 121, 120, 101],
        [72, 92, 95, 98, 112, 100, 103, 99],
    ],
    dtype=np.int64,
)


def ijg_table(quality: int) -> np.ndarray:
    """The luminance table libjpeg writes for ``quality`` (1-100)."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return np.asarray(np.clip((STANDARD_LUMA * scale + 50) // 100, 1, 255), dtype=np.int64)


@dataclass(frozen=True)
class JpegQuality:
    """Estimated quality; ``mean_abs_error`` is 0 for a table libjpeg wrote at exactly that quality."""

    quality: int
    mean_abs_error: float

    @property
    def standard(self) -> bool:
        return self.mean_abs_error < 0.5

    def to_evidence(self) -> dict[str, Any]:
        return {
            "estimated_quality": self.quality,
            "table_error": round(self.mean_abs_error, 3),
            "standard_tables": self.standard,
        }


def estimate_quality(image: Image.Image) -> JpegQuality | None:
    """The closest IJG quality for ``image``'s luminance table, or ``None`` if it is not a JPEG.

    Compared as sorted values so that the result does not depend on whether the reader returns the table
    in zig-zag or row-major order.
    """
    tables = getattr(image, "quantization", None)
    if image.format != "JPEG" or not tables or 0 not in tables:
        return None
    luma = np.sort(np.asarray(list(tables[0]), dtype=np.int64))
    if luma.size != 64:
        return None
    errors = [float(np.abs(np.sort(ijg_table(q).ravel()) - luma).mean()) for q in range(1, 101)]
    best = int(np.argmin(errors))
    return JpegQuality(quality=best + 1, mean_abs_error=errors[best])
