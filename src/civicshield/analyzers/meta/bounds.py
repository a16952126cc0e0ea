"""Size bounds for reading metadata and for the evidence we keep.

Metadata is attacker-controlled text (a ComfyUI workflow can be a megabyte, an XMP packet can hold thousands
of history entries) and evidence ends up in reports and database rows, so every read and every kept value is
capped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Bounds", "clean", "clip"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Bounds:
    max_value_chars: int = 300  # one metadata value kept in evidence
    max_prompt_chars: int = 1000  # prompts and negative prompts kept in evidence
    max_fields: int = 2000  # fields read from one file, all families together
    max_keys: int = 40  # keys kept per family / per parsed parameter block
    max_values_per_key: int = 8  # repeated values (keywords, history entries) kept per key
    max_list_items: int = 24  # node types, checkpoints, seeds kept from a workflow
    max_xmp_bytes: int = 1 << 20  # larger XMP packets are not parsed (the JPEG limit is 64 KiB)
    max_xmp_elements: int = 50_000
    max_json_chars: int = 2 << 20  # generator JSON blocks (Pillow caps a PNG text chunk at 1 MiB)
    max_payload_bytes: int = 1 << 20  # IPTC / Photoshop resource blocks


def clean(text: str) -> str:
    """Control characters (NUL padding, the length bytes some muxers leave in tags) removed, ends stripped."""
    return _CONTROL.sub("", text).strip()


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, marking the cut so nobody mistakes it for the whole value."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"
