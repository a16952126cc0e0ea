from __future__ import annotations

import doctest
import json
from pathlib import Path

import pytest

from civicshield.errors import UsageError
from civicshield.sharing import ratings, retry, tlp
from civicshield.sharing.stix_validation import validate_stix
from civicshield.sharing.tlp import (
    TLP,
    TLP1_MARKING_IDS,
    TLP2_EXTENSION_ID,
    TLP2_MARKING_IDS,
    Audience,
    filter_for_audience,
    filter_shareable,
    highest_allowed,
    may_share,
    most_restrictive,
    stix_marking,
    tlp_from_marking_ref,
)

A = Audience
# The whole TLP 2.0 matrix, written out by hand from FIRST's definitions (see tlp.py), so a change to the
# table in the code has to be a deliberate change here too.
ALLOWED = {
    TLP.CLEAR: {
        A.NAMED_INDIVIDUALS,
        A.OWN_ORGANIZATION,
        A.NAMED_ORGANIZATIONS,
        A.CLIENTS,
        A.COMMUNITY,
        A.PUBLIC,
    },
    TLP.GREEN: {A.NAMED_INDIVIDUALS, A.OWN_ORGANIZATION, A.NAMED_ORGANIZATIONS, A.CLIENTS, A.COMMUNITY},
    TLP.AMBER: {A.NAMED_INDIVIDUALS, A.OWN_ORGANIZATION, A.NAMED_ORGANIZATIONS, A.CLIENTS},
    TLP.AMBER_STRICT: {A.NAMED_INDIVIDUALS, A.OWN_ORGANIZATION, A.NAMED_ORGANIZATIONS},
    TLP.RED: {A.NAMED_INDIVIDUALS},
}


def test_labels_are_ordered_from_clear_to_red() -> None:
    assert sorted(TLP, reverse=True) == [TLP.RED, TLP.AMBER_STRICT, TLP.AMBER, TLP.GREEN, TLP.CLEAR]
    assert TLP.AMBER < TLP.AMBER_STRICT < TLP.RED
    assert TLP.GREEN >= TLP.GREEN > TLP.CLEAR
    assert [t.label for t in TLP] == ["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TLP:AMBER+STRICT", TLP.AMBER_STRICT),
        ("amber+strict", TLP.AMBER_STRICT),
        ("amber_strict", TLP.AMBER_STRICT),
        ("tlp:clear", TLP.CLEAR),
        ("TLP:WHITE", TLP.CLEAR),
        (" Red ", TLP.RED),
    ],
)
def test_parse_accepts_the_usual_spellings(text: str, expected: TLP) -> None:
    assert TLP.parse(text) is expected


@pytest.mark.parametrize("text", ["", "amber+", "TLP:EX:CHR", "yellow"])
def test_parse_refuses_other_labels(text: str) -> None:
    with pytest.raises(UsageError, match=r"not a TLP 2\.0 label"):
        TLP.parse(text)


@pytest.mark.parametrize("label", list(TLP))
@pytest.mark.parametrize("audience", list(Audience))
def test_may_share_follows_the_tlp2_matrix(label: TLP, audience: Audience) -> None:
    assert may_share(label, audience=audience) is (audience in ALLOWED[label])


def test_amber_strict_differs_from_amber_only_for_clients() -> None:
    differ = [
        a for a in Audience if may_share(TLP.AMBER, audience=a) != may_share(TLP.AMBER_STRICT, audience=a)
    ]
    assert differ == [Audience.CLIENTS]
    assert highest_allowed(Audience.CLIENTS) is TLP.AMBER
    assert highest_allowed(Audience.PUBLIC) is TLP.CLEAR


def test_filters_keep_order_and_drop_what_the_recipient_may_not_receive() -> None:
    items = [("a", TLP.RED), ("b", TLP.CLEAR), ("c", TLP.AMBER), ("d", TLP.GREEN), ("e", TLP.AMBER_STRICT)]

    def names(kept: list[tuple[str, TLP]]) -> list[str]:
        return [name for name, _ in kept]

    assert names(filter_shareable(items, max_label=TLP.AMBER, label_of=lambda i: i[1])) == ["b", "c", "d"]
    assert names(filter_for_audience(items, audience=Audience.COMMUNITY, label_of=lambda i: i[1])) == [
        "b",
        "d",
    ]
    assert names(filter_for_audience(items, audience=Audience.PUBLIC, label_of=lambda i: i[1])) == ["b"]
    assert names(
        filter_for_audience(items, audience=Audience.NAMED_INDIVIDUALS, label_of=lambda i: i[1])
    ) == [
        "a",
        "b",
        "c",
        "d",
        "e",
    ]


def test_a_collection_carries_its_most_restrictive_label() -> None:
    assert most_restrictive([TLP.GREEN, TLP.AMBER_STRICT, TLP.CLEAR]) is TLP.AMBER_STRICT
    assert most_restrictive([]) is TLP.CLEAR
    assert most_restrictive([], default=TLP.AMBER) is TLP.AMBER


@pytest.mark.parametrize("label", list(TLP))
def test_stix_marking_is_the_oasis_tlp2_object(label: TLP) -> None:
    marking = stix_marking(label)
    assert marking == {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_MARKING_IDS[label],
        "created": "2022-10-01T00:00:00.000Z",
        "name": label.label,
        "extensions": {TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": label.wire}},
    }
    assert (
        validate_stix(
            {"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [marking]}
        )
        == []
    )
    assert tlp_from_marking_ref(marking["id"]) is label


def test_the_official_tlp2_ids() -> None:
    # oasis-open/cti-stix-common-objects, extension-definition-specifications/tlp-2.0
    assert dict(TLP2_MARKING_IDS) == {
        TLP.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        TLP.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        TLP.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        TLP.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        TLP.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    }


def test_tlp1_ids_are_those_of_the_stix_21_schema(testdata: Path) -> None:
    schema = json.loads((testdata / "stix/schemas/common/marking-definition.json").read_text())
    defs = schema["definitions"]
    from_schema = {
        defs[name]["properties"]["id"]["enum"][0]: TLP.parse(defs[name]["properties"]["name"]["enum"][0])
        for name in ("tlp_white", "tlp_green", "tlp_amber", "tlp_red")
    }
    assert from_schema == dict(TLP1_MARKING_IDS)


def test_markings_of_the_oasis_example_are_read(testdata: Path) -> None:
    campaign = json.loads((testdata / "stix/examples/interop-objectmarking-test.json").read_text())
    labels = [tlp_from_marking_ref(ref) for ref in campaign["object_marking_refs"]]
    assert labels == [TLP.RED, None]  # TLP 1.0 RED, then an id that is no TLP marking


@pytest.mark.parametrize("module", [tlp, ratings, retry])
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert result.failed == 0
    assert result.attempted > 0
