"""Labelled media sets for training and evaluation: a folder with ``real/`` and ``ai/``, or a manifest CSV.

A folder may sort AI items by generator (``ai/<generator>/...``); a manifest names the generator in a
``generator`` column. Where the generator is known, evaluation reports per generator and splits by generator
family; where it is not, it reports the whole set only.

Real items carry a ``source`` (the manifest's ``device`` where it has one, else its ``source_repo``, or the
sub-folder of ``real/``): photos from one source share cameras, subjects and processing, so they are kept on
one side of every split. A device (camera or phone model) is the finer unit where a manifest names it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from civicshield.errors import UsageError
from civicshield.evaluation.families import family_of

__all__ = ["LabelledItem", "load_labelled"]

POSITIVE = frozenset({"ai", "fake", "synthetic", "generated", "1", "true"})
NEGATIVE = frozenset({"real", "authentic", "0", "false"})
SKIP_NAMES = frozenset({".ds_store", "thumbs.db"})


@dataclass(frozen=True)
class LabelledItem:
    path: Path
    positive: bool  # True = AI-generated / fake
    generator: str | None = None
    source: str | None = None
    modality: str | None = None

    @property
    def label(self) -> str:
        return "ai" if self.positive else "real"

    @property
    def family(self) -> str | None:
        return family_of(self.generator) if self.positive and self.generator else None


def _label(raw: str, where: str) -> bool:
    value = raw.strip().lower()
    if value in POSITIVE:
        return True
    if value in NEGATIVE:
        return False
    raise UsageError(f"{where}: label {raw!r} is neither real nor ai")


def _files(folder: Path) -> Iterable[Path]:
    return (
        p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".") and p.name.lower() not in SKIP_NAMES
    )


def _from_folder(root: Path) -> list[LabelledItem]:
    items: list[LabelledItem] = []
    for name, positive in (("real", False), ("ai", True)):
        folder = root / name
        if not folder.is_dir():
            raise UsageError(f"{root} must contain real/ and ai/ sub-folders (or pass a manifest CSV)")
        for path in _files(folder):
            sub = path.parent.relative_to(folder).parts
            group = sub[0] if sub else None
            items.append(
                LabelledItem(
                    path=path,
                    positive=positive,
                    generator=group if positive else None,
                    source=group if not positive else None,
                )
            )
    return items


def _from_manifest(csv_path: Path) -> list[LabelledItem]:
    base = csv_path.parent
    items = []
    try:
        with csv_path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"cannot read manifest {csv_path}: {exc}") from exc
    for n, row in enumerate(rows, start=2):
        if not row.get("path") or not row.get("label"):
            raise UsageError(f"{csv_path}:{n}: every row needs path and label")
        path = Path(row["path"])
        items.append(
            LabelledItem(
                path=path if path.is_absolute() else base / path,
                positive=_label(row["label"], f"{csv_path}:{n}"),
                generator=(row.get("generator") or "").strip() or None,
                source=(row.get("device") or row.get("source_repo") or row.get("source") or "").strip()
                or None,
                modality=(row.get("modality") or "").strip() or None,
            )
        )
    return items


def _all_real(root: Path) -> list[LabelledItem]:
    if not root.is_dir():
        raise UsageError(f"{root}: --all-real needs a folder")
    items = []
    for path in _files(root):
        sub = path.parent.relative_to(root).parts
        items.append(LabelledItem(path=path, positive=False, source=sub[0] if sub else None))
    return items


def load_labelled(target: Path, *, modality: str | None = None, all_real: bool = False) -> list[LabelledItem]:
    """Items of a folder or manifest, optionally only one modality (manifest rows without one are kept).
    ``all_real``: every file under the folder is genuine (a folder of one's own camera photos)."""
    if not target.exists():
        raise UsageError(f"{target} does not exist")
    if all_real:
        items = _all_real(target)
    else:
        items = _from_manifest(target) if target.is_file() else _from_folder(target)
    if modality is not None:
        items = [i for i in items if i.modality in (None, modality)]
    if not items:
        raise UsageError(f"{target}: no labelled items found")
    return items
