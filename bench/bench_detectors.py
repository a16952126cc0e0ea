"""Per-item latency and throughput of each ML detector and forensic analyzer on this machine.

    .venv/bin/python bench/bench_detectors.py [--repeat 3] [--batch 8]

Two tables. (1) Whole analyzers, item after item; baseline measured in the same run: decoding the same item
(the floor any analyzer pays). (2) The models alone, one input per call against ``--batch`` inputs per call
(batched throughput; baseline: batch 1 in the same run), as the production sessions run them (onnxruntime,
the detectors' own thread count). Inputs are generated (a 1024x768 poster JPEG, 10 s of synthetic speech or a
tone, a 10 s 640x360 clip, random tensors for the models), so the numbers measure cost, not accuracy. GPU
numbers for the same models: ``tools/gpu/README.md``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from rich.console import Console
from rich.table import Table

from civicshield.analyzers.registry import AnalyzerRegistry
from civicshield.demo import synth
from civicshield.media import Media, decode_audio, decode_image, video_frames
from civicshield.settings import Settings

DETECTORS = (
    "clip_detector",
    "faces",
    "speech_detector",
    "video_detector",
    "ela",
    "noise_residual",
    "spectral",
)


def _median_s(fn: Callable[[], object], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def _inputs(tmp: Path) -> dict[str, Media]:
    image = synth.save_image(
        synth.poster("CROWD AT THE SQUARE", size=(1024, 768)), tmp / "img.jpg", quality=90
    )
    speech = tmp / "speech.wav"
    if shutil.which("espeak-ng"):
        text = "Polling stations will close early today. Please vote before noon. " * 3
        subprocess.run(["espeak-ng", "-w", str(speech), text], check=True, capture_output=True)
    else:
        synth.write_audio(speech, synth.tone(10.0))
    video = synth.write_video(tmp / "clip.mp4", seconds=10, fps=25, size=(640, 360))
    return {"image": Media.open(image), "audio": Media.open(speech), "video": Media.open(video)}


def _decode(media: Media) -> object:
    if media.kind.value == "image":
        return decode_image(media)
    if media.kind.value == "audio":
        return decode_audio(media)
    return sum(1 for _ in video_frames(media, fps=1.0))


def _model_rows(batch: int, repeat: int) -> list[tuple[str, str, float, float]]:
    """(model, threads, seconds per item at batch 1, seconds per item at ``batch``) for each shipped model."""
    import numpy as np

    from civicshield.analyzers.ml.clip_encoder import ClipEncoder
    from civicshield.analyzers.ml.faces_detect import FaceModels
    from civicshield.analyzers.ml.speech_model import AASIST, WINDOW_SAMPLES, AasistSession

    rng = np.random.default_rng(0)
    rows = []
    encoder = ClipEncoder.from_package(threads=2, what="bench")
    views = rng.standard_normal((batch, 3, 224, 224)).astype(np.float32)
    encoder.encode(views[:1])
    one = _median_s(lambda: encoder.encode(views[:1]), repeat)
    many = _median_s(lambda: encoder.encode(views), max(1, repeat // 2)) / batch
    rows.append(("CLIP ViT-B/16 int8 (one 224x224 view)", "onnxruntime x2", one, many))
    session = AasistSession(AASIST.locate("bench"), threads=2)
    windows = (0.1 * rng.standard_normal((batch, WINDOW_SAMPLES))).astype(np.float32)
    session.spoof_margins(windows[:1])
    one = _median_s(lambda: session.spoof_margins(windows[:1], batch=1), repeat)
    many = _median_s(lambda: session.spoof_margins(windows, batch=batch), max(1, repeat // 2)) / batch
    rows.append(("AASIST (one 4-s window)", "onnxruntime x2", one, many))
    faces = FaceModels.load("bench")
    frame = rng.integers(0, 256, (360, 640, 3), dtype=np.uint8)
    one = _median_s(lambda: faces.detect(frame), repeat)
    rows.append(("YuNet (640x360 frame; no batch API)", "OpenCV", one, float("nan")))
    blob = rng.uniform(0, 255, (1, 3, 112, 112)).astype(np.float32)

    def embed() -> object:
        return faces.embedder(blob)

    one = _median_s(embed, repeat)
    rows.append(("SFace (112x112 aligned face; one per call)", "onnxruntime", one, float("nan")))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    inputs = _inputs(tmp)
    registry = AnalyzerRegistry.discover()
    table = Table(title="Detector cost per item vs decode-only baseline (median; this machine, CPU)")
    for col in ("detector", "input", "decode (s)", "per item (s)", "ratio", f"items/s over {args.batch}"):
        table.add_column(col, justify="left" if col in ("detector", "input") else "right")
    for name in DETECTORS:
        if name not in registry.names():
            table.add_row(name, "-", "-", "unavailable", "-", "-")
            continue
        analyzer = registry.get(name).from_settings(Settings(data_dir=tmp / "data"))
        for kind, media in inputs.items():
            if not analyzer.accepts(media):
                continue
            analyzer.analyze(media)  # warm-up: model load, first-run allocations
            base = _median_s(partial(_decode, media), args.repeat)
            per_item = _median_s(partial(analyzer.analyze, media), args.repeat)
            start = time.perf_counter()
            for _ in range(args.batch):
                analyzer.analyze(media)
            rate = args.batch / (time.perf_counter() - start)
            table.add_row(
                name,
                f"{kind} ({media.format.name})",
                f"{base:.3f}",
                f"{per_item:.3f}",
                f"{per_item / base:.1f}x",
                f"{rate:.2f}",
            )
        analyzer.close()
    console = Console(width=140)
    console.print(table)
    models = Table(title=f"Model forward passes: batch 1 vs batch {args.batch} (per item; this machine, CPU)")
    for col in ("model", "engine", "batch 1 (s/item)", f"batch {args.batch} (s/item)", "speed-up", "items/s"):
        models.add_column(col, justify="left" if col in ("model", "engine") else "right")
    for name, engine, one, many in _model_rows(args.batch, args.repeat):
        batched = many == many  # NaN where the engine has no batch API
        models.add_row(
            name,
            engine,
            f"{one:.3f}",
            f"{many:.3f}" if batched else "-",
            f"{one / many:.2f}x" if batched else "-",
            f"{1 / (many if batched else one):.1f}",
        )
    console.print(models)


if __name__ == "__main__":
    main()
