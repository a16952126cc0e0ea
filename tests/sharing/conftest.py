"""Fixtures for the sharing tests."""

from __future__ import annotations

import pytest

from civicshield.sharing import FactCheck
from tests.sharing.factories import make_fact_check


@pytest.fixture
def fact_check() -> FactCheck:
    return make_fact_check()
