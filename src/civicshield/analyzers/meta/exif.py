"""EXIF: the tags that say who made the file and with what, read through Pillow's ``getexif``.

Only named tags are kept. GPS coordinates and serial numbers identify people, and evidence may be published
with a fact-check, so for those we record presence only.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable

from PIL import ExifTags, Image

from civicshield.analyzers.meta.bounds import clean
from civicshield.analyzers.meta.fields import READ_ERRORS, Family, Field

__all__ = ["decode_user_comment", "exif_fields", "exif_from_bytes"]

_IFD0 = {
    270: "ImageDescription",
    271: "Make",
    272: "Model",
    305: "Software",
    306: "DateTime",
    315: "Artist",
    316: "HostComputer",
    33432: "Copyright",
}
_EXIF_IFD = {
    36867: "DateTimeOriginal",
    36868: "DateTimeDigitized",
    37510: "UserComment",
    42035: "LensMake",
    42036: "LensModel",
}
_PRESENCE_ONLY = {42033: "BodySerialNumber", 37500: "MakerNote"}


def exif_fields(load: Callable[[], Image.Exif]) -> tuple[list[Field], list[str]]:
    """The named EXIF tags as fields, and a problem line when the EXIF block is unreadable."""
    try:
        exif = load()
        ifd0 = dict(exif)
        sub = dict(exif.get_ifd(ExifTags.IFD.Exif)) if ExifTags.IFD.Exif in exif else {}
        has_gps = ExifTags.IFD.GPSInfo in exif and bool(exif.get_ifd(ExifTags.IFD.GPSInfo))
    except READ_ERRORS as exc:
        return [], [f"exif: unreadable ({type(exc).__name__})"]
    fields = [*_named(ifd0, _IFD0), *_named(sub, _EXIF_IFD)]
    fields += [Field(Family.EXIF, name, "present") for tag, name in _PRESENCE_ONLY.items() if tag in sub]
    if has_gps:
        fields.append(Field(Family.EXIF, "GPSInfo", "present"))
    return fields, []


def exif_from_bytes(data: bytes) -> Image.Exif:
    """An EXIF block (TIFF header, with or without the ``Exif\\0\\0`` prefix) as Pillow's ``Exif``."""
    exif = Image.Exif()
    exif.load(data)
    return exif


def _named(tags: dict[int, object], names: dict[int, str]) -> list[Field]:
    fields = []
    for tag, name in names.items():
        value = tags.get(tag)
        text = decode_user_comment(value) if tag == 37510 and isinstance(value, bytes) else _text(value)
        if text:
            fields.append(Field(Family.EXIF, name, text))
    return fields


def _text(value: object) -> str:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, bytes):
        return clean(value.decode("utf-8", "replace"))
    return ""


def decode_user_comment(raw: bytes) -> str:
    """EXIF ``UserComment``: an 8-byte character-code prefix, then the text.

    Stable Diffusion web UIs store their parameters here in JPEG and WebP, as ``UNICODE`` text whose byte
    order is not declared (piexif writes big-endian, other tools little-endian), so the byte order is inferred
    from where the zero bytes of ASCII characters fall.
    """
    prefix, body = raw[:8], raw[8:]
    if prefix == b"UNICODE\x00":
        return clean(body.decode(_utf16_codec(body), "replace"))
    if prefix in (b"ASCII\x00\x00\x00", b"\x00" * 8):
        return clean(body.decode("utf-8", "replace"))
    if prefix == b"JIS\x00\x00\x00\x00\x00":
        return clean(body.decode("shift_jis", "replace"))
    return clean(raw.decode("utf-8", "replace"))


def _utf16_codec(body: bytes) -> str:
    if body.startswith((codecs.BOM_UTF16_BE, codecs.BOM_UTF16_LE)):
        return "utf-16"
    head = body[:512]
    zeros_even = head[0::2].count(0)
    zeros_odd = head[1::2].count(0)
    return "utf-16-be" if zeros_even >= zeros_odd else "utf-16-le"
