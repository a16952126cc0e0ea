from __future__ import annotations

from datetime import UTC, datetime

import pytest

from civicshield.errors import UsageError
from civicshield.sharing import FactCheck, HashKind, MediaHash, MediaItem, MediaKind, Party
from tests.sharing.factories import FRAME_PDQS, FRAME_WIRE, IMAGE_PDQ, make_fact_check


def test_hashes_are_normalised_to_lower_case_hex() -> None:
    assert MediaHash(HashKind.PDQ, f"  {IMAGE_PDQ.upper()} ").value == IMAGE_PDQ


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (HashKind.SHA256, "abc"),
        (HashKind.SHA256, "g" * 64),
        (HashKind.PDQ, "0" * 63),
        (HashKind.VPDQ, ""),
        (HashKind.VPDQ, f"{FRAME_PDQS[0]},nothex"),
        (HashKind.CHROMAPRINT, "has spaces in it"),
        (HashKind.CHROMAPRINT, "quote'breaks'patterns"),
    ],
)
def test_malformed_hashes_are_refused(kind: HashKind, value: str) -> None:
    with pytest.raises(UsageError) as caught:
        MediaHash(kind, value)
    assert caught.value.code == "usage_error"


def test_vpdq_is_kept_in_the_sharing_form_from_any_stored_form() -> None:
    reference = f"0,100,{FRAME_PDQS[0].upper()},0.000\n30,98,{FRAME_PDQS[1]},1.000"  # a reference file
    for stored in (reference, reference.replace("\n", ";"), FRAME_WIRE):
        value = MediaHash.stored("vpdq", stored)
        assert value.value == FRAME_WIRE
        assert value.frames == FRAME_PDQS
    with pytest.raises(UsageError, match="not a vPDQ value"):
        MediaHash(HashKind.VPDQ, f"{FRAME_PDQS[0]},{FRAME_PDQS[1]}")  # bare hashes: no quality to filter on


def test_quality_must_be_a_percentage() -> None:
    with pytest.raises(UsageError, match="quality"):
        MediaHash(HashKind.PDQ, IMAGE_PDQ, quality=101)


def test_a_media_item_carries_each_hash_kind_once() -> None:
    with pytest.raises(UsageError, match="once"):
        MediaItem(MediaKind.IMAGE, (MediaHash(HashKind.PDQ, IMAGE_PDQ), MediaHash(HashKind.PDQ, "0" * 64)))
    with pytest.raises(UsageError, match="at least one hash"):
        MediaItem(MediaKind.IMAGE, ())


@pytest.mark.parametrize("url", ["ftp://example.org/x", "example.org/page", "https://", "https://a b.org/"])
def test_urls_must_be_absolute_http(url: str) -> None:
    with pytest.raises(UsageError, match="http"):
        make_fact_check(url=url)
    with pytest.raises(UsageError, match="http"):
        Party("Org", url=url)


def test_timestamps_must_carry_a_time_zone() -> None:
    with pytest.raises(UsageError, match="time-zone-aware"):
        make_fact_check(date_published=datetime(2024, 5, 2, 9, 30))


def test_modification_cannot_precede_publication() -> None:
    with pytest.raises(UsageError, match="earlier"):
        make_fact_check(date_modified=datetime(2024, 5, 1, tzinfo=UTC))


def test_defaults_and_derived_values(fact_check: FactCheck) -> None:
    assert fact_check.reviewer is fact_check.publisher
    assert fact_check.last_modified == fact_check.date_published
    assert fact_check.observed_since == fact_check.claim_date
    later = make_fact_check(claim_date=datetime(2024, 6, 1, tzinfo=UTC))
    assert later.observed_since == later.date_published
    assert make_fact_check(appearances=("https://a.example/1", "https://a.example/1")).appearances == (
        "https://a.example/1",
    )
