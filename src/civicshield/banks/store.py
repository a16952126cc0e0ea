"""``BankStore``: banks kept as one JSON file each in a directory (``settings.banks_dir``).

Writes never lose a bank: the new document goes to a temporary file in the same directory, is flushed to
disk, and then atomically renamed over the old one, so a crash leaves either the old or the new file, never
half of one. Read-modify-write updates (``add_entries``, ``add_media``) hold an advisory ``flock`` on a
per-bank lock file, so two processes adding to the same bank do not drop each other's entries.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from civicshield.banks.exchange import read_bank_text
from civicshield.banks.io import bank_from_json, bank_to_json
from civicshield.banks.model import Bank, BankEntry, BankKind, SignalType, is_bank_name, validate_bank_name
from civicshield.banks.threatexchange import entries_from_te
from civicshield.errors import BankError, BankFormatError, BankNotFound
from civicshield.hashing.cache import media_hashes
from civicshield.media import Media
from civicshield.settings import Settings

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: single-writer use only
    fcntl = None  # type: ignore[assignment]

__all__ = ["OFFICIAL_BANK", "BankStore", "entries_for_media", "register_official"]


def entries_for_media(
    media: Media, label: str, link: str | None = None, *, added: date | None = None
) -> list[BankEntry]:
    """Every identifier of ``media`` as bank entries: sha256 plus PDQ (and the EXIF-oriented PDQ), vPDQ and
    Chromaprint as the item has them, all tied together by ``original_sha256``."""
    hashes = media_hashes(media)

    def entry(signal_type: SignalType, value: str, quality: int | None = None) -> BankEntry:
        return BankEntry.create(
            signal_type,
            value,
            label,
            link=link,
            added=added,
            quality=quality,
            original_name=media.name,
            original_sha256=media.sha256,
        )

    entries = [entry(SignalType.SHA256, media.sha256)]
    entries += [entry(SignalType.PDQ, p.hex, p.quality) for p in (hashes.pdq, hashes.pdq_oriented) if p]
    if hashes.vpdq is not None:
        entries.append(entry(SignalType.VPDQ, hashes.vpdq.to_text()))
    if hashes.chromaprint is not None and hashes.chromaprint.raw:
        entries.append(entry(SignalType.CHROMAPRINT, hashes.chromaprint.encoded))
    return entries


class BankStore:
    """The banks under one directory. A missing directory is an empty store until the first write."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @classmethod
    def from_settings(cls, settings: Settings) -> BankStore:
        return cls(settings.banks_dir)

    def path(self, name: str) -> Path:
        return self.root / f"{validate_bank_name(name)}.json"

    def names(self) -> list[str]:
        """``<name>.json`` files whose stem is a valid bank name (other files are not ours)."""
        if not self.root.is_dir():
            return []
        return sorted(p.stem for p in self.root.glob("*.json") if is_bank_name(p.stem))

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def load(self, name: str) -> Bank:
        path = self.path(name)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise BankNotFound(f"no bank named {name!r} in {self.root}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise BankFormatError(f"{path}: cannot read bank file ({exc})") from exc
        bank = bank_from_json(text, source=str(path))
        if bank.name != name:
            raise BankFormatError(f"{path}: file holds bank {bank.name!r}, expected {name!r}")
        return bank

    def load_all(self, kind: BankKind | None = None) -> list[Bank]:
        banks = [self.load(name) for name in self.names()]
        return [b for b in banks if kind is None or b.kind is kind]

    def save(self, bank: Bank) -> None:
        """Write the whole bank atomically (temp file, fsync, rename)."""
        self._write(self.path(bank.name), bank_to_json(bank))

    def create(self, name: str, kind: BankKind | str, description: str = "") -> Bank:
        with self._locked(name):
            if self.exists(name):
                raise BankError(f"bank {name!r} already exists")
            bank = Bank(name, BankKind(kind), (), description)
            self.save(bank)
            return bank

    def ensure(self, name: str, kind: BankKind | str, description: str = "") -> Bank:
        """The bank ``name``, created empty when missing; ``BankError`` if it exists with another kind."""
        with self._locked(name):
            if self.exists(name):
                bank = self.load(name)
                if bank.kind is not BankKind(kind):
                    raise BankError(f"bank {name!r} is a {bank.kind} bank, not {BankKind(kind)}")
                return bank
            bank = Bank(name, BankKind(kind), (), description)
            self.save(bank)
            return bank

    def delete(self, name: str) -> None:
        with self._locked(name):
            try:
                self.path(name).unlink()
            except FileNotFoundError:
                raise BankNotFound(f"no bank named {name!r} in {self.root}") from None

    def add_entries(self, name: str, entries: Sequence[BankEntry]) -> tuple[BankEntry, ...]:
        """Append entries (skipping hashes already present); returns those actually added."""
        with self._locked(name):
            bank, added = self.load(name).with_entries(tuple(entries))
            if added:
                self.save(bank)
            return added

    def add_media(
        self, bank: str, media: Media, label: str, link: str | None = None, *, added: date | None = None
    ) -> tuple[BankEntry, ...]:
        """Register every perceptual hash (and the sha256) of ``media`` in ``bank``."""
        return self.add_entries(bank, entries_for_media(media, label, link, added=added))

    def import_file(
        self, name: str, path: str | Path, *, te_label: str | None = None
    ) -> tuple[BankEntry, ...]:
        """Add the entries of a ``.csv`` or ``.json`` file (see ``banks.io`` for the columns), or with
        ``te_label`` of a python-threatexchange signal file (``banks.threatexchange``), all so labelled."""
        src = Path(path)
        try:
            text = src.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise BankFormatError(f"{src}: cannot read ({exc})") from exc
        entries: Sequence[BankEntry]
        if te_label is not None:
            entries, _ = entries_from_te(text, source=src.name, label=te_label)
        elif src.suffix.lower() in (".csv", ".json"):
            entries = read_bank_text(text, source=src.name).entries  # .json: ours, STIX/TAXII or MISP
        else:
            raise BankFormatError(f"{src}: import reads .csv or .json files (or threatexchange signal files)")
        return self.add_entries(name, entries)

    @contextmanager
    def _locked(self, name: str) -> Iterator[None]:
        self._mkdir()
        lock_path = self.root / f".{validate_bank_name(name)}.lock"
        try:
            fh = lock_path.open("a")
        except OSError as exc:
            raise BankError(f"cannot lock bank {name!r} in {self.root} ({exc})") from exc
        with fh:
            if fcntl is not None:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fcntl is not None:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _mkdir(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BankError(f"cannot create bank directory {self.root} ({exc})") from exc

    def _write(self, path: Path, text: str) -> None:
        self._mkdir()
        tmp_name = None
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=self.root)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp_name, path)
            tmp_name = None
            _fsync_dir(self.root)
        except OSError as exc:
            raise BankError(f"cannot write bank file {path} ({exc})") from exc
        finally:
            if tmp_name is not None:
                Path(tmp_name).unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


OFFICIAL_BANK = "official"


def register_official(
    store: BankStore, media: Media, label: str, link: str | None = None, *, bank: str = OFFICIAL_BANK
) -> tuple[BankEntry, ...]:
    """Register ``media`` as authentic official media (what signing calls after it signs an item): creates
    the ``authentic`` bank ``bank`` when missing. Identical copies will then read as ``official_media.exact``
    and near-duplicates with other bytes as ``official_media.altered``."""
    store.ensure(bank, BankKind.AUTHENTIC, "Official media registered by its publisher")
    return store.add_media(bank, media, label, link)
