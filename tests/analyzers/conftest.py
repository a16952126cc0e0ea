"""Media made on the fly for the analyzer tests: a slowly panning picture with an optional sound track."""

from __future__ import annotations

import io
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

MakeVideo = Callable[..., bytes]


def _frames(
    picture: Path, seconds: float, fps: int, size: tuple[int, int], start_s: float
) -> list[np.ndarray]:
    src = Image.open(picture).convert("RGB")
    w, h = size
    out = []
    for i in range(int(seconds * fps)):
        t = start_s + i / fps
        left = int(t * 12)  # a slow pan: 12 source pixels a second
        crop = src.crop((left, 0, left + src.width * 3 // 4, src.height))
        out.append(np.asarray(crop.resize((w, h), Image.Resampling.BILINEAR)))
    return out


def make_video(
    picture: Path,
    *,
    seconds: float = 12.0,
    fps: int = 10,
    size: tuple[int, int] = (320, 200),
    start_s: float = 0.0,
    audio: Path | None = None,
    audio_start_s: float = 0.0,
) -> bytes:
    """An H.264 MP4 panning across ``picture`` (from ``start_s``), with ``audio``'s sound when given."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        vs = out.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = size[0], size[1], "yuv420p"
        vs.options = {"preset": "ultrafast", "crf": "28"}
        as_ = out.add_stream("aac", rate=16_000) if audio else None
        if as_ is not None:
            as_.layout = "mono"  # before the first mux opens the codecs
        for i, rgb in enumerate(_frames(picture, seconds, fps, size, start_s)):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
        if audio and as_ is not None:
            _mux_audio(out, as_, audio, audio_start_s, seconds)
    return buf.getvalue()


def _mux_audio(
    out: av.container.OutputContainer, stream: av.audio.AudioStream, src: Path, start_s: float, seconds: float
) -> None:
    resampler = av.AudioResampler(format="fltp", layout="mono", rate=16_000)
    with av.open(str(src)) as inp:
        for frame in inp.decode(audio=0):
            if frame.time is None or frame.time < start_s:
                continue
            if frame.time > start_s + seconds:
                break
            for chunk in resampler.resample(frame):
                chunk.pts = None
                out.mux(stream.encode(chunk))
    out.mux(stream.encode(None))


@pytest.fixture(scope="session")
def video_maker() -> MakeVideo:
    return make_video


@pytest.fixture(scope="session")
def bridge(testdata: Path) -> Path:
    return testdata / "threatexchange/pdq/images/bridge-mods/aaa-orig.jpg"
