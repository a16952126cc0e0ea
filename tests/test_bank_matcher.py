"""``BankMatcher`` rules on hand-made hashes (no decoding): PDQ quality, EXIF variant, vPDQ copy/contains."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from civicshield.banks import Bank, BankEntry, BankKind, BankMatcher, MatchPolicy
from civicshield.hashing.cache import MediaHashes, media_hashes
from civicshield.hashing.index import MultiHashPdqIndex
from civicshield.hashing.pdq import PdqHash
from civicshield.hashing.vpdq import VideoHash, VpdqFrame
from civicshield.media import Media, MediaKind

RNG = np.random.default_rng(11)
SHA = "ab" * 32


def random_hex() -> str:
    return RNG.integers(0, 256, 32, dtype=np.uint8).tobytes().hex()


def near(hex_: str, bits: int) -> str:
    value = int(hex_, 16)
    for b in range(bits):
        value ^= 1 << (b * 7)
    return f"{value:064x}"


def video(hashes: list[str]) -> VideoHash:
    return VideoHash(tuple(VpdqFrame(i * 30, 100, h, float(i)) for i, h in enumerate(hashes)))


def bank(*entries: BankEntry) -> Bank:
    return Bank("b", BankKind.KNOWN_FAKE, entries)


def image(pdq: str, quality: int = 100, oriented: str | None = None) -> MediaHashes:
    return MediaHashes(
        "0" * 64,
        MediaKind.IMAGE,
        pdq=PdqHash(pdq, quality),
        pdq_oriented=PdqHash(oriented, quality) if oriented else None,
    )


def test_pdq_radius_and_quality() -> None:
    stored = random_hex()
    matcher = BankMatcher([bank(BankEntry.create("pdq", stored, "fake", quality=90))])
    assert [m.distance for m in matcher.match(image(near(stored, 31)))] == [31]
    assert matcher.match(image(near(stored, 32))) == []
    assert matcher.match(image(stored, quality=49)) == []  # untrusted query hash
    low = BankMatcher([bank(BankEntry.create("pdq", stored, "fake", quality=20))])
    assert len(low) == 0  # untrusted bank entry is not indexed


def test_exif_oriented_variant_matches() -> None:
    stored = random_hex()
    matcher = BankMatcher([bank(BankEntry.create("pdq", stored, "fake"))])
    (m,) = matcher.match(image(random_hex(), oriented=near(stored, 3)))
    assert m.oriented
    assert m.detail()["exif_oriented"] is True


def test_vpdq_copy_excerpt_and_contains() -> None:
    frames = [random_hex() for _ in range(20)]
    matcher = BankMatcher([bank(BankEntry.create("vpdq", video(frames).to_text(), "fake video"))])

    def query(hashes: list[str]) -> list[tuple[float, float]]:
        found = matcher.match(MediaHashes(SHA, MediaKind.VIDEO, vpdq=video(hashes)))
        return [(round(m.query_pct or 0), round(m.target_pct or 0)) for m in found]

    assert query([near(h, 5) for h in frames]) == [(100, 100)]  # re-encoded copy
    assert query(frames[5:10]) == [(100, 25)]  # excerpt: all of the item is the fake
    padded = [random_hex() for _ in range(40)] + frames + [random_hex() for _ in range(40)]
    assert query(padded) == [(20, 100)]  # the item contains the whole fake
    assert query(frames[:2]) == []  # 100 % of a two-frame item: too few frames to call it a match
    assert query(frames[:10] + [random_hex() for _ in range(10)]) == []  # 50 % / 50 %


def test_index_choice_does_not_change_matches() -> None:
    hashes = [random_hex() for _ in range(300)]
    b = bank(*(BankEntry.create("pdq", h, f"fake {i}") for i, h in enumerate(hashes)))
    flat, multi = BankMatcher([b]), BankMatcher([b], index=MultiHashPdqIndex)
    for h in hashes[:50]:
        q = image(near(h, 20))
        assert [m.entry for m in flat.match(q)] == [m.entry for m in multi.match(q)]


def test_sha256_exact_wins() -> None:
    stored = random_hex()
    matcher = BankMatcher(
        [bank(BankEntry.create("sha256", SHA, "fake"), BankEntry.create("pdq", stored, "fake"))]
    )
    found = matcher.match(MediaHashes(SHA, MediaKind.IMAGE, pdq=PdqHash(stored, 100)))
    assert found[0].exact
    assert len(found) == 2


@pytest.mark.parametrize("policy", [MatchPolicy(pdq_max_distance=10)])
def test_policy_is_data(policy: MatchPolicy) -> None:
    stored = random_hex()
    matcher = BankMatcher([bank(BankEntry.create("pdq", stored, "fake"))], policy)
    assert matcher.match(image(near(stored, 11))) == []
    assert policy.version == "bank-match/1"


# pdq/cpp/bin/README.md (C++ pdq-photo-hasher), via testdata/threatexchange/pdq/expected_hashes.json
BRIDGE_ORIGINAL_CPP = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"
TURNED_FILES = {
    "bridge-2-rotate-90.jpg": "turned a quarter turn",
    "bridge-3-rotate-180.jpg": "turned upside down (180°)",
    "bridge-4-rotate-270.jpg": "turned a quarter turn",
    "bridge-5-flipx.jpg": "flipped top to bottom",
    "bridge-6-flipy.jpg": "mirrored left to right",
    "bridge-7-flip-plus-1.jpg": "mirrored across a diagonal",
    "bridge-8-flip-minus-1.jpg": "mirrored across a diagonal",
}


@pytest.mark.parametrize(("name", "turn"), sorted(TURNED_FILES.items()))
def test_turned_and_mirrored_copies_match_the_banked_original(testdata: Path, name: str, turn: str) -> None:
    """ThreatExchange's dihedral test pictures against the original's published C++ hash."""
    matcher = BankMatcher([bank(BankEntry.create("pdq", BRIDGE_ORIGINAL_CPP, "fake"))])
    media = Media.open(testdata / "threatexchange" / "pdq" / "images" / "reg-test-input" / "dih" / name)
    (m,) = matcher.match(media_hashes(media))
    assert m.turn == turn
    assert m.distance is not None and m.distance <= 31
    assert m.detail()["turned"] == turn


def test_the_original_matches_as_it_is_and_another_picture_in_no_orientation(testdata: Path) -> None:
    matcher = BankMatcher([bank(BankEntry.create("pdq", BRIDGE_ORIGINAL_CPP, "fake"))])
    dih = testdata / "threatexchange" / "pdq" / "images" / "reg-test-input"
    (m,) = matcher.match(media_hashes(Media.open(dih / "dih" / "bridge-1-original.jpg")))
    assert m.turn is None
    assert matcher.match(media_hashes(Media.open(dih / "pen-and-coaster.png"))) == []


def flipped(hex_: str, bits: int) -> str:
    return f"{int(hex_, 16) ^ ((1 << bits) - 1) << 100:064x}"


def test_a_near_miss_resembles_but_does_not_match() -> None:
    stored = random_hex()
    matcher = BankMatcher([bank(BankEntry.create("pdq", stored, "fake"))])
    assert matcher.match(image(flipped(stored, 40))) == []
    (m,) = matcher.near_misses(image(flipped(stored, 40)), 48)
    assert m.distance == 40
    assert matcher.near_misses(image(flipped(stored, 49)), 48) == []
    assert matcher.near_misses(image(flipped(stored, 20)), 48) == []  # a match is not a near miss


@pytest.mark.parametrize("frame", ["border", "caption", "screenshot"])
def test_a_framed_copy_matches_the_banked_original(testdata: Path, tmp_path: Path, frame: str) -> None:
    from PIL import Image, ImageDraw, ImageOps

    from civicshield.hashing.pdq import FRAMED

    dih = testdata / "threatexchange" / "pdq" / "images" / "reg-test-input" / "dih"
    picture = Image.open(dih / "bridge-1-original.jpg").convert("RGB")
    if frame == "border":
        copy = ImageOps.expand(picture, border=60, fill=(255, 255, 255))
    elif frame == "caption":
        copy = Image.new("RGB", (picture.width, picture.height + 120), (255, 255, 255))
        copy.paste(picture, (0, 120))
        ImageDraw.Draw(copy).text((20, 40), "THEY DON'T WANT YOU TO SEE THIS", fill=(0, 0, 0))
    else:
        copy = Image.new("RGB", (1170, 2532), (18, 18, 18))
        ImageDraw.Draw(copy).text((40, 60), "12:41  Chat", fill=(230, 230, 230))
        copy.paste(picture.resize((1170, round(1170 * picture.height / picture.width))), (0, 700))
    copy.save(tmp_path / "copy.png")
    matcher = BankMatcher([bank(BankEntry.create("pdq", BRIDGE_ORIGINAL_CPP, "fake"))])
    (m,) = matcher.match(media_hashes(Media.open(tmp_path / "copy.png")))
    assert m.turn == FRAMED
    assert m.distance is not None and m.distance <= 31
