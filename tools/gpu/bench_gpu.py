"""GPU latency and batched throughput of the detectors' models, against onnxruntime / OpenCV on the same
machine's CPU in the same process (the baseline).

    python3 tools/gpu/bench_gpu.py --models .gpu --out "$OUT"          # on the lent GPU machine
    .venv/bin/python tools/gpu/bench_gpu.py --models .gpu --cpu-only    # dry run here

Per model and batch size: median wall time of one call (warm, inputs already in memory, synchronised),
items per second, and the speed-up over the CPU engine the project runs in production (onnxruntime for
CLIP and AASIST, OpenCV DNN for YuNet and SFace, whose int8 block-quantised files onnxruntime refuses).
GPU rows execute the same ONNX graph with torch operators (``onnx_torch.py``), eagerly and replayed as
one CUDA graph; AASIST runs the PyTorch module its ONNX was exported from, with the published weights.
Agreement rows say how far the GPU outputs are from the CPU engine's on the same inputs.

CLIP's int8 weights are random here (see ``pack.py``): its latency is the shipped model's, its outputs
are not. That also makes it a check of onnxruntime's int8 kernel on this CPU: the ``exact`` rows compute
the integer products exactly, so their distance from onnxruntime is the CPU kernel's rounding/saturation.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "aasist"))

from onnx_torch import CudaGraphRunner, plan  # noqa: E402

REPO = HERE.parents[1]


def _unsigned_weights() -> Callable[[bytes], tuple[bytes, int]]:
    """The runtime's rewrite (``civicshield.analyzers.ml.int8_exact``), loaded by path: only numpy and onnx
    are needed, not the rest of the package, which the GPU machine does not have installed."""
    import importlib.util

    path = REPO / "src/civicshield/analyzers/ml/int8_exact.py"
    spec = importlib.util.spec_from_file_location("int8_exact", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.unsigned_weights  # type: ignore[no-any-return]


Row = dict[str, object]


def _median(fn: Callable[[], object], *, sync: bool, warm: int = 3, repeat: int = 15) -> float:
    for _ in range(warm):
        fn()
    if sync:
        torch.cuda.synchronize()
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        if sync:
            torch.cuda.synchronize()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def _ort(path: Path | bytes, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    source = str(path) if isinstance(path, Path) else path
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def _clip_model(models: Path, seed: int = 0) -> onnx.ModelProto:
    model = onnx.load(str(models / "clip_skeleton.onnx"))
    stripped = json.loads((models / "clip_skeleton.json").read_text())["stripped_int8"]
    rng = np.random.default_rng(seed)
    for tensor in model.graph.initializer:
        if tensor.name in stripped:
            values = rng.integers(-127, 128, size=stripped[tensor.name], dtype=np.int8)
            tensor.CopyFrom(numpy_helper.from_array(values, tensor.name))
    return model


def _row(model: str, engine: str, batch: int, seconds: float, base: float | None) -> Row:
    return {
        "model": model,
        "engine": engine,
        "batch": batch,
        "ms": round(seconds * 1e3, 3),
        "items_per_s": round(batch / seconds, 1),
        "speedup": round(base / seconds, 1) if base else None,
    }


CLIP = "CLIP ViT-B/16 int8"


def bench_clip(models: Path, device: torch.device, batches: list[int], threads: int) -> tuple[list[Row], Row]:
    model = _clip_model(models)
    production, rewritten = _unsigned_weights()(model.SerializeToString())  # as ClipEncoder loads it
    session = _ort(production, threads)
    rows: list[Row] = []
    agreement: Row = {"model": "clip", "uint8 rewrites": rewritten}
    rng = np.random.default_rng(1)
    for batch in batches:
        x = rng.standard_normal((batch, 3, 224, 224)).astype(np.float32)
        base = _median(lambda x=x: session.run(None, {"pixel_values": x}), sync=False, warm=1, repeat=3)
        rows.append(_row(CLIP, f"onnxruntime CPU x{threads}", batch, base, None))
        if device.type != "cuda":
            continue
        xt = torch.from_numpy(x).to(device)
        outputs: dict[str, np.ndarray] = {}
        for mode in ("exact", "int8"):
            try:
                with torch.inference_mode():
                    compiled = plan(model, [xt], device, matmul_integer=mode)
                    eager = _median(lambda c=compiled, t=xt: c.run(t), sync=True)
                    rows.append(_row(CLIP, f"torch GPU eager ({mode})", batch, eager, base))
                    graph = CudaGraphRunner(compiled.run, [xt])
                    replay = _median(lambda g=graph, t=xt: g.run(t), sync=True)
                    rows.append(_row(CLIP, f"torch GPU CUDA graph ({mode})", batch, replay, base))
                    outputs[mode] = graph.run(xt)[0].float().cpu().numpy()
            except (RuntimeError, NotImplementedError) as exc:
                agreement[f"{mode} batch {batch}"] = f"failed: {str(exc).splitlines()[0][:160]}"
        if batch == 8 and outputs:
            reference = session.run(None, {"pixel_values": x})[0]
            for mode, got in outputs.items():
                agreement[f"{mode}: min cosine vs onnxruntime (batch 8)"] = round(_min_cosine(reference, got), 6)
            if len(outputs) == 2:
                agreement["int8 vs exact: min cosine"] = round(_min_cosine(outputs["exact"], outputs["int8"]), 6)
    return rows, agreement


def _min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(((a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))).min())


def int8_kernel_check(threads: int) -> Row:
    """Does onnxruntime's uint8 x int8 kernel saturate on this CPU? (exactness of one product, see
    ``civicshield.analyzers.ml.int8_exact``)."""
    from onnx import TensorProto, helper

    a = np.full((2, 64), 255, np.uint8)
    w = np.full((64, 8), 127, np.int8)
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["a", "w"], ["y"])],
        "g",
        [helper.make_tensor_value_info("a", TensorProto.UINT8, [2, 64])],
        [helper.make_tensor_value_info("y", TensorProto.INT32, [2, 8])],
        [numpy_helper.from_array(w, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], ir_version=8)
    got = _ort(model.SerializeToString(), threads).run(None, {"a": a})[0]
    flags = Path("/proc/cpuinfo").read_text().split("flags")[1].split("\n")[0] if Path("/proc/cpuinfo").exists() else ""
    return {
        "u8s8 exact": bool((got == a.astype(np.int64) @ w.astype(np.int64)).all()),
        "got": int(got[0, 0]),
        "expected": 255 * 127 * 64,
        "avx512_vnni": "avx512_vnni" in flags,
        "avx_vnni": " avx_vnni" in flags,
    }


def bench_aasist(models: Path, device: torch.device, batches: list[int], threads: int) -> tuple[list[Row], Row]:
    from aasist_model import load  # type: ignore[import-not-found]

    session = _ort(REPO / "src/civicshield/data/models/aasist/aasist.onnx", threads)
    module = load(models / "AASIST.pth", models / "AASIST.conf").to(device)
    rows: list[Row] = []
    agreement: Row = {"model": "aasist"}
    rng = np.random.default_rng(2)
    for batch in batches:
        x = (0.1 * rng.standard_normal((batch, 64600))).astype(np.float32)
        base = _median(lambda x=x: session.run(None, {"waveform": x}), sync=False, warm=1, repeat=3)
        rows.append(_row("AASIST (4 s window)", f"onnxruntime CPU x{threads}", batch, base, None))
        if device.type != "cuda":
            continue
        xt = torch.from_numpy(x).to(device)
        with torch.inference_mode():
            eager = _median(lambda t=xt: module(t), sync=True)
            rows.append(_row("AASIST (4 s window)", "torch GPU eager", batch, eager, base))
            try:
                runner = CudaGraphRunner(module, [xt]).run
                replay = _median(lambda t=xt, r=runner: r(t), sync=True)
                rows.append(_row("AASIST (4 s window)", "torch GPU CUDA graph", batch, replay, base))
            except RuntimeError as exc:  # capture refuses host syncs (e.g. data-dependent shapes)
                agreement["cuda graph"] = f"not capturable: {str(exc).splitlines()[0][:120]}"
            reference = session.run(None, {"waveform": x})[0]
            got = module(xt).float().cpu().numpy()
            agreement[f"max |logit diff| vs onnxruntime (batch {batch})"] = float(np.abs(reference - got).max())
    return rows, agreement


def bench_faces(models: Path, device: torch.device) -> tuple[list[Row], Row]:
    import cv2

    cv2.setNumThreads(os.cpu_count() or 1)
    rows: list[Row] = []
    agreement: Row = {"model": "faces"}
    rng = np.random.default_rng(3)
    for name, file, shape, input_name in (  # noqa: B007 (loop variables bound into cpu() below)
        ("YuNet 640x640", "yunet.onnx", (1, 3, 640, 640), "input"),
        ("SFace 112x112", "sface.onnx", (1, 3, 112, 112), "data"),
    ):
        net = cv2.dnn.readNetFromONNX(str(models / file))
        x = rng.uniform(0, 255, shape).astype(np.float32)

        def cpu(net: object = net, x: np.ndarray = x, input_name: str = input_name) -> object:
            net.setInput(x, input_name)  # type: ignore[attr-defined]
            return net.forward(net.getUnconnectedOutLayersNames())  # type: ignore[attr-defined]

        base = _median(cpu, sync=False)
        rows.append(_row(name, "OpenCV DNN CPU", 1, base, None))
        if device.type != "cuda":
            continue
        model = onnx.load(str(models / file))
        xt = torch.from_numpy(x).to(device)
        with torch.inference_mode():
            compiled = plan(model, [xt], device, input_names=[input_name])
            eager = _median(lambda c=compiled, t=xt: c.run(t), sync=True)
            rows.append(_row(name, "torch GPU eager", 1, eager, base))
            graph = CudaGraphRunner(compiled.run, [xt])
            replay = _median(lambda g=graph, t=xt: g.run(t), sync=True)
            rows.append(_row(name, "torch GPU CUDA graph", 1, replay, base))
            reference = dict(zip(net.getUnconnectedOutLayersNames(), cpu(), strict=True))
            worst = 0.0
            for out_name, value in zip(compiled.outputs, graph.run(xt), strict=True):
                if out_name in reference:
                    ref = np.asarray(reference[out_name]).reshape(value.shape)
                    worst = max(worst, float(np.abs(ref - value.cpu().numpy()).max() / (np.abs(ref).max() + 1e-9)))
            agreement[f"{name}: max relative diff vs OpenCV"] = round(worst, 6)
    return rows, agreement


def _markdown(rows: list[Row]) -> str:
    lines = ["| model | engine | batch | ms per call | items/s | speed-up vs CPU |", "|---|---|---|---|---|---|"]
    for r in rows:
        speed = f"{r['speedup']}x" if r["speedup"] else "baseline"
        lines.append(f"| {r['model']} | {r['engine']} | {r['batch']} | {r['ms']} | {r['items_per_s']} | {speed} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=Path(".gpu"))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--cpu-only", action="store_true", help="dry run: CPU rows only, small batches")
    args = parser.parse_args()
    cuda = torch.cuda.is_available() and not args.cpu_only
    device = torch.device("cuda" if cuda else "cpu")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    threads = os.cpu_count() or 1
    clip_batches = [1, 8, 32, 64] if cuda else [1, 2]
    aasist_batches = [1, 8, 32, 128] if cuda else [1, 2]
    env = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnxruntime": ort.__version__,
        "gpu": torch.cuda.get_device_name(0) if cuda else None,
        "cpu_threads": threads,
        "cpu": platform.processor() or platform.machine(),
    }
    env["onnxruntime_int8_kernel"] = int8_kernel_check(threads)
    print(json.dumps(env), flush=True)
    rows: list[Row] = []
    agreements: list[Row] = []
    for bench in (
        lambda: bench_clip(args.models, device, clip_batches, threads),
        lambda: bench_faces(args.models, device),
        lambda: bench_aasist(args.models, device, aasist_batches, threads),
    ):
        got, agreement = bench()
        rows += got
        agreements.append(agreement)
        print(_markdown(got), flush=True)
        print(json.dumps(agreement), flush=True)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "gpu_bench.json").write_text(
            json.dumps({"env": env, "rows": rows, "agreement": agreements}, indent=1) + "\n"
        )
        (args.out / "gpu_bench.md").write_text(_markdown(rows) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
