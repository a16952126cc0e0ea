"""Traffic Light Protocol 2.0 labels, who may receive what, and their STIX 2.1 marking definitions.

TLP 2.0 (FIRST, August 2022) has five labels. Summarised from https://www.first.org/tlp/:

* ``TLP:CLEAR``: recipients can spread this to the world; there is no limit on disclosure
  (copyright rules still apply). Replaces TLP 1.0's ``TLP:WHITE``.
* ``TLP:GREEN``: limited disclosure; recipients can spread this within their community (peers and partner
  organizations), but not through publicly accessible channels. When "community" is not defined, FIRST
  means the cybersecurity/defence community; for CivicShield, the subscribers of the coordination service.
* ``TLP:AMBER``: limited disclosure; recipients can only spread this on a need-to-know basis within their
  organization and its clients.
* ``TLP:AMBER+STRICT``: as AMBER, but sharing is restricted to the recipient's organization only.
* ``TLP:RED``: for the eyes and ears of individual recipients only, no further disclosure.

The labels are ordered from least to most restrictive so that "the highest label a recipient may receive"
and "the label of a bundle mixing items" (the most restrictive of its parts) are comparisons.

STIX 2.1 only defines TLP 1.0 marking definitions (the ``tlp_white`` .. ``tlp_red`` definitions of the
OASIS ``marking-definition.json`` schema). TLP 2.0 is expressed through the OASIS CTI TC's property extension
``extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d`` and five fixed marking-definition ids
(oasis-open/cti-stix-common-objects, ``extension-definition-specifications/tlp-2.0``); `stix_marking` builds
exactly those objects. The TLP 1.0 ids are kept to read older feeds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import Any, TypeVar

from civicshield.errors import UsageError

__all__ = [
    "TLP",
    "TLP1_MARKING_IDS",
    "TLP2_EXTENSION_ID",
    "TLP2_MARKING_IDS",
    "Audience",
    "filter_for_audience",
    "filter_shareable",
    "highest_allowed",
    "labels_for",
    "may_share",
    "most_restrictive",
    "stix_marking",
    "tlp_from_marking_ref",
]

T = TypeVar("T")


class TLP(StrEnum):
    """A TLP 2.0 label: one type wherever a label is stored, compared or sent (``str``: the value is the name
    as the service stores it, e.g. ``AMBER+STRICT``). ``wire`` is the lower-case form of STIX ``tlp_2_0``
    and MISP tags; ``label`` is how FIRST writes it (``TLP:AMBER+STRICT``). Labels order from CLEAR (least
    restrictive) to RED; comparing a label with a plain string is an error, not an alphabetical accident."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"

    @property
    def rank(self) -> int:
        """0 (CLEAR) .. 4 (RED): higher is more restrictive."""
        return _ORDER.index(self)

    @property
    def label(self) -> str:
        """The label as FIRST writes it, e.g. ``TLP:AMBER+STRICT``."""
        return f"TLP:{self.value}"

    @property
    def wire(self) -> str:
        """The lower-case form of STIX ``tlp_2_0`` and MISP ``tlp:`` tags, e.g. ``amber+strict``."""
        return self.value.lower()

    def __lt__(self, other: object) -> bool:
        return self.rank < _rank_of(other)

    def __le__(self, other: object) -> bool:
        return self.rank <= _rank_of(other)

    def __gt__(self, other: object) -> bool:
        return self.rank > _rank_of(other)

    def __ge__(self, other: object) -> bool:
        return self.rank >= _rank_of(other)

    @classmethod
    def parse(cls, text: str) -> TLP:
        """Read ``TLP:AMBER+STRICT``, ``amber+strict``, ``tlp:clear``...; TLP 1.0 ``WHITE`` reads as CLEAR.

        FIRST retired WHITE in favour of CLEAR with the same meaning, so old feeds keep their intent.
        """
        value = text.strip().upper().removeprefix("TLP:").strip().replace("_", "+").replace(" ", "")
        if value == "WHITE":
            return cls.CLEAR
        try:
            return cls(value)
        except ValueError:
            names = ", ".join(t.label for t in cls)
            raise UsageError(f"not a TLP 2.0 label: {text!r} (expected one of {names})") from None


_ORDER = (TLP.CLEAR, TLP.GREEN, TLP.AMBER, TLP.AMBER_STRICT, TLP.RED)


def _rank_of(other: object) -> int:
    if not isinstance(other, TLP):
        raise TypeError(f"a TLP label compares with TLP labels only, not {other!r} (TLP.parse it first)")
    return other.rank


class Audience(Enum):
    """Who information would go to, from the point of view of the organization holding it.

    ``NAMED_*`` audiences are recipients the *source* designated when it labelled the item; the others are
    where a holder may pass it on. RED goes to named individuals only, never to an organization's shared
    inbox, which is why it is not allowed for ``NAMED_ORGANIZATIONS``.
    """

    NAMED_INDIVIDUALS = "named_individuals"
    OWN_ORGANIZATION = "own_organization"
    NAMED_ORGANIZATIONS = "named_organizations"
    CLIENTS = "clients"
    COMMUNITY = "community"
    PUBLIC = "public"


#: The most restrictive label each audience may receive (TLP 2.0 read as above). Data, not branches: every
#: audience's allowed labels are a prefix of the label order, so one entry per audience says it all.
HIGHEST_ALLOWED: MappingProxyType[Audience, TLP] = MappingProxyType(
    {
        Audience.NAMED_INDIVIDUALS: TLP.RED,
        Audience.OWN_ORGANIZATION: TLP.AMBER_STRICT,
        Audience.NAMED_ORGANIZATIONS: TLP.AMBER_STRICT,
        Audience.CLIENTS: TLP.AMBER,
        Audience.COMMUNITY: TLP.GREEN,
        Audience.PUBLIC: TLP.CLEAR,
    }
)


def highest_allowed(audience: Audience) -> TLP:
    """The most restrictive label that may still go to ``audience``."""
    return HIGHEST_ALLOWED[audience]


def may_share(label: TLP, *, audience: Audience) -> bool:
    """Whether an item labelled ``label`` may go to ``audience``.

    >>> may_share(TLP.GREEN, audience=Audience.COMMUNITY), may_share(TLP.GREEN, audience=Audience.PUBLIC)
    (True, False)
    >>> may_share(TLP.AMBER, audience=Audience.CLIENTS)
    True
    >>> may_share(TLP.AMBER_STRICT, audience=Audience.CLIENTS)
    False
    """
    return label <= HIGHEST_ALLOWED[audience]


def labels_for(audience: Audience) -> tuple[TLP, ...]:
    """Every label that may go to ``audience``, least restrictive first.

    >>> labels_for(Audience.COMMUNITY)
    (<TLP.CLEAR: 'CLEAR'>, <TLP.GREEN: 'GREEN'>)
    """
    return tuple(label for label in _ORDER if may_share(label, audience=audience))


def most_restrictive(labels: Iterable[TLP], *, default: TLP = TLP.CLEAR) -> TLP:
    """The label a collection carries: the most restrictive of its parts (``default`` when empty)."""
    return max(labels, default=default)


def filter_shareable(items: Iterable[T], *, max_label: TLP, label_of: Callable[[T], TLP]) -> list[T]:
    """The items whose label is at most ``max_label``, in their original order."""
    return [item for item in items if label_of(item) <= max_label]


def filter_for_audience(items: Iterable[T], *, audience: Audience, label_of: Callable[[T], TLP]) -> list[T]:
    """The items that may go to ``audience``, in their original order."""
    return filter_shareable(items, max_label=HIGHEST_ALLOWED[audience], label_of=label_of)


#: OASIS CTI TC's TLP 2.0 property extension and its marking definitions (all created 2022-10-01).
TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_CREATED = "2022-10-01T00:00:00.000Z"
TLP2_MARKING_IDS: MappingProxyType[TLP, str] = MappingProxyType(
    {
        TLP.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        TLP.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        TLP.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        TLP.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        TLP.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    }
)
#: STIX 2.1's own TLP 1.0 marking definitions (WHITE, GREEN, AMBER, RED), read as their TLP 2.0 successors.
TLP1_MARKING_IDS: MappingProxyType[str, TLP] = MappingProxyType(
    {
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": TLP.CLEAR,
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": TLP.GREEN,
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": TLP.AMBER,
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": TLP.RED,
    }
)
_BY_MARKING_ID = {marking_id: label for label, marking_id in TLP2_MARKING_IDS.items()}
_BY_MARKING_ID.update(TLP1_MARKING_IDS)


def stix_marking(label: TLP) -> dict[str, Any]:
    """The official STIX 2.1 marking-definition object for a TLP 2.0 label (a fresh dict each call)."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_MARKING_IDS[label],
        "created": TLP2_CREATED,
        "name": label.label,
        "extensions": {TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": label.wire}},
    }


def tlp_from_marking_ref(marking_ref: str) -> TLP | None:
    """The TLP label behind a marking-definition id (TLP 2.0 or 1.0), or None for any other marking."""
    return _BY_MARKING_ID.get(marking_ref)
