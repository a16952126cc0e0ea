"""Synthetic demo media (no people's faces): posters, short clips with a tone, spoken-like audio.

Used by ``civicshield demo`` and by tests that need media of a given shape. Everything is drawn
procedurally, so the demo set needs no download and carries no third-party rights.
"""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def poster(text: str = "VOTE 9 JUNE", size: tuple[int, int] = (800, 1000), seed: int = 7) -> Image.Image:
    """A campaign-style poster: gradient, shapes and large text."""
    rng = np.random.default_rng(seed)
    w, h = size
    y = np.linspace(0, 1, h)[:, None]
    x = np.linspace(0, 1, w)[None, :]
    base = rng.uniform(40, 200, size=3)
    arr = np.stack([base[i] + 55 * np.sin(3 * x + 2 * y + i) for i in range(3)], axis=-1)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, w - 50)), int(rng.integers(0, h - 50))
        r = int(rng.integers(20, 140))
        colour = tuple(int(c) for c in rng.integers(0, 255, size=3))
        draw.ellipse([x0, y0, x0 + r, y0 + r], fill=colour, outline=(255, 255, 255), width=3)
    font = ImageFont.load_default(size=max(24, w // 12))
    draw.rectangle([0, int(h * 0.72), w, int(h * 0.9)], fill=(250, 250, 245))
    draw.text((w // 20, int(h * 0.75)), text, fill=(20, 30, 90), font=font)
    return img


def save_image(img: Image.Image, path: Path, fmt: str = "JPEG", **kw: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format=fmt, **kw)
    return path


def tone(
    seconds: float = 3.0, sample_rate: int = 16_000, freqs: tuple[float, ...] = (220.0, 330.0), seed: int = 3
) -> np.ndarray:
    """A voice-like signal: harmonics with a syllable-rate envelope and a little noise (float32, mono)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    env = 0.5 * (1 + np.sin(2 * np.pi * 4 * t)) ** 2 / 4
    sig = sum(np.sin(2 * np.pi * f * t * (1 + 0.02 * np.sin(2 * np.pi * 0.5 * t))) for f in freqs)
    out = 0.3 * env * sig + 0.01 * rng.standard_normal(t.size)
    return np.asarray(out, dtype=np.float32)


def write_audio(
    path: Path,
    samples: np.ndarray,
    sample_rate: int = 16_000,
    codec: str = "pcm_s16le",
    container: str = "wav",
) -> Path:
    """Encode mono float samples with PyAV (wav, mp3, flac, ogg/opus...)."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w", format=container) as out:
        stream: Any = out.add_stream(codec, rate=sample_rate if codec != "libopus" else 48_000, layout="mono")
        pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)[None, :]
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = sample_rate
        frame.pts = None
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def write_video(
    path: Path,
    seconds: float = 4.0,
    fps: int = 10,
    size: tuple[int, int] = (320, 240),
    with_audio: bool = True,
    seed: int = 11,
    text: str = "LIVE",
) -> Path:
    """A short H.264 clip of moving shapes over a poster background, with a tone track."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    w, h = size
    bg = poster(text, size=(w, h), seed=seed)
    n = int(seconds * fps)
    sr = 16_000
    audio = tone(seconds, sr, seed=seed) if with_audio else None
    with av.open(str(path), mode="w") as out:
        vs = out.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.options = {"preset": "ultrafast", "crf": "28"}
        aus = out.add_stream("aac", rate=sr, layout="mono") if audio is not None else None
        for i in range(n):
            img = bg.copy()
            draw = ImageDraw.Draw(img)
            cx = int((i / max(1, n - 1)) * (w - 60))
            draw.rectangle([cx, h // 3, cx + 60, h // 3 + 60], fill=(230, 40, 40))
            frame = av.VideoFrame.from_image(img)  # type: ignore[no-untyped-call]
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in vs.encode(frame):
                out.mux(packet)
        for packet in vs.encode(None):
            out.mux(packet)
        if aus is not None and audio is not None:
            step = 1024
            pcm = audio[None, :].astype(np.float32)
            for start in range(0, pcm.shape[1], step):
                chunk = np.ascontiguousarray(pcm[:, start : start + step])
                af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                af.sample_rate = sr
                af.pts = start
                af.time_base = Fraction(1, sr)
                for packet in aus.encode(af):
                    out.mux(packet)
            for packet in aus.encode(None):
                out.mux(packet)
    return path


def png_bytes(img: Image.Image, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", **kw)
    return buf.getvalue()
