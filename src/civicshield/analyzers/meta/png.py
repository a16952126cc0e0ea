"""PNG text and EXIF chunks, read by walking the chunk list rather than through Pillow.

Pillow reports only the chunks in front of the pixel data until the whole image is decoded, and ImageMagick
(among others) writes its text and ``eXIf`` chunks after it. Walking the chunk list finds every chunk without
decoding a pixel. Compressed text is inflated with a hard output limit, so a zTXt bomb costs at most that
much. CRCs are not checked: a damaged chunk yields damaged text, which the parsers downstream tolerate.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from civicshield.analyzers.meta.bounds import Bounds

__all__ = ["PNG_SIGNATURE", "PngChunks", "read_png_chunks"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_CHUNKS = 100_000
MAX_TEXT_CHUNK = 1 << 20  # inflated size of one chunk, as Pillow's own limit
MAX_TEXT_TOTAL = 16 << 20


@dataclass(frozen=True)
class PngChunks:
    text: tuple[tuple[str, str], ...] = ()
    exif: bytes | None = None
    problems: tuple[str, ...] = ()


def read_png_chunks(data: bytes, bounds: Bounds) -> PngChunks:
    """Every ``tEXt`` / ``zTXt`` / ``iTXt`` chunk as ``(keyword, text)`` and the first ``eXIf`` payload."""
    if not data.startswith(PNG_SIGNATURE):
        return PngChunks()
    text: list[tuple[str, str]] = []
    exif: bytes | None = None
    problems: list[str] = []
    pos, total, count = len(PNG_SIGNATURE), 0, 0
    while pos + 8 <= len(data) and count < MAX_CHUNKS and len(text) < bounds.max_fields:
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos, count = pos + 12 + length, count + 1
        if kind == b"IEND":
            break
        if kind == b"eXIf" and exif is None:
            exif = body
        elif kind in (b"tEXt", b"zTXt", b"iTXt"):
            entry = _text_chunk(kind, body)
            if entry is None:
                problems.append(
                    f"png: {kind.decode()} chunk is corrupt or inflates past {MAX_TEXT_CHUNK} bytes"
                )
                continue
            total += len(entry[1])
            if total > MAX_TEXT_TOTAL:
                problems.append(f"png: text chunks beyond {MAX_TEXT_TOTAL} bytes were not read")
                break
            text.append(entry)
    return PngChunks(tuple(text), exif, tuple(problems[: bounds.max_keys]))


def _text_chunk(kind: bytes, body: bytes) -> tuple[str, str] | None:
    keyword, sep, rest = body.partition(b"\x00")
    if not sep or not 1 <= len(keyword) <= 79:
        return None
    key = keyword.decode("latin-1")
    if kind == b"tEXt":
        return key, rest.decode("latin-1")
    if kind == b"zTXt":
        inflated = _inflate(rest[1:])
        return None if inflated is None else (key, inflated.decode("latin-1"))
    if len(rest) < 2:
        return None
    compressed = rest[0] == 1
    _lang, _, rest = rest[2:].partition(b"\x00")
    _translated, _, value = rest.partition(b"\x00")
    raw = _inflate(value) if compressed else value
    return None if raw is None else (key, raw.decode("utf-8", "replace"))


def _inflate(data: bytes) -> bytes | None:
    """Inflated bytes, or ``None`` when corrupt or larger than ``MAX_TEXT_CHUNK`` (a decompression bomb)."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_TEXT_CHUNK + 1)
    except zlib.error:
        return None
    return None if len(out) > MAX_TEXT_CHUNK else out
