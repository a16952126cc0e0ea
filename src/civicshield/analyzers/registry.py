"""Analyzer discovery through the ``civicshield.analyzers`` entry-point group.

Built-in analyzers are registered there too (see ``pyproject.toml``), so the built-ins and third-party
plugins travel the same path. Loading never silently drops an analyzer: one that cannot load (missing
optional dependency, broken plugin) is kept as a named ``LoadFailure`` that ``civicshield analyzers`` shows,
and asking for it explicitly raises ``AnalyzerUnavailable``. Duplicate names are a hard error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from civicshield.analyzers.base import Analyzer
from civicshield.errors import AnalyzerUnavailable, ConfigurationError
from civicshield.settings import Settings

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
        wanted = list(names) if names is not None else self.names()
        return [self.get(name).from_settings(settings) for name in wanted]
