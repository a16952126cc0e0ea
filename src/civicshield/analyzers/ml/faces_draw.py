"""The faces artefact: the image with each detected face boxed and numbered as in the evidence.

Why numbered: a reviewer reads "face 2: probability 0.93" in the report and must find face 2 in the
picture without relying on colour; the number is drawn on a filled label next to the box.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

from civicshield.analyzers.ml.faces_detect import Face

__all__ = ["draw_faces"]

BOX = (255, 200, 0)
FLAGGED = (220, 30, 30)
MAX_SIDE = 1024


def draw_faces(image: Image.Image, faces: Sequence[Face], flagged: frozenset[int] = frozenset()) -> bytes:
    """PNG of ``image`` (scaled to at most ``MAX_SIDE``) with numbered boxes and landmark dots; faces whose
    index is in ``flagged`` are drawn in red with a thicker box."""
    canvas = image.convert("RGB")
    scale = min(1.0, MAX_SIDE / max(canvas.size))
    if scale < 1.0:
        canvas = canvas.resize((round(canvas.width * scale), round(canvas.height * scale)))
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=max(12, canvas.width // 40))
    for face in faces:
        colour = FLAGGED if face.index in flagged else BOX
        x, y, w, h = (v * scale for v in face.box)
        draw.rectangle([x, y, x + w, y + h], outline=colour, width=4 if face.index in flagged else 2)
        for px, py in face.landmarks:
            draw.ellipse([px * scale - 2, py * scale - 2, px * scale + 2, py * scale + 2], fill=colour)
        label = str(face.index)
        left, top, right, bottom = draw.textbbox((x, y), label, font=font)
        lift = bottom - top + 4
        draw.rectangle([left - 2, top - lift, right + 2, bottom - lift + 2], fill=colour)
        draw.text((x, y - lift), label, fill=(0, 0, 0), font=font)
    buf = io.BytesIO()
    canvas.save(buf, format="PNG")
    return buf.getvalue()
