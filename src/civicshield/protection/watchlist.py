"""``Watchlist``: the people, domains and handles an organization protects, read from a TOML file.

::

    [[person]]
    name = "Anna de Vries"
    aliases = ["A. de Vries"]
    organization = "Kiesraad"
    faces = [[0.0123, ...]]    # SFace embeddings (128 numbers each), written by `civicshield watchlist enrol`
    voices = [[0.0456, ...]]   # GE2E voiceprints (256 numbers each), idem

    [[domain]]
    name = "kiesraad.nl"
    organization = "Kiesraad"

    [[handle]]
    platform = "x"              # x, facebook, instagram, tiktok, youtube, telegram, threads, bluesky
    name = "kiesraad"           # without the @

    [[visual]]
    name = "Official ballot poster 2026"
    pdq = "f8f8…"               # its PDQ hash (64 hex digits), written by `civicshield watchlist visual`

A watchlist is sensitive (it says who an organization fears will be impersonated): the command line reads it
from a file the user names, and nothing in it leaves the machine. Names must be distinctive enough to search
for (``MIN_NAME_CHARS``); domains are checked and kept in their ASCII (IDNA) form.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from civicshield.errors import UsageError
from civicshield.protection.handles import PLATFORMS, ProtectedHandle
from civicshield.protection.hosts import normalize_host
from civicshield.protection.likeness import FACE_DIM, VOICE_DIM, Embedding, embedding

__all__ = [
    "MIN_NAME_CHARS",
    "ProtectedDomain",
    "ProtectedPerson",
    "ProtectedVisual",
    "Watchlist",
    "person_table",
    "visual_table",
]

#: Shorter names (initials, one short word) would be found in unrelated text far too often.
MIN_NAME_CHARS = 5
MAX_ENTRIES = 10_000
MAX_LIKENESSES = 20  # reference faces or voice samples per person


@dataclass(frozen=True)
class ProtectedPerson:
    name: str
    aliases: tuple[str, ...] = ()
    organization: str = ""
    faces: tuple[Embedding, ...] = field(default=(), repr=False)
    voices: tuple[Embedding, ...] = field(default=(), repr=False)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class ProtectedDomain:
    name: str  # ASCII (IDNA) form, lower case, no trailing dot
    organization: str = ""


@dataclass(frozen=True)
class ProtectedVisual:
    """A logo, poster or other official visual, by its PDQ hash (copies within the bank distance match)."""

    name: str
    pdq: str  # 64 lowercase hex digits
    organization: str = ""


@dataclass(frozen=True)
class Watchlist:
    people: tuple[ProtectedPerson, ...] = ()
    domains: tuple[ProtectedDomain, ...] = ()
    handles: tuple[ProtectedHandle, ...] = ()
    visuals: tuple[ProtectedVisual, ...] = ()

    def __len__(self) -> int:
        return len(self.people) + len(self.domains) + len(self.handles) + len(self.visuals)

    @property
    def has_faces(self) -> bool:
        return any(p.faces for p in self.people)

    @property
    def has_voices(self) -> bool:
        return any(p.voices for p in self.people)

    @classmethod
    def load(cls, path: Path) -> Watchlist:
        """The watchlist in ``path``; ``UsageError`` naming the file and entry when it is not one."""
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise UsageError(f"cannot read watchlist {path}: {exc}") from exc
        return cls.from_dict(raw, where=str(path))

    @classmethod
    def from_dict(cls, raw: dict[str, Any], where: str = "watchlist") -> Watchlist:
        unknown = sorted(set(raw) - {"person", "domain", "handle", "visual"})
        if unknown:
            raise UsageError(
                f"{where}: unknown sections {', '.join(unknown)} "
                "(expected [[person]], [[domain]], [[handle]], [[visual]])"
            )
        people = [
            _person(entry, f"{where}: person {n}") for n, entry in enumerate(_tables(raw, "person", where), 1)
        ]
        domains = [
            _domain(entry, f"{where}: domain {n}") for n, entry in enumerate(_tables(raw, "domain", where), 1)
        ]
        handles = [
            _handle(entry, f"{where}: handle {n}") for n, entry in enumerate(_tables(raw, "handle", where), 1)
        ]
        visuals = [
            _visual(entry, f"{where}: visual {n}") for n, entry in enumerate(_tables(raw, "visual", where), 1)
        ]
        if len(people) + len(domains) + len(handles) + len(visuals) > MAX_ENTRIES:
            raise UsageError(f"{where}: more than {MAX_ENTRIES} entries")
        return cls(
            _merged(people, where),
            tuple(dict.fromkeys(domains)),
            tuple(dict.fromkeys(handles)),
            tuple(dict.fromkeys(visuals)),
        )

    def person(self, name: str) -> ProtectedPerson | None:
        wanted = " ".join(name.split()).casefold()
        return next((p for p in self.people if p.name.casefold() == wanted), None)


def _merged(people: list[ProtectedPerson], where: str) -> tuple[ProtectedPerson, ...]:
    """One entry per name: ``[[person]]`` tables with the same name (``watchlist enrol`` appends one per
    reference) add their aliases, faces and voices to the first."""
    merged: dict[str, ProtectedPerson] = {}
    for person in people:
        key = person.name.casefold()
        first = merged.get(key)
        if first is None:
            merged[key] = person
            continue
        faces, voices = first.faces + person.faces, first.voices + person.voices
        if len(faces) > MAX_LIKENESSES or len(voices) > MAX_LIKENESSES:
            raise UsageError(f"{where}: {person.name}: more than {MAX_LIKENESSES} faces or voices")
        aliases = tuple(dict.fromkeys(first.aliases + person.aliases))
        merged[key] = ProtectedPerson(
            first.name, aliases, first.organization or person.organization, faces=faces, voices=voices
        )
    return tuple(merged.values())


def person_table(person: ProtectedPerson) -> str:
    """``person`` as a ``[[person]]`` TOML table (what ``watchlist enrol`` appends to a file)."""
    lines = ["[[person]]", f"name = {_quoted(person.name)}"]
    if person.aliases:
        lines.append(f"aliases = [{', '.join(_quoted(a) for a in person.aliases)}]")
    if person.organization:
        lines.append(f"organization = {_quoted(person.organization)}")
    for key, vectors in (("faces", person.faces), ("voices", person.voices)):
        if vectors:
            rows = ",\n".join("  [" + ", ".join(f"{x:.6f}" for x in v) + "]" for v in vectors)
            lines.append(f"{key} = [\n{rows},\n]")
    return "\n".join(lines) + "\n"


def _quoted(text: str) -> str:
    """A TOML basic string (JSON's escaping is valid TOML for these characters)."""
    return json.dumps(text, ensure_ascii=False)


def _tables(raw: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    tables = raw.get(key, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise UsageError(f"{where}: [[{key}]] must be a list of tables")
    return tables


def _text(entry: dict[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise UsageError(f"{where}: {key} must be {'a non-empty' if required else 'a'} string")
    return " ".join(value.split())


def _person(entry: dict[str, Any], where: str) -> ProtectedPerson:
    unknown = sorted(set(entry) - {"name", "aliases", "organization", "faces", "voices"})
    if unknown:
        raise UsageError(f"{where}: unknown keys {', '.join(unknown)}")
    name = _text(entry, "name", where, required=True)
    aliases = entry.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise UsageError(f"{where}: aliases must be a list of strings")
    names = [name, *(" ".join(a.split()) for a in aliases)]
    short = [n for n in names if len(n) < MIN_NAME_CHARS]
    if short:
        raise UsageError(f"{where}: names under {MIN_NAME_CHARS} characters match too much text: {short}")
    aliases_kept = tuple(a for a in dict.fromkeys(names[1:]) if a != name)
    return ProtectedPerson(
        name,
        aliases_kept,
        _text(entry, "organization", where),
        faces=_embeddings(entry, "faces", FACE_DIM, where),
        voices=_embeddings(entry, "voices", VOICE_DIM, where),
    )


def _embeddings(entry: dict[str, Any], key: str, dim: int, where: str) -> tuple[Embedding, ...]:
    values = entry.get(key, [])
    if not isinstance(values, list) or len(values) > MAX_LIKENESSES:
        raise UsageError(f"{where}: {key} must be a list of at most {MAX_LIKENESSES} lists of {dim} numbers")
    try:
        return tuple(embedding(np.asarray(v, dtype=np.float64), dim) for v in values)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{where}: {key}: {exc}") from exc


def _domain(entry: dict[str, Any], where: str) -> ProtectedDomain:
    unknown = sorted(set(entry) - {"name", "organization"})
    if unknown:
        raise UsageError(f"{where}: unknown keys {', '.join(unknown)}")
    name = normalize_host(_text(entry, "name", where, required=True))
    if name is None or "." not in name:
        raise UsageError(f"{where}: {entry.get('name')!r} is not a domain name")
    return ProtectedDomain(name, _text(entry, "organization", where))


def _handle(entry: dict[str, Any], where: str) -> ProtectedHandle:
    unknown = sorted(set(entry) - {"platform", "name", "organization"})
    if unknown:
        raise UsageError(f"{where}: unknown keys {', '.join(unknown)}")
    platform = _text(entry, "platform", where, required=True).lower()
    if platform not in set(PLATFORMS.values()):
        raise UsageError(f"{where}: platform must be one of {', '.join(sorted(set(PLATFORMS.values())))}")
    name = _text(entry, "name", where, required=True).removeprefix("@").lower()
    if not re.fullmatch(r"[a-z0-9_.\-]{1,64}", name):
        raise UsageError(f"{where}: {entry.get('name')!r} is not a handle")
    return ProtectedHandle(platform, name, _text(entry, "organization", where))


def _visual(entry: dict[str, Any], where: str) -> ProtectedVisual:
    unknown = sorted(set(entry) - {"name", "pdq", "organization"})
    if unknown:
        raise UsageError(f"{where}: unknown keys {', '.join(unknown)}")
    pdq = _text(entry, "pdq", where, required=True).lower()
    if not re.fullmatch(r"[0-9a-f]{64}", pdq):
        raise UsageError(f"{where}: pdq must be 64 hexadecimal digits")
    return ProtectedVisual(
        _text(entry, "name", where, required=True), pdq, _text(entry, "organization", where)
    )


def visual_table(visual: ProtectedVisual) -> str:
    """``visual`` as a ``[[visual]]`` TOML table (what ``watchlist visual`` appends to a file)."""
    lines = ["[[visual]]", f"name = {_quoted(visual.name)}", f'pdq = "{visual.pdq}"']
    if visual.organization:
        lines.append(f"organization = {_quoted(visual.organization)}")
    return "\n".join(lines) + "\n"
