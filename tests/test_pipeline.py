from __future__ import annotations

from pathlib import Path
from typing import Self

import jsonschema
import pytest

from civicshield.analyzers.base import Analyzer
from civicshield.demo import synth
from civicshield.errors import CorruptMedia
from civicshield.fusion import Label, Policy
from civicshield.media import Media, MediaKind
from civicshield.pipeline import Engine
from civicshield.settings import Settings
from civicshield.signals import Finding, Signal


class _Declares(Analyzer):
    name = "declares"
    description = "test analyzer that always finds a declaration"
    kinds = frozenset({MediaKind.IMAGE})

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls()

    def analyze(self, media: Media) -> Signal:
        return Signal(self.name, 0.9, 0.9, "declared", findings=(Finding("metadata.ai_declared", "says AI"),))


class _Broken(_Declares):
    name = "broken"

    def analyze(self, media: Media) -> Signal:
        raise ZeroDivisionError("bug")


class _Undecodable(_Declares):
    name = "undecodable"

    def analyze(self, media: Media) -> Signal:
        raise CorruptMedia("truncated pixel data")


class _AudioOnly(_Declares):
    name = "audio_only"
    kinds = frozenset({MediaKind.AUDIO})


@pytest.fixture
def image(tmp_path: Path) -> Media:
    return Media.open(synth.save_image(synth.poster(size=(300, 300)), tmp_path / "p.png", "PNG"))


def test_one_failing_analyzer_does_not_lose_the_item(image: Media) -> None:
    engine = Engine(Settings(), [_Broken(), _Undecodable(), _Declares(), _AudioOnly()], Policy.load())
    verdict = engine.analyze(image)
    assert verdict.label is Label.AI_GENERATED_DECLARED
    assert [s.analyzer for s in verdict.signals] == ["broken", "undecodable", "declares"]
    broken = verdict.signal("broken")
    assert broken is not None and broken.abstained and broken.has("broken.internal_error")
    undecodable = verdict.signal("undecodable")
    assert undecodable is not None and undecodable.has("undecodable.undecodable")
    assert verdict.policy == Policy.load().id


def test_verdict_json_matches_shipped_schema(image: Media) -> None:
    import json
    from importlib import resources

    schema = json.loads(resources.files("civicshield").joinpath("data/schema/verdict-1.json").read_text())
    verdict = Engine(Settings(), [_Declares(), _Broken()], Policy.load()).analyze(image)
    jsonschema.validate(verdict.to_dict(), schema)
    assert verdict.to_dict()["verdict"]["label"] == "ai_generated_declared"
