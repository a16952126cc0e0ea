from __future__ import annotations

import json
import uuid

import pytest

from civicshield.sharing import TLP, FactCheck, misp_event
from tests.sharing.factories import (
    CHROMAPRINT,
    FRAME_PDQS,
    IMAGE_PDQ,
    IMAGE_SHA256,
    VIDEO_SHA256,
    make_fact_check,
)

# (category, type) pairs MISP accepts, from MISP/MISP describeTypes.json (category_type_mappings).
MISP_ALLOWED = {
    ("Payload delivery", "sha256"),
    ("Payload delivery", "text"),
    ("External analysis", "link"),
    ("External analysis", "url"),
    ("External analysis", "text"),
}


@pytest.mark.parametrize(
    ("label", "tag", "distribution"),
    [
        (TLP.CLEAR, "tlp:clear", "3"),
        (TLP.GREEN, "tlp:green", "1"),
        (TLP.AMBER, "tlp:amber", "0"),
        (TLP.AMBER_STRICT, "tlp:amber+strict", "0"),
        (TLP.RED, "tlp:red", "0"),
    ],
)
def test_tlp_becomes_a_taxonomy_tag_and_a_distribution(
    fact_check: FactCheck, label: TLP, tag: str, distribution: str
) -> None:
    event = misp_event(fact_check, tlp=label)["Event"]
    assert {"name": tag} in event["Tag"]
    assert event["distribution"] == distribution


def test_event_fields(fact_check: FactCheck) -> None:
    event = misp_event(fact_check, tlp=TLP.AMBER)["Event"]
    assert event["date"] == "2024-05-02"
    assert event["timestamp"] == "1714642200"
    assert event["published"] is False
    assert event["Orgc"]["name"] == "Factcheck Vlaanderen"
    assert {"name": 'civicshield:rating="manipulated"'} in event["Tag"]
    assert event["info"].startswith("Fact-check (Gemanipuleerd): Video shows the minister")
    uuid.UUID(event["uuid"])
    json.dumps(event)


def test_attributes(fact_check: FactCheck) -> None:
    attributes = misp_event(fact_check, tlp=TLP.GREEN)["Event"]["Attribute"]
    by_value = {a["value"]: a for a in attributes}
    assert {(a["category"], a["type"]) for a in attributes} <= MISP_ALLOWED
    for sha in (VIDEO_SHA256, IMAGE_SHA256):
        assert (by_value[sha]["type"], by_value[sha]["to_ids"]) == ("sha256", True)
    pdq = by_value[IMAGE_PDQ]
    assert (pdq["type"], pdq["to_ids"]) == ("text", False)
    assert "PDQ" in pdq["comment"]
    assert "<= 31" in pdq["comment"]
    assert "vPDQ" in by_value[",".join(FRAME_PDQS)]["comment"]
    assert "Chromaprint" in by_value[CHROMAPRINT]["comment"]
    assert by_value[fact_check.url]["type"] == "link"
    assert by_value["https://video.example/watch?v=2"]["type"] == "url"
    assert all(a["distribution"] == "5" for a in attributes)
    assert len({a["uuid"] for a in attributes}) == len(attributes)


def test_export_is_idempotent(fact_check: FactCheck) -> None:
    assert misp_event(fact_check, tlp=TLP.GREEN) == misp_event(make_fact_check(), tlp=TLP.GREEN)
    other = misp_event(make_fact_check(url="https://x.example/fc/9"), tlp=TLP.GREEN)
    assert other["Event"]["uuid"] != misp_event(fact_check, tlp=TLP.GREEN)["Event"]["uuid"]


def test_a_hash_listed_twice_is_one_attribute() -> None:
    twice = make_fact_check(media=make_fact_check().media[1:2] * 2)
    values = [a["value"] for a in misp_event(twice, tlp=TLP.GREEN)["Event"]["Attribute"]]
    assert values.count(IMAGE_SHA256) == 1
    assert values.count(IMAGE_PDQ) == 1
