"""A plugin whose model cannot load here (as SFace could not on OpenCV 5): it imports, but ``from_settings``
raises ``AnalyzerUnavailable``."""

from __future__ import annotations

from typing import Self

from civicshield.analyzers.base import Analyzer
from civicshield.errors import AnalyzerUnavailable
from civicshield.media import Media, MediaKind
from civicshield.settings import Settings
from civicshield.signals import Signal


class BrokenModel(Analyzer):
    name = "broken_model"
    description = "Stands for an analyzer whose model fails to load."
    kinds = frozenset({MediaKind.IMAGE})

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        raise AnalyzerUnavailable("broken_model: the model file fails its sha256 check")

    def analyze(self, media: Media) -> Signal:  # pragma: no cover - never built
        raise AssertionError("not reachable")
