"""``Media``: the bytes of one item, the kind sniffed from its content, and safe decoding.

Every decoder here enforces ``Limits`` and turns whatever a third-party decoder raises on hostile input into
our own ``MediaError`` subclasses. Analyzers decode through these functions, never by calling Pillow or PyAV
on the raw bytes themselves.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from civicshield.errors import CorruptMedia, MediaError, MediaTooLarge, UnsupportedMedia
from civicshield.settings import Limits
from civicshield.sniff import Format, MediaKind, sniff

if TYPE_CHECKING:
    import av.container

__all__ = [
    "Media",
    "MediaInfo",
    "MediaKind",
    "VideoFrame",
    "decode_audio",
    "decode_image",
    "open_container",
    "open_image",
    "video_frames",
]

ImageFile.LOAD_TRUNCATED_IMAGES = False
_DECODER_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ValueError,
    EOFError,
    SyntaxError,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    RuntimeError,
    AttributeError,
    UnidentifiedImageError,
    NotImplementedError,
    OverflowError,
)
_heif_registered = False


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        import pillow_heif

        pillow_heif.register_heif_opener()
        _heif_registered = True


@dataclass(frozen=True)
class MediaInfo:
    """What probing learnt without fully decoding."""

    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    has_video: bool = False
    has_audio: bool = False
    frames: int | None = None
    codec: str | None = None


@dataclass(frozen=True)
class Media:
    """One media item. Build with ``Media.open(path)`` or ``Media.from_bytes(data, name=...)``."""

    data: bytes = field(repr=False)
    format: Format
    info: MediaInfo
    name: str
    limits: Limits = field(repr=False, compare=False)
    path: Path | None = None
    sha256: str = ""

    @property
    def kind(self) -> MediaKind:
        return self.format.kind

    @property
    def mime(self) -> str:
        return self.format.mime

    @classmethod
    def open(cls, path: str | Path, limits: Limits | None = None) -> Media:
        limits = limits or Limits()
        path = Path(path)
        try:
            size = path.stat().st_size
            if size > limits.max_bytes:
                raise MediaTooLarge(f"{path.name}: {size} bytes is over the limit of {limits.max_bytes}")
            with path.open("rb") as fh:
                data = fh.read(limits.max_bytes + 1)
        except MediaError:
            raise
        except IsADirectoryError as exc:
            raise UnsupportedMedia(f"{path}: is a directory") from exc
        except OSError as exc:
            raise UnsupportedMedia(f"{path}: cannot read ({exc.strerror or exc})") from exc
        return cls.from_bytes(data, name=path.name, limits=limits, path=path)

    @classmethod
    def from_bytes(
        cls, data: bytes, *, name: str = "upload", limits: Limits | None = None, path: Path | None = None
    ) -> Media:
        limits = limits or Limits()
        if len(data) > limits.max_bytes:
            raise MediaTooLarge(f"{name}: {len(data)} bytes is over the limit of {limits.max_bytes}")
        if not data:
            raise CorruptMedia(f"{name}: empty file")
        fmt = sniff(data[:64])
        if fmt is None:
            raise UnsupportedMedia(f"{name}: not an image, video or audio format we read")
        digest = hashlib.sha256(data).hexdigest()
        if fmt.kind is MediaKind.IMAGE:
            info = _probe_image(data, name, limits)
        else:
            fmt, info = _probe_av(data, fmt, name, limits)
        return cls(data=data, format=fmt, info=info, name=name, limits=limits, path=path, sha256=digest)


def _open_pil(data: bytes, name: str, limits: Limits) -> Image.Image:
    _register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # damaged EXIF etc.: Pillow warns and carries on
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaTooLarge(f"{name}: image dimensions look like a decompression bomb") from exc
    except _DECODER_ERRORS as exc:
        raise CorruptMedia(f"{name}: cannot read image header ({type(exc).__name__}: {exc})") from exc
    w, h = img.size
    if w <= 0 or h <= 0:
        raise CorruptMedia(f"{name}: image has no pixels")
    if w * h > limits.max_pixels:
        raise MediaTooLarge(f"{name}: {w}x{h} = {w * h} pixels is over the limit of {limits.max_pixels}")
    decoded = w * h * _bytes_per_pixel(img.mode)
    if decoded > limits.max_decoded_bytes:
        raise MediaTooLarge(
            f"{name}: {w}x{h} {img.mode} decodes to {decoded} bytes, "
            f"over the limit of {limits.max_decoded_bytes}"
        )
    return img


def _bytes_per_pixel(mode: str) -> int:
    """Memory one pixel of ``mode`` takes once decoded (as converted to RGB at least: 3)."""
    try:
        bands = len(Image.getmodebands(mode) * "x")
    except (KeyError, ValueError):
        bands = 4
    wide = mode.startswith(("I", "F")) or ";16" in mode or mode.endswith("16")
    return max(3, bands * (4 if mode in {"I", "F"} else 2 if wide else 1))


def _probe_image(data: bytes, name: str, limits: Limits) -> MediaInfo:
    img = _open_pil(data, name, limits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            frames = getattr(img, "n_frames", 1)
    except _DECODER_ERRORS as exc:
        raise CorruptMedia(f"{name}: cannot count image frames ({exc})") from exc
    return MediaInfo(
        width=img.size[0],
        height=img.size[1],
        frames=int(frames),
        has_video=False,
        codec=(img.format or "").lower() or None,
    )


def open_image(media: Media) -> Image.Image:
    """The image opened lazily (header read, limits checked, pixels not decoded): for metadata readers."""
    if media.kind is not MediaKind.IMAGE:
        raise UnsupportedMedia(f"{media.name}: is {media.kind}, not an image")
    return _open_pil(media.data, media.name, media.limits)


def decode_image(media: Media, *, mode: str = "RGB", draft_side: int | None = None) -> Image.Image:
    """The first frame fully decoded, converted to ``mode``. EXIF orientation is *not* applied.

    ``draft_side``: a JPEG may be decoded at 1/2, 1/4 or 1/8 scale by its decoder (DCT scaling, much
    cheaper than decoding and resizing), never below ``draft_side`` pixels on either side. Other formats
    decode in full.
    """
    if media.kind is not MediaKind.IMAGE:
        raise UnsupportedMedia(f"{media.name}: is {media.kind}, not an image")
    img = _open_pil(media.data, media.name, media.limits)
    if draft_side is not None and img.format == "JPEG":
        img.draft(mode, (draft_side, draft_side))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.load()
            return img.convert(mode)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaTooLarge(f"{media.name}: image decodes beyond the pixel limit") from exc
    except MemoryError as exc:
        raise MediaTooLarge(f"{media.name}: image needs more memory than allowed") from exc
    except _DECODER_ERRORS as exc:
        raise CorruptMedia(f"{media.name}: image data is corrupt or truncated ({exc})") from exc


def _av_error_types() -> tuple[type[BaseException], ...]:
    import av

    return (av.FFmpegError, *_DECODER_ERRORS)


@contextmanager
def open_container(media: Media) -> Iterator[av.container.InputContainer]:
    """A PyAV input container over the bytes; decoder failures inside the block become ``CorruptMedia``."""
    import av

    errors = _av_error_types()
    try:
        container = av.open(io.BytesIO(media.data), mode="r", metadata_errors="ignore")
    except errors as exc:
        raise CorruptMedia(f"{media.name}: cannot open container ({exc})") from exc
    try:
        yield container
    except MediaError:
        raise
    except MemoryError as exc:
        raise MediaTooLarge(f"{media.name}: decoding needs more memory than allowed") from exc
    except errors as exc:
        raise CorruptMedia(f"{media.name}: stream is corrupt or truncated ({exc})") from exc
    finally:
        container.close()


def _probe_av(data: bytes, fmt: Format, name: str, limits: Limits) -> tuple[Format, MediaInfo]:
    import av

    errors = _av_error_types()
    try:
        with av.open(io.BytesIO(data), mode="r", metadata_errors="ignore") as container:
            video = container.streams.video[0] if container.streams.video else None
            audio = container.streams.audio[0] if container.streams.audio else None
            duration = _duration(container, video or audio)
            width = video.codec_context.width if video is not None else None
            height = video.codec_context.height if video is not None else None
            first = video or audio
            codec = first.codec_context.name if first is not None else None
            frames = int(video.frames) if video is not None and video.frames else None
    except errors as exc:
        raise CorruptMedia(f"{name}: cannot read {fmt.name} container ({exc})") from exc
    if video is None and audio is None:
        raise CorruptMedia(f"{name}: {fmt.name} container has no audio or video stream")
    if video is None and fmt.kind is MediaKind.VIDEO:
        fmt = Format(fmt.name, fmt.mime.replace("video/", "audio/"), MediaKind.AUDIO)
    elif video is not None and fmt.kind is MediaKind.AUDIO and fmt.name == "ogg":
        fmt = Format("ogg", "video/ogg", MediaKind.VIDEO)
    if duration is not None and duration > limits.max_duration_s:
        raise MediaTooLarge(f"{name}: {duration:.0f} s is over the limit of {limits.max_duration_s:.0f} s")
    if width and height and width * height > limits.max_pixels:
        raise MediaTooLarge(f"{name}: {width}x{height} frames are over the pixel limit")
    return fmt, MediaInfo(
        width=width,
        height=height,
        duration_s=duration,
        has_video=video is not None,
        has_audio=audio is not None,
        frames=frames,
        codec=codec,
    )


def _duration(container: Any, stream: Any) -> float | None:
    if stream is not None and stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / 1_000_000
    return None


@dataclass(frozen=True)
class VideoFrame:
    index: int  # index among decoded frames
    timestamp_s: float
    rgb: np.ndarray = field(repr=False)  # HxWx3 uint8


def video_frames(media: Media, *, fps: float | None = 1.0) -> Iterator[VideoFrame]:
    """Decoded RGB frames; with ``fps`` only the first frame of each 1/fps interval. Bounded by limits."""
    if not media.info.has_video:
        raise UnsupportedMedia(f"{media.name}: has no video stream")
    limits = media.limits
    with open_container(media) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        next_t = 0.0
        decoded = 0
        for frame in container.decode(stream):
            decoded += 1
            if decoded > limits.max_decoded_frames:
                raise MediaTooLarge(f"{media.name}: more than {limits.max_decoded_frames} decoded frames")
            t = float(frame.time) if frame.time is not None else (decoded - 1) / 25.0
            if t > limits.max_duration_s:
                raise MediaTooLarge(f"{media.name}: video runs past {limits.max_duration_s:.0f} s")
            if fps is not None:
                if t + 1e-6 < next_t:
                    continue
                next_t = (int(t * fps + 1e-6) + 1) / fps
            yield VideoFrame(index=decoded - 1, timestamp_s=t, rgb=frame.to_ndarray(format="rgb24"))


def decode_audio(media: Media, *, sample_rate: int = 16_000, mono: bool = True) -> np.ndarray:
    """The first audio stream as float32 samples in [-1, 1] at ``sample_rate`` (shape ``(n,)`` when mono)."""
    import av

    if not media.info.has_audio:
        raise UnsupportedMedia(f"{media.name}: has no audio stream")
    layout = "mono" if mono else "stereo"
    resampler = av.AudioResampler(format="flt", layout=layout, rate=sample_rate)
    max_samples = media.limits.max_audio_samples * sample_rate // 16_000
    chunks: list[np.ndarray] = []
    total = 0
    with open_container(media) as container:
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                arr = out.to_ndarray().reshape(-1)
                total += arr.size
                if total > max_samples:
                    raise MediaTooLarge(f"{media.name}: audio longer than the limit")
                chunks.append(arr)
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    if not chunks:
        raise CorruptMedia(f"{media.name}: audio stream decodes to no samples")
    samples = np.concatenate(chunks).astype(np.float32)
    return samples if mono else samples.reshape(-1, 2)


def frame_rate(media: Media) -> Fraction | None:
    """Average frame rate of the first video stream, when the container knows it."""
    with open_container(media) as container:
        if not container.streams.video:
            return None
        rate = container.streams.video[0].average_rate
        return Fraction(rate) if rate else None
