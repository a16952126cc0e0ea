"""One plain sentence per real product's credentials. Expected tools and declarations are those of
``testdata/c2pa-real/reference_results.md`` (its claim generator and digitalSourceType columns)."""

from __future__ import annotations

from pathlib import Path

import pytest

from civicshield.provenance.plain import plain_summary, tool_name
from civicshield.provenance.reader import read_credentials
from civicshield.settings import Settings


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        # Adobe_Firefly ... | compositeWithTrainedAlgorithmicMedia, trainedAlgorithmicMedia
        (
            "contentauth-c2pa-js-legacy/genai-actions-v2.jpg",
            "Made with Adobe Firefly, which declares it AI-generated",
        ),
        # Adobe_Photoshop/24.7.0 ... | trainedAlgorithmicMedia (generative fill)
        (
            "contentauth-c2pa-js-legacy/gen-fill.jpg",
            "Made with Adobe Photoshop, which declares it AI-generated",
        ),
        # Adobe_Example/0.1 c2patool/0.6.0 | compositeWithTrainedAlgorithmicMedia
        (
            "contentauth-c2pa-js-legacy/composite-dst.jpg",
            "Edited with Adobe Example, which declares AI-generated parts",
        ),
        # Nikon_Z_9_Sample_for_Adobe_MAX_2022 | no declaration; signer NIKON CORPORATION
        (
            "c2pa-org-public-testfiles/nikon-20221019-building.jpeg",
            "Signed with Nikon Z 9 Sample for Adobe MAX 2022 by NIKON CORPORATION",
        ),
        # Adobe_Firefly/1.0 c2pa-rs/0.17.0 | no declaration (an early Firefly)
        ("contentauth-c2pa-js-legacy/firefly-1.jpg", "Signed with Adobe Firefly by Adobe Inc."),
    ],
)
def test_real_products_in_one_sentence(testdata: Path, file: str, expected: str) -> None:
    report = read_credentials(testdata / "c2pa-real" / file, settings=Settings())
    assert plain_summary(report) == expected


def test_no_credentials_no_sentence(testdata: Path) -> None:
    report = read_credentials(
        testdata / "c2pa-real/contentauth-example-assets/crater-lake.jpeg", settings=Settings()
    )
    assert plain_summary(report) is None


@pytest.mark.parametrize(
    ("generator", "name"),
    [
        ("Adobe_Firefly/1.0 c2pa-rs/0.17.0", "Adobe Firefly"),
        ("Adobe_Photoshop/24.3.0 (build 20230316.r.376 37b4b38; win) cai-helper/0.5.3", "Adobe Photoshop"),
        ("C2PA Testing", "C2PA Testing"),
        ("", None),
    ],
)
def test_tool_names(generator: str, name: str | None) -> None:
    assert tool_name(generator) == name
