"""The shipped speaker encoder: verified file, framing as librosa frames, abstention on too little sound."""

from __future__ import annotations

import numpy as np
import pytest

from civicshield.analyzers.ml import voice_features
from civicshield.analyzers.ml.voice_model import GE2E, SpeakerEncoder
from civicshield.analyzers.ml.weights import sha256_of


@pytest.fixture(scope="module")
def encoder() -> SpeakerEncoder:
    return SpeakerEncoder()


def test_the_shipped_file_is_the_one_the_card_names() -> None:
    path = GE2E.locate("test")
    assert sha256_of(path) == GE2E.sha256
    assert path.stat().st_size < 5_000_000


def test_a_pure_tone_peaks_in_its_frequency_bin() -> None:
    t = np.arange(16_000) / 16_000
    frames = voice_features.power_frames(np.sin(2 * np.pi * 1000 * t).astype(np.float32))
    assert frames.shape == (1 + 16_000 // 160, 201)  # librosa's centred framing
    assert int(np.argmax(frames[50])) == 1000 * 400 // 16_000  # 40 Hz bins


def test_partials_cover_the_clip_at_1_3_per_second() -> None:
    rng = np.random.default_rng(0)
    five_seconds = (0.1 * rng.standard_normal(80_000)).astype(np.float32)
    partials = voice_features.partials(five_seconds)
    assert partials.shape[1:] == (160, 201)
    assert 5 <= partials.shape[0] <= 6  # 1.6-s windows every 1/1.3 s over 5 s


def test_silence_and_short_clips_give_no_voiceprint(encoder: SpeakerEncoder) -> None:
    assert encoder.voiceprint(np.zeros(64_000, dtype=np.float32)) is None
    assert encoder.voiceprint(np.full(8_000, 0.1, dtype=np.float32)) is None


def test_a_voiceprint_is_a_non_negative_unit_vector(encoder: SpeakerEncoder) -> None:
    rng = np.random.default_rng(1)
    t = np.arange(48_000) / 16_000
    voiced = 0.3 * np.sin(2 * np.pi * 140 * t) * (1 + np.sin(2 * np.pi * 3 * t)) + 0.01 * rng.standard_normal(
        t.size
    )
    print_ = encoder.voiceprint(voiced.astype(np.float32))
    assert print_ is not None
    vector = np.asarray(print_.vector)
    assert vector.shape == (256,) and np.all(vector >= 0) and np.isclose(np.linalg.norm(vector), 1.0)
