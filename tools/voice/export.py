"""Export resemblyzer's GE2E speaker encoder to a small ONNX file for the runtime (build time only).

    pip install torch==2.13.0 librosa webrtcvad-wheels onnx && pip install --no-deps resemblyzer==0.1.4
    python tools/voice/export.py --out src/civicshield/data/models/voice --check ../shared/datasets/dev

Steps: load ``pretrained.pt`` from the installed resemblyzer wheel (its ``model_state``: a 3-layer LSTM
40->256 and a 256->256 linear layer; the GE2E training-only similarity scalars are left out) with
``strict=True`` into the same modules; put librosa's 40-band mel filter bank (16 kHz, n_fft 400) in front,
so the file takes power spectrogram frames; export with a dynamic batch axis; store every weight matrix as
float16 with a Cast in front (5.7 MB of float32 weights become 2.9 MB: the project keeps files under 5 MB);
then check on real speech that our numpy framing (``civicshield.analyzers.ml.voice_features``) plus
onnxruntime reproduces resemblyzer's own ``VoiceEncoder.embed_utterance`` on the same preprocessed wave
(cosine >= 0.9999), and print size and sha256.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.util
import sys
from pathlib import Path

import librosa
import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper
from torch import nn

ROOT = Path(__file__).resolve().parents[2]
OPSET = 17
MIN_COSINE = 0.9999


def _features_module():  # the runtime's framing, without importing the whole civicshield package
    path = ROOT / "src/civicshield/analyzers/ml/voice_features.py"
    spec = importlib.util.spec_from_file_location("voice_features", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Encoder(nn.Module):
    def __init__(self, mel_basis: np.ndarray) -> None:
        super().__init__()
        self.register_buffer("mel_basis", torch.from_numpy(mel_basis.T.astype(np.float32).copy()))
        self.lstm = nn.LSTM(40, 256, 3, batch_first=True)
        self.linear = nn.Linear(256, 256)
        self.relu = nn.ReLU()

    def forward(self, power: torch.Tensor) -> torch.Tensor:
        mels = torch.matmul(power, self.mel_basis)
        _, (hidden, _) = self.lstm(mels)
        raw = self.relu(self.linear(hidden[-1]))
        return raw / torch.norm(raw, dim=1, keepdim=True)


def _weights_file() -> Path:
    import resemblyzer

    return Path(resemblyzer.__file__).resolve().parent / "pretrained.pt"


def build() -> Encoder:
    mel_basis = librosa.filters.mel(sr=16_000, n_fft=400, n_mels=40)
    model = Encoder(mel_basis)
    state = torch.load(_weights_file(), map_location="cpu")["model_state"]
    state = {k: v for k, v in state.items() if not k.startswith("similarity_")}
    state["mel_basis"] = model.mel_basis
    model.load_state_dict(state, strict=True)
    return model.eval()


def _half_weights(model: onnx.ModelProto) -> onnx.ModelProto:
    """Store large float32 initializers as float16, each behind a Cast back to float32."""
    graph = model.graph
    casts = []
    for init in list(graph.initializer):
        if init.data_type != onnx.TensorProto.FLOAT or np.prod(init.dims) < 4096:
            continue
        array = numpy_helper.to_array(init)
        half = numpy_helper.from_array(array.astype(np.float16), init.name + "_f16")
        graph.initializer.remove(init)
        graph.initializer.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=onnx.TensorProto.FLOAT))
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(casts + nodes)
    onnx.checker.check_model(model)
    return model


def export(out_dir: Path) -> Path:
    model = build()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "ge2e.onnx"
    example = torch.zeros(2, 160, 201)
    torch.onnx.export(
        model,
        (example,),
        str(target),
        input_names=["power"],
        output_names=["embedding"],
        dynamic_axes={"power": {0: "batch"}, "embedding": {0: "batch"}},
        opset_version=OPSET,
        dynamo=False,
    )
    onnx.save(_half_weights(onnx.load(str(target))), str(target))
    return target


def check(target: Path, dev: Path) -> None:
    import onnxruntime as ort
    from resemblyzer import VoiceEncoder, preprocess_wav

    features = _features_module()
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    reference = VoiceEncoder(device="cpu", verbose=False)
    rows = [r for r in csv.DictReader((dev / "manifest.csv").open()) if r["modality"] == "audio"][:24]
    worst = 1.0
    for row in rows:
        wave = preprocess_wav(dev / row["path"])
        expected = reference.embed_utterance(wave)
        batch = features.partials(wave, drop_silent=False)
        partial = session.run(None, {"power": batch})[0]
        mean = partial.mean(axis=0)
        ours = mean / np.linalg.norm(mean)
        worst = min(worst, float(ours @ expected))
    print(f"checked {len(rows)} dev clips: lowest cosine to resemblyzer's own embedding {worst:.6f}")
    if worst < MIN_COSINE:
        raise SystemExit(f"export differs from resemblyzer (cosine {worst:.6f} < {MIN_COSINE})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--check", type=Path, help="the dev dataset folder (manifest.csv) to check against")
    args = parser.parse_args()
    torch.manual_seed(0)
    target = export(args.out)
    if args.check:
        check(target, args.check)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    print(f"{target}: {target.stat().st_size:,} bytes, sha256 {digest}")


if __name__ == "__main__":
    sys.exit(main())
