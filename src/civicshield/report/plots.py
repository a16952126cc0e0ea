"""Small PNG plots drawn with Pillow (no plotting library needed at run time): per-frame / per-window score
timelines, ROC curves, reliability diagrams, and heatmap overlays."""

from __future__ import annotations

import io
import itertools
from collections.abc import Mapping, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["heatmap_overlay", "line_plot"]

PALETTE = ((31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14), (23, 190, 207))
DASHES = ((), (6, 4), (2, 3), (10, 3, 2, 3))  # series differ by dash pattern too: not by colour alone


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=3)  # optimize=True costs ~1 s per heatmap
    return buf.getvalue()


def _dashed(
    draw: ImageDraw.ImageDraw,
    pts: list[tuple[float, float]],
    colour: tuple[int, int, int],
    dash: tuple[int, ...],
    width: int = 2,
) -> None:
    if not dash:
        draw.line(pts, fill=colour, width=width)
        return
    on, i = True, 0
    for (x0, y0), (x1, y1) in itertools.pairwise(pts):
        seg = max(1.0, float(np.hypot(x1 - x0, y1 - y0)))
        steps = int(seg // 2) + 1
        for k in range(steps):
            if k % max(1, dash[i % len(dash)] // 2) == 0:
                on, i = not on, i + 1
            if on:
                t0, t1 = k / steps, min(1.0, (k + 1) / steps)
                draw.line(
                    [(x0 + (x1 - x0) * t0, y0 + (y1 - y0) * t0), (x0 + (x1 - x0) * t1, y0 + (y1 - y0) * t1)],
                    fill=colour,
                    width=width,
                )


def line_plot(
    series: Mapping[str, Sequence[tuple[float, float]]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    y_range: tuple[float, float] = (0.0, 1.0),
    threshold: float | None = None,
    size: tuple[int, int] = (720, 300),
    diagonal: bool = False,
) -> bytes:
    """A line chart of named (x, y) series as PNG, with a legend naming each series and its dash style."""
    w, h = size
    left, right, top, bottom = 56, 16, 34, 44
    img = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=12)
    title_font = ImageFont.load_default(size=14)
    d.text(((w - d.textlength(title, font=title_font)) / 2, 6), title, fill=(20, 20, 20), font=title_font)
    xs = [x for pts in series.values() for x, _ in pts] or [0.0, 1.0]
    x0, x1 = min(xs), max(xs)
    if x1 <= x0:
        x1 = x0 + 1.0
    y0, y1 = y_range

    def px(x: float, y: float) -> tuple[float, float]:
        return (
            left + (x - x0) / (x1 - x0) * (w - left - right),
            h - bottom - (min(max(y, y0), y1) - y0) / (y1 - y0) * (h - top - bottom),
        )

    d.rectangle([left, top, w - right, h - bottom], outline=(120, 120, 120))
    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
        yv = y0 + frac * (y1 - y0)
        _, yy = px(x0, yv)
        d.line([(left, yy), (w - right, yy)], fill=(232, 232, 232))
        d.text((6, yy - 6), f"{yv:.2f}", fill=(80, 80, 80), font=font)
        xv = x0 + frac * (x1 - x0)
        xx, _ = px(xv, y0)
        d.text((xx - 12, h - bottom + 4), f"{xv:.3g}", fill=(80, 80, 80), font=font)
    d.text((w // 2 - 40, h - 18), xlabel, fill=(40, 40, 40), font=font)
    d.text((6, top - 16), ylabel, fill=(40, 40, 40), font=font)
    if diagonal:
        _dashed(d, [px(x0, y0), px(x1, y1)], (150, 150, 150), (4, 4), 1)
    if threshold is not None:
        _dashed(d, [px(x0, threshold), px(x1, threshold)], (90, 90, 90), (2, 3), 1)
        d.text(
            (w - right - 110, px(x0, threshold)[1] - 14),
            f"threshold {threshold:.2f}",
            fill=(60, 60, 60),
            font=font,
        )
    for i, (name, pts) in enumerate(series.items()):
        colour, dash = PALETTE[i % len(PALETTE)], DASHES[i % len(DASHES)]
        coords = [px(x, y) for x, y in pts]
        if len(coords) == 1:
            cx, cy = coords[0]
            d.ellipse([cx - 3, cy - 3, cx + 3, cy + 3], fill=colour)
        elif coords:
            _dashed(d, coords, colour, dash)
        ly = top + 6 + 14 * i
        _dashed(d, [(left + 8, ly + 6), (left + 34, ly + 6)], colour, dash)
        d.text((left + 40, ly), name, fill=(20, 20, 20), font=font)
    return _png(img)


def heatmap_overlay(
    image: Image.Image, heat: np.ndarray, *, alpha: float = 0.55, max_side: int = 512
) -> bytes:
    """``heat`` (any shape, values >= 0) resized over ``image`` with a perceptually ordered colour ramp
    (dark blue → yellow), so intensity reads without relying on hue alone; PNG bytes."""
    base = image.convert("RGB")
    base.thumbnail((max_side, max_side))
    h = np.asarray(heat, dtype=np.float64)
    h = h - h.min()
    h = h / h.max() if h.max() > 0 else h
    ramp = (np.stack([h * 0.9 + 0.1 * h**2, h**0.7 * 0.85, 0.55 * (1 - h)], axis=-1) * 255).astype(np.uint8)
    overlay = Image.fromarray(ramp, "RGB").resize(base.size, Image.Resampling.BILINEAR)
    return _png(Image.blend(base, overlay, alpha))
