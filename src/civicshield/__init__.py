"""CivicShield: explained verdicts on images, video and audio.

>>> from civicshield import analyze_path
>>> verdict = analyze_path("suspicious.jpg")          # doctest: +SKIP
>>> verdict.label, verdict.confidence, verdict.reasons[0]   # doctest: +SKIP
"""

from civicshield.errors import CivicShieldError
from civicshield.media import Media, MediaKind
from civicshield.settings import Limits, Settings
from civicshield.signals import Artefact, Finding, Signal

__version__ = "0.1.0"

__all__ = [
    "Artefact",
    "CivicShieldError",
    "Finding",
    "Limits",
    "Media",
    "MediaKind",
    "Settings",
    "Signal",
    "__version__",
]
