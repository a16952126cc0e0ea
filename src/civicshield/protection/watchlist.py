"""``Watchlist``: the people, domains and handles an organization protects, read from a TOML file.

::

    [[person]]
    name = "Anna de Vries"
    aliases = ["A. de Vries"]
    organization = "Kiesraad"

    [[domain]]
    name = "kiesraad.nl"
    organization = "Kiesraad"

A watchlist is sensitive (it says who an organization fears will be impersonated): the command line reads it
from a file the user names, and nothing in it leaves the machine. Names must be distinctive enough to search
for (``MIN_NAME_CHARS``); domains are checked and kept in their ASCII (IDNA) form.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from civicshield.errors import UsageError
from civicshield.protection.hosts import normalize_host

__all__ = ["MIN_NAME_CHARS", "ProtectedDomain", "ProtectedPerson", "Watchlist"]

#: Shorter names (initials, one short word) would be found in unrelated text far too often.
MIN_NAME_CHARS = 5
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class ProtectedPerson:
    name: str
    aliases: tuple[str, ...] = ()
    organization: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class ProtectedDomain:
    name: str  # ASCII (IDNA) form, lower case, no trailing dot
    organization: str = ""


@dataclass(frozen=True)
class Watchlist:
    people: tuple[ProtectedPerson, ...] = ()
    domains: tuple[ProtectedDomain, ...] = ()

    def __len__(self) -> int:
        return len(self.people) + len(self.domains)

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
        unknown = sorted(set(raw) - {"person", "domain"})
        if unknown:
            raise UsageError(
                f"{where}: unknown sections {', '.join(unknown)} (expected [[person]], [[domain]])"
            )
        people = [
            _person(entry, f"{where}: person {n}") for n, entry in enumerate(_tables(raw, "person", where), 1)
        ]
        domains = [
            _domain(entry, f"{where}: domain {n}") for n, entry in enumerate(_tables(raw, "domain", where), 1)
        ]
        if len(people) + len(domains) > MAX_ENTRIES:
            raise UsageError(f"{where}: more than {MAX_ENTRIES} entries")
        return cls(tuple(people), tuple(dict.fromkeys(domains)))


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
    unknown = sorted(set(entry) - {"name", "aliases", "organization"})
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
    return ProtectedPerson(name, aliases_kept, _text(entry, "organization", where))


def _domain(entry: dict[str, Any], where: str) -> ProtectedDomain:
    unknown = sorted(set(entry) - {"name", "organization"})
    if unknown:
        raise UsageError(f"{where}: unknown keys {', '.join(unknown)}")
    name = normalize_host(_text(entry, "name", where, required=True))
    if name is None or "." not in name:
        raise UsageError(f"{where}: {entry.get('name')!r} is not a domain name")
    return ProtectedDomain(name, _text(entry, "organization", where))
