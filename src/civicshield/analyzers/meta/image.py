"""Read every metadata family of an image without decoding its pixels.

Metadata sits in the header of every format we read (PNG's trailing chunks are found by walking the chunk
list), so a file whose pixel data is truncated still yields its metadata, and an 80-megapixel photo costs no
more than a thumbnail. Each family is read on its own: an unreadable EXIF block does not hide the XMP.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from civicshield.analyzers.meta.bounds import Bounds, clean
from civicshield.analyzers.meta.exif import exif_fields, exif_from_bytes
from civicshield.analyzers.meta.fields import READ_ERRORS, Family, Field, RawMetadata
from civicshield.analyzers.meta.iptc import IPTC_RESOURCE, iim_fields, iptc_block, raw_profile
from civicshield.analyzers.meta.png import read_png_chunks
from civicshield.analyzers.meta.xmp import parse_xmp
from civicshield.media import Media, open_image

__all__ = ["read_image"]

_TIFF_IPTC = 33723
_XMP_KEY = "XML:com.adobe.xmp"


@dataclass(frozen=True)
class _Sources:
    """Where each family lives in this file, gathered once from Pillow (and the PNG chunk walk)."""

    img: Image.Image
    text: tuple[tuple[str, str], ...]
    exif_bytes: bytes | None
    problems: tuple[str, ...] = ()


def read_image(media: Media, bounds: Bounds) -> RawMetadata:
    """All families; Pillow's warnings about damaged metadata become problem lines instead of log noise."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        img = open_image(media)
        try:
            sources = _sources(img, media.data, bounds)
            readers: dict[str, Callable[[_Sources, Bounds], RawMetadata]] = {
                "exif": _exif,
                "xmp": _xmp,
                "iptc": _iptc,
                "text": _text,
            }
            parts = [_safely(family, read, sources, bounds) for family, read in readers.items()]
        finally:
            img.close()
    notes = tuple(dict.fromkeys(f"pillow: {clean(str(w.message))[:200]}" for w in caught))
    problems = RawMetadata(problems=sources.problems + notes[: bounds.max_keys])
    return RawMetadata.merge([*parts, problems], bounds.max_fields)


def _sources(img: Image.Image, data: bytes, bounds: Bounds) -> _Sources:
    if img.format == "PNG":
        png = read_png_chunks(data, bounds)
        return _Sources(img, png.text, png.exif, png.problems)
    text = []
    for key, value in img.info.items():
        if isinstance(value, str):
            text.append((str(key), value))
        elif key == "comment" and isinstance(value, bytes):  # JPEG COM and GIF comment
            text.append(("comment", value.decode("utf-8", "replace")))
    return _Sources(img, tuple(text), None)


def _safely(
    family: str, read: Callable[[_Sources, Bounds], RawMetadata], sources: _Sources, bounds: Bounds
) -> RawMetadata:
    try:
        return read(sources, bounds)
    except READ_ERRORS as exc:
        return RawMetadata(problems=(f"{family}: unreadable ({type(exc).__name__})",))


def _exif(sources: _Sources, bounds: Bounds) -> RawMetadata:
    if sources.img.format == "PNG":
        data = sources.exif_bytes or _profile(sources, "Raw profile type exif", bounds)
        if not data:
            return RawMetadata()
        fields, problems = exif_fields(lambda: exif_from_bytes(data))
    else:
        fields, problems = exif_fields(sources.img.getexif)
    return RawMetadata(tuple(fields), tuple(problems))


def _profile(sources: _Sources, key: str, bounds: Bounds) -> bytes | None:
    text = next((value for name, value in sources.text if name == key), None)
    return raw_profile(text, bounds) if text is not None else None


def _xmp(sources: _Sources, bounds: Bounds) -> RawMetadata:
    data = sources.img.info.get("xmp") or next((v for k, v in sources.text if k == _XMP_KEY), None)
    if isinstance(data, tuple):  # some TIFF readers hand tag 700 back as a tuple of ints
        data = bytes(v & 0xFF for v in data[: bounds.max_xmp_bytes + 1] if isinstance(v, int))
    if not isinstance(data, bytes | str) or not data:
        return RawMetadata()
    fields, problems = parse_xmp(data, bounds)
    return RawMetadata(tuple(fields), tuple(problems))


def _iptc(sources: _Sources, bounds: Bounds) -> RawMetadata:
    blocks: list[bytes] = []
    photoshop = sources.img.info.get("photoshop")
    if isinstance(photoshop, dict) and isinstance(photoshop.get(IPTC_RESOURCE), bytes):
        blocks.append(photoshop[IPTC_RESOURCE])
    tiff_tags = getattr(sources.img, "tag_v2", None)
    if tiff_tags is not None and _TIFF_IPTC in tiff_tags:
        blocks.append(_as_bytes(tiff_tags[_TIFF_IPTC]))
    for key in ("Raw profile type iptc", "Raw profile type 8bim"):
        profile = _profile(sources, key, bounds)
        if profile:
            blocks.append(iptc_block(profile, bounds))
    fields = [field for block in blocks for field in iim_fields(block[: bounds.max_payload_bytes], bounds)]
    return RawMetadata(tuple(fields))


def _as_bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, tuple | list):
        return bytes(v & 0xFF for v in value if isinstance(v, int))
    return b""


def _text(sources: _Sources, bounds: Bounds) -> RawMetadata:
    """PNG text chunks and JPEG / GIF comments (XMP and raw profiles are read by their own families)."""
    fields = []
    for key, value in sources.text:
        if key == _XMP_KEY or key.startswith("Raw profile type"):
            continue
        text = clean(value)
        if text:
            fields.append(Field(Family.TEXT, key, text))
    return RawMetadata(tuple(fields))
