"""Agreement with the reference implementation on every c2pa-rs fixture, in both reference passes.

``c2pa/reference_validation_results.csv`` was produced by running c2pa-python 0.38.1 (c2pa-rs 0.91.3) over
each fixture twice: ``default_no_trust`` (no anchors: our ``none`` profile) and
``c2pa-rs_test_settings_trust`` (the trust section of ``c2pa-rs/fixtures/test_settings.json``: the c2pa-rs
test root bundle, passed here as extra trust anchors on the ``none`` profile). We must agree on validation
state, active failure and informational codes, ingredient failure codes, manifest count and, for unreadable
files, the error type. Every known difference is listed in ``EXPECTED_DISAGREEMENTS`` with its reason;
nothing is skipped silently.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from civicshield.provenance import ReadErrorCode, TrustPolicy, ValidationState, read_credentials

from ..conftest import TESTDATA
from ._reference import error_type, joined

C2PA = TESTDATA / "c2pa"
ROWS = list(csv.DictReader((C2PA / "reference_validation_results.csv").read_text("utf-8").splitlines()))
READ_ROWS = [r for r in ROWS if not r["result"].startswith("SKIPPED")]
SKIPPED_ROWS = [r for r in ROWS if r["result"].startswith("SKIPPED")]

# (pass, file, field) -> why we differ from the reference on that field.
_REMOTE = (
    "the reference pass fetched remote manifests (remote_manifest_fetch on, no network: 'could not "
    "fetch'); we never fetch, so c2pa says 'must fetch remote manifests from url ...'. Same error type."
)
EXPECTED_DISAGREEMENTS: dict[tuple[str, str, str], str] = {
    (p, f, "error_message"): _REMOTE
    for p in ("default_no_trust", "c2pa-rs_test_settings_trust")
    for f in (
        "c2pa-rs/fixtures/cloud.jpg",
        "c2pa-rs/fixtures/cloudx.jpg",
        "c2pa-rs/fixtures/libpng-test_with_url.png",
    )
}
# The reference skipped sidecar manifest stores (they need the asset they describe); see test below.
SKIPPED_BY_REFERENCE = {
    "c2pa-rs/fixtures/cloud_manifest.c2pa",
    "c2pa-rs/fixtures/ingredient/manifest_data.c2pa",
}


def _test_trust_anchors() -> str:
    """The PEM anchors of the reference's trust pass (the JSON holds them with escaped newlines)."""
    settings = json.loads((C2PA / "c2pa-rs/fixtures/test_settings.json").read_text("utf-8"))
    return str(settings["trust"]["trust_anchors"]).replace("\\n", "\n")


POLICIES = {
    "default_no_trust": TrustPolicy("none"),
    "c2pa-rs_test_settings_trust": TrustPolicy("none", _test_trust_anchors(), "test_settings.json"),
}


def _observed(row: dict[str, str]) -> dict[str, str]:
    report = read_credentials(C2PA / row["file"], trust=POLICIES[row["pass"]])
    return {
        "validation_state": report.state.value if report.state else "",
        "active_failure": joined(report.active_failures),
        "active_informational": joined(report.active_informational),
        "ingredient_failure": joined(report.ingredient_failures),
        "n_manifests": str(report.n_manifests) if report.manifests else "",
        "error_type": error_type(report) if (report.error or not report.present) else "",
        "error_message": report.error.message if report.error else "",
    }


@pytest.mark.parametrize("row", READ_ROWS, ids=[f"{r['pass']}:{r['file']}" for r in READ_ROWS])
def test_agrees_with_reference(row: dict[str, str]) -> None:
    got = _observed(row)
    expected = {
        k: row[k]
        for k in (
            "validation_state",
            "active_failure",
            "active_informational",
            "ingredient_failure",
            "n_manifests",
            "error_type",
        )
    }
    if row["error_type"] == "_C2paManifestNotFound":
        expected["error_message"] = ""  # no manifest is a normal report, not an error
    else:
        expected["error_message"] = row["error"]
    mismatches = {k: (expected[k], got[k]) for k in expected if expected[k] != got[k]}
    unexplained = {
        k: v for k, v in mismatches.items() if (row["pass"], row["file"], k) not in EXPECTED_DISAGREEMENTS
    }
    assert not unexplained, f"expected vs got: {unexplained}"


def test_every_listed_disagreement_still_happens() -> None:
    """A listed disagreement that disappeared must be removed from the table, so the table stays true."""
    by_key = {(r["pass"], r["file"]): r for r in READ_ROWS}
    for (pass_, file, field), _reason in EXPECTED_DISAGREEMENTS.items():
        row = by_key[(pass_, file)]
        assert _observed(row)[field] != (row["error"] if field == "error_message" else row[field])


def test_remote_manifests_map_to_a_stable_code_with_the_url() -> None:
    report = read_credentials(C2PA / "c2pa-rs/fixtures/cloud.jpg", trust=TrustPolicy("none"))
    assert report.present
    assert report.error is not None
    assert report.error.code is ReadErrorCode.REMOTE_MANIFEST
    assert report.error.remote_url == (
        "https://cai-manifests.adobe.com/manifests/adobe-urn-uuid-5f37e182-3687-462e-a7fb-573462780391"
    )


@pytest.mark.parametrize(
    ("file", "code"),
    [
        ("no_alg.jpg", ReadErrorCode.UNKNOWN_ALGORITHM),
        ("prerelease.jpg", ReadErrorCode.PRERELEASE),
        ("Purple Square.psd", ReadErrorCode.UNSUPPORTED_TYPE),
        ("dash1.m4s", ReadErrorCode.UNSUPPORTED_TYPE),
        ("sample3.svg", ReadErrorCode.INVALID_JUMBF),
        ("nested_moov_1000.mp4", ReadErrorCode.CORRUPT_ASSET),
        ("tiff_poc.tiff", ReadErrorCode.CORRUPT_ASSET),
        ("sample3.invalid.wav", ReadErrorCode.CORRUPT_ASSET),
    ],
)
def test_read_errors_have_stable_codes(file: str, code: ReadErrorCode) -> None:
    report = read_credentials(C2PA / "c2pa-rs/fixtures" / file, trust=TrustPolicy("none"))
    assert report.error is not None
    assert report.error.code is code, report.error


def test_skipped_rows_are_exactly_the_sidecars() -> None:
    assert {r["file"] for r in SKIPPED_ROWS} == SKIPPED_BY_REFERENCE


@pytest.mark.parametrize("file", sorted(SKIPPED_BY_REFERENCE))
def test_sidecar_read_alone_cannot_bind_to_content(file: str) -> None:
    """Read without the asset it describes, a sidecar store is there but its data hash cannot match."""
    report = read_credentials(Path(C2PA / file), trust=TrustPolicy("none"))
    assert report.present
    assert report.state is ValidationState.INVALID
    assert "assertion.dataHash.mismatch" in report.active_failures
