"""The common shape of every metadata family: flat ``Field`` records with a role.

EXIF tags, XMP properties, IPTC datasets, PNG text chunks and container tags name the same facts differently
(``Software`` / ``xmp:CreatorTool`` / ``OriginatingProgram`` / ``encoder``). Reading them all into one record
type and giving each name a ``Role`` lets the rules ask "which tools touched this file?" once, for every
format.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["READ_ERRORS", "Family", "Field", "RawMetadata", "Role", "role_of"]

# What Pillow and the parsers here raise on malformed metadata; reading one family must not sink the others.
READ_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    SyntaxError,
    struct.error,
    RecursionError,
    OverflowError,
    ZeroDivisionError,
    AttributeError,
    EOFError,
)


class Family(StrEnum):
    EXIF = "exif"
    XMP = "xmp"
    IPTC = "iptc"
    TEXT = "text"  # PNG tEXt/iTXt/zTXt chunks, JPEG and GIF comments
    CONTAINER = "container"  # audio/video container and stream tags


class Role(StrEnum):
    TOOL = "tool"  # software that wrote or processed the file
    LABEL = "label"  # a short credit line where AI labels are put ("Made with Google AI")
    SOURCE_TYPE = "source_type"  # IPTC digital source type
    AI_SYSTEM = "ai_system"  # IPTC 2025 "AI System Used"
    MAKE = "make"
    MODEL = "model"
    TAKEN = "taken"  # DateTimeOriginal
    MODIFIED = "modified"
    PAYLOAD = "payload"  # a block that generators fill with their parameters
    OTHER = "other"


_ROLES: dict[Family, dict[str, Role]] = {
    Family.EXIF: {
        "make": Role.MAKE,
        "model": Role.MODEL,
        "software": Role.TOOL,
        "hostcomputer": Role.TOOL,
        "datetimeoriginal": Role.TAKEN,
        "datetime": Role.MODIFIED,
        "usercomment": Role.PAYLOAD,
        "imagedescription": Role.PAYLOAD,
    },
    Family.XMP: {
        "tiff:make": Role.MAKE,
        "tiff:model": Role.MODEL,
        "xmp:creatortool": Role.TOOL,
        "stevt:softwareagent": Role.TOOL,
        "tiff:software": Role.TOOL,
        "photoshop:credit": Role.LABEL,
        "iptc4xmpext:digitalsourcetype": Role.SOURCE_TYPE,
        "iptc4xmpext:digitalsourcefiletype": Role.SOURCE_TYPE,
        "plus:digitalsourcetype": Role.SOURCE_TYPE,
        "iptc4xmpext:aisystemused": Role.AI_SYSTEM,
        "exif:datetimeoriginal": Role.TAKEN,
        "xmp:modifydate": Role.MODIFIED,
    },
    Family.IPTC: {"originatingprogram": Role.TOOL, "credit": Role.LABEL},
    Family.TEXT: {
        "software": Role.TOOL,
        "source": Role.TOOL,
        "generator": Role.TOOL,
        "title": Role.LABEL,
        "parameters": Role.PAYLOAD,
        "prompt": Role.PAYLOAD,
        "workflow": Role.PAYLOAD,
        "comment": Role.PAYLOAD,
        "invokeai_metadata": Role.PAYLOAD,
        "sd-metadata": Role.PAYLOAD,
        "dream": Role.PAYLOAD,
        "description": Role.PAYLOAD,
    },
    Family.CONTAINER: {
        "encoder": Role.TOOL,
        "handler_name": Role.TOOL,
        "comment": Role.TOOL,
        "software": Role.TOOL,
        "creation_tool": Role.TOOL,
        "tool": Role.TOOL,
        "com.apple.quicktime.software": Role.TOOL,
        "com.apple.quicktime.make": Role.MAKE,
        "com.apple.quicktime.model": Role.MODEL,
        "com.apple.quicktime.creationdate": Role.TAKEN,
        "make": Role.MAKE,
        "model": Role.MODEL,
        "com.android.manufacturer": Role.MAKE,
        "com.android.model": Role.MODEL,
    },
}


@dataclass(frozen=True)
class Field:
    family: Family
    name: str
    value: str

    @property
    def role(self) -> Role:
        return role_of(self.family, self.name)

    @property
    def where(self) -> str:
        """Where a person finds it: ``exif:Software``, ``xmp:xmp:CreatorTool``, ``text:parameters``."""
        return f"{self.family}:{self.name}"


def role_of(family: Family, name: str) -> Role:
    return _ROLES[family].get(name.lower(), Role.OTHER)


@dataclass(frozen=True)
class RawMetadata:
    """Everything read from one file, plus the problems met while reading (a refused XMP packet, bad EXIF)."""

    fields: tuple[Field, ...] = ()
    problems: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def with_role(self, *roles: Role) -> list[Field]:
        return [f for f in self.fields if f.role in roles]

    def first(self, role: Role) -> Field | None:
        return next((f for f in self.fields if f.role is role), None)

    @classmethod
    def merge(cls, parts: Iterable[RawMetadata], max_fields: int) -> RawMetadata:
        fields: list[Field] = []
        problems: list[str] = []
        for part in parts:
            fields.extend(part.fields)
            problems.extend(part.problems)
        if len(fields) > max_fields:
            problems.append(f"only the first {max_fields} of {len(fields)} metadata fields were read")
        return cls(tuple(fields[:max_fields]), tuple(problems))
