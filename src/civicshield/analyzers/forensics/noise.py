"""Noise-residual consistency: how evenly the fine-grain noise is spread over the image.

Why: a camera's sensor noise covers the whole frame at a level that depends smoothly on brightness, while a
region painted in by a generator, pasted from another photo or smoothed by an editor has its own level.
The residual is the luminance minus its 3x3 median (which removes the picture and keeps the grain); its
standard deviation over 32x32 blocks is the heatmap, and the statistic is the inter-quartile range of the
log block levels: the spread of local noise levels, independent of the overall level.

What it cannot tell: edges and texture leave residual too, so a photo of a textured scene next to a clear
sky is "inconsistent" without any editing; JPEG compression and resizing flatten the noise everywhere.
"""

from __future__ import annotations

import cv2
import numpy as np

from civicshield.analyzers.forensics.base import (
    Decoded,
    ForensicAnalyzer,
    ForensicPolicy,
    Measurement,
    block_means,
)
from civicshield.media import Media

__all__ = ["NOISE_POLICY", "NoiseResidualAnalyzer", "noise_levels"]

BLOCK = 32
FLOOR = 0.1  # grey levels: keeps log() finite on perfectly flat blocks

NOISE_POLICY = ForensicPolicy(version="noise-2026.11.1", dev_auc=0.51, center=1.37, scale=0.46)


def noise_levels(luma: np.ndarray, block: int = BLOCK) -> np.ndarray:
    """Standard deviation of the median-filter residual of the luminance ``luma`` in each ``block`` tile."""
    grey = np.clip(np.rint(luma), 0, 255).astype(np.uint8)
    residual = grey.astype(np.float64) - cv2.medianBlur(grey, 3).astype(np.float64)
    return np.asarray(np.sqrt(block_means(residual**2, block)), dtype=np.float64)


class NoiseResidualAnalyzer(ForensicAnalyzer):
    name = "noise_residual"
    description = (
        "Noise-residual consistency: maps the fine-grain noise level (image minus its median-filtered "
        f"copy) over {BLOCK}x{BLOCK} blocks and scores how unevenly it is spread. "
        f"{NOISE_POLICY.usefulness}; texture and flat sky differ without any editing."
    )
    default_policy = NOISE_POLICY

    def measure(self, media: Media, item: Decoded) -> Measurement:
        levels = noise_levels(item.luma)
        logs = np.log(levels + FLOOR)
        q25, q75 = np.percentile(logs, [25, 75])
        statistic = float(q75 - q25)
        return Measurement(
            statistic=statistic,
            heat=levels,
            summary=(
                f"local noise levels spread over a factor of {np.exp(statistic):.1f} between the quieter "
                "and the noisier quarter of the image"
            ),
            evidence={
                "block": BLOCK,
                "median_noise": round(float(np.median(levels)), 4),
                "p10_noise": round(float(np.percentile(levels, 10)), 4),
                "p90_noise": round(float(np.percentile(levels, 90)), 4),
                "log_iqr": round(statistic, 4),
            },
            caption=f"Noise residual level per {BLOCK}x{BLOCK} block (image minus 3x3 median)",
        )
