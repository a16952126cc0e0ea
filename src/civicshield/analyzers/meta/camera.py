"""Camera fields and their consistency.

Camera make and model are weak evidence of a capture, since any tool can write them. Their value is in
contradictions that careless forgers and generator pipelines leave: a model string naming a different maker
than the make, or a file modified before it was taken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from civicshield.analyzers.meta.fields import Family, Field, RawMetadata, Role
from civicshield.analyzers.meta.names import generators_in

__all__ = ["CameraFacts", "camera_facts", "inconsistencies", "parse_timestamp"]

# Brands that share a maker are one group (Ricoh makes Pentax; DJI drones report Hasselblad; BBK's brands).
MAKER_GROUPS: tuple[tuple[str, ...], ...] = (
    ("canon",),
    ("nikon",),
    ("sony",),
    ("fujifilm", "fuji"),
    ("panasonic", "lumix"),
    ("olympus", "om digital", "om system"),
    ("pentax", "ricoh"),
    ("leica",),
    ("hasselblad", "dji"),
    ("apple", "iphone", "ipad"),
    ("samsung", "galaxy"),
    ("google", "pixel"),
    ("huawei", "honor"),
    ("xiaomi", "redmi", "poco"),
    ("oneplus", "oppo", "realme"),
    ("vivo", "iqoo"),
    ("motorola", "moto"),
    ("lg", "lge"),
    ("htc",),
    ("nokia", "hmd global"),
    ("gopro",),
    ("sigma",),
    ("kodak",),
    ("casio",),
    ("phase one",),
    ("zte", "nubia"),
    ("asus",),
    ("sharp",),
)
_GROUP_PATTERNS = tuple(
    re.compile(r"\b(?:" + "|".join(map(re.escape, g)) + r")\b", re.IGNORECASE) for g in MAKER_GROUPS
)
_TIMESTAMP = re.compile(r"(\d{4})[:-](\d{2})[:-](\d{2})[T ](\d{2}):(\d{2}):(\d{2})")
CLOCK_SLACK = timedelta(days=1)  # time zones and camera clocks; smaller gaps are not contradictions


@dataclass(frozen=True)
class CameraFacts:
    make: Field | None
    model: Field | None
    taken: Field | None
    modified: Field | None
    lens: str | None = None
    has_gps: bool = False
    has_maker_note: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, f in (("make", self.make), ("model", self.model), ("date_time_original", self.taken)):
            if f is not None:
                out[key] = f.value
                out[f"{key}_field"] = f.where
        if self.lens:
            out["lens_model"] = self.lens
        out["has_gps"] = self.has_gps
        out["has_maker_note"] = self.has_maker_note
        return out

    @property
    def label(self) -> str:
        return " / ".join(f.value for f in (self.make, self.model) if f is not None)


def camera_facts(raw: RawMetadata) -> CameraFacts | None:
    """Make/model as a camera would write them; ``None`` when absent or when they name a generator instead."""
    make, model = raw.first(Role.MAKE), raw.first(Role.MODEL)
    if make is None and model is None:
        return None
    if any(generators_in(f.value) for f in (make, model) if f is not None):
        return None
    names = {f.name: f.value for f in raw if f.family is Family.EXIF}
    return CameraFacts(
        make=make,
        model=model,
        taken=raw.first(Role.TAKEN),
        modified=raw.first(Role.MODIFIED),
        lens=names.get("LensModel"),
        has_gps="GPSInfo" in names,
        has_maker_note="MakerNote" in names,
    )


def maker_groups(text: str) -> set[int]:
    return {i for i, pattern in enumerate(_GROUP_PATTERNS) if pattern.search(text)}


def parse_timestamp(value: str) -> datetime | None:
    match = _TIMESTAMP.search(value)
    if match is None:
        return None
    try:
        year, month, day, hour, minute, second = (int(g) for g in match.groups())
        return datetime(year, month, day, hour, minute, second)  # EXIF times carry no zone
    except ValueError:
        return None


def inconsistencies(facts: CameraFacts) -> list[str]:
    """Contradictions inside the camera fields, as sentences for people."""
    reasons = []
    if facts.make is not None and facts.model is not None:
        make_groups = maker_groups(facts.make.value)
        other = maker_groups(facts.model.value) - make_groups
        if make_groups and other:
            reasons.append(
                f"camera model {facts.model.value!r} names a different maker than make {facts.make.value!r}"
            )
    taken = parse_timestamp(facts.taken.value) if facts.taken else None
    modified = parse_timestamp(facts.modified.value) if facts.modified else None
    if taken and modified and modified + CLOCK_SLACK < taken:
        reasons.append(
            f"modified ({facts.modified.value if facts.modified else ''}) more than a day before it "
            f"was taken ({facts.taken.value if facts.taken else ''})"
        )
    return reasons
