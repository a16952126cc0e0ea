"""The ``Analyzer`` interface.

An analyzer is a configured *instance* with a stable class-level ``name`` (stored in reports and databases:
never rename one). It is built from ``Settings`` by ``from_settings`` and turns one ``Media`` into one
``Signal``. A new analyzer is about ten lines plus its logic::

    class Example(Analyzer):
        name = "example"
        description = "What it looks at and what it cannot tell."
        kinds = frozenset({MediaKind.IMAGE})

        @classmethod
        def from_settings(cls, settings: Settings) -> "Example":
            return cls()

        def analyze(self, media: Media) -> Signal:
            return Signal.abstain(self.name, "nothing to say")

Register it in ``pyproject.toml`` under ``[project.entry-points."civicshield.analyzers"]``: built-ins are
registered exactly the way third-party plugins are.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Self

from civicshield.media import Media, MediaKind
from civicshield.settings import Settings
from civicshield.signals import Signal

__all__ = ["Analyzer"]


class Analyzer(ABC):
    name: ClassVar[str]
    description: ClassVar[str]
    kinds: ClassVar[frozenset[MediaKind]] = frozenset(MediaKind)

    @classmethod
    @abstractmethod
    def from_settings(cls, settings: Settings) -> Self:
        """Build a configured instance. Raise ``AnalyzerUnavailable`` if it cannot run here."""

    @abstractmethod
    def analyze(self, media: Media) -> Signal:
        """One signal for one item. Raise only ``MediaError`` for undecodable input."""

    def accepts(self, media: Media) -> bool:
        return media.kind in self.kinds

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (model sessions, indexes). Default: nothing."""
