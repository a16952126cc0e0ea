"""Recognise a media format from its first bytes, never from the file name."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"


@dataclass(frozen=True)
class Format:
    """A sniffed container format. ``kind`` may be revised by probing (an MP4 with only audio is audio)."""

    name: str
    mime: str
    kind: MediaKind


_IMAGE_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"}
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A "}


def _ftyp(head: bytes) -> Format | None:
    if head[4:8] != b"ftyp" or len(head) < 12:
        return None
    major = head[8:12]
    brands = {major} | {head[i : i + 4] for i in range(16, min(len(head), 64), 4)}
    if major in {b"avif", b"avis"}:
        return Format("avif", "image/avif", MediaKind.IMAGE)
    if major in _IMAGE_BRANDS:
        return Format("heic", "image/heic", MediaKind.IMAGE)
    if major in _AUDIO_BRANDS:
        return Format("m4a", "audio/mp4", MediaKind.AUDIO)
    if major == b"qt  ":
        return Format("mov", "video/quicktime", MediaKind.VIDEO)
    if brands & {b"avif"} and not brands & {b"isom", b"mp41", b"mp42"}:
        return Format("avif", "image/avif", MediaKind.IMAGE)
    return Format("mp4", "video/mp4", MediaKind.VIDEO)


def _riff(head: bytes) -> Format | None:
    if head[:4] != b"RIFF":
        return None
    sub = head[8:12]
    if sub == b"WEBP":
        return Format("webp", "image/webp", MediaKind.IMAGE)
    if sub == b"WAVE":
        return Format("wav", "audio/wav", MediaKind.AUDIO)
    if sub == b"AVI ":
        return Format("avi", "video/x-msvideo", MediaKind.VIDEO)
    return None


def _mp3(head: bytes) -> bool:
    if head[:3] == b"ID3":
        return True
    # MPEG audio frame sync: 11 set bits, layer bits != 00, bitrate index != 1111.
    return (
        len(head) >= 3
        and head[0] == 0xFF
        and (head[1] & 0xE0) == 0xE0
        and (head[1] & 0x06) != 0
        and (head[2] & 0xF0) != 0xF0
    )


_SIMPLE: tuple[tuple[bytes, Format], ...] = (
    (b"\xff\xd8\xff", Format("jpeg", "image/jpeg", MediaKind.IMAGE)),
    (b"\x89PNG\r\n\x1a\n", Format("png", "image/png", MediaKind.IMAGE)),
    (b"GIF87a", Format("gif", "image/gif", MediaKind.IMAGE)),
    (b"GIF89a", Format("gif", "image/gif", MediaKind.IMAGE)),
    (b"II*\x00", Format("tiff", "image/tiff", MediaKind.IMAGE)),
    (b"MM\x00*", Format("tiff", "image/tiff", MediaKind.IMAGE)),
    (b"fLaC", Format("flac", "audio/flac", MediaKind.AUDIO)),
    (b"OggS", Format("ogg", "audio/ogg", MediaKind.AUDIO)),
    (b"\x1a\x45\xdf\xa3", Format("mkv", "video/x-matroska", MediaKind.VIDEO)),
)


def sniff(head: bytes) -> Format | None:
    """The format of a file from its first bytes (64 are enough), or ``None`` when we do not handle it."""
    for magic, fmt in _SIMPLE:
        if head.startswith(magic):
            if fmt.name == "mkv" and b"webm" in head[:64]:
                return Format("webm", "video/webm", MediaKind.VIDEO)
            if fmt.name == "ogg" and b"OpusHead" in head[:64]:
                return Format("opus", "audio/ogg; codecs=opus", MediaKind.AUDIO)
            return fmt
    found = _ftyp(head) or _riff(head)
    if found is not None:
        return found
    if _mp3(head):
        return Format("mp3", "audio/mpeg", MediaKind.AUDIO)
    return None
