"""Faces and voices in a watchlist: embeddings only, checked, merged per person, written back as TOML."""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pytest

from civicshield.errors import UsageError
from civicshield.protection.likeness import FACE_MATCH, embedding, matches
from civicshield.protection.watchlist import ProtectedPerson, Watchlist, person_table


def _unit(dim: int, seed: int) -> list[float]:
    v = np.random.default_rng(seed).standard_normal(dim)
    return list(v / np.linalg.norm(v))


def test_an_embedding_is_normalized_and_checked() -> None:
    assert math.isclose(float(np.linalg.norm(embedding(np.full(128, 3.0), 128))), 1.0)
    for bad in (np.zeros(128), np.full(128, np.nan), np.ones(127)):
        with pytest.raises(ValueError, match=r"embedding|expected 128"):
            embedding(bad, 128)


def test_faces_and_voices_of_a_person_are_read_and_merged_by_name() -> None:
    raw = {
        "person": [
            {"name": "Anna de Vries", "faces": [_unit(128, 1)]},
            {"name": "anna de vries", "aliases": ["A. de Vries"], "voices": [_unit(256, 2)]},
            {"name": "Anna de Vries", "faces": [_unit(128, 3)]},
        ]
    }
    listed = Watchlist.from_dict(raw)
    assert len(listed.people) == 1
    person = listed.people[0]
    assert (len(person.faces), len(person.voices), person.aliases) == (2, 1, ("A. de Vries",))
    assert listed.has_faces and listed.has_voices


@pytest.mark.parametrize(
    "entry",
    [
        {"name": "Anna de Vries", "faces": [[0.1] * 127]},
        {"name": "Anna de Vries", "voices": [[0.0] * 256]},
        {"name": "Anna de Vries", "faces": "not a list"},
        {"name": "Anna de Vries", "faces": [["x"] * 128]},
        {"name": "Anna de Vries", "faces": [[0.1] * 128] * 21},
    ],
)
def test_a_bad_embedding_is_a_usage_error_naming_the_entry(entry: dict[str, object]) -> None:
    with pytest.raises(UsageError, match="person 1"):
        Watchlist.from_dict({"person": [entry]})


def test_a_person_table_reads_back_as_the_same_person() -> None:
    person = ProtectedPerson(
        'Anna "de" Vries', ("Ånna de Vriës",), "Kiesraad", faces=(embedding(np.asarray(_unit(128, 4)), 128),)
    )
    again = Watchlist.from_dict(tomllib.loads(person_table(person))).people[0]
    assert (again.name, again.aliases, again.organization) == (
        person.name,
        person.aliases,
        person.organization,
    )
    assert np.allclose(again.faces[0], person.faces[0], atol=1e-5)


def test_matches_take_the_best_reference_and_respect_the_threshold() -> None:
    ref = np.asarray(_unit(128, 5))
    other = np.asarray(_unit(128, 6))
    person = ProtectedPerson("Anna de Vries", faces=(embedding(ref, 128), embedding(other, 128)))
    near = embedding(ref + 0.3 * np.asarray(_unit(128, 7)), 128)
    far = embedding(np.asarray(_unit(128, 8)), 128)
    hits = matches((person,), "face", [("face 1", far), ("face 2", near)])
    assert [(h.person.name, h.where) for h in hits] == [("Anna de Vries", "face 2")]
    assert hits[0].similarity >= FACE_MATCH
    assert matches((person,), "face", [("face 1", far)]) == []
    assert matches((person,), "voice", [("audio", embedding(np.asarray(_unit(256, 9)), 256))]) == []
