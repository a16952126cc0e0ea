"""The whole flow on one screen: media → analyzers → fusion → verdict.

An ``Engine`` is built once from ``Settings`` (analyzers are configured instances, the policy is loaded) and
then analyzes any number of items. One analyzer failing on one item never takes the item down: a decoding
failure becomes that analyzer's abstention (``<name>.undecodable``), and an unexpected exception becomes an
abstention with the finding ``<name>.internal_error`` so the failure stays visible in the report.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from civicshield.analyzers.base import Analyzer
from civicshield.analyzers.registry import AnalyzerRegistry
from civicshield.errors import MediaError
from civicshield.fusion import Policy, fuse
from civicshield.media import Media
from civicshield.settings import Settings
from civicshield.signals import Finding, Signal, Unavailable
from civicshield.verdict import Verdict

__all__ = ["Engine", "analyze_path", "run_analyzer"]

log = logging.getLogger(__name__)


def run_analyzer(analyzer: Analyzer, media: Media) -> Signal:
    """One analyzer on one item, timed, with failures turned into visible abstentions."""
    start = time.perf_counter()
    try:
        signal = analyzer.analyze(media)
    except MediaError as exc:
        signal = Signal.abstain(
            analyzer.name,
            f"could not decode this item: {exc.message}",
            findings=[Finding(f"{analyzer.name}.undecodable", exc.message, {"error": exc.code})],
        )
    except Exception as exc:  # a bug in one analyzer must not lose the item or the other signals
        log.exception("analyzer %s failed on %s", analyzer.name, media.name)
        signal = Signal.abstain(
            analyzer.name,
            f"internal error in analyzer: {type(exc).__name__}",
            findings=[Finding(f"{analyzer.name}.internal_error", f"{type(exc).__name__}: {exc}")],
        )
    return signal.with_elapsed((time.perf_counter() - start) * 1000)


class Engine:
    """Configured analyzers + a fusion policy, and the lines of evidence that could not be set up here
    (``unavailable``): every verdict names those that would have looked at its item."""

    def __init__(
        self,
        settings: Settings,
        analyzers: Sequence[Analyzer],
        policy: Policy,
        unavailable: Sequence[Unavailable] = (),
    ) -> None:
        self.settings = settings
        self.analyzers = tuple(analyzers)
        self.policy = policy
        self.unavailable = tuple(unavailable)
        threads = settings.analysis_threads
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="analyzer") if threads > 1 else None

    @classmethod
    def from_settings(
        cls, settings: Settings, *, registry: AnalyzerRegistry | None = None, policy: Policy | None = None
    ) -> Engine:
        """Every analyzer that loads; the rest become ``unavailable`` unless ``settings.required_analyzers``
        names them (then ``AnalyzerUnavailable``)."""
        registry = registry or AnalyzerRegistry.discover(plugins=settings.plugins)
        lineup = registry.assemble(settings, settings.analyzers, required=settings.required_analyzers)
        return cls(settings, lineup.analyzers, policy or Policy.load(), lineup.unavailable)

    def lineup(self, substitutes: Sequence[Analyzer] = ()) -> tuple[Analyzer, ...]:
        """The engine's analyzers with ``substitutes`` in place of those of the same name (extras last)."""
        by_name = {a.name: a for a in substitutes}
        kept = tuple(by_name.pop(a.name, a) for a in self.analyzers)
        return kept + tuple(by_name.values())

    def open(self, path: str | Path) -> Media:
        return Media.open(path, self.settings.limits)

    def analyze(
        self, media: Media, *, extra_signals: Sequence[Signal] = (), substitutes: Sequence[Analyzer] = ()
    ) -> Verdict:
        """Run every analyzer that accepts the item and fuse. ``substitutes`` are analyzers configured for
        this item only (the service's bank analyzers, reading the submitting organization's banks): each
        runs in place of the engine's analyzer of the same name, or beside the others when the engine has
        none. ``extra_signals`` come from outside and are fused like any other."""
        start = time.perf_counter()
        chosen = [a for a in self.lineup(substitutes) if a.accepts(media)]
        if self._pool is None or len(chosen) < 2:
            signals = tuple(run_analyzer(a, media) for a in chosen)
        else:  # side by side; the signals keep the lineup's order
            signals = tuple(self._pool.map(lambda a: run_analyzer(a, media), chosen))
        signals += tuple(extra_signals)
        fused = fuse(signals, self.policy)
        return Verdict(
            label=fused.label,
            confidence=fused.confidence,
            headline=fused.headline,
            reasons=fused.reasons,
            signals=signals,
            policy=self.policy.id,
            media_name=media.name,
            media_sha256=media.sha256,
            media_kind=str(media.kind),
            media_format=media.format.name,
            media_info=Verdict.describe(media),
            elapsed_ms=(time.perf_counter() - start) * 1000,
            unavailable=tuple(u for u in self.unavailable if u.applies_to(str(media.kind))),
        )

    def analyze_many(self, paths: Iterable[Path]) -> Iterable[tuple[Path, Verdict | MediaError]]:
        for path in paths:
            try:
                yield path, self.analyze(self.open(path))
            except MediaError as exc:
                yield path, exc

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
        for analyzer in self.analyzers:
            analyzer.close()


def analyze_path(path: str | Path, settings: Settings | None = None) -> Verdict:
    """Analyze one file with every available analyzer and the default policy."""
    engine = Engine.from_settings(settings or Settings())
    try:
        return engine.analyze(engine.open(path))
    finally:
        engine.close()
