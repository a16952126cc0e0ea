"""Per-item latency and throughput of each ML detector and forensic analyzer on this machine.

    .venv/bin/python bench/bench_detectors.py [--repeat 3] [--batch 8]

Baseline, measured in the same run: decoding the same item (the floor any analyzer pays). Inputs are
generated (a 1024x768 poster JPEG, 10 s of synthetic speech or a tone, a 10 s 640x360 clip), so the numbers
measure cost, not accuracy.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
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
            base = _median_s(lambda m=media: _decode(m), args.repeat)
            per_item = _median_s(lambda m=media, a=analyzer: a.analyze(m), args.repeat)
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
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
