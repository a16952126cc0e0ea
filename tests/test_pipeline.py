from __future__ import annotations

import threading
from pathlib import Path
from typing import Self

import jsonschema
import pytest

from civicshield.analyzers.base import Analyzer
from civicshield.demo import synth
from civicshield.errors import CorruptMedia
from civicshield.fusion import Label, Policy
from civicshield.hashing.cache import clear_hash_cache
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


class _Meets(_Declares):
    """Waits for its partner: only analyzers running side by side both get past the barrier."""

    name = "meets_a"
    barrier = threading.Barrier(2, timeout=10)

    def analyze(self, media: Media) -> Signal:
        self.barrier.wait()
        return Signal(self.name, 0.1, 0.5, f"met on {threading.current_thread().name}")


class _MeetsToo(_Meets):
    name = "meets_b"


def test_analyzers_run_side_by_side_and_keep_the_lineup_order(image: Media) -> None:
    engine = Engine(Settings(analysis_threads=2), [_MeetsToo(), _Meets(), _Declares()], Policy.load())
    try:
        verdict = engine.analyze(image)
    finally:
        engine.close()
    assert [s.analyzer for s in verdict.signals] == ["meets_b", "meets_a", "declares"]
    assert all(not s.abstained for s in verdict.signals)  # neither waited for the other in vain


@pytest.mark.parametrize("name", ["rc_0001.heic", "rc_0002.heic"])
def test_threads_give_the_same_verdict_as_one_after_another(name: str, tmp_path: Path) -> None:
    """Every default analyzer on a genuine phone photo (HEIC), side by side and one after another."""
    path = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "realcam" / name
    out = {}
    for threads in (1, 2):
        clear_hash_cache()
        engine = Engine.from_settings(Settings(data_dir=tmp_path / "d", analysis_threads=threads))
        try:
            verdict = engine.analyze(engine.open(path))
        finally:
            engine.close()
        out[threads] = [
            (s.analyzer, s.score, s.confidence, s.abstained, sorted(f.code for f in s.findings))
            for s in verdict.signals
        ]
        out[threads].append((verdict.label, verdict.confidence))
    assert out[2] == out[1]
    assert len(out[1]) > 8  # the full lineup ran
