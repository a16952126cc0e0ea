"""CivicShield: explained verdicts on images, video and audio.

>>> from civicshield import analyze_path
>>> verdict = analyze_path("suspicious.jpg")          # doctest: +SKIP
>>> verdict.label, verdict.confidence, verdict.reasons[0]   # doctest: +SKIP

The names below are the public library API (``tests/test_exports.py`` keeps ``__all__`` and the README's
"Use it as a library" section in step): the engine that runs every configured analyzer, the verdict it
returns, the analyzer contract for plugins, and the values they exchange.
"""

from civicshield.analyzers.base import Analyzer
from civicshield.errors import CivicShieldError
from civicshield.media import Media, MediaKind
from civicshield.pipeline import Engine, analyze_path
from civicshield.settings import Limits, Settings
from civicshield.signals import Artefact, Finding, Signal
from civicshield.verdict import Verdict

__version__ = "0.1.0"

__all__ = [
    "Analyzer",
    "Artefact",
    "CivicShieldError",
    "Engine",
    "Finding",
    "Limits",
    "Media",
    "MediaKind",
    "Settings",
    "Signal",
    "Verdict",
    "__version__",
    "analyze_path",
]
