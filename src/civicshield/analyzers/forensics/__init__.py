"""Classical image forensics: error-level analysis, noise-residual consistency and up-sampling spectra.

These are *weak* signals. Each was measured on the development set (see ``measure``) and carries that
measured AUC in its description and evidence; its confidence follows from that number, so a measure that
separates real from generated images no better than chance says so and has (almost) no weight. None of
them emits findings: a heatmap is for a person to look at, not something fusion can decide on.
"""

from civicshield.analyzers.forensics.base import ForensicAnalyzer, ForensicPolicy, Measurement
from civicshield.analyzers.forensics.ela import ElaAnalyzer
from civicshield.analyzers.forensics.noise import NoiseResidualAnalyzer
from civicshield.analyzers.forensics.spectral import SpectralAnalyzer

__all__ = [
    "ElaAnalyzer",
    "ForensicAnalyzer",
    "ForensicPolicy",
    "Measurement",
    "NoiseResidualAnalyzer",
    "SpectralAnalyzer",
]
