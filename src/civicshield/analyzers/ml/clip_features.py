"""Feature recipes: which views of an image are encoded, and how their outputs become one vector.

A recipe is data stored in the head file, so the analyzer computes exactly the features the head was fitted
on, and training and inference share this one function. Blocks are concatenated in order:

* ``pooled`` / ``patch_mean`` / ``cls`` over several views: the mean over those views (unit-length ``pooled``
  vectors are averaged and re-normalised, as a multi-crop average should be);
* ``stability`` over two views (clean, noisy): ``1 - cosine`` between their ``pooled`` and ``patch_mean``
  outputs, the training-free signal that generated images' embeddings move more under small pixel noise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from civicshield.analyzers.ml.clip_views import View

__all__ = ["OUTPUTS", "Block", "FeatureRecipe", "ViewEmbeddings"]

OUTPUTS = ("pooled", "patch_mean", "cls")


@dataclass(frozen=True)
class ViewEmbeddings:
    """The encoder outputs for one view of one image (``pooled`` unit-length, token summaries raw)."""

    pooled: np.ndarray
    patch_mean: np.ndarray
    cls: np.ndarray

    def output(self, name: str) -> np.ndarray:
        if name not in OUTPUTS:
            raise ValueError(f"unknown encoder output {name!r}; known: {', '.join(OUTPUTS)}")
        value: np.ndarray = getattr(self, name)
        return value


def _cosine_gap(a: np.ndarray, b: np.ndarray) -> float:
    denom = float(np.linalg.norm(a) * np.linalg.norm(b)) or 1e-12
    return 1.0 - float(a @ b) / denom


@dataclass(frozen=True)
class Block:
    output: str  # one of OUTPUTS, or "stability"
    views: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.output not in (*OUTPUTS, "stability"):
            raise ValueError(f"unknown block output {self.output!r}")
        if not self.views or (self.output == "stability" and len(self.views) != 2):
            raise ValueError(f"block {self.output!r} has the wrong number of views: {self.views}")
        for key in self.views:
            View.parse(key)

    def vector(self, emb: Mapping[str, ViewEmbeddings]) -> np.ndarray:
        if self.output == "stability":
            clean, noisy = (emb[k] for k in self.views)
            return np.array(
                [_cosine_gap(clean.pooled, noisy.pooled), _cosine_gap(clean.patch_mean, noisy.patch_mean)]
            )
        stacked = np.stack([emb[k].output(self.output) for k in self.views]).astype(np.float64)
        mean = stacked.mean(axis=0)
        if self.output == "pooled":
            mean = mean / max(float(np.linalg.norm(mean)), 1e-12)
        out: np.ndarray = mean
        return out


@dataclass(frozen=True)
class FeatureRecipe:
    """A named, ordered list of blocks; ``views`` is every view the encoder must see for it."""

    name: str
    blocks: tuple[Block, ...]

    @property
    def views(self) -> tuple[View, ...]:
        keys = dict.fromkeys(k for block in self.blocks for k in block.views)
        return tuple(View.parse(k) for k in keys)

    def vector(self, emb: Mapping[str, ViewEmbeddings]) -> np.ndarray:
        return np.concatenate([block.vector(emb) for block in self.blocks])

    def matrix(self, rows: Sequence[Mapping[str, ViewEmbeddings]]) -> np.ndarray:
        return np.stack([self.vector(r) for r in rows])

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "blocks": [{"output": b.output, "views": list(b.views)} for b in self.blocks],
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> FeatureRecipe:
        return cls(
            name=str(raw["name"]),
            blocks=tuple(Block(str(b["output"]), tuple(str(v) for v in b["views"])) for b in raw["blocks"]),
        )
