"""A test analyzer that attaches a PNG artefact (loaded via Settings.plugins)."""

from __future__ import annotations

from typing import Self

from civicshield.analyzers.base import Analyzer
from civicshield.demo import synth
from civicshield.media import Media, MediaKind
from civicshield.settings import Settings
from civicshield.signals import Artefact, Signal


class HeatAnalyzer(Analyzer):
    name = "heat"
    description = "Attaches a small PNG heatmap and abstains (test plugin)."
    kinds = frozenset({MediaKind.IMAGE})

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls()

    def analyze(self, media: Media) -> Signal:
        png = synth.png_bytes(synth.poster("HEAT", size=(64, 64)))
        return Signal.abstain(
            self.name, "test heatmap", artefacts=[Artefact("heat.png", "image/png", png, "heat")]
        )
