"""Container and stream tags of audio and video, read through PyAV.

Muxers stamp tags such as ``major_brand`` or ``creation_time`` on every file; those say nothing about who made
it and are skipped, so a file carrying only them counts as having no metadata.
"""

from __future__ import annotations

from civicshield.analyzers.meta.bounds import Bounds, clean
from civicshield.analyzers.meta.fields import Family, Field, RawMetadata
from civicshield.media import Media, open_container

__all__ = ["read_container"]

_BOILERPLATE = {
    "major_brand",
    "minor_version",
    "compatible_brands",
    "creation_time",
    "language",
    "vendor_id",
    "duration",
    "timecode",
}


def read_container(media: Media, bounds: Bounds) -> RawMetadata:
    with open_container(media) as container:
        tags = [
            *_items(container.metadata),
            *(item for s in container.streams for item in _items(s.metadata)),
        ]
    fields = []
    for name, value in tags[: bounds.max_fields]:
        text = clean(value)
        if text and name.lower() not in _BOILERPLATE:
            fields.append(Field(Family.CONTAINER, name, text))
    return RawMetadata(tuple(fields))


def _items(metadata: object) -> list[tuple[str, str]]:
    if not isinstance(metadata, dict):
        return []
    return [(str(k), str(v)) for k, v in metadata.items()]
