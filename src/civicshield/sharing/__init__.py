"""Sharing fact-checks and known fakes between organizations: pure functions over frozen values.

No web framework, database or network here: the coordination service (``civicshield.service``) stores,
schedules and sends; this package decides what goes on the wire.

* `FactCheck` (with `Party`, `MediaItem`, `MediaHash`, `Rating`) is the one published value;
* `claimreview` / `validate_claimreview`: schema.org ClaimReview JSON-LD for readers and search engines;
* `stix_bundle` / `validate_stix`: STIX 2.1 for platforms' trust & safety and CERT tooling;
* `misp_event`: the same for MISP;
* `TLP`, `Audience`, `may_share`: who may receive what (TLP 2.0) and the matching STIX markings;
* `sign_delivery` / `verify_delivery` and `RetryPolicy`: webhook delivery to subscribers.
"""

from civicshield.sharing.claimreview import claimreview, validate_claimreview
from civicshield.sharing.misp import misp_event
from civicshield.sharing.model import FactCheck, HashKind, MediaHash, MediaItem, MediaKind, Party, PartyKind
from civicshield.sharing.ratings import RATING_SCALE, SUPPORTED_LANGUAGES, Rating
from civicshield.sharing.retry import RetryPolicy
from civicshield.sharing.stix import stix_bundle
from civicshield.sharing.stix_validation import validate_stix
from civicshield.sharing.tlp import (
    TLP,
    Audience,
    filter_for_audience,
    filter_shareable,
    highest_allowed,
    may_share,
    most_restrictive,
    stix_marking,
    tlp_from_marking_ref,
)
from civicshield.sharing.webhooks import (
    Delivery,
    InMemorySeenDeliveries,
    SeenDeliveries,
    new_webhook_secret,
    sign_delivery,
    verify_delivery,
)

__all__ = [
    "RATING_SCALE",
    "SUPPORTED_LANGUAGES",
    "TLP",
    "Audience",
    "Delivery",
    "FactCheck",
    "HashKind",
    "InMemorySeenDeliveries",
    "MediaHash",
    "MediaItem",
    "MediaKind",
    "Party",
    "PartyKind",
    "Rating",
    "RetryPolicy",
    "SeenDeliveries",
    "claimreview",
    "filter_for_audience",
    "filter_shareable",
    "highest_allowed",
    "may_share",
    "misp_event",
    "most_restrictive",
    "new_webhook_secret",
    "sign_delivery",
    "stix_bundle",
    "stix_marking",
    "tlp_from_marking_ref",
    "validate_claimreview",
    "validate_stix",
    "verify_delivery",
]
