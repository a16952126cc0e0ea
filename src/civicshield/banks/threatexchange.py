"""Banks in python-threatexchange's signal-file format, so platforms running its tools (and Meta's
hasher-matcher-actioner, which is built on it) can use our banks as they are, and we can use theirs.

The format is what threatexchange's ``local_file`` collaboration reads (``exchanges/impl/file_api.py``): one
signal per line, ``<signal type> <signal>``, split at the first space. Signal-type names are its own
``SignalType.get_name()``:

====================  ==============================================================================
ours                  threatexchange
====================  ==============================================================================
pdq                   ``pdq``: 64 hex digits
vpdq                  ``vpdq`` (its vpdq extension): a JSON list of ``"hex,quality,timestamp"`` strings
sha256 of a video     ``video_sha256``: 64 hex digits
sha256 of an image    no threatexchange type: left out
chromaprint           no threatexchange type: left out
====================  ==============================================================================

Whether a sha256 entry is a video's is read from the bank itself: entries registered from one original
(same ``original_sha256``) travel together, and an original with a vPDQ entry is a video. A sha256 whose
media kind cannot be told is left out rather than guessed: labelling an image's sha256 ``video_sha256``
would still match, but would say the wrong thing to the partner.

The format carries no labels, links or dates (threatexchange keeps those per collaboration, not per line):
an export says which of our fields it could not carry, and an import takes one label for the whole file.
Lines starting with ``#`` are comments (threatexchange reads them as an unknown signal type and skips them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from civicshield.banks.model import BankEntry, SignalType
from civicshield.errors import BankFormatError

__all__ = [
    "TE_PDQ",
    "TE_VIDEO_SHA256",
    "TE_VPDQ",
    "TeExport",
    "entries_from_te",
    "entries_to_te",
    "looks_like_te",
]

TE_PDQ = "pdq"
TE_VPDQ = "vpdq"
TE_VIDEO_SHA256 = "video_sha256"
MAX_LINE = 4 * 2**20


@dataclass(frozen=True)
class TeExport:
    text: str
    written: int
    left_out: dict[str, int]  # why -> how many entries


def _videos(entries: Sequence[BankEntry]) -> set[str]:
    return {e.original_sha256 for e in entries if e.signal_type is SignalType.VPDQ and e.original_sha256}


def entries_to_te(entries: Sequence[BankEntry]) -> TeExport:
    videos = _videos(entries)
    lines: list[str] = []
    left_out: dict[str, int] = {}
    for entry in entries:
        kind = entry.signal_type
        if kind is SignalType.PDQ:
            lines.append(f"{TE_PDQ} {entry.hash}")
        elif kind is SignalType.VPDQ:
            lines.append(f"{TE_VPDQ} {entry.shared_hash}")
        elif kind is SignalType.SHA256 and (entry.original_sha256 in videos or entry.hash in videos):
            lines.append(f"{TE_VIDEO_SHA256} {entry.hash}")
        else:
            why = (
                "Chromaprint (no threatexchange signal type)"
                if kind is SignalType.CHROMAPRINT
                else "sha256 of an image or of media of unknown kind (threatexchange has video_sha256 only)"
            )
            left_out[why] = left_out.get(why, 0) + 1
    unique = list(dict.fromkeys(lines))
    return TeExport("".join(f"{line}\n" for line in unique), len(unique), left_out)


def looks_like_te(text: str) -> bool:
    """Whether ``text`` reads as a threatexchange signal file: its first signal line starts with one of the
    signal types we read, then a space (a CSV starts with a header row of column names)."""
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            return line.partition(" ")[0] in (TE_PDQ, TE_VPDQ, TE_VIDEO_SHA256) and " " in line
    return False


def entries_from_te(
    text: str, *, source: str, label: str, link: str | None = None
) -> tuple[tuple[BankEntry, ...], dict[str, int]]:
    """Entries of a threatexchange signal file, all with ``label`` and ``link``, and the signal types
    skipped (unknown to us) with their counts. A malformed signal of a known type is a ``BankFormatError``
    naming the line: nothing of the file is imported then."""
    entries: list[BankEntry] = []
    skipped: dict[str, int] = {}
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if len(line) > MAX_LINE:
            raise BankFormatError(f"{source}:{n}: line longer than {MAX_LINE} characters")
        kind, _, signal = line.partition(" ")
        signal = signal.strip()
        where = f"{source}:{n}"
        if not signal:
            raise BankFormatError(f"{where}: want '<signal type> <signal>', got {line[:80]!r}")
        try:
            if kind == TE_PDQ:
                entries.append(BankEntry.create(SignalType.PDQ, signal, label, link=link))
            elif kind == TE_VIDEO_SHA256:
                entries.append(BankEntry.create(SignalType.SHA256, signal, label, link=link))
            elif kind == TE_VPDQ:
                if not signal.startswith("["):
                    raise BankFormatError(f"{where}: vpdq signal is not a JSON list")
                entries.append(BankEntry.create(SignalType.VPDQ, signal, label, link=link))
            else:
                skipped[kind] = skipped.get(kind, 0) + 1
        except BankFormatError as exc:
            message = exc.message if exc.message.startswith(where) else f"{where}: {exc.message}"
            raise BankFormatError(message) from None
    return tuple(entries), skipped
