"""The ``Analyzer`` interface.

An analyzer is a configured *instance* with a stable class-level ``name`` (stored in reports and databases:
never rename one). It is built from ``Settings`` by ``from_settings`` and turns one ``Media`` into one
``Signal``. A new analyzer is about ten lines plus its logic::

    class Sharpness(Analyzer):
        name = "sharpness"
        description = "What it looks at and what it cannot tell."
        kinds = frozenset({MediaKind.IMAGE})

        @classmethod
        def from_settings(cls, settings: Settings) -> "Sharpness":
            return cls()

        def analyze(self, media: Media) -> Signal:
            return Signal.abstain(self.name, "nothing to say")

Register it in ``pyproject.toml`` under ``[project.entry-points."civicshield.analyzers"]``: built-ins are
registered exactly the way third-party plugins are.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self, TypeVar

from civicshield.errors import InvalidSetting
from civicshield.media import Media, MediaKind
from civicshield.settings import FALSE_WORDS, TRUE_WORDS, Option, Settings
from civicshield.signals import Signal

P = TypeVar("P")

__all__ = ["Analyzer", "Example"]


@dataclass(frozen=True)
class Example:
    """An item this analyzer must recognise, from the generated demo set (``civicshield demo``), and the
    finding it must report on it; or, for an analyzer whose signal is never evidence (``phash``), an
    ``evidence`` key it must fill. The contract tests run every registered analyzer on its examples."""

    file: str
    finding: str = ""
    evidence: str = ""
    needs: str = ""  # an external program the demo needs to make the file (e.g. ``espeak-ng``)


class Analyzer(ABC):
    name: ClassVar[str]
    description: ClassVar[str]
    kinds: ClassVar[frozenset[MediaKind]] = frozenset(MediaKind)
    #: What a deployment may change (``Settings.analyzer_options``), by option name.
    options: ClassVar[Mapping[str, Option]] = {}
    #: Items it must recognise (the contract tests run them); empty only with a reason in those tests.
    examples: ClassVar[tuple[Example, ...]] = ()
    #: Off unless a deployment names it (``Settings.analyzers`` / ``-a``): for an analyzer whose cost is not
    #: yet repaid by what it measures. The model card says why.
    opt_in: ClassVar[bool] = False

    @classmethod
    @abstractmethod
    def from_settings(cls, settings: Settings) -> Self:
        """Build a configured instance. Raise ``AnalyzerUnavailable`` if it cannot run here."""

    @abstractmethod
    def analyze(self, media: Media) -> Signal:
        """One signal for one item. Raise only ``MediaError`` for undecodable input."""

    @classmethod
    def configured(cls, policy: P, settings: Settings) -> P:
        """``policy`` with this analyzer's options from ``settings`` applied, each value converted to the
        type of the field it sets. An unknown option or a value that does not convert is a
        ``InvalidSetting`` naming it (never a silently ignored setting)."""
        given = settings.analyzer_options.get(cls.name, {})
        unknown = sorted(set(given) - set(cls.options))
        if unknown:
            known = ", ".join(sorted(cls.options)) or "none"
            raise InvalidSetting(f"{cls.name} has no option {', '.join(unknown)} (its options: {known})")
        for name, value in given.items():
            policy = _set(policy, cls.options[name].field.split("."), value, f"{cls.name}.{name}")
        return policy

    def accepts(self, media: Media) -> bool:
        return media.kind in self.kinds

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (model sessions, indexes). Default: nothing."""


def _set(policy: P, path: list[str], value: object, what: str) -> P:
    current = getattr(policy, path[0])
    new = _set(current, path[1:], value, what) if len(path) > 1 else _convert(value, current, what)
    return dataclasses.replace(policy, **{path[0]: new})  # type: ignore[type-var]


def _convert(value: object, current: Any, what: str) -> Any:
    """``value`` (TOML value or environment text) as the type of the field's default ``current``."""
    kind = type(current)
    if kind is str:
        return str(value)
    text = str(value).strip()
    try:
        if kind is bool:
            if isinstance(value, bool) or text.lower() in TRUE_WORDS | FALSE_WORDS:
                return value if isinstance(value, bool) else text.lower() in TRUE_WORDS
        elif kind is int and not isinstance(value, bool):
            return int(text)
        elif kind is float and not isinstance(value, bool) and math.isfinite(number := float(text)):
            return number
    except ValueError:
        pass
    raise InvalidSetting(f"{what} must be a {kind.__name__}, not {value!r}")
