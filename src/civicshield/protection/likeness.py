"""Faces and voices of protected people, as embeddings, and the thresholds that call two of them the same.

An ``Embedding`` is a unit vector: SFace (``FACE_DIM`` = 128) for a face, the GE2E voice encoder
(``VOICE_DIM`` = 256) for a voice; the models live in ``analyzers.ml`` and this module needs only numpy.
Two embeddings are the same person when their cosine similarity reaches the threshold below, chosen from
measurements on labelled data (``civicshield eval-identity``; the numbers are in the model cards):

* faces, ``FACE_MATCH`` 0.45: on the deepface project's labelled pairs and PhotoMaker's photos of two
  people (59 same-person and 286 different-person pairs of genuine photos), every same-person pair scored
  above 0.5 and no different-person pair reached 0.34 (EER 0); 0.45 sits between, stricter than OpenCV
  Zoo's 0.363 for LFW;
* voices, ``VOICE_MATCH`` 0.75: on LibriSpeech readers and Tortoise's reference voices (52 same-speaker and
  2,119 different-speaker pairs), 96 % of same-speaker pairs and 0.66 % of different-speaker pairs reach
  it (EER 1.9 %); Tortoise's clones reach their target's real voice in 64 % of 114 comparisons, another
  voice's in 0.08 % of 2,394.

A likeness is never evidence of a fake by itself: a genuine photo of a candidate shows the candidate. The
fusion policy needs another line of evidence (synthetic, altered) before it says impersonation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

__all__ = [
    "FACE_DIM",
    "FACE_MATCH",
    "VOICE_DIM",
    "VOICE_MATCH",
    "Embedding",
    "Likeness",
    "embedding",
    "matches",
]

FACE_DIM = 128
VOICE_DIM = 256
FACE_MATCH = 0.45
VOICE_MATCH = 0.75

Embedding = tuple[float, ...]


class Likened(Protocol):
    """What a match needs of a protected person (``watchlist.ProtectedPerson`` is one)."""

    @property
    def name(self) -> str: ...
    @property
    def organization(self) -> str: ...
    @property
    def faces(self) -> tuple[Embedding, ...]: ...
    @property
    def voices(self) -> tuple[Embedding, ...]: ...


def embedding(values: np.ndarray, dim: int) -> Embedding:
    """``values`` as a unit ``Embedding`` of ``dim`` numbers; ``ValueError`` when it cannot be one."""
    vector = np.asarray(values, dtype=np.float64).reshape(-1)
    if vector.size != dim:
        raise ValueError(f"expected {dim} numbers, got {vector.size}")
    norm = float(np.linalg.norm(vector))
    if not np.all(np.isfinite(vector)) or norm == 0.0:
        raise ValueError("not a usable embedding (zero, infinite or not a number)")
    return tuple(float(x) for x in vector / norm)


@dataclass(frozen=True)
class Likeness:
    """A face or voice in the item that matches a protected person: which, how closely, where."""

    person: Likened
    kind: str  # "face" or "voice"
    similarity: float
    where: str


def matches(people: Sequence[Likened], kind: str, found: list[tuple[str, Embedding]]) -> list[Likeness]:
    """The best match per protected person among the item's faces or voices (``kind``), at the threshold."""
    threshold = FACE_MATCH if kind == "face" else VOICE_MATCH
    out = []
    for person in people:
        references = person.faces if kind == "face" else person.voices
        if not references or not found:
            continue
        refs = np.asarray(references, dtype=np.float64)
        best = max(((float(np.max(refs @ np.asarray(vector))), where) for where, vector in found))
        if best[0] >= threshold:
            out.append(Likeness(person, kind, best[0], best[1]))
    return sorted(out, key=lambda hit: -hit.similarity)
