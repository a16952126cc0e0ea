"""IPTC-IIM datasets, wherever files keep them.

JPEG keeps them in a Photoshop image resource block (APP13, resource ``0x0404``), TIFF in tag 33723, and PNG
writers that follow ImageMagick in a hex-encoded ``Raw profile type iptc`` text chunk. The parsers here walk
untrusted length fields, so every step checks bounds and stops at the first inconsistency.
"""

from __future__ import annotations

import binascii

from civicshield.analyzers.meta.bounds import Bounds, clean
from civicshield.analyzers.meta.fields import Family, Field

__all__ = ["IPTC_RESOURCE", "iim_fields", "iptc_block", "parse_irb", "raw_profile"]

IPTC_RESOURCE = 0x0404
_DATASETS = {
    5: "ObjectName",
    25: "Keywords",
    55: "DateCreated",
    65: "OriginatingProgram",
    70: "ProgramVersion",
    80: "By-line",
    105: "Headline",
    110: "Credit",
    115: "Source",
    116: "CopyrightNotice",
    120: "Caption-Abstract",
    122: "Writer-Editor",
}


def iim_fields(data: bytes, bounds: Bounds) -> list[Field]:
    """Record-2 (application) datasets we name, as fields. Stops at the first malformed dataset."""
    fields: list[Field] = []
    pos = 0
    while pos + 5 <= len(data) and data[pos] == 0x1C and len(fields) < bounds.max_fields:
        record, dataset = data[pos + 1], data[pos + 2]
        size = int.from_bytes(data[pos + 3 : pos + 5], "big")
        if size & 0x8000:  # extended-length dataset: only used for huge binary objects
            break
        value = data[pos + 5 : pos + 5 + size]
        pos += 5 + size
        name = _DATASETS.get(dataset) if record == 2 else None
        text = clean(_decode(value)) if name else ""
        if name and text:
            fields.append(Field(Family.IPTC, name, text))
    return fields


def _decode(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def parse_irb(data: bytes, bounds: Bounds) -> dict[int, bytes]:
    """Photoshop image resources (``8BIM`` id, Pascal name padded to even, size, data padded to even)."""
    resources: dict[int, bytes] = {}
    pos = 0
    while pos + 12 <= len(data) and data[pos : pos + 4] == b"8BIM" and len(resources) < bounds.max_keys * 4:
        ident = int.from_bytes(data[pos + 4 : pos + 6], "big")
        name_len = data[pos + 6]
        pos += 6 + name_len + 1 + ((name_len + 1) % 2)
        if pos + 4 > len(data):
            break
        size = int.from_bytes(data[pos : pos + 4], "big")
        pos += 4
        if size > len(data) - pos:
            break
        resources.setdefault(ident, data[pos : pos + size])
        pos += size + size % 2
    return resources


def raw_profile(text: str, bounds: Bounds) -> bytes | None:
    """The bytes of an ImageMagick ``Raw profile type ...`` chunk: ``\\nNAME\\n  LENGTH\\nHEX...``."""
    lines = text.strip().split("\n", 2)
    if len(lines) < 3 or not lines[1].strip().isdigit():
        return None
    length = int(lines[1].strip())
    if length > bounds.max_payload_bytes:
        return None
    try:
        data = binascii.unhexlify("".join(lines[2].split()))
    except (binascii.Error, ValueError):
        return None
    return data[:length]


def iptc_block(data: bytes, bounds: Bounds) -> bytes:
    """IIM bytes from either a Photoshop resource block or raw IIM."""
    if data.startswith(b"8BIM"):
        return parse_irb(data, bounds).get(IPTC_RESOURCE, b"")
    return data if data[:1] == b"\x1c" else b""
