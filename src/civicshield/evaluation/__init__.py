"""Measuring detectors honestly: labelled sets, leave-one-generator-out splits, metrics, calibration, and
the CLIP probe's training. Library code: no web framework, used by ``civicshield eval`` / ``train``."""
