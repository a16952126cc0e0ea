"""``int8_exact``: the rewrite that keeps onnxruntime's int8 matrix products exact on every CPU.

The expected answers are plain integer arithmetic (numpy int64), independent of onnxruntime. The values
are chosen to saturate a 16-bit sum of two products (255 * 127 * 2 = 64,770 > 32,767), which onnxruntime's
uint8 x int8 kernel does on x86 CPUs without AVX-VNNI."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from civicshield.analyzers.ml.int8_exact import unsigned_weights


def _model(weights: np.ndarray, *, zero_point: bool = True, readers: int = 1) -> bytes:
    a = helper.make_tensor_value_info("a", TensorProto.UINT8, [3, weights.shape[0]])
    outputs = [
        helper.make_tensor_value_info(f"y{i}", TensorProto.INT32, [3, weights.shape[1]])
        for i in range(readers)
    ]
    init = [numpy_helper.from_array(weights, "w"), numpy_helper.from_array(np.array(7, np.uint8), "az")]
    inputs = ["a", "w", "az"]
    if zero_point:
        init.append(numpy_helper.from_array(np.zeros(weights.shape[1], np.int8), "wz"))
        inputs.append("wz")
    nodes = [helper.make_node("MatMulInteger", inputs, [f"y{i}"]) for i in range(readers)]
    graph = helper.make_graph(nodes, "g", [a], outputs, init)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)]).SerializeToString()


def _run(model: bytes, a: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {"a": a})[0])


@pytest.fixture
def operands() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (3, 64), dtype=np.uint8)
    a[0] = 255
    w = rng.integers(-128, 128, (64, 16), dtype=np.int8)
    w[:, 0] = 127
    return a, w


@pytest.mark.parametrize("zero_point", [True, False])
def test_rewritten_products_are_exact(operands: tuple[np.ndarray, np.ndarray], zero_point: bool) -> None:
    a, w = operands
    exact = (a.astype(np.int64) - 7) @ w.astype(np.int64)
    assert exact[0, 0] == 248 * 127 * 64  # far above what a 16-bit pair sum can hold
    model, rewritten = unsigned_weights(_model(w, zero_point=zero_point))
    assert rewritten == 1
    np.testing.assert_array_equal(_run(model, a), exact)


def test_weights_become_uint8_with_a_shifted_zero_point(operands: tuple[np.ndarray, np.ndarray]) -> None:
    _, w = operands
    model, _ = unsigned_weights(_model(w))
    init = {t.name: numpy_helper.to_array(t) for t in onnx.load_from_string(model).graph.initializer}
    assert init["w"].dtype == np.uint8 and init["wz"].dtype == np.uint8
    np.testing.assert_array_equal(init["w"].astype(np.int16) - init["wz"].astype(np.int16), w)


def test_weights_read_elsewhere_are_left_alone(operands: tuple[np.ndarray, np.ndarray]) -> None:
    _, w = operands
    original = _model(w, readers=2)
    model, rewritten = unsigned_weights(original)
    assert rewritten == 0
    init = {t.name: numpy_helper.to_array(t) for t in onnx.load_from_string(model).graph.initializer}
    assert init["w"].dtype == np.int8


def test_shipped_encoder_has_every_product_rewritten() -> None:
    from civicshield.analyzers.ml.clip_encoder import ClipEncoder

    encoder = ClipEncoder.from_package(threads=1)
    assert encoder.unsigned_matmuls == 73  # every MatMulInteger of the ViT-B/16 export
