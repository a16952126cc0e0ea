"""Public addresses of what the service publishes, built in one place."""

from __future__ import annotations

from civicshield.service.domain.tables import Case


def fact_check_url(base_url: str, case: Case) -> str:
    """The public page of a published case's fact-check (``/fact-checks/<slug>``)."""
    return f"{base_url.rstrip('/')}/fact-checks/{case.slug}"
