"""End-to-end `analyze` latency vs the cost of merely decoding the same item, in the same process.

    .venv/bin/python bench/bench_analyze.py [--repeat 3]

Rows: a 1 MP and a 12 MP JPEG, and 720p video (reported per minute of video). Baseline: decoding only
(Pillow for images; PyAV decoding every frame for video). Per-analyzer times come from the signals. A second
table: a video's analysis with the opt-in video detector (as it ran by default before) and without it; a
third, the forensic measures' shared decode; a fourth, the analyzers one after another against two threads.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from civicshield.demo import synth
from civicshield.hashing.cache import clear_hash_cache
from civicshield.media import Media, decode_image, video_frames
from civicshield.pipeline import Engine
from civicshield.settings import Settings


def _time(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--video-seconds", type=float, default=20.0)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    items = {
        "image 1 MP (1152x864 JPEG)": synth.save_image(
            synth.poster(size=(1152, 864)), tmp / "1mp.jpg", quality=90
        ),
        "image 12 MP (4000x3000 JPEG)": synth.save_image(
            synth.poster(size=(4000, 3000)), tmp / "12mp.jpg", quality=90
        ),
        f"video 720p, {args.video_seconds:.0f} s": synth.write_video(
            tmp / "720p.mp4", seconds=args.video_seconds, fps=25, size=(1280, 720)
        ),
    }
    engine = Engine.from_settings(Settings(data_dir=tmp / "data"))
    table = Table(title="analyze latency vs decode-only baseline (median of runs, this machine)")
    for col in (
        "item",
        "decode only (s)",
        "analyze (s)",
        "ratio",
        "per minute of video (s)",
        "slowest analyzers",
    ):
        table.add_column(col, justify="right" if col != "item" else "left")
    for label, path in items.items():
        media = Media.open(path)
        if media.kind.value == "image":
            base = _time(lambda m=media: decode_image(m), args.repeat)
        else:
            base = _time(lambda m=media: sum(1 for _ in video_frames(m, fps=None)), args.repeat)
        per_analyzer: dict[str, list[float]] = defaultdict(list)

        def run(m: Media = media, per_analyzer: dict[str, list[float]] = per_analyzer) -> None:
            clear_hash_cache()  # hashes are cached by content; a benchmark must recompute them
            verdict = engine.analyze(Media.from_bytes(m.data, name=m.name))
            for s in verdict.signals:
                per_analyzer[s.analyzer].append(s.elapsed_ms)

        total = _time(run, args.repeat)
        slow = sorted(((statistics.median(v), k) for k, v in per_analyzer.items()), reverse=True)[:3]
        per_min = f"{total * 60 / media.info.duration_s:.1f}" if media.info.duration_s else "–"
        table.add_row(
            label,
            f"{base:.3f}",
            f"{total:.3f}",
            f"{total / base:.1f}x",
            per_min,
            ", ".join(f"{k} {ms / 1000:.2f}s" for ms, k in slow),
        )
    engine.close()
    Console(width=150).print(table)
    video = Media.open(items[f"video 720p, {args.video_seconds:.0f} s"])
    _video_detector_cost(video, tmp, args.repeat)
    _shared_decode(Media.open(items["image 12 MP (4000x3000 JPEG)"]), args.repeat)
    _threads(items, tmp, args.repeat)


def _threads(items: dict[str, Path], tmp: Path, repeat: int) -> None:
    """Every default analyzer one after another (``analysis_threads=1``, the baseline: how they ran before)
    against side by side on two threads (the default now), on each item."""
    engines = {n: Engine.from_settings(Settings(data_dir=tmp / "data", analysis_threads=n)) for n in (1, 2)}
    table = Table(
        title="analyze with the item's analyzers one after another vs on two threads (median of runs)"
    )
    for col in ("item", "1 thread (s; baseline)", "2 threads (s)", "ratio"):
        table.add_column(col, justify="right" if col != "item" else "left")
    for label, path in items.items():
        media = Media.open(path)
        took = {}
        for n, engine in engines.items():

            def run(engine: Engine = engine, media: Media = media) -> None:
                clear_hash_cache()
                engine.analyze(Media.from_bytes(media.data, name=media.name))

            run()  # warm: models loaded, first-call allocations done
            took[n] = _time(run, repeat)
        table.add_row(label, f"{took[1]:.2f}", f"{took[2]:.2f}", f"{took[2] / took[1]:.2f}x")
    for engine in engines.values():
        engine.close()
    Console(width=150).print(table)


def _shared_decode(photo: Media, repeat: int) -> None:
    """The three forensic measures on one photo: each decoding it and computing its luminance itself (the
    baseline: how they ran before) against one shared decode (``forensics.base.decoded``)."""
    from civicshield.analyzers.forensics import base
    from civicshield.analyzers.forensics.ela import ElaAnalyzer
    from civicshield.analyzers.forensics.noise import NoiseResidualAnalyzer
    from civicshield.analyzers.forensics.spectral import SpectralAnalyzer

    analyzers = [ElaAnalyzer(), NoiseResidualAnalyzer(), SpectralAnalyzer()]

    def each_decodes() -> None:
        for analyzer in analyzers:
            base._last = None  # the benchmark forgets the shared decode on purpose
            analyzer.analyze(photo)

    def shared() -> None:
        base._last = None
        for analyzer in analyzers:
            analyzer.analyze(photo)

    before, after = _time(each_decodes, repeat), _time(shared, repeat)
    table = Table(title="ela + noise_residual + spectral on a 12 MP JPEG (same process)")
    for col in ("decode", "seconds", "ratio to before"):
        table.add_column(col)
    table.add_row("one per analyzer (before)", f"{before:.2f}", "1.00")
    table.add_row("shared (now)", f"{after:.2f}", f"{after / before:.2f}")
    Console(width=150).print(table)


def _video_detector_cost(video: Media, tmp: Path, repeat: int) -> None:
    """One minute of video with every default analyzer, against the same with the opt-in video detector
    added (the baseline: what a video's analysis cost while it ran by default)."""
    from civicshield.analyzers.registry import AnalyzerRegistry

    defaults = tuple(AnalyzerRegistry.discover().default_names())
    rows = []
    for label, names in (
        ("with video_detector (before)", (*defaults, "video_detector")),
        ("default (now)", defaults),
    ):
        engine = Engine.from_settings(Settings(data_dir=tmp / "data", analyzers=names))

        def run(engine: Engine = engine) -> None:
            clear_hash_cache()
            engine.analyze(Media.from_bytes(video.data, name=video.name))

        seconds = _time(run, repeat)
        engine.close()
        rows.append((label, seconds * 60 / (video.info.duration_s or 1.0)))
    table = Table(title="one minute of 720p video, every default analyzer (same process)")
    for col in ("lineup", "per minute of video (s)", "ratio to before"):
        table.add_column(col)
    for label, per_minute in rows:
        table.add_row(label, f"{per_minute:.1f}", f"{per_minute / rows[0][1]:.2f}")
    Console(width=150).print(table)


if __name__ == "__main__":
    main()
