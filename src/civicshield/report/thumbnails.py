"""Small PNG previews for reports: the image itself, a video's first frame, an audio waveform."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

from civicshield.errors import MediaError
from civicshield.media import Media, MediaKind, decode_audio, decode_image, video_frames

MAX_SIDE = 360


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def waveform(samples: np.ndarray, width: int = MAX_SIDE, height: int = 96) -> Image.Image:
    """Min/max envelope of the samples drawn column by column."""
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    if samples.size == 0:
        return img
    cols = np.array_split(samples, width)
    mid = height / 2
    for x, col in enumerate(cols):
        if col.size:
            lo, hi = float(col.min()), float(col.max())
            draw.line([(x, mid - hi * mid), (x, mid - lo * mid)], fill=(40, 70, 140))
    return img


def thumbnail(media: Media) -> bytes | None:
    """A PNG preview, or ``None`` when the item cannot be decoded (the report says so instead)."""
    try:
        if media.kind is MediaKind.IMAGE:
            img = decode_image(media)
        elif media.kind is MediaKind.VIDEO:
            frame = next(iter(video_frames(media, fps=None)), None)
            if frame is None:
                return None
            img = Image.fromarray(frame.rgb)
        else:
            samples = decode_audio(media, sample_rate=8000)
            return _png(waveform(samples))
    except MediaError:
        return None
    img.thumbnail((MAX_SIDE, MAX_SIDE))
    return _png(img)
