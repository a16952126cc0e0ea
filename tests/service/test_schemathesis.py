"""Property-based API fuzzing from the OpenAPI schema: no generated request may produce a 5xx."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from civicshield.service.app import create_app
from civicshield.service.settings import ServiceSettings

from .conftest import _seed

_settings = ServiceSettings(
    data_dir=Path(tempfile.mkdtemp(prefix="cs-fuzz-")),
    secret_key="k",
    unauthenticated_rate_per_minute=1_000_000,
)
_app = create_app(_settings)
_world = _seed(_settings, _app)
schema = schemathesis.openapi.from_asgi("/openapi.json", _app)


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case) -> None:
    headers = {"Authorization": f"Bearer {_world.keys['factcheck:org_admin']}"}
    response = case.call(headers=headers)
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"
