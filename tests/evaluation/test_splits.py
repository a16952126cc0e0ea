"""Leave-one-generator-out never leaks a generator family, and real sources never straddle a split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from civicshield.evaluation.dataset import LabelledItem, load_labelled
from civicshield.evaluation.families import family_of
from civicshield.evaluation.splits import group_kfold, held_out_real, logo_folds, real_group


@pytest.fixture(scope="module")
def items(dev_set: Path) -> list[LabelledItem]:
    return load_labelled(dev_set / "manifest.csv", modality="image")


def test_families_group_sibling_generators() -> None:
    assert family_of("SDXL-Turbo") == family_of("SDXL + IP-Adapter-Plus")
    assert family_of("Stable Diffusion v1.x") == family_of("SD1.x finetune Anything-V3")
    assert family_of("SD1.5 finetune MajicMix Realistic v6 + FaceChain style LoRA") != family_of("SD1.x")
    assert family_of("a generator nobody listed") == "a generator nobody listed"


def test_logo_never_trains_on_the_held_out_family(items: list[LabelledItem]) -> None:
    folds = logo_folds(items, real_test_share=0.3)
    assert len(folds) == len({i.family for i in items if i.positive})
    tested_ai = []
    for fold in folds:
        assert not set(fold.train) & set(fold.test)
        train_families = {items[i].family for i in fold.train if items[i].positive}
        test_families = {items[i].family for i in fold.test if items[i].positive}
        assert test_families == {fold.name}
        assert fold.name not in train_families
        tested_ai += [i for i in fold.test if items[i].positive]
    assert sorted(tested_ai) == [i for i, item in enumerate(items) if item.positive]


def test_real_test_share_is_fixed_disjoint_and_whole_sources(items: list[LabelledItem]) -> None:
    folds = logo_folds(items, real_test_share=0.3)
    real_test = {int(i) for i in folds[0].test if not items[i].positive}
    n_real = sum(not i.positive for i in items)
    assert 0.3 * n_real <= len(real_test) < 0.6 * n_real
    for fold in folds:
        assert {int(i) for i in fold.test if not items[i].positive} == real_test
        assert not real_test & {int(i) for i in fold.train}
    test_sources = {real_group(items[i]) for i in real_test}
    train_sources = {real_group(items[i]) for i in folds[0].train if not items[i].positive}
    assert not test_sources & train_sources
    np.testing.assert_array_equal(held_out_real(items, 0.3), sorted(real_test))


def test_group_kfold_keeps_families_and_sources_whole(items: list[LabelledItem]) -> None:
    parts = group_kfold(items, np.arange(len(items)), k=4)
    assert sorted(np.concatenate(parts).tolist()) == list(range(len(items)))
    owner: dict[str, int] = {}
    for j, part in enumerate(parts):
        labels = [items[i].positive for i in part]
        assert any(labels) and not all(labels)
        for i in part:
            key = items[i].family if items[i].positive else "real:" + real_group(items[i])
            assert owner.setdefault(str(key), j) == j


def test_folder_layout_names_generators_and_sources(tmp_path: Path) -> None:
    for rel in ("real/cam1/a.jpg", "real/cam2/b.jpg", "ai/SDXL-Turbo/c.png", "ai/d.png"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    got = {i.path.name: i for i in load_labelled(tmp_path)}
    assert got["a.jpg"].source == "cam1" and not got["a.jpg"].positive
    assert got["c.png"].generator == "SDXL-Turbo" and got["c.png"].positive
    assert got["d.png"].generator is None
