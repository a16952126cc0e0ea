"""What the speaker encoder reads: power spectrogram frames of 1.6 s partial utterances (numpy only).

The GE2E speaker encoder of ``resemblyzer`` 0.1.4 reads 40-band mel power spectrograms (25 ms Hann windows
every 10 ms at 16 kHz) in partial utterances of 160 frames, 1.3 partials per second, and averages their
embeddings. The shipped ONNX file (``tools/voice/export.py``) starts with the mel filter bank, so the run
time computes only the power spectrogram, framed the way librosa does it (``center=True``, zero padding,
periodic Hann window, ``|STFT|^2``). ``tools/voice/export.py`` checks this module against resemblyzer's own
``embed_utterance`` before it writes the file.

Written here rather than imported: resemblyzer needs torch, librosa and webrtcvad at run time, and this is
twenty lines of numpy. One deliberate difference: resemblyzer drops long pauses with webrtcvad; we drop
partials that are nearly silent instead (``voiced_partials``), which is what matters for the average.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "N_FFT",
    "PARTIAL_FRAMES",
    "SAMPLE_RATE",
    "loud_seconds",
    "normalize_volume",
    "partials",
    "power_frames",
]

SAMPLE_RATE = 16_000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
PARTIAL_FRAMES = 160  # 1.6 s
RATE = 1.3  # partials per second
MIN_COVERAGE = 0.75
TARGET_DBFS = -30.0
INT16_MAX = 2**15 - 1
SILENT_DBFS = -55.0  # a partial whose loudness stays below this is left out of the average


def normalize_volume(samples: np.ndarray, target_dbfs: float = TARGET_DBFS) -> np.ndarray:
    """Raise quiet audio to ``target_dbfs`` RMS (never lowers it), as resemblyzer's ``normalize_volume``."""
    samples = np.asarray(samples, dtype=np.float32)
    rms = float(np.sqrt(np.mean((samples.astype(np.float64) * INT16_MAX) ** 2))) if samples.size else 0.0
    if rms <= 0.0:
        return samples
    change = target_dbfs - 20.0 * np.log10(rms / INT16_MAX)
    return samples if change < 0 else (samples * (10 ** (change / 20.0))).astype(np.float32)


def power_frames(samples: np.ndarray) -> np.ndarray:
    """``(frames, 201)`` power spectrogram: librosa's ``stft(center=True, pad_mode='constant')`` squared."""
    samples = np.asarray(samples, dtype=np.float32)
    padded = np.pad(samples, N_FFT // 2)
    count = 1 + (len(padded) - N_FFT) // HOP
    index = np.arange(N_FFT)[None, :] + HOP * np.arange(count)[:, None]
    window = (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
    spectrum = np.fft.rfft(padded[index] * window, axis=1)
    return (spectrum.real**2 + spectrum.imag**2).astype(np.float32)


def _slices(n_samples: int) -> list[slice]:
    """Frame ranges of the partial utterances (resemblyzer's ``compute_partial_slices``)."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    step = int(np.round((SAMPLE_RATE / RATE) / HOP))
    starts = range(0, max(1, n_frames - PARTIAL_FRAMES + step + 1), step)
    ranges = [slice(i, i + PARTIAL_FRAMES) for i in starts]
    last = ranges[-1]
    coverage = (n_samples - last.start * HOP) / (PARTIAL_FRAMES * HOP)
    if coverage < MIN_COVERAGE and len(ranges) > 1:
        ranges = ranges[:-1]
    return ranges


def partials(samples: np.ndarray, *, drop_silent: bool = True) -> np.ndarray:
    """``(n, 160, 201)`` power frames of the partial utterances of 16 kHz mono ``samples``.

    Samples are volume-normalized first; with ``drop_silent`` partials quieter than ``SILENT_DBFS`` are left
    out (all of them are kept when every partial is that quiet: the caller decides whether to abstain).
    """
    samples = normalize_volume(samples)
    ranges = _slices(len(samples))
    needed = ranges[-1].stop * HOP
    if needed > len(samples):
        samples = np.pad(samples, (0, needed - len(samples)))
    frames = power_frames(samples)
    chosen = np.stack([frames[r] for r in ranges])
    if drop_silent and len(ranges) > 1:
        loud = [_dbfs(samples[r.start * HOP : r.stop * HOP]) > SILENT_DBFS for r in ranges]
        if any(loud):
            chosen = chosen[np.array(loud)]
    return chosen


def _dbfs(samples: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if samples.size else 0.0
    return -120.0 if rms <= 0.0 else 20.0 * float(np.log10(rms))


def loud_seconds(samples: np.ndarray, *, frame: int = 400) -> float:
    """Seconds of ``samples`` in 25-ms frames louder than ``SILENT_DBFS`` (after volume normalization)."""
    samples = normalize_volume(samples)
    count = len(samples) // frame
    if count == 0:
        return 0.0
    frames = samples[: count * frame].astype(np.float64).reshape(count, frame)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    with np.errstate(divide="ignore"):
        level = 20.0 * np.log10(rms)
    return float(np.sum(level > SILENT_DBFS)) * frame / SAMPLE_RATE
