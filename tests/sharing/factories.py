"""A realistic published fact-check to export, and variations of it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from civicshield.sharing import (
    FactCheck,
    HashKind,
    MediaHash,
    MediaItem,
    MediaKind,
    Party,
    PartyKind,
    Rating,
)

PUBLISHER = Party(
    "Factcheck Vlaanderen",
    url="https://factcheck.vlaanderen",
    same_as=("https://twitter.com/fcvlaanderen",),
    logo_url="https://factcheck.vlaanderen/logo.png",
)
VIDEO_SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
IMAGE_SHA256 = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
IMAGE_PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
FRAME_PDQS = (
    "e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c",
    "c0f11178372c6aaccddea259648fbfd62f434c89c9e99b249772be216c8d055c",
)
#: The sample frames of the vpdq Python binding's README (quality 100 and 98, at 0 s and 1 s), in the
#: sharing form (python-threatexchange's vpdq signal).
FRAME_WIRE = json.dumps([f"{FRAME_PDQS[0]},100,0.000", f"{FRAME_PDQS[1]},98,1.000"], separators=(",", ":"))
CHROMAPRINT = "AQAAT0mUaEkSRZEGAA-_TiN-ZE_gbzn29OhxFngA"


def media() -> tuple[MediaItem, ...]:
    return (
        MediaItem(
            MediaKind.VIDEO,
            (MediaHash(HashKind.SHA256, VIDEO_SHA256), MediaHash(HashKind.VPDQ, FRAME_WIRE)),
            content_url="https://cdn.example.org/evidence/minister.mp4",
            encoding_format="video/mp4",
            name="minister.mp4",
        ),
        MediaItem(
            MediaKind.IMAGE,
            (MediaHash(HashKind.SHA256, IMAGE_SHA256), MediaHash(HashKind.PDQ, IMAGE_PDQ, quality=100)),
            encoding_format="image/jpeg",
        ),
        MediaItem(MediaKind.AUDIO, (MediaHash(HashKind.CHROMAPRINT, CHROMAPRINT),)),
    )


def make_fact_check(**changes: Any) -> FactCheck:
    base = FactCheck(
        claim="Video shows the minister announcing that the election is postponed",
        rating=Rating.MANIPULATED,
        url="https://factcheck.vlaanderen/2024/05/deepfake-minister",
        publisher=PUBLISHER,
        date_published=datetime(2024, 5, 2, 9, 30, tzinfo=UTC),
        language="nl",
        claim_author=Party("@election_news_now", kind=PartyKind.PERSON),
        claim_date=datetime(2024, 5, 1, 18, 0, tzinfo=UTC),
        appearances=("https://social.example/p/1", "https://video.example/watch?v=2"),
        first_appearance="https://social.example/p/1",
        media=media(),
    )
    return replace(base, **changes)
