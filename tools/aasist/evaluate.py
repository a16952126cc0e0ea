"""Measure the shipped speech detector on the development set (and on espeak-ng speech made here).

    .venv/bin/python tools/aasist/evaluate.py --dev ../shared/datasets/dev --espeak /tmp/aasist-espeak \
        --cache out/aasist-windows.json --report out/aasist-report.json

Runs ``SpeechDetector.score_waveform`` (the ONNX model through onnxruntime, exactly the runtime path; no
torch) on every audio clip of the manifest and on the WAVs made by ``espeak.py``, caching the per-window
spoof margins so the analysis can be re-run without inference. Then prints, as markdown:

* clip-level AUC / EER / TPR at 1 % and 5 % FPR for several ways to aggregate windows;
* Platt calibration measured out of sample (stratified 2-fold, repeated) against the raw softmax, and the
  5 %-FPR threshold chosen on one half and measured on the other;
* the final calibration and thresholds fitted on the whole development set (what ``SpeechPolicy`` holds);
* per-generator / per-source rates at those thresholds, and the espeak-ng clips.

Clips the detector abstains on (shorter than 2 s, silent) are counted and left out of the metrics.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from metrics import auc, brier, ece, eer, fit_platt, log_loss, threshold_at_fpr, tpr_at_fpr

from civicshield.analyzers.ml.speech import SpeechDetector, SpeechPolicy
from civicshield.analyzers.ml.speech_model import sigmoid
from civicshield.media import Media, decode_audio

ESPEAK = "espeak-ng (synthesized here)"


@dataclass(frozen=True)
class Clip:
    key: str
    label: str  # "ai" | "real"
    group: str  # generator for AI clips, source repository for real ones
    margins: tuple[float, ...]  # scored windows only
    reason: str | None  # why the detector would abstain

    @property
    def y(self) -> int:
        return int(self.label == "ai")


def _items(dev: Path | None, espeak: Path | None) -> list[tuple[str, Path, str, str]]:
    items = []
    if dev is not None:
        with (dev / "manifest.csv").open() as fh:
            for row in csv.DictReader(fh):
                if row["modality"] == "audio":
                    group = row["generator"] if row["label"] == "ai" else f"real: {row['source_repo']}"
                    items.append((row["path"], dev / row["path"], row["label"], group))
    if espeak is not None:
        items += [(f"espeak/{p.name}", p, "ai", ESPEAK) for p in sorted(espeak.glob("*.wav"))]
    return items


def collect(detector: SpeechDetector, dev: Path | None, espeak: Path | None, cache: Path) -> list[Clip]:
    """Per-window margins of every clip, from the cache when the model version matches."""
    store = json.loads(cache.read_text()) if cache.is_file() else {}
    if store.get("model") != detector.version:
        store = {"model": detector.version, "clips": {}, "seconds_per_window": []}
    clips = []
    for key, path, label, group in _items(dev, espeak):
        if key not in store["clips"]:
            samples = decode_audio(Media.open(path))
            reason = detector.unscorable_reason(samples)
            margins: list[float] = []
            if reason is None:
                t0 = time.perf_counter()
                _, windows = detector.score_waveform(samples)
                margins = [w.margin for w in windows if w.margin is not None]
                store["seconds_per_window"].append((time.perf_counter() - t0) / max(1, len(margins)))
            store["clips"][key] = {"margins": margins, "reason": reason}
            cache.write_text(json.dumps(store))
        entry = store["clips"][key]
        clips.append(Clip(key, label, group, tuple(entry["margins"]), entry["reason"]))
    spw = store["seconds_per_window"]
    if spw:
        print(f"inference: median {np.median(spw):.2f} s per 4-s window (this machine, 2 threads)\n")
    return clips


AGGREGATES: dict[str, Callable[[np.ndarray], float]] = {
    "mean of window margins (shipped)": lambda m: float(m.mean()),
    "median of window margins": lambda m: float(np.median(m)),
    "mean of window P": lambda m: float(np.log(np.mean(sigmoid(m)) / (1 - np.mean(sigmoid(m)) + 1e-12))),
    "max window": lambda m: float(m.max()),
    "min window": lambda m: float(m.min()),
    "first window only": lambda m: float(m[0]),
}


def _split(scored: list[Clip], fn: Callable[[np.ndarray], float]) -> tuple[np.ndarray, np.ndarray]:
    pos = np.array([fn(np.array(c.margins)) for c in scored if c.y == 1])
    neg = np.array([fn(np.array(c.margins)) for c in scored if c.y == 0])
    return pos, neg


def report_aggregates(dev: list[Clip]) -> None:
    print("| aggregate | AUC | EER | TPR @ 1 % FPR | TPR @ 5 % FPR |\n|---|---|---|---|---|")
    for name, fn in AGGREGATES.items():
        pos, neg = _split(dev, fn)
        print(
            f"| {name} | {auc(pos, neg):.3f} | {eer(pos, neg):.3f} | "
            f"{tpr_at_fpr(pos, neg, 0.01):.3f} | {tpr_at_fpr(pos, neg, 0.05):.3f} |"
        )
    print()


def report_calibration(x: np.ndarray, y: np.ndarray, repeats: int = 20) -> dict[str, float]:
    """Out-of-sample comparison of raw softmax and Platt, and of the 5 %-FPR cut chosen on one half."""
    rng = np.random.default_rng(0)
    rows: dict[str, list[float]] = defaultdict(list)
    for _ in range(repeats):
        fold = np.zeros(len(y), dtype=bool)
        for cls in (0, 1):
            idx = rng.permutation(np.flatnonzero(y == cls))
            fold[idx[: len(idx) // 2]] = True
        for fit_on in (fold, ~fold):
            test = ~fit_on
            a, b = fit_platt(x[fit_on], y[fit_on])
            raw, cal = sigmoid(x[test]), sigmoid(a * x[test] + b)
            for name, p in (("raw", raw), ("platt", cal)):
                rows[f"{name} log-loss"].append(log_loss(p, y[test]))
                rows[f"{name} Brier"].append(brier(p, y[test]))
                rows[f"{name} ECE"].append(ece(p, y[test]))
            t = threshold_at_fpr(x[fit_on][y[fit_on] == 0], 0.05)
            rows["held-out FPR at the 5 % cut"].append(float(np.mean(x[test][y[test] == 0] >= t)))
            rows["held-out TPR at the 5 % cut"].append(float(np.mean(x[test][y[test] == 1] >= t)))
    print(f"Out of sample (stratified 2-fold x {repeats}): mean over folds\n")
    print("| measure | value |\n|---|---|")
    summary = {k: float(np.mean(v)) for k, v in rows.items()}
    for k, v in summary.items():
        print(f"| {k} | {v:.3f} |")
    print()
    return summary


def final_policy(x: np.ndarray, y: np.ndarray, fpr: float = 0.05, miss: float = 0.05) -> SpeechPolicy:
    """Platt on all dev clips; ``synthetic`` cut at ``fpr`` of real clips, ``authentic`` cut with at most
    ``miss`` of AI clips at or below it. Rounded outwards to 3 decimals (never more permissive)."""
    a, b = fit_platt(x, y)
    p = sigmoid(a * x + b)
    synthetic = float(np.ceil(threshold_at_fpr(p[y == 0], fpr) * 1000) / 1000)
    ai = np.sort(p[y == 1])
    authentic = float(np.floor(np.nextafter(ai[int(np.floor(miss * ai.size))], -np.inf) * 1000) / 1000)
    return replace(
        SpeechPolicy(),
        platt_slope=round(a, 4),
        platt_intercept=round(b, 4),
        synthetic_threshold=synthetic,
        authentic_threshold=authentic,
    )


def report_groups(clips: list[Clip], policy: SpeechPolicy, neg: np.ndarray) -> None:
    print(
        "| group | clips | median P | >= synthetic cut | <= authentic cut | AUC vs all real |\n"
        "|---|---|---|---|---|---|"
    )
    groups: dict[str, list[float]] = defaultdict(list)
    for c in clips:
        groups[("ai: " if c.y else "") + c.group].append(float(np.mean(c.margins)))
    for name in sorted(groups, key=lambda g: (not g.startswith("ai"), g)):
        m = np.array(groups[name])
        p = policy.calibrate(m)
        auc_s = f"{auc(m, neg):.3f}" if name.startswith("ai") else ""
        print(
            f"| {name} | {m.size} | {np.median(p):.3f} | {np.mean(p >= policy.synthetic_threshold):.2f} | "
            f"{np.mean(p <= policy.authentic_threshold):.2f} | {auc_s} |"
        )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=Path("../shared/datasets/dev"))
    parser.add_argument("--espeak", type=Path, help="folder of WAVs made by tools/aasist/espeak.py")
    parser.add_argument("--cache", type=Path, default=Path("out/aasist-windows.json"))
    parser.add_argument("--report", type=Path, help="write the summary as JSON here")
    args = parser.parse_args()
    detector = SpeechDetector.load()
    clips = collect(detector, args.dev, args.espeak, args.cache)
    abstained = [c for c in clips if c.reason is not None or not c.margins]
    for c in abstained:
        print(f"abstains: {c.key} ({c.label}): {c.reason}")
    dev = [c for c in clips if c not in abstained and c.group != ESPEAK]
    espeak = [c for c in clips if c not in abstained and c.group == ESPEAK]
    n_ai = sum(c.y for c in dev)
    print(
        f"\ndev clips scored: {len(dev)} ({n_ai} ai, {len(dev) - n_ai} real); abstained: {len(abstained)}\n"
    )
    report_aggregates(dev)
    x = np.array([float(np.mean(c.margins)) for c in dev])
    y = np.array([c.y for c in dev], dtype=float)
    cv = report_calibration(x, y)
    policy = final_policy(x, y)
    pos, neg = x[y == 1], x[y == 0]
    p_pos, p_neg = policy.calibrate(pos), policy.calibrate(neg)
    final = {
        "platt_slope": policy.platt_slope,
        "platt_intercept": policy.platt_intercept,
        "synthetic_threshold": policy.synthetic_threshold,
        "authentic_threshold": policy.authentic_threshold,
        "dev FPR at synthetic cut": float(np.mean(p_neg >= policy.synthetic_threshold)),
        "dev TPR at synthetic cut": float(np.mean(p_pos >= policy.synthetic_threshold)),
        "dev real at or below authentic cut": float(np.mean(p_neg <= policy.authentic_threshold)),
        "dev ai at or below authentic cut": float(np.mean(p_pos <= policy.authentic_threshold)),
        "AUC": auc(pos, neg),
        "EER": eer(pos, neg),
        "TPR@1%FPR": tpr_at_fpr(pos, neg, 0.01),
        "TPR@5%FPR": tpr_at_fpr(pos, neg, 0.05),
    }
    if espeak:
        e = np.array([float(np.mean(c.margins)) for c in espeak])
        final["espeak AUC vs dev real"] = auc(e, neg)
        final["espeak at synthetic cut"] = float(np.mean(policy.calibrate(e) >= policy.synthetic_threshold))
    print("Fitted on the whole dev set (SpeechPolicy):\n\n| measure | value |\n|---|---|")
    for k, v in final.items():
        print(f"| {k} | {v:.4f} |")
    print()
    report_groups(dev + espeak, policy, neg)
    shipped = SpeechPolicy()
    same = all(getattr(shipped, k) == getattr(policy, k) for k in ("platt_slope", "platt_intercept"))
    same = same and shipped.synthetic_threshold == policy.synthetic_threshold
    same = same and shipped.authentic_threshold == policy.authentic_threshold
    print(f"shipped SpeechPolicy ({shipped.version}) matches these fitted values: {'yes' if same else 'NO'}")
    if args.report:
        args.report.write_text(json.dumps({"final": final, "cross_validated": cv}, indent=2))


if __name__ == "__main__":
    main()
