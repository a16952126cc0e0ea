"""Analyzers: one line of evidence each. See ``base.Analyzer`` and ``registry``."""

from civicshield.analyzers.base import Analyzer
from civicshield.analyzers.registry import AnalyzerRegistry, LoadFailure

__all__ = ["Analyzer", "AnalyzerRegistry", "LoadFailure"]
