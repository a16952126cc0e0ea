"""Per-window logits of the PyTorch model over a folder of clips, for the ablations (build time only).

Runs the published weights (strict load) on every window the runtime detector would score, under several
readings that the paper and configuration leave open or that the runtime could choose:

* ``AASIST`` vs ``AASIST-L`` (and, for AASIST-L, which ``pool_ratios`` entry its second-stage pools use:
  the two readings coincide for AASIST, whose third and fourth entries are equal);
* audio as decoded, with leading/trailing silence trimmed (ASVspoof 2019 LA is known to let a model
  learn from silence length), or peak-normalised.

    python tools/aasist/window_logits.py --weights DIR --manifest dev/manifest.csv \
        --extra espeak/ --out X.json

Writes ``{variant: {clip: [[start_s, end_s, logit0 - logit1], ...]}}``. Uses a GPU when there is one.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from aasist_model import load  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "speech_windows", HERE.parents[1] / "src/civicshield/analyzers/ml/speech_windows.py"
)
assert _spec is not None and _spec.loader is not None
sw = importlib.util.module_from_spec(_spec)
sys.modules["speech_windows"] = sw
_spec.loader.exec_module(sw)

SR, LENGTH, HOP = 16_000, 64_600, 32_000
VAD = sw.VadConfig()


def clips(manifest: Path | None, extra: list[Path]) -> dict[str, Path]:
    out: dict[str, Path] = {}
    if manifest is not None:
        with manifest.open() as fh:
            for row in csv.DictReader(fh):
                if row["modality"] == "audio":
                    out[row["path"]] = manifest.parent / row["path"]
    for folder in extra:
        for path in sorted(folder.glob("*.wav")):
            out[f"{folder.name}/{path.name}"] = path
    return out


def prepare(wave: np.ndarray, how: str) -> np.ndarray:
    if how == "trim":
        active = sw.speech_frames(wave, SR, VAD)
        if active.any():
            hop = int(VAD.hop_s * SR)
            idx = np.flatnonzero(active)
            start = max(0, idx[0] * hop - SR // 10)
            end = min(wave.size, (idx[-1] + 1) * hop + int(VAD.frame_s * SR) + SR // 10)
            wave = wave[start:end]
    elif how == "peak":
        wave = wave / max(float(np.abs(wave).max()), 1e-6) * 0.9
    return wave.astype(np.float32)


def run(model: torch.nn.Module, waves: dict[str, np.ndarray], device: str) -> dict[str, list[list[float]]]:
    items = []
    for name, wave in waves.items():
        for w in sw.plan_windows(wave.size, LENGTH, HOP):
            items.append((name, w, sw.cut(wave, w, LENGTH)))
    out: dict[str, list[list[float]]] = {name: [] for name in waves}
    for i in range(0, len(items), 32):
        chunk = items[i : i + 32]
        with torch.no_grad():
            logits = model(torch.from_numpy(np.stack([c[2] for c in chunk])).to(device)).cpu().numpy()
        for (name, w, _), lo in zip(chunk, logits, strict=True):
            out[name].append([w.start / SR, w.end / SR, float(lo[0] - lo[1])])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, required=True)
    parser.add_argument("--manifest", type=Path)
    parser.add_argument("--extra", type=Path, nargs="*", default=[])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    raw = {}
    for name, path in clips(args.manifest, args.extra).items():
        wave, sr = sf.read(path, dtype="float32", always_2d=True)
        if sr != SR:
            raise SystemExit(f"{path}: {sr} Hz, expected {SR}")
        raw[name] = wave.mean(axis=1)
    variants = [("AASIST", None), ("AASIST-L", None), ("AASIST-L", 3)]
    result: dict[str, dict[str, list[list[float]]]] = {}
    for variant, pool_index in variants:
        conf = args.weights / f"{variant}.conf"
        ratio = None
        if pool_index is not None:
            ratio = json.loads(conf.read_text())["model_config"]["pool_ratios"][pool_index]
        model = load(args.weights / f"{variant}.pth", conf, hetero_pool_ratio=ratio).to(device)
        for how in ("raw", "trim", "peak"):
            t0 = time.perf_counter()
            key = f"{variant}{'' if pool_index is None else f'-pool{pool_index}'}/{how}"
            result[key] = run(model, {n: prepare(w, how) for n, w in raw.items()}, device)
            print(f"{key}: {time.perf_counter() - t0:.1f} s", flush=True)
    args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
