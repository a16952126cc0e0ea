"""Audio re-encoding for the fingerprint tests (written with PyAV into memory, never into the repo)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest

Reencode = Callable[..., bytes]


def reencode_audio(
    src: Path,
    fmt: str,
    codec: str,
    rate: int,
    *,
    start_s: float = 0.0,
    gain: float = 1.0,
    bit_rate: int | None = None,
) -> bytes:
    """``src`` re-encoded to mono ``codec`` at ``rate``, cut from ``start_s``, volume times ``gain``."""
    buf = io.BytesIO()
    with av.open(str(src)) as inp, av.open(buf, "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        if bit_rate:
            stream.bit_rate = bit_rate
        resampler = av.AudioResampler(
            format=stream.codec_context.codec.audio_formats[0].name, layout="mono", rate=rate
        )
        for frame in inp.decode(audio=0):
            if frame.time is not None and frame.time < start_s:
                continue
            if gain != 1.0:
                scaled = np.clip(frame.to_ndarray().astype(np.float32) * gain, -32768, 32767).astype(np.int16)
                frame = av.AudioFrame.from_ndarray(scaled, format=frame.format.name, layout=frame.layout.name)
                frame.sample_rate = inp.streams.audio[0].rate
            for chunk in [*resampler.resample(frame)]:
                chunk.pts = None
                out.mux(stream.encode(chunk))
        for chunk in resampler.resample(None):
            chunk.pts = None
            out.mux(stream.encode(chunk))
        out.mux(stream.encode(None))
    return buf.getvalue()


def wav_from_samples(samples: np.ndarray, rate: int = 16_000) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=rate)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(
            np.clip(samples, -32768, 32767).astype(np.int16)[None, :], format="s16", layout="mono"
        )
        frame.sample_rate = rate
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return buf.getvalue()


@pytest.fixture(scope="session")
def sample_wav(testdata: Path) -> Path:
    return testdata / "c2pa/c2pa-rs/fixtures/sample1.wav"


@pytest.fixture(scope="session")
def reencode() -> Reencode:
    return reencode_audio


@pytest.fixture(scope="session")
def synth_wav() -> Callable[..., bytes]:
    return wav_from_samples
