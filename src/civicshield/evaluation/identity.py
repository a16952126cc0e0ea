"""Face and speaker verification measured on labelled data: EER, true matches at 1 % false matches.

Who is who comes from the dataset's own provenance columns, never from our models:

* voices: a LibriSpeech clip's ``source_path`` names its speaker (``1455-134435-0000.flac`` is speaker
  1455); Tortoise's reference recordings sit in ``tortoise/voices/<voice>/``; Tortoise's clones name the
  voice they clone in their file name (``…/freeman.mp3``), which is the issue's ready impersonation test;
* faces: the deepface project's labelled test pairs (``serengil/deepface`` ``tests/unit/dataset/master.csv``,
  commit ``1eb617e``: which of ``img1.jpg``..``img25.jpg`` show the same person; its ``Yes`` pairs form the
  groups below and its ``No`` pairs are exactly the pairs across groups), and PhotoMaker's photos in
  ``examples/yangmi_woman`` and ``examples/scarletthead_woman`` (one person each, by folder name).

``verification`` turns same-identity and different-identity similarity scores into the numbers a
threshold is chosen from.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from civicshield.evaluation import metrics

__all__ = [
    "Labelled",
    "Verification",
    "clone_scores",
    "face_samples",
    "measure_faces",
    "measure_voices",
    "pair_scores",
    "speaker_of",
    "verification",
    "voice_samples",
]

#: serengil/deepface tests/unit/dataset/master.csv (commit 1eb617e): its "Yes" pairs, as groups of one person.
DEEPFACE_GROUPS = (
    (1, 2, 4, 5, 6, 7, 10, 11),
    (3, 12),
    (8, 9),
    (13, 14, 15),
    (16, 17),
    (18, 19),
    (20, 21),
    (22, 23),
    (24, 25),
)

#: Tortoise example file names whose voice folder is spelled differently.
_CLONE_ALIASES = {"grace_train": "train_grace"}


@dataclass(frozen=True)
class Labelled:
    """One sample of a known identity; ``cloned`` when it is a synthetic copy of that identity's voice."""

    path: Path
    identity: str  # "<labelling source>:<person>"
    cloned: bool = False

    @property
    def source(self) -> str:
        return self.identity.split(":", 1)[0]


@dataclass(frozen=True)
class Verification:
    """Same-identity (genuine) and different-identity (impostor) similarity scores, summarised."""

    genuine: int
    impostor: int
    eer: float
    threshold_at_1pct: float
    tpr_at_1pct: float
    tpr_at_threshold: float | None = None
    fmr_at_threshold: float | None = None


def speaker_of(row: dict[str, str]) -> Labelled | None:
    """The speaker of a dev-manifest audio row, from its source path; ``None`` when it names none."""
    source = row.get("source_path", "")
    path = Path(row["path"])
    if "librispeech" in source:
        return Labelled(path, "librispeech:" + Path(source).name.split("-")[0])
    found = re.match(r"tortoise/voices/([^/]+)/", source)
    if found:
        return Labelled(path, "tortoise:" + found.group(1))
    if row.get("generator") == "Tortoise TTS" and source.startswith("examples/"):
        voice = Path(source).stem
        return Labelled(path, "tortoise:" + _CLONE_ALIASES.get(voice, voice), cloned=True)
    return None


def voice_samples(manifest: Path) -> list[Labelled]:
    found = [speaker_of(r) for r in _rows(manifest, "audio")]
    return [Labelled(manifest.parent / s.path, s.identity, s.cloned) for s in found if s is not None]


def face_of(row: dict[str, str]) -> Labelled | None:
    """The person in a dev-manifest image row, where its source names one (deepface's groups, PhotoMaker)."""
    source = row.get("source_path", "")
    path = Path(row["path"])
    if row.get("source_repo") == "serengil/deepface":
        found = re.fullmatch(r"tests/unit/dataset/img(\d+)\.jpg", source)
        number = int(found.group(1)) if found else 0
        for index, group in enumerate(DEEPFACE_GROUPS):
            if number in group:
                return Labelled(path, f"deepface:{index}")
    found = re.search(r"examples/(yangmi_woman|scarletthead_woman)/", source)
    if found and row.get("label") == "real":
        return Labelled(path, "photomaker:" + found.group(1))
    return None


def _rows(manifest: Path, modality: str) -> list[dict[str, str]]:
    with manifest.open(newline="", encoding="utf-8") as handle:
        return [r for r in csv.DictReader(handle) if r.get("modality") == modality]


def face_samples(manifest: Path) -> list[Labelled]:
    found = [face_of(r) for r in _rows(manifest, "image")]
    return [Labelled(manifest.parent / s.path, s.identity) for s in found if s is not None]


def pair_scores(vectors: dict[Labelled, np.ndarray]) -> tuple[list[float], list[float]]:
    """Cosine similarity of every pair of genuine (not cloned) samples, split by same / different identity.
    Different identities are only compared within one labelling source (deepface's people may be among
    PhotoMaker's)."""
    genuine: list[float] = []
    impostor: list[float] = []
    real = [s for s in vectors if not s.cloned]
    for a, b in itertools.combinations(real, 2):
        if a.identity == b.identity:
            genuine.append(float(vectors[a] @ vectors[b]))
        elif a.source == b.source:  # two sources may hold the same person: "different" only within one
            impostor.append(float(vectors[a] @ vectors[b]))
    return genuine, impostor


def clone_scores(vectors: dict[Labelled, np.ndarray]) -> tuple[list[float], list[float]]:
    """Each clone against the genuine samples of the voice it clones (``same``) and of every other voice
    of its source that has genuine samples (``other``)."""
    same: list[float] = []
    other: list[float] = []
    real = [s for s in vectors if not s.cloned]
    identities = {s.identity for s in real}
    for clone in (s for s in vectors if s.cloned and s.identity in identities):
        for sample in (s for s in real if s.source == clone.source):
            score = float(vectors[clone] @ vectors[sample])
            (same if sample.identity == clone.identity else other).append(score)
    return same, other


def verification(
    genuine: Iterable[float], impostor: Iterable[float], threshold: float | None = None
) -> Verification:
    g = np.asarray(list(genuine), dtype=np.float64)
    i = np.asarray(list(impostor), dtype=np.float64)
    labels = np.concatenate([np.ones(g.size, bool), np.zeros(i.size, bool)])
    scores = np.concatenate([g, i])
    at_1pct = metrics.threshold_at_fpr(i, 0.01)
    return Verification(
        genuine=int(g.size),
        impostor=int(i.size),
        eer=metrics.eer(labels, scores),
        threshold_at_1pct=at_1pct,
        tpr_at_1pct=metrics.tpr_at_fpr(labels, scores, 0.01),
        tpr_at_threshold=None if threshold is None else float(np.mean(g >= threshold)),
        fmr_at_threshold=None if threshold is None else float(np.mean(i >= threshold)),
    )


@dataclass(frozen=True)
class Measured:
    """A verification measurement: pairs of genuine samples and, for voices, clones against references."""

    samples: int
    skipped: tuple[str, ...]
    pairs: Verification
    clones: Verification | None = None


def measure_voices(manifest: Path, threshold: float) -> Measured:
    """Speaker verification with the shipped GE2E encoder on the dev manifest's labelled speech."""
    from civicshield.analyzers.ml.voice_model import SpeakerEncoder
    from civicshield.media import Media, decode_audio

    encoder = SpeakerEncoder(what="eval-identity")
    vectors: dict[Labelled, np.ndarray] = {}
    skipped = []
    for sample in voice_samples(manifest):
        voiceprint = encoder.voiceprint(decode_audio(Media.open(sample.path)))
        if voiceprint is None:
            skipped.append(f"{sample.path.name}: too little sound")
            continue
        vectors[sample] = np.asarray(voiceprint.vector)
    genuine, impostor = pair_scores(vectors)
    same, other = clone_scores(vectors)
    return Measured(
        len(vectors),
        tuple(skipped),
        verification(genuine, impostor, threshold),
        verification(same, other, threshold) if same and other else None,
    )


def measure_faces(manifest: Path, threshold: float) -> Measured:
    """Face verification with YuNet + SFace on the largest face of each labelled dev photo."""
    from civicshield.analyzers.ml.faces_detect import face_embeddings
    from civicshield.media import Media, decode_image

    vectors: dict[Labelled, np.ndarray] = {}
    skipped = []
    for sample in face_samples(manifest):
        faces = face_embeddings(decode_image(Media.open(sample.path)))
        if not faces:
            skipped.append(f"{sample.path.name}: no face found")
            continue
        vectors[sample] = max(faces, key=lambda f: f.face.size).vector
    genuine, impostor = pair_scores(vectors)
    return Measured(len(vectors), tuple(skipped), verification(genuine, impostor, threshold))
