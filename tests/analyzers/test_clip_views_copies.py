"""Messaging copies as the evaluation makes them: smaller, re-encoded, metadata gone."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from civicshield.analyzers.ml.clip_views import MESSAGING, messaging_copy


def test_a_messaging_copy_is_a_small_jpeg_without_metadata(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    original = Image.new("RGB", (4000, 3000), (120, 80, 40))
    buf = io.BytesIO()
    original.save(buf, format="JPEG", quality=95, exif=exif)
    with Image.open(buf) as stored:
        assert stored.getexif().get(0x010F) == "Canon"
        for long_side, quality in MESSAGING.values():
            data = messaging_copy(stored, long_side, quality)
            with Image.open(io.BytesIO(data)) as copy:
                assert copy.format == "JPEG"
                assert max(copy.size) == long_side
                assert copy.size[0] / copy.size[1] == original.size[0] / original.size[1]
                assert not copy.getexif()


def test_a_small_image_is_only_re_encoded() -> None:
    small = Image.new("RGB", (800, 600), (10, 200, 30))
    with Image.open(io.BytesIO(messaging_copy(small, 1280, 70))) as copy:
        assert copy.size == (800, 600)
