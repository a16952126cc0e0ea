"""What a reviewer concluded about where a file came from, and what that teaches a detector."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Origin"]


class Origin(StrEnum):
    """A reviewer's conclusion on an item's origin. Values are stored: never rename them."""

    AI_GENERATED = "ai_generated"  # made by a generator (whole image)
    GENUINE = "genuine"  # a camera photo, not generated (edits of exposure, crop etc. allowed)
    EDITED = (
        "edited"  # a genuine photo with generated or pasted parts: neither class for a whole-image detector
    )
    UNSURE = "unsure"

    @property
    def training_label(self) -> str | None:
        """``ai`` or ``real`` (the development set's manifest words); ``None``: not a training example."""
        return {Origin.AI_GENERATED: "ai", Origin.GENUINE: "real"}.get(self)
