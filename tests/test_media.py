from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from civicshield.demo import synth
from civicshield.errors import CorruptMedia, MediaTooLarge, UnsupportedMedia
from civicshield.media import Media, MediaKind, decode_audio, decode_image, video_frames
from civicshield.settings import Limits


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims huge dimensions: the classic decompression-bomb shape."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    body = struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    idat = zlib.compress(b"\x00" * 1024)
    idat_chunk = b"IDAT" + idat
    body += struct.pack(">I", len(idat)) + idat_chunk + struct.pack(">I", zlib.crc32(idat_chunk))
    return b"\x89PNG\r\n\x1a\n" + body


def test_kind_comes_from_content_not_name(tmp_path: Path) -> None:
    path = synth.save_image(synth.poster(size=(300, 300)), tmp_path / "looks_like.mp3", "PNG")
    media = Media.open(path)
    assert media.kind is MediaKind.IMAGE
    assert media.format.name == "png"
    assert (media.info.width, media.info.height) == (300, 300)
    assert len(media.sha256) == 64


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF", "GIF"])
def test_decodes_common_image_formats(tmp_path: Path, fmt: str) -> None:
    path = synth.save_image(synth.poster(size=(200, 120)), tmp_path / f"x.{fmt.lower()}", fmt)
    img = decode_image(Media.open(path))
    assert img.size == (200, 120)
    assert img.mode == "RGB"


def test_heic_and_avif_fixtures_decode(testdata: Path) -> None:
    fixtures = testdata / "c2pa" / "c2pa-rs" / "fixtures"
    for name, fmt in [("sample1.heif", "heic"), ("sample1.avif", "avif")]:
        media = Media.open(fixtures / name)
        assert media.format.name == fmt
        assert decode_image(media).size == (media.info.width, media.info.height)


def test_pixel_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(MediaTooLarge):
        Media.from_bytes(_png_header_only(60_000, 60_000), name="bomb.png")


def test_pixel_limit_is_configurable(tmp_path: Path) -> None:
    path = synth.save_image(synth.poster(size=(400, 400)), tmp_path / "p.png", "PNG")
    with pytest.raises(MediaTooLarge):
        Media.open(path, Limits(max_pixels=100_000))


def test_byte_limit(tmp_path: Path) -> None:
    path = synth.save_image(synth.poster(size=(400, 400)), tmp_path / "p.png", "PNG")
    with pytest.raises(MediaTooLarge):
        Media.open(path, Limits(max_bytes=1000))


def test_truncated_image_is_corrupt(tmp_path: Path) -> None:
    path = synth.save_image(synth.poster(size=(400, 400)), tmp_path / "p.jpg", "JPEG")
    data = path.read_bytes()
    media = Media.from_bytes(data[: len(data) // 2], name="half.jpg")
    with pytest.raises(CorruptMedia):
        decode_image(media)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", CorruptMedia),
        (b"just some text", UnsupportedMedia),
        (b"%PDF-1.7\n", UnsupportedMedia),
        (b"\x89PNG\r\n\x1a\n\x00\x00", CorruptMedia),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", CorruptMedia),
        (b"\x00\x00\x00\x20ftypisom" + b"\x00" * 40, CorruptMedia),
    ],
)
def test_hostile_bytes_raise_our_errors(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        Media.from_bytes(data, name="x")


def test_directory_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedMedia):
        Media.open(tmp_path)
    with pytest.raises(UnsupportedMedia):
        Media.open(tmp_path / "nope.jpg")


def test_video_frames_at_one_fps(tmp_path: Path) -> None:
    media = Media.open(synth.write_video(tmp_path / "v.mp4", seconds=3.0, fps=10))
    assert media.kind is MediaKind.VIDEO
    assert media.info.has_audio
    frames = list(video_frames(media, fps=1.0))
    assert [round(f.timestamp_s, 3) for f in frames] == [0.0, 1.0, 2.0]
    assert frames[0].rgb.shape == (240, 320, 3)


def test_decoded_frame_limit(tmp_path: Path) -> None:
    path = synth.write_video(tmp_path / "v.mp4", seconds=2.0, fps=10, with_audio=False)
    media = Media.open(path, Limits(max_decoded_frames=5))
    with pytest.raises(MediaTooLarge):
        list(video_frames(media, fps=None))


def test_duration_limit(tmp_path: Path) -> None:
    path = synth.write_video(tmp_path / "v.mp4", seconds=3.0, fps=5, with_audio=False)
    with pytest.raises(MediaTooLarge):
        Media.open(path, Limits(max_duration_s=1.0))


@pytest.mark.parametrize(
    ("codec", "container", "name"),
    [
        ("pcm_s16le", "wav", "wav"),
        ("mp3", "mp3", "mp3"),
        ("flac", "flac", "flac"),
        ("libopus", "ogg", "opus"),
        ("aac", "ipod", "m4a"),
    ],
)
def test_audio_formats_decode_to_mono_float(tmp_path: Path, codec: str, container: str, name: str) -> None:
    samples = synth.tone(2.0)
    path = synth.write_audio(tmp_path / f"a.{name}", samples, codec=codec, container=container)
    media = Media.open(path)
    assert media.kind is MediaKind.AUDIO
    assert media.format.name == name
    decoded = decode_audio(media, sample_rate=16_000)
    assert decoded.dtype == np.float32
    assert abs(decoded.size - samples.size) < 16_000 * 0.15  # codec priming and padding
    assert float(np.abs(decoded).max()) <= 1.0


def test_audio_only_mp4_is_audio(tmp_path: Path) -> None:
    path = synth.write_audio(tmp_path / "voice.mp4", synth.tone(1.0), codec="aac", container="mp4")
    assert Media.open(path).kind is MediaKind.AUDIO


def test_decode_image_refuses_other_kinds(tmp_path: Path) -> None:
    media = Media.open(synth.write_audio(tmp_path / "a.wav", synth.tone(0.5)))
    with pytest.raises(UnsupportedMedia):
        decode_image(media)


def test_animated_gif_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (64, 64), (i * 40, 0, 0)) for i in range(3)]
    path = tmp_path / "a.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    media = Media.open(path)
    assert media.info.frames == 3
    assert decode_image(media).getpixel((0, 0))[0] < 10
