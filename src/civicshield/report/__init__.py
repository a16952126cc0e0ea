"""Reports for people: a self-contained HTML page (images inlined) and thumbnails."""

from civicshield.report.html import ReportItem, render_html

__all__ = ["ReportItem", "render_html"]
