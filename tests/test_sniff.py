from __future__ import annotations

import pytest

from civicshield.sniff import MediaKind, sniff


@pytest.mark.parametrize(
    ("head", "name", "kind"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg", MediaKind.IMAGE),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "png", MediaKind.IMAGE),
        (b"GIF89a\x01\x00", "gif", MediaKind.IMAGE),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp", MediaKind.IMAGE),
        (b"II*\x00\x08\x00\x00\x00", "tiff", MediaKind.IMAGE),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "heic", MediaKind.IMAGE),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1", "avif", MediaKind.IMAGE),
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2", "mp4", MediaKind.VIDEO),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ", "mov", MediaKind.VIDEO),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A isom", "m4a", MediaKind.AUDIO),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "webm", MediaKind.VIDEO),
        (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska", "mkv", MediaKind.VIDEO),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "avi", MediaKind.VIDEO),
        (b"RIFF\x24\x08\x00\x00WAVEfmt ", "wav", MediaKind.AUDIO),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", "mp3", MediaKind.AUDIO),
        (b"\xff\xfb\x90\x64\x00", "mp3", MediaKind.AUDIO),
        (b"fLaC\x00\x00\x00\x22", "flac", MediaKind.AUDIO),
        (b"OggS\x00\x02" + b"\x00" * 22 + b"OpusHead", "opus", MediaKind.AUDIO),
        (b"OggS\x00\x02" + b"\x00" * 22 + b"\x01vorbis", "ogg", MediaKind.AUDIO),
    ],
)
def test_sniffs_format_from_content(head: bytes, name: str, kind: MediaKind) -> None:
    fmt = sniff(head)
    assert fmt is not None
    assert (fmt.name, fmt.kind) == (name, kind)


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"%PDF-1.7\n",
        b"<svg xmlns=",
        b"PK\x03\x04",
        b"hello world",
        b"\xff\xff\xff\xff",
        b"RIFF\x00\x00\x00\x00XXXX",
    ],
)
def test_unknown_content_is_not_sniffed(head: bytes) -> None:
    assert sniff(head) is None
