"""Export the published AASIST weights to ONNX for the runtime detector (build time only; needs torch).

    .venv/bin/python tools/aasist/export.py --variant AASIST --out src/civicshield/data/models/aasist

Steps: build the PyTorch model from the published ``.conf`` and load the ``.pth`` with ``strict=True``
(the architecture check); export with a dynamic batch axis; check that onnxruntime reproduces the
PyTorch logits within 1e-4 on noise, silence, a tone and (if given) real clips; print size and sha256.

Two warnings are expected: the TorchScript exporter is deprecated (the new exporter needs onnxscript, and
this one is deterministic: the same sha256 on every run), and a TracerWarning that graph-pooling node counts
become constants — true by design, since the input length is fixed at 64,600 samples.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from aasist_model import load

WEIGHTS = Path(__file__).resolve().parents[3] / "shared" / "models" / "aasist"  # the published files
N_SAMPLES = 64_600
OPSET = 17
TOLERANCE = 1e-4


def _check_inputs(clips: list[Path]) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(N_SAMPLES) / 16_000
    inputs = [
        rng.standard_normal(N_SAMPLES) * 0.05,
        np.zeros(N_SAMPLES),
        0.3 * np.sin(2 * np.pi * 220 * t),
        rng.uniform(-1, 1, N_SAMPLES),
    ]
    if clips:
        import soundfile as sf

        for clip in clips:
            wave, sr = sf.read(clip, dtype="float32")
            if sr != 16_000:
                raise SystemExit(f"{clip}: expected 16 kHz, got {sr}")
            inputs.append(np.tile(wave, N_SAMPLES // len(wave) + 1)[:N_SAMPLES])
    return np.stack(inputs).astype(np.float32)


def export(variant: str, out_dir: Path, clips: list[Path], weights: Path = WEIGHTS) -> Path:
    torch.manual_seed(0)
    model = load(weights / f"{variant}.pth", weights / f"{variant}.conf")
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{variant.lower()}.onnx"
    example = torch.zeros(2, N_SAMPLES)
    torch.onnx.export(
        model,
        (example,),
        str(target),
        input_names=["waveform"],
        output_names=["logits"],
        dynamic_axes={"waveform": {0: "batch"}, "logits": {0: "batch"}},
        opset_version=OPSET,
        dynamo=False,
        do_constant_folding=True,
    )
    _verify(model, target, _check_inputs(clips))
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    print(f"{target}: {target.stat().st_size} bytes, sha256 {digest}")
    return target


def _verify(model: torch.nn.Module, target: Path, batch: np.ndarray) -> None:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    session = ort.InferenceSession(str(target), opts, providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = model(torch.from_numpy(batch)).numpy()
    for size in (1, len(batch)):  # single items and the whole batch: the batch axis is dynamic
        got = np.concatenate(
            [
                session.run(["logits"], {"waveform": batch[i : i + size]})[0]
                for i in range(0, len(batch), size)
            ]
        )
        diff = float(np.abs(got - expected).max())
        print(f"batch {size}: max |onnx - torch| = {diff:.2e} over {len(batch)} inputs")
        if diff > TOLERANCE:
            raise SystemExit(f"ONNX output differs from PyTorch by {diff} > {TOLERANCE}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=["AASIST", "AASIST-L"], default="AASIST")
    parser.add_argument("--out", type=Path, default=Path("src/civicshield/data/models/aasist"))
    parser.add_argument("--weights", type=Path, default=WEIGHTS, help="folder with the .pth and .conf files")
    parser.add_argument("clips", nargs="*", type=Path, help="16 kHz clips to include in the equality check")
    args = parser.parse_args()
    torch.set_num_threads(2)
    export(args.variant, args.out, args.clips, args.weights)


if __name__ == "__main__":
    main()
