"""``civicshield eval``: run detectors over a labelled set and measure them.

Why it runs analyzers and not models: what a user deploys is the analyzer (its preprocessing, its
abstentions, its calibration), so that is what gets measured, through the same ``run_analyzer`` the engine
uses. Detectors plug in by media kind: each item goes to every selected analyzer that ``accepts`` it, so a
speech or video detector is evaluated on a mixed set the day it is registered, with no change here.

Abstentions are counted, not scored: a detector that abstains on half the set is reported as covering half
of it, and its metrics are over the items it scored.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from civicshield.analyzers.base import Analyzer
from civicshield.analyzers.ml.clip import POSSIBLY_SYNTHETIC, SYNTHETIC
from civicshield.analyzers.ml.clip_views import MESSAGING, messaging_copy
from civicshield.analyzers.registry import AnalyzerRegistry
from civicshield.errors import MediaError, UsageError
from civicshield.evaluation.dataset import LabelledItem
from civicshield.evaluation.metrics import upper_bound
from civicshield.evaluation.plots import reliability_png, roc_png
from civicshield.evaluation.summary import GroupRow, Summary, by_group, summarize
from civicshield.media import Media, MediaKind, decode_image
from civicshield.pipeline import run_analyzer
from civicshield.settings import Limits, Settings
from civicshield.signals import Signal

__all__ = [
    "AS_STORED",
    "AnalyzerResult",
    "EvalRun",
    "FlagRates",
    "detector_names",
    "result_name",
    "run_eval",
]

ML_PREFIX = "civicshield.analyzers.ml."
AS_STORED = "as-stored"


def detector_names(registry: AnalyzerRegistry) -> list[str]:
    """The ML detectors: analyzers that say so (``detector = True``) or live under ``analyzers.ml``."""
    names = []
    for name in registry.names():
        cls = registry.get(name)
        if getattr(cls, "detector", False) or cls.__module__.startswith(ML_PREFIX):
            names.append(name)
    return names


@dataclass
class AnalyzerResult:
    """What one analyzer said on the items it accepted."""

    name: str
    index: list[int]
    scores: list[float]
    abstained: int = 0
    failed: int = 0
    flagged: list[bool] = field(
        default_factory=list
    )  # the shipped decision: a ``detector.synthetic`` finding ("signs of AI generation")
    weak: list[bool] = field(default_factory=list)  # that, or ``detector.possibly_synthetic`` (weak signs)

    def flag_rates(self, items: Sequence[LabelledItem]) -> FlagRates:
        """How often the shipped thresholds accuse: share of scored real items flagged (false positives)
        and of scored AI items flagged (recall)."""
        y = self.labels(items)
        flags = np.array(self.flagged, dtype=bool)
        weak = np.array(self.weak, dtype=bool)  # recorded beside ``flagged`` for every scored item
        return FlagRates(
            real=int((~y).sum()),
            real_flagged=int((flags & ~y).sum()),
            ai=int(y.sum()),
            ai_flagged=int((flags & y).sum()),
            real_weak=int((weak & ~y).sum()),
            ai_weak=int((weak & y).sum()),
        )

    def labels(self, items: Sequence[LabelledItem]) -> np.ndarray:
        return np.array([items[i].positive for i in self.index], dtype=bool)

    def measurable(self, items: Sequence[LabelledItem]) -> bool:
        y = self.labels(items)
        return bool(y.any() and (~y).any())

    def summary(self, items: Sequence[LabelledItem]) -> Summary:
        s = np.array(self.scores)
        return summarize(self.labels(items), s, s)

    def groups(self, items: Sequence[LabelledItem], by: str) -> list[GroupRow]:
        keys = [items[i].family if by == "family" else items[i].generator for i in self.index]
        s = np.array(self.scores)
        return by_group(self.labels(items), s, keys, s)


@dataclass(frozen=True)
class FlagRates:
    real: int
    real_flagged: int
    ai: int
    ai_flagged: int
    real_weak: int = 0  # weak signs or more (``detector.possibly_synthetic`` or ``detector.synthetic``)
    ai_weak: int = 0

    @property
    def false_positive_rate(self) -> float | None:
        return self.real_flagged / self.real if self.real else None

    @property
    def recall(self) -> float | None:
        return self.ai_flagged / self.ai if self.ai else None

    @property
    def false_positive_upper(self) -> float | None:
        """One-sided 95 % upper bound on the false-positive rate (Clopper-Pearson): with 0 of 90 flagged the
        true rate may still be 3.3 %; a small set proves little."""
        if not self.real:
            return None
        return upper_bound(self.real_flagged, self.real)


@dataclass
class EvalRun:
    items: Sequence[LabelledItem]
    results: dict[str, AnalyzerResult]
    unreadable: list[tuple[Path, str]]

    def write(self, out: Path, by: str) -> list[Path]:
        """``metrics.json``, ``scores.csv``, ``roc.png`` and ``reliability.png`` under ``out``."""
        out.mkdir(parents=True, exist_ok=True)
        ok = {n: r for n, r in self.results.items() if r.measurable(self.items)}
        report = {
            name: {
                "scored": len(r.index),
                "abstained": r.abstained,
                "failed": r.failed,
                "summary": r.summary(self.items).to_dict() if name in ok else None,
                "flag_rates": vars(r.flag_rates(self.items)),
                "groups": [vars(g) for g in r.groups(self.items, by)] if name in ok else [],
            }
            for name, r in self.results.items()
        }
        written = [out / "metrics.json", out / "scores.csv"]
        written[0].write_text(json.dumps(report, indent=2, default=float) + "\n", encoding="utf-8")
        with written[1].open("w", newline="", encoding="utf-8") as fh:
            table = csv.writer(fh)
            table.writerow(["analyzer", "path", "label", "generator", "score"])
            for name, r in self.results.items():
                for i, s in zip(r.index, r.scores, strict=True):
                    item = self.items[i]
                    table.writerow([name, item.path, item.label, item.generator or "", f"{s:.6f}"])
        if ok:
            curves = {n: (r.labels(self.items), np.array(r.scores)) for n, r in ok.items()}
            written += [out / "roc.png", out / "reliability.png"]
            written[2].write_bytes(roc_png(curves))
            written[3].write_bytes(reliability_png(curves))
        return written


def _build(settings: Settings, names: Sequence[str] | None) -> list[Analyzer]:
    registry = AnalyzerRegistry.discover(plugins=settings.plugins)
    wanted = list(names) if names else detector_names(registry)
    if not wanted:
        raise UsageError("no ML detector is registered; name one with --analyzer")
    return registry.build(settings, wanted)


def result_name(analyzer: str, copy: str) -> str:
    return analyzer if copy == AS_STORED else f"{analyzer} [{copy}]"


def _versions(media: Media, copies: Sequence[str], limits: Limits) -> Iterator[tuple[str, Media]]:
    """The file as stored, then each messaging copy of it (images only: a copy of a video or a voice note
    is made by other tools)."""
    yield AS_STORED, media
    if media.kind is not MediaKind.IMAGE:
        return
    image = None
    for name in copies:
        if name == AS_STORED:
            continue
        image = image if image is not None else decode_image(media)
        data = messaging_copy(image, *MESSAGING[name])
        yield name, Media.from_bytes(data, name=f"{Path(media.name).stem}-{name}.jpg", limits=limits)


def run_eval(
    items: Sequence[LabelledItem],
    settings: Settings,
    analyzer_names: Sequence[str] | None = None,
    tick: Callable[[int, int], None] | None = None,
    copies: Sequence[str] = (),
) -> EvalRun:
    """Every selected detector on every item, as stored and (``copies``, names of ``MESSAGING``) as
    messaging copies made from it, each copy measured as its own result."""
    unknown = [c for c in copies if c != AS_STORED and c not in MESSAGING]
    if unknown:
        raise UsageError(f"unknown copy {unknown[0]!r}; known: {', '.join(MESSAGING)}")
    analyzers = _build(settings, analyzer_names)
    names = [AS_STORED, *(c for c in copies if c != AS_STORED)]
    results = {
        result_name(a.name, c): AnalyzerResult(result_name(a.name, c), [], [])
        for a in analyzers
        for c in names
    }
    unreadable: list[tuple[Path, str]] = []
    try:
        for i, item in enumerate(items):
            try:
                media = Media.open(item.path, settings.limits)
                versions = list(_versions(media, copies, settings.limits))
            except MediaError as exc:
                unreadable.append((item.path, exc.message))
                continue
            for copy, version in versions:
                for analyzer in analyzers:
                    if analyzer.accepts(version):
                        _record(results[result_name(analyzer.name, copy)], i, run_analyzer(analyzer, version))
            if tick is not None:
                tick(i + 1, len(items))
    finally:
        for analyzer in analyzers:
            analyzer.close()
    return EvalRun(items, results, unreadable)


def _record(result: AnalyzerResult, i: int, signal: Signal) -> None:
    if signal.score is not None:
        result.index.append(i)
        result.scores.append(signal.score)
        result.flagged.append(any(f.code == SYNTHETIC for f in signal.findings))
        result.weak.append(any(f.code in (SYNTHETIC, POSSIBLY_SYNTHETIC) for f in signal.findings))
    elif any(f.code.endswith((".undecodable", ".internal_error")) for f in signal.findings):
        result.failed += 1
    else:
        result.abstained += 1
