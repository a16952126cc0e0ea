from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from civicshield.sharing import TLP, FactCheck, misp_event
from civicshield.sharing.misp import OBJECT_TEMPLATE, object_templates
from tests.sharing.factories import (
    CHROMAPRINT,
    FRAME_WIRE,
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
    assert IMAGE_PDQ not in by_value  # perceptual hashes are objects, not free text
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
    event = misp_event(twice, tlp=TLP.GREEN)["Event"]
    assert [a["value"] for a in event["Attribute"]].count(IMAGE_SHA256) == 1
    assert len([o for o in event["Object"] if _relation(o, "hash") == IMAGE_PDQ]) == 1


def _relation(obj: dict[str, Any], relation: str) -> str | None:
    return next((a["value"] for a in obj["Attribute"] if a["object_relation"] == relation), None)


def test_perceptual_hashes_are_objects_of_our_template(fact_check: FactCheck) -> None:
    objects = misp_event(fact_check, tlp=TLP.GREEN)["Event"]["Object"]
    by_hash = {_relation(o, "hash"): o for o in objects}
    assert set(by_hash) == {IMAGE_PDQ, FRAME_WIRE, CHROMAPRINT}
    pdq = by_hash[IMAGE_PDQ]
    assert pdq["name"] == OBJECT_TEMPLATE
    assert _relation(pdq, "algorithm") == "pdq"
    assert _relation(pdq, "max-distance") == "31"
    assert "<= 31" in (_relation(pdq, "match-rule") or "")
    assert _relation(pdq, "sha256") == IMAGE_SHA256
    assert all(not a["to_ids"] for o in objects for a in o["Attribute"])


def test_pymisp_loads_the_event_and_validates_every_object_against_the_shipped_template(
    fact_check: FactCheck,
) -> None:
    from pymisp import InvalidMISPObject, MISPEvent, MISPObject

    event = MISPEvent()
    event.load(json.dumps(misp_event(fact_check, tlp=TLP.GREEN)))
    assert len(event.attributes) >= 4 and len(event.objects) == 3
    for loaded in event.objects:
        checked = MISPObject(loaded.name, misp_objects_path_custom=object_templates())
        checked.from_dict(**loaded.to_dict())
        assert checked._validate()  # required relations present, none repeated
    assert event.to_json()
    # the check is real: an object without its match rule is refused by the same template
    broken = misp_event(fact_check, tlp=TLP.GREEN)["Event"]["Object"][0]
    broken["Attribute"] = [a for a in broken["Attribute"] if a["object_relation"] != "match-rule"]
    incomplete = MISPObject(broken["name"], misp_objects_path_custom=object_templates())
    incomplete.from_dict(**broken)
    with pytest.raises(InvalidMISPObject, match="match-rule"):
        incomplete._validate()
