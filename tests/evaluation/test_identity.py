"""Face and speaker verification measured on the development set's labelled people.

The labels come from the sources (LibriSpeech speaker ids, Tortoise's voice folders and clone file names,
deepface's published same/different pairs, PhotoMaker's per-person folders). The bounds are what the
shipped thresholds (``protection.likeness``) were chosen for: at most 1 % false matches between different
people, most same-person pairs matched.
"""

from __future__ import annotations

from pathlib import Path

from civicshield.evaluation.identity import (
    DEEPFACE_GROUPS,
    measure_faces,
    measure_voices,
    speaker_of,
    verification,
)
from civicshield.protection.likeness import FACE_MATCH, VOICE_MATCH


def test_speakers_come_from_the_sources() -> None:
    libri = {"path": "a.flac", "source_path": "audio_data/librispeech_train-clean-100/1455-134435-0000.flac"}
    voice = {"path": "b.flac", "source_path": "tortoise/voices/train_grace/2.wav"}
    clone = {
        "path": "c.flac",
        "source_path": "examples/various/x/grace_train.mp3",
        "generator": "Tortoise TTS",
    }
    found = [speaker_of(r) for r in (libri, voice, clone)]
    assert [(s.identity, s.cloned) for s in found if s] == [
        ("librispeech:1455", False),
        ("tortoise:train_grace", False),
        ("tortoise:train_grace", True),
    ]
    assert speaker_of({"path": "d.flac", "source_path": "somewhere/else.wav"}) is None


def test_deepface_groups_are_its_yes_pairs() -> None:
    # master.csv lists 38 "Yes" pairs: all pairs within these groups
    assert sum(len(g) * (len(g) - 1) // 2 for g in DEEPFACE_GROUPS) == 38


def test_verification_numbers_on_a_textbook_case() -> None:
    v = verification([0.9, 0.8, 0.7, 0.2], [0.1, 0.3, 0.75, 0.05], threshold=0.5)
    assert (v.genuine, v.impostor, v.tpr_at_threshold, v.fmr_at_threshold) == (4, 4, 0.75, 0.25)
    assert v.eer == 0.25


def test_voices_at_the_shipped_threshold(dev_set: Path) -> None:
    measured = measure_voices(dev_set / "manifest.csv", VOICE_MATCH)
    assert measured.pairs.genuine >= 40 and measured.pairs.impostor >= 1000
    assert measured.pairs.eer < 0.05
    assert measured.pairs.fmr_at_threshold is not None and measured.pairs.fmr_at_threshold <= 0.01
    assert measured.pairs.tpr_at_threshold is not None and measured.pairs.tpr_at_threshold >= 0.9
    assert measured.clones is not None and measured.clones.tpr_at_threshold is not None
    assert measured.clones.tpr_at_threshold >= 0.5  # a clone sounds like its target, as it was made to


def test_faces_at_the_shipped_threshold(dev_set: Path) -> None:
    measured = measure_faces(dev_set / "manifest.csv", FACE_MATCH)
    assert measured.pairs.genuine >= 50 and measured.pairs.impostor >= 250
    assert measured.pairs.eer < 0.05
    assert measured.pairs.fmr_at_threshold is not None and measured.pairs.fmr_at_threshold <= 0.01
    assert measured.pairs.tpr_at_threshold is not None and measured.pairs.tpr_at_threshold >= 0.9
