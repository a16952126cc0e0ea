"""Learning from reviewers: a candidate fitted on reviewed items, measured against the model in use.

The scenario is the one the learning loop exists for. A detector in use has never seen a family of
generators (here a head fitted on three Stable Diffusion base-model families of the development set);
reviewers label thirty photoreal portraits of a family it misses (MajicMix + FaceChain, labelled AI in
the development set's manifest, written by others) and thirty genuine photos. Labels come from the
manifest, the genuine-photo check from ``datasets/realcam`` (held-out devices, as stored and as messaging
copies): nothing here is an answer our code computed.
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from civicshield.analyzers.ml.clip import ClipDetector
from civicshield.analyzers.ml.clip_head import ProbeHead, Thresholds
from civicshield.cli.app import app
from civicshield.errors import UsageError
from civicshield.evaluation.calibration import fit_platt
from civicshield.evaluation.dataset import LabelledItem, load_labelled
from civicshield.evaluation.embeddings import EmbeddingCache
from civicshield.evaluation.feedback import FeedbackConfig, check_trainable, train_feedback_probe
from civicshield.evaluation.logistic import fit_logistic
from civicshield.evaluation.probe import build_features
from civicshield.learning.promotion import PromotionPolicy
from civicshield.learning.registry import ModelRegistry

OLD_FAMILIES = {"Stable Diffusion v1.x", "Stable Diffusion 2.x-v (768)", "Stable Diffusion 2.x (512 base)"}


@pytest.fixture(scope="module")
def sets(dev_set: Path) -> tuple[list[LabelledItem], list[LabelledItem], list[LabelledItem]]:
    """(the weak head's training set, the reviewed set as an export writes it, the reviewed rows' sources)."""
    items = load_labelled(dev_set / "manifest.csv", modality="image")
    real = sorted((i for i in items if not i.positive), key=lambda i: i.path.name)
    old = [i for i in items if i.positive and i.generator in OLD_FAMILIES]
    unseen = [i for i in items if i.positive and (i.generator or "").startswith("SD1.5 finetune MajicMix")][
        :30
    ]
    # as exported: no generator (reviewers rarely know it), one source per reviewed item
    reviewed = [
        dataclasses.replace(i, generator=None, source=f"item-{n}")
        for n, i in enumerate([*unseen, *real[1::2][:30]])
    ]
    return [*old, *real[0::2][:40]], reviewed, real


@pytest.fixture(scope="module")
def weak_head(sets: tuple[list[LabelledItem], ...]) -> ProbeHead:
    """A detector in use that never saw the reviewed family."""
    shipped = ClipDetector.load().head
    training = sets[0]
    x = build_features(training, EmbeddingCache(), shipped.recipe).clean
    y = np.array([i.positive for i in training])
    model = fit_logistic(x, y)
    platt = fit_platt(model.logit(x), y)
    return ProbeHead(
        "weak-0",
        shipped.encoder_sha256,
        shipped.recipe,
        model.mean,
        model.scale,
        model.weights,
        model.bias,
        platt.a,
        platt.b,
        Thresholds(0.9, 0.1, 0.01, 0.05),
    )


def _genuine(realcam: Path) -> list[LabelledItem]:
    return load_labelled(realcam / "manifest.csv", modality="image")


def test_reviewers_labels_teach_a_missed_family_without_new_false_accusations(
    sets: tuple[list[LabelledItem], ...], weak_head: ProbeHead, realcam: Path
) -> None:
    reviewed = sets[1]
    config = FeedbackConfig(version="fb-1", active_version="weak-0")
    outcome = train_feedback_probe(reviewed, weak_head, _genuine(realcam), EmbeddingCache(), config)
    c = outcome.comparison
    assert (c.reviewed_candidate.ai, c.reviewed_candidate.genuine) == (30, 30)
    assert c.reviewed_active.caught <= 3  # the model in use misses the family ...
    assert (
        c.reviewed_candidate.caught >= 24
    )  # ... the candidate, scoring items it was not fitted on, catches it
    assert outcome.auc_candidate > outcome.auc_active
    assert c.check_candidate.genuine == 96  # 32 held-out camera photos, as stored and two messaging copies
    assert c.check_candidate.flagged <= 1
    decision = PromotionPolicy().decide(c)
    assert decision.approved, decision.reasons
    assert outcome.head.version == "fb-1"
    assert outcome.head.info["learnt_from"] == "weak-0"
    assert "fb-1" in outcome.card and "genuine check photos flagged" in outcome.card


def test_a_candidate_that_would_accuse_more_genuine_photos_is_not_promoted(
    sets: tuple[list[LabelledItem], ...], realcam: Path, tmp_path: Path
) -> None:
    """The shipped head already catches most of this family; learning from thirty normalised copies moves
    its calibration so that more camera originals cross the threshold. The CLI trains, registers, shadows
    and then refuses the promotion, naming the genuine-photo check."""
    manifest = tmp_path / "reviewed" / "manifest.csv"
    manifest.parent.mkdir()
    with manifest.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "label", "modality", "generator", "source"])
        for item in sets[1]:
            writer.writerow([item.path, item.label, "image", "", item.source])
    data = tmp_path / "data"
    runner = CliRunner()
    args = ["train", "feedback-probe", str(manifest), "--genuine-check", str(realcam / "manifest.csv")]
    trained = runner.invoke(app, [*args, "--version", "fb-1", "--data-dir", str(data)])
    assert trained.exit_code == 0, trained.output
    assert "registered clip_detector fb-1 as a candidate" in trained.output
    assert "| genuine check photos flagged |" in trained.output
    registry = ModelRegistry(data / "models")
    entry = registry.get("clip_detector", "fb-1")
    c = entry.comparison
    assert c.active_version == "shipped"
    assert c.check_candidate.flagged > c.check_active.flagged
    shadowed = runner.invoke(app, ["models", "shadow", "fb-1", "--data-dir", str(data)])
    assert shadowed.exit_code == 0, shadowed.output
    refused = runner.invoke(app, ["models", "promote", "fb-1", "--data-dir", str(data)])
    assert refused.exit_code == 2
    assert "genuine check photos" in " ".join(refused.output.split())
    assert registry.active("clip_detector") is None
    listed = runner.invoke(app, ["models", "history", "--data-dir", str(data)])
    assert "promotion refused" in listed.output


def test_sets_too_small_or_too_unbalanced_to_measure_are_refused(
    sets: tuple[list[LabelledItem], ...],
) -> None:
    reviewed = sets[1]
    ai = [i for i in reviewed if i.positive]
    real = [i for i in reviewed if not i.positive]
    with pytest.raises(UsageError, match=r"too few reviewed items.*12 AI-generated and 30 genuine"):
        check_trainable([*ai[:12], *real], FeedbackConfig(version="x"))
    with pytest.raises(UsageError, match="too unbalanced"):
        check_trainable([*ai[:20], *real, *real, *real], FeedbackConfig(version="x"))
    check_trainable(reviewed, FeedbackConfig(version="x"))


def test_the_genuine_check_must_be_genuine(
    sets: tuple[list[LabelledItem], ...], weak_head: ProbeHead
) -> None:
    reviewed = sets[1]
    with pytest.raises(UsageError, match="genuine photos only"):
        train_feedback_probe(reviewed, weak_head, reviewed, EmbeddingCache(), FeedbackConfig(version="x"))
