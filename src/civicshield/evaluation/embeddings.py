"""Encoder outputs for a labelled set, cached on disk outside the repository.

Why a cache: one CLIP forward pass costs most of a second on a shared CPU, and choosing features means
looking at the same images through several views and augmentations many times. Each (image, augmentation,
view) is encoded once and kept under the system temp folder, keyed by the encoder file's sha256, a version
of the view code, and the image file's sha256, so a changed encoder or image can never be served stale.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from civicshield.analyzers.ml.clip_encoder import ENCODER, ClipEncoder
from civicshield.analyzers.ml.clip_features import OUTPUTS, ViewEmbeddings
from civicshield.analyzers.ml.clip_views import View, augment, canonical, render
from civicshield.media import Media, decode_image

__all__ = ["VIEW_CODE_VERSION", "EmbeddingCache", "default_cache_dir"]

VIEW_CODE_VERSION = "v1"  # bump when clip_views changes what a view is


def default_cache_dir() -> Path:
    """``$CIVICSHIELD_CACHE`` or ``<tmp>/civicshield-clip-cache``: never inside the repository."""
    env = os.environ.get("CIVICSHIELD_CACHE")
    return Path(env) if env else Path(tempfile.gettempdir()) / "civicshield-clip-cache"


class EmbeddingCache:
    """Encode-once storage of ``ViewEmbeddings`` per (image sha256, augmentation, view)."""

    def __init__(self, root: Path | None = None, encoder: ClipEncoder | None = None) -> None:
        # "exact-int8": entries written before the encoder's products were made exact (``int8_exact``)
        # are CPU-dependent and must not be read back.
        self.root = (root or default_cache_dir()) / ENCODER.sha256[:16] / "exact-int8" / VIEW_CODE_VERSION
        self._encoder = encoder

    @property
    def encoder(self) -> ClipEncoder:
        if self._encoder is None:
            self._encoder = ClipEncoder.from_package(what="clip embedding cache")
        return self._encoder

    def _file(self, sha256: str, aug: str, view: View) -> Path:
        return self.root / aug / view.key / sha256[:2] / f"{sha256}.npz"

    def get(self, path: Path, aug: str, views: Sequence[View]) -> dict[str, ViewEmbeddings]:
        """Embeddings of ``views`` of the image at ``path`` (after augmentation ``aug``)."""
        media = Media.open(path)
        found: dict[str, ViewEmbeddings] = {}
        missing = []
        for view in views:
            file = self._file(media.sha256, aug, view)
            if file.is_file():
                with np.load(file) as npz:
                    found[view.key] = ViewEmbeddings(*(npz[name] for name in OUTPUTS))
            else:
                missing.append(view)
        if missing:
            found.update(self._compute(media, aug, missing))
        return found

    def _compute(self, media: Media, aug: str, views: Sequence[View]) -> dict[str, ViewEmbeddings]:
        image = canonical(augment(decode_image(media), aug))
        batch = self.encoder.encode(np.stack([render(image, v) for v in views]))
        result: dict[str, ViewEmbeddings] = {}
        for i, view in enumerate(views):
            emb = ViewEmbeddings(batch.pooled[i], batch.patch_mean[i], batch.cls[i])
            file = self._file(media.sha256, aug, view)
            file.parent.mkdir(parents=True, exist_ok=True)
            tmp = file.with_suffix(".tmp.npz")
            np.savez(tmp, pooled=emb.pooled, patch_mean=emb.patch_mean, cls=emb.cls)
            tmp.replace(file)
            result[view.key] = emb
        return result

    def fill(
        self,
        paths: Sequence[Path],
        aug: str,
        views: Sequence[View],
        tick: Callable[[int, int], None] | None = None,
    ) -> list[dict[str, ViewEmbeddings]]:
        """``get`` for every path, in order, reporting progress through ``tick(done, total)``."""
        out = []
        for i, path in enumerate(paths):
            out.append(self.get(path, aug, views))
            if tick is not None:
                tick(i + 1, len(paths))
        return out
