"""The reader's contract: bytes or path in, a report out; our errors only for paths we cannot open."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from civicshield.errors import MediaTooLarge, UnsupportedMedia
from civicshield.provenance import (
    ReadErrorCode,
    TrustPolicy,
    ValidationState,
    classify_error,
    read_credentials,
)
from civicshield.provenance.parse import parse_store
from civicshield.provenance.vocab import is_content_mismatch, short_term, source_type_uri
from civicshield.settings import Limits, Settings

from ..conftest import TESTDATA

FIXTURES = TESTDATA / "c2pa/c2pa-rs/fixtures"
NONE = TrustPolicy("none")


@pytest.mark.parametrize(
    ("name", "mime"),
    [
        ("CA.jpg", "image/jpeg"),
        ("video1.mp4", "video/mp4"),
        ("XCA.jpg", "image/jpeg"),
        ("no_manifest.jpg", "image/jpeg"),
    ],
)
def test_bytes_and_path_agree(name: str, mime: str) -> None:
    path = FIXTURES / name
    assert read_credentials(path.read_bytes(), mime, trust=NONE) == read_credentials(path, trust=NONE)


def test_mime_parameters_are_ignored() -> None:
    data = (FIXTURES / "CA.jpg").read_bytes()
    assert read_credentials(data, "image/jpeg; charset=binary", trust=NONE).state is ValidationState.VALID


def test_bytes_without_mime_are_sniffed_by_the_reader() -> None:
    report = read_credentials((FIXTURES / "CA.jpg").read_bytes(), trust=NONE)
    assert report.present
    assert report.n_manifests == 1


def test_unreadable_format_is_a_report_not_an_exception() -> None:
    report = read_credentials(b"OggS" + bytes(200), "audio/ogg; codecs=opus", trust=NONE)
    assert report.error is not None
    assert not report.present


def test_settings_choose_the_policy() -> None:
    report = read_credentials(FIXTURES / "CA.jpg", settings=Settings(trust="none"))
    assert report.trust_profile == "none"


def test_missing_path_is_unsupported_media(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedMedia):
        read_credentials(tmp_path / "missing.jpg", trust=NONE)
    with pytest.raises(UnsupportedMedia):
        read_credentials(tmp_path, trust=NONE)


def test_path_over_the_limit_is_refused() -> None:
    with pytest.raises(MediaTooLarge):
        read_credentials(FIXTURES / "CA.jpg", settings=Settings(trust="none", limits=Limits(max_bytes=1000)))


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (
            "Remote: must fetch remote manifests from url https://example.org/m.c2pa",
            ReadErrorCode.REMOTE_MANIFEST,
        ),
        ("Other: unknown algorithm", ReadErrorCode.UNKNOWN_ALGORITHM),
        ("Other: prerelease content detected", ReadErrorCode.PRERELEASE),
        ("Verify: invalid JUMBF header", ReadErrorCode.INVALID_JUMBF),
        ("Other: asset could not be parsed: Invalid RIFF format", ReadErrorCode.CORRUPT_ASSET),
        ("something new", ReadErrorCode.READ_FAILED),
    ],
)
def test_error_classification(message: str, code: ReadErrorCode) -> None:
    error = classify_error(RuntimeError(message))
    assert error.code is code
    if code is ReadErrorCode.REMOTE_MANIFEST:
        assert error.remote_url == "https://example.org/m.c2pa"
        assert error.manifest_present


HOSTILE: list[Any] = [
    {},
    {"manifests": []},
    {"manifests": {"a": None}, "active_manifest": "a"},
    {
        "manifests": {"a": {"assertions": "x", "ingredients": [1, None], "signature_info": []}},
        "active_manifest": "a",
        "validation_results": {"activeManifest": {"failure": [{"code": 5}, "x"]}},
    },
    {
        "manifests": {
            "a": {
                "assertions": [
                    {
                        "label": "c2pa.actions",
                        "data": {
                            "actions": [{"action": None}, {"action": "c2pa.edited", "softwareAgent": 3}]
                        },
                    }
                ]
            }
        },
        "active_manifest": "zzz",
        "validation_state": "Bogus",
    },
]


@pytest.mark.parametrize("store", HOSTILE)
def test_parser_tolerates_any_json_shape(store: Any) -> None:
    report = parse_store(store, {"manifests": "nope"}, "none")
    json.dumps(report.to_dict())


def test_deeply_nested_manifest_does_not_recurse_forever() -> None:
    deep: Any = {"digitalSourceType": "x"}
    for _ in range(5000):
        deep = {"n": deep}
    report = parse_store({"manifests": {"a": deep}, "active_manifest": "a"}, None, "none")
    assert report.source_types == ()


def test_vocabulary() -> None:
    assert (
        short_term("https://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic")
        == "compositeSynthetic"
    )
    assert source_type_uri("empty") == "http://c2pa.org/digitalsourcetype/empty"
    with pytest.raises(ValueError, match="unknown digital source type"):
        source_type_uri("aiMadeThis")
    assert is_content_mismatch("assertion.dataHash.mismatch")
    assert is_content_mismatch("assertion.fooHash.mismatch")
    assert not is_content_mismatch("claimSignature.mismatch")
