"""Bank files: the JSON document a ``BankStore`` keeps, and CSV / JSON import and export of entries.

Entry fields (JSON keys and CSV columns alike)::

    hash             required; pdq: 64 hex digits, sha256: 64 hex digits, chromaprint: AcoustID base64,
                     vpdq: reference frame lines "FrameNumber,Quality,PDQHash,Timestamp_s" (newline-separated
                     in JSON, ';'-separated in CSV so one entry stays on one line), a JSON list of them,
                     or the sharing form every export uses (a JSON list of "hash,quality,timestamp"; see
                     ``hashing.vpdq.VideoHash.parse``); stored as reference lines either way
    signal_type      required; pdq | vpdq | chromaprint | sha256
    label            what the item is ("Debunked: fake video of candidate X conceding")
    link             fact-check or case URL
    added            ISO date; today when empty
    quality          PDQ quality 0-100 of the registered item, when known
    original_name    file name of the registered item
    original_sha256  sha256 of the registered item's bytes (ties the hashes of one item together)

Every error is a ``BankFormatError`` naming the source and the line (CSV: the line the row ends on; JSON:
the line where the offending entry starts).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from civicshield.banks.model import Bank, BankEntry, BankKind, SignalType, validate_bank_name
from civicshield.errors import BankFormatError

__all__ = [
    "BANK_FORMAT",
    "CSV_COLUMNS",
    "bank_from_json",
    "bank_to_json",
    "entries_from_csv",
    "entries_from_json",
    "entries_to_csv",
    "entries_to_json",
    "entry_to_dict",
]

BANK_FORMAT = "civicshield.bank/1"
CSV_COLUMNS = ("hash", "signal_type", "label", "link", "added", "quality", "original_name", "original_sha256")
REQUIRED = ("hash", "signal_type")
MAX_CSV_FIELD = 16 * 2**20


def entry_to_dict(entry: BankEntry, *, one_line: bool = False) -> dict[str, Any]:
    value = entry.hash.replace("\n", ";") if one_line and entry.signal_type is SignalType.VPDQ else entry.hash
    return {
        "hash": value,
        "signal_type": entry.signal_type.value,
        "label": entry.label,
        "link": entry.link,
        "added": entry.added.isoformat(),
        "quality": entry.quality,
        "original_name": entry.original_name,
        "original_sha256": entry.original_sha256,
    }


def _entry_from_mapping(row: dict[str, Any], where: str) -> BankEntry:
    unknown = sorted(set(row) - set(CSV_COLUMNS))
    if unknown:
        raise BankFormatError(
            f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(CSV_COLUMNS)}"
        )
    missing = [k for k in REQUIRED if not row.get(k)]
    if missing:
        raise BankFormatError(f"{where}: missing {', '.join(missing)}")
    try:
        return BankEntry.create(
            row["signal_type"],
            row["hash"],
            row.get("label") or "",
            link=row.get("link"),
            added=row.get("added"),
            quality=row.get("quality"),
            original_name=row.get("original_name"),
            original_sha256=row.get("original_sha256"),
        )
    except BankFormatError as exc:
        raise BankFormatError(f"{where}: {exc.message}") from exc


def entries_to_csv(entries: Iterable[BankEntry]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for entry in entries:
        writer.writerow({k: ("" if v is None else v) for k, v in entry_to_dict(entry, one_line=True).items()})
    return buf.getvalue()


def _check_header(reader: csv.DictReader[str], source: str) -> None:
    header = reader.fieldnames
    if not header:
        raise BankFormatError(
            f"{source}: line 1: empty file, expected a header row ({', '.join(CSV_COLUMNS)})"
        )
    reader.fieldnames = header = [h.strip() for h in header]
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        raise BankFormatError(
            f"{source}: line 1: unknown column(s) {', '.join(unknown)}; known: {', '.join(CSV_COLUMNS)}"
        )
    missing = [k for k in REQUIRED if k not in header]
    if missing:
        raise BankFormatError(f"{source}: line 1: header lacks column(s) {', '.join(missing)}")


def entries_from_csv(text: str, *, source: str = "CSV") -> list[BankEntry]:
    """Entries from CSV whose header row names the columns (any order; needs ``hash``, ``signal_type``)."""
    # A vPDQ cell of a 3-hour video is ~800 kB; the csv module refuses fields over 128 kB by default.
    # The limit is process-wide, so it is only ever raised, never lowered.
    csv.field_size_limit(max(csv.field_size_limit(), MAX_CSV_FIELD))
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), restkey="\x00extra", strict=True)
    entries: list[BankEntry] = []
    first_line = 1
    try:
        _check_header(reader, source)
        while True:
            first_line = reader.line_num + 1  # where the next record starts, for errors inside it
            row = next(reader, None)
            if row is None:
                return entries
            where = f"{source}: line {reader.line_num}"
            if "\x00extra" in row:
                raise BankFormatError(f"{where}: more fields than the header has columns")
            if None in row.values():
                raise BankFormatError(f"{where}: fewer fields than the header has columns")
            if any((v or "").strip() for v in row.values()):
                entries.append(_entry_from_mapping({k: v.strip() for k, v in row.items()}, where))
    except csv.Error as exc:
        raise BankFormatError(f"{source}: line {first_line}: malformed CSV ({exc})") from exc


def entries_to_json(entries: Iterable[BankEntry]) -> str:
    return json.dumps([entry_to_dict(e) for e in entries], indent=1, ensure_ascii=False) + "\n"


def _load(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BankFormatError(f"{source}: line {exc.lineno}: malformed JSON ({exc.msg})") from exc


def _array_item_lines(text: str, start: int) -> list[int]:
    """Line numbers where the items of the JSON array opening at ``text[start] == '['`` begin."""
    decoder = json.JSONDecoder()
    lines: list[int] = []
    pos = start + 1
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            return lines
        lines.append(text.count("\n", 0, pos) + 1)
        pos = decoder.raw_decode(text, pos)[1]


def _entries_array_start(text: str) -> int | None:
    """Position of the ``[`` of the top-level array, or of the ``"entries"`` array of a bank document."""
    decoder = json.JSONDecoder()
    pos = len(text) - len(text.lstrip())
    if text[pos : pos + 1] == "[":
        return pos
    pos += 1
    while pos < len(text):
        while text[pos] in " \t\r\n,":
            pos += 1
        if text[pos] == "}":
            return None
        key, pos = decoder.raw_decode(text, pos)
        while text[pos] in " \t\r\n:":
            pos += 1
        if key == "entries":
            return pos if text[pos] == "[" else None
        pos = decoder.raw_decode(text, pos)[1]
    return None


def _entries_from_list(items: Any, text: str, source: str) -> list[BankEntry]:
    if not isinstance(items, list):
        raise BankFormatError(f"{source}: 'entries' must be a list")
    try:
        start = _entries_array_start(text)
        lines = _array_item_lines(text, start) if start is not None else []
    except (IndexError, ValueError):  # the scan is best effort; the parse already succeeded
        lines = []
    entries = []
    for i, item in enumerate(items):
        where = f"{source}: line {lines[i]}" if i < len(lines) else f"{source}: entry {i + 1}"
        if not isinstance(item, dict):
            raise BankFormatError(f"{where}: an entry must be an object, got {type(item).__name__}")
        entries.append(_entry_from_mapping({k: _as_text(v) for k, v in item.items()}, where))
    return entries


def _as_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def entries_from_json(text: str, *, source: str = "JSON") -> list[BankEntry]:
    """Entries from a JSON list of entry objects, or from a whole bank document."""
    data = _load(text, source)
    if isinstance(data, dict):
        return _entries_from_list(data.get("entries"), text, source)
    return _entries_from_list(data, text, source)


def bank_to_json(bank: Bank) -> str:
    doc = {
        "format": BANK_FORMAT,
        "name": bank.name,
        "kind": bank.kind.value,
        "description": bank.description,
        "entries": [entry_to_dict(e) for e in bank.entries],
    }
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def bank_from_json(text: str, *, source: str = "bank file") -> Bank:
    data = _load(text, source)
    if not isinstance(data, dict) or data.get("format") != BANK_FORMAT:
        raise BankFormatError(
            f"{source}: line 1: not a CivicShield bank document (want format {BANK_FORMAT!r})"
        )
    try:
        name = validate_bank_name(data.get("name", ""))
        kind = BankKind(str(data.get("kind")))
    except (BankFormatError, ValueError) as exc:
        raise BankFormatError(f"{source}: bad name or kind ({exc})") from exc
    description = data.get("description") or ""
    if not isinstance(description, str):
        raise BankFormatError(f"{source}: description must be text")
    return Bank(name, kind, tuple(_entries_from_list(data.get("entries", []), text, source)), description)
