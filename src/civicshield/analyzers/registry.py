"""Analyzer discovery through the ``civicshield.analyzers`` entry-point group.

Built-in analyzers are registered there too (see ``pyproject.toml``), so the built-ins and third-party
plugins travel the same path. Loading never silently drops an analyzer: one that cannot load (missing
optional dependency, broken plugin) is kept as a named ``LoadFailure`` that ``civicshield analyzers`` shows.
Duplicate names are a hard error.

``assemble`` builds the configured instances for a run. An analyzer that cannot be imported or built
(``from_settings`` fails: a missing or altered model file, an engine that cannot run it) does not stop the
run: it becomes an ``Unavailable`` line of evidence that every verdict, report and page names with its
reason. A deployment that must not run without some analyzers lists them in ``required_analyzers``; then a
missing one is an ``AnalyzerUnavailable`` error at start instead. An unknown name stays a hard error (a typo
must not silently turn a line of evidence off).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from civicshield.analyzers.base import Analyzer
from civicshield.errors import AnalyzerUnavailable, ConfigurationError, InvalidSetting
from civicshield.settings import Settings
from civicshield.signals import Unavailable

GROUP = "civicshield.analyzers"

# Which extra brings the dependency an import error names (shown in load failures).
_EXTRA_FOR_MODULE = {
    "onnxruntime": "ml",
    "imwatermark": "core (pip install --no-deps invisible-watermark)",
    "acoustid": "core",
    "c2pa": "core",
    "faiss": "core",
    "pdqhash": "core",
}


@dataclass(frozen=True)
class LoadFailure:
    name: str
    target: str
    reason: str


@dataclass(frozen=True)
class Lineup:
    """The analyzers of a run: the instances that loaded and the lines of evidence that did not."""

    analyzers: tuple[Analyzer, ...]
    unavailable: tuple[Unavailable, ...]


def _import_failure(exc: ImportError, ep: EntryPoint) -> str:
    missing = str(getattr(exc, "name", None) or exc)
    if ep.module.startswith(missing) or missing.startswith(ep.module):
        return f"plugin module {ep.module!r} is not installed"
    extra = _EXTRA_FOR_MODULE.get(missing.split(".")[0], "its optional dependency")
    return f"missing module {missing!r} (install {extra})"


class AnalyzerRegistry:
    """Analyzer classes by name, plus the ones that failed to load."""

    def __init__(self, classes: dict[str, type[Analyzer]], failures: dict[str, LoadFailure]) -> None:
        self._classes = dict(classes)
        self.failures = dict(failures)

    @classmethod
    def discover(
        cls, eps: Iterable[EntryPoint] | None = None, *, plugins: Iterable[str] = ()
    ) -> AnalyzerRegistry:
        """Installed entry points (or ``eps``) plus ``plugins`` given as ``name=module:Class`` strings."""
        classes: dict[str, type[Analyzer]] = {}
        failures: dict[str, LoadFailure] = {}
        found = list(entry_points(group=GROUP) if eps is None else eps)
        for spec in plugins:
            name, sep, target = spec.partition("=")
            if not sep or ":" not in target:
                raise ConfigurationError(f"plugin {spec!r} must look like name=module:Class")
            found.append(EntryPoint(name=name.strip(), value=target.strip(), group=GROUP))
        for ep in found:
            if ep.name in classes or ep.name in failures:
                raise ConfigurationError(f"two analyzers are registered as {ep.name!r} ({ep.value})")
            try:
                obj = ep.load()
            except ImportError as exc:
                failures[ep.name] = LoadFailure(ep.name, ep.value, _import_failure(exc, ep))
                continue
            except Exception as exc:  # a broken plugin must not take the others down
                failures[ep.name] = LoadFailure(ep.name, ep.value, f"{type(exc).__name__}: {exc}")
                continue
            if not (isinstance(obj, type) and issubclass(obj, Analyzer)):
                failures[ep.name] = LoadFailure(ep.name, ep.value, "entry point is not an Analyzer subclass")
                continue
            if obj.name != ep.name:
                raise ConfigurationError(f"entry point {ep.name!r} loads an analyzer named {obj.name!r}")
            classes[ep.name] = obj
        return cls(classes, failures)

    def names(self) -> list[str]:
        return sorted(self._classes)

    def get(self, name: str) -> type[Analyzer]:
        if name in self._classes:
            return self._classes[name]
        if name in self.failures:
            raise AnalyzerUnavailable(f"analyzer {name!r} cannot load: {self.failures[name].reason}")
        raise AnalyzerUnavailable(f"no analyzer named {name!r}; known: {', '.join(self.names())}")

    def build(self, settings: Settings, names: Iterable[str] | None = None) -> list[Analyzer]:
        """Configured instances. With explicit ``names`` every one must load; otherwise all that load."""
        wanted = list(names) if names is not None else self.default_names()
        return [self.get(name).from_settings(settings) for name in wanted]

    def default_names(self) -> list[str]:
        """What runs when nobody names analyzers: every registered one but the opt-in ones."""
        return [name for name in self.names() if not self._classes[name].opt_in]

    def assemble(
        self, settings: Settings, names: Iterable[str] | None = None, *, required: Iterable[str] = ()
    ) -> Lineup:
        """Every analyzer that can run here (of ``names``, or all), and the others as ``Unavailable``."""
        wanted = list(names) if names is not None else sorted({*self.default_names(), *self.failures})
        must = set(required)
        unknown = sorted((set(wanted) | must) - set(self._classes) - set(self.failures))
        if unknown:
            raise ConfigurationError(
                f"no analyzer named {', '.join(unknown)}; known: {', '.join(self.names())}"
            )
        strays = sorted(set(settings.analyzer_options) - set(self._classes) - set(self.failures))
        if strays:
            raise ConfigurationError(
                f"options for unknown analyzers {', '.join(strays)}; known: {', '.join(self.names())}"
            )
        built: list[Analyzer] = []
        missing: list[Unavailable] = []
        for name in wanted:
            cls = self._classes.get(name)
            if cls is None:
                missing.append(Unavailable(name, f"cannot load: {self.failures[name].reason}"))
                continue
            try:
                built.append(cls.from_settings(settings))
            except InvalidSetting:  # a setting the deployment got wrong stops it, loudly
                for analyzer in built:
                    analyzer.close()
                raise
            except Exception as exc:  # a model that cannot load must not take the other lines down
                reason = str(exc) if isinstance(exc, AnalyzerUnavailable) else f"{type(exc).__name__}: {exc}"
                missing.append(Unavailable(name, reason, frozenset(str(k) for k in cls.kinds)))
        absent = [m for m in missing if m.analyzer in must]
        if absent:
            for analyzer in built:
                analyzer.close()
            text = "; ".join(f"{m.analyzer}: {m.reason}" for m in absent)
            raise AnalyzerUnavailable(f"required analyzers are unavailable ({text})")
        return Lineup(tuple(built), tuple(missing))
