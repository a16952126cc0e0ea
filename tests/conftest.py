"""Shared fixtures. Reference data is read in place from ``../shared/testdata``
(or ``$CIVICSHIELD_TESTDATA``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTDATA = Path(os.environ.get("CIVICSHIELD_TESTDATA", ROOT.parent / "shared" / "testdata")).resolve()


@pytest.fixture(scope="session")
def testdata() -> Path:
    if not TESTDATA.is_dir():
        pytest.fail(f"reference test data not found at {TESTDATA} (set CIVICSHIELD_TESTDATA)")
    return TESTDATA
