"""A test analyzer that takes a while, so a test can kill a worker mid-job.

Loaded through ``CIVICSHIELD_PLUGINS``."""

from __future__ import annotations

import os
import time
from typing import Self

from civicshield.analyzers.base import Analyzer
from civicshield.media import Media, MediaKind
from civicshield.settings import Settings
from civicshield.signals import Signal


class SlowAnalyzer(Analyzer):
    name = "slow"
    description = "Sleeps for $SLOW_ANALYZER_S seconds, then abstains (test plugin)."
    kinds = frozenset(MediaKind)

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls()

    def analyze(self, media: Media) -> Signal:
        time.sleep(float(os.environ.get("SLOW_ANALYZER_S", "0")))
        return Signal.abstain(self.name, "slept")
