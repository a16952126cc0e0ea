"""Write a training set (``domain.learning.training_set``) as a folder ``civicshield train feedback-probe``
reads: ``manifest.csv`` in the development set's columns and the media files beside it.

Reviewers rarely know the generator, so ``generator`` stays empty, and each item is its own ``source``
(``<organization>:item-<id>``) so that out-of-fold scoring never holds out a whole organization at once.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from civicshield.errors import UsageError
from civicshield.service.domain.learning import TrainingSet
from civicshield.service.infra.blobs import BlobStore
from civicshield.sniff import sniff

__all__ = ["write_training_set"]

COLUMNS = ("path", "label", "modality", "generator", "source", "sha256", "because")


def write_training_set(ts: TrainingSet, blobs: BlobStore, out: Path) -> int:
    """Write the folder (refusing a non-empty one); the number of items written."""
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"{out} is not empty: export into a new folder")
    media = out / "media"
    media.mkdir(parents=True, exist_ok=True)
    written = 0
    with (out / "manifest.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for e in ts.examples:
            source = blobs.path(e.sha256)
            if not source.is_file():
                continue
            with source.open("rb") as fh_media:
                fmt = sniff(fh_media.read(64))
            name = f"{e.sha256}.{fmt.name}" if fmt else e.sha256
            shutil.copyfile(source, media / name)
            writer.writerow(
                [f"media/{name}", e.label, "image", "", f"{e.org_name}:item-{e.item_id}", e.sha256, e.because]
            )
            written += 1
    return written
