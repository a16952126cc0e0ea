"""A vectorised decoder for invisible-watermark's ``dwtDct`` method, bit-for-bit equal to the reference.

The reference decoder (``imwatermark.maxDct.EmbedMaxDct.decode``) visits every 4×4 block of the Haar LL band
of the U channel in a Python loop: 7.8 s for a 12-megapixel photo here. The arithmetic is simple enough to do
on all blocks at once with numpy: for each block, take the largest-magnitude coefficient after the first,
score 1 when its magnitude modulo the embedding scale exceeds half the scale, assign blocks to payload bits
round-robin, and vote. ``tests/analyzers/test_watermark.py`` checks equality with the reference decoder.
Written by hand because the library offers no vectorised path.
"""

from __future__ import annotations

import cv2
import numpy as np
import pywt

__all__ = ["BlockScores", "block_scores", "decode_bits"]

SCALES = (0.0, 36.0, 36.0)  # the reference defaults; it reads channels 0 and 1 only, and skips scale 0 (Y)
BLOCK = 4


class BlockScores:
    """Per-block 0/1 scores of each channel the reference reads, in the reference's raster order."""

    def __init__(self, per_channel: list[np.ndarray]) -> None:
        self.per_channel = per_channel

    def bits(self, n_bits: int) -> np.ndarray:
        """The decoded payload for a watermark of ``n_bits`` bits (bool array)."""
        sums = np.zeros(n_bits)
        counts = np.zeros(n_bits)
        for scores in self.per_channel:
            index = np.arange(scores.size) % n_bits
            sums += np.bincount(index, weights=scores, minlength=n_bits)
            counts += np.bincount(index, minlength=n_bits)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = sums / counts
        return np.asarray(mean * 255 > 127)


def block_scores(bgr: np.ndarray) -> BlockScores:
    rows, cols = bgr.shape[:2]
    yuv = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV)
    per_channel = []
    for channel in range(2):  # the reference loops over channels 0 and 1 and skips scale 0
        scale = SCALES[channel]
        if scale <= 0:
            continue
        ca1, _ = pywt.dwt2(yuv[: rows // 4 * 4, : cols // 4 * 4, channel], "haar")
        r, c = ca1.shape[0] // BLOCK, ca1.shape[1] // BLOCK
        blocks = (
            ca1[: r * BLOCK, : c * BLOCK].reshape(r, BLOCK, c, BLOCK).transpose(0, 2, 1, 3).reshape(-1, 16)
        )
        pos = np.argmax(np.abs(blocks[:, 1:]), axis=1) + 1
        val = np.abs(blocks[np.arange(blocks.shape[0]), pos])
        per_channel.append(((val % scale) > 0.5 * scale).astype(np.float64))
    return BlockScores(per_channel)


def decode_bits(bgr: np.ndarray, n_bits: int) -> np.ndarray:
    return block_scores(bgr).bits(n_bits)
