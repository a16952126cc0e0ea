"""The labelled development set is read in place from ``../shared/datasets/dev`` (or
``$CIVICSHIELD_DATASETS/dev``); nothing from it is ever copied into the repository."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATASETS = Path(os.environ.get("CIVICSHIELD_DATASETS", ROOT.parent / "shared" / "datasets")).resolve()


@pytest.fixture(scope="session")
def dev_set() -> Path:
    dev = DATASETS / "dev"
    if not (dev / "manifest.csv").is_file():
        pytest.fail(f"development set not found at {dev} (set CIVICSHIELD_DATASETS)")
    return dev


@pytest.fixture(scope="session")
def dev_images(dev_set: Path) -> list[dict[str, str]]:
    with (dev_set / "manifest.csv").open(newline="", encoding="utf-8") as fh:
        return [row for row in csv.DictReader(fh) if row["modality"] == "image"]


@pytest.fixture(scope="session")
def realcam() -> Path:
    """Genuine camera and phone photos in their original containers (``datasets/realcam``, see its README)."""
    folder = DATASETS / "realcam"
    if not (folder / "manifest.csv").is_file():
        pytest.fail(f"realcam set not found at {folder} (set CIVICSHIELD_DATASETS)")
    return folder
