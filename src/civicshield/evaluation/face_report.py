"""Tables of the face-crop measurement (``civicshield train face-crops``), as the model card quotes them.

Every number is on test images only: each AI image in the fold that holds out its family, and the fixed
held-out real photos in every fold (so each real photo is scored once per fold, as in the whole-image
leave-one-generator-out table).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from civicshield.analyzers.ml.clip_head import Thresholds
from civicshield.evaluation.dataset import LabelledItem
from civicshield.evaluation.face_crops import ImageFaces
from civicshield.evaluation.face_logo import SCORES, FaceCropResult
from civicshield.evaluation.report import markdown_table, summary_table

__all__ = ["REAL", "FaceCount", "face_counts", "face_report", "face_report_json"]

REAL = "real photos (held out)"


@dataclass(frozen=True)
class FaceCount:
    """Test images of one group, those where YuNet found a face, those with a face the analyzer scores
    (at least ``min_score_px``), and how many crops it scores in all."""

    group: str
    images: int
    with_face: int
    scored: int
    crops: int


def face_counts(items: Sequence[LabelledItem], faces: Mapping[int, ImageFaces]) -> list[FaceCount]:
    groups: dict[str, list[ImageFaces]] = {}
    for row, image in faces.items():
        item = items[row]
        group = (item.family or "AI, no generator") if item.positive else REAL
        groups.setdefault(group, []).append(image)
    return [
        FaceCount(
            group,
            len(found),
            sum(f.detected > 0 for f in found),
            sum(f.scored > 0 for f in found),
            sum(f.scored for f in found),
        )
        for group, found in sorted(groups.items(), key=lambda kv: (kv[0] == REAL, kv[0]))
    ]


def _pct(value: float) -> str:
    return "–" if math.isnan(value) else f"{100 * value:.1f} %"


def _num(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.3f}"


def _counts_table(counts: Sequence[FaceCount]) -> str:
    header = ("group", "test images", "a face found", "a face scored", "crops scored")
    return markdown_table(
        header, [(c.group, str(c.images), str(c.with_face), str(c.scored), str(c.crops)) for c in counts]
    )


def _family_table(result: FaceCropResult, items: Sequence[LabelledItem]) -> str:
    whole = result.per_family(items, SCORES[0])
    crops = {r.group: r for r in result.per_family(items, SCORES[1])}
    header = ("family", "n", "AUC whole", "AUC face crops", "recall @5%FPR whole", "recall @5%FPR face crops")
    body = [
        (
            w.group,
            str(w.n),
            _num(w.auc),
            _num(crops[w.group].auc),
            _pct(w.recall_at_5fpr),
            _pct(crops[w.group].recall_at_5fpr),
        )
        for w in whole
    ]
    return markdown_table(header, body)


def _threshold_table(result: FaceCropResult, items: Sequence[LabelledItem], thresholds: Thresholds) -> str:
    header = ("score", "real", "real flagged", "AI", "AI caught")
    body = [
        (r.name, str(r.n_real), _pct(r.real_flagged), str(r.n_ai), _pct(r.ai_caught))
        for r in result.at_threshold(items, thresholds)
    ]
    return markdown_table(header, body)


def face_report(
    results: Sequence[FaceCropResult],
    items: Sequence[LabelledItem],
    faces: Mapping[int, ImageFaces],
    thresholds: Thresholds,
    n_folds: int,
) -> str:
    text = [
        f"Face crops, leave-one-generator-family-out ({n_folds} folds); test images and their faces:\n",
        _counts_table(face_counts(items, faces)),
    ]
    for result in results:
        text += [f"\n{result.name}: whole image vs face crops (pooled over folds)\n"]
        text += [summary_table(result.summaries(items))]
        text += [f"\n{result.name} by held-out family, images with a face (each against the real ones):\n"]
        text += [_family_table(result, items)]
        text += [f"\n{result.name} at the detector.synthetic threshold p >= {thresholds.synthetic:.4f}:\n"]
        text += [_threshold_table(result, items, thresholds)]
    return "\n".join(text) + "\n"


def face_report_json(
    results: Sequence[FaceCropResult],
    items: Sequence[LabelledItem],
    faces: Mapping[int, ImageFaces],
    thresholds: Thresholds,
) -> dict[str, Any]:
    return {
        "synthetic_threshold": thresholds.synthetic,
        "counts": [asdict(c) for c in face_counts(items, faces)],
        "results": {
            r.name: {
                "summaries": {name: s.to_dict() for name, s in r.summaries(items)},
                "per_family": {score: [asdict(g) for g in r.per_family(items, score)] for score in SCORES},
                "at_threshold": [asdict(t) for t in r.at_threshold(items, thresholds)],
            }
            for r in results
        },
    }
