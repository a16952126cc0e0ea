"""Make an INT8 ONNX model's integer matrix products exact on every CPU, before onnxruntime loads it.

Why this exists: the CLIP encoder we ship is dynamically quantised (``DynamicQuantizeLinear`` makes uint8
activations, ``MatMulInteger`` multiplies them with int8 weights). On x86 CPUs without AVX-VNNI (AVX2
only: AMD Zen 1-3, Intel before Ice Lake / Cascade Lake), onnxruntime's uint8 x int8 kernel adds pairs of
products in 16 bits with saturation (``VPMADDUBSW``), so sums above 32,767 are clipped. On such a machine
(an AMD EPYC with AVX2) the encoder's embeddings of the same image had a cosine of 0.34-0.63 with the
exact ones, and the shipped probe head scored real development photos at 0.65-0.98 instead of under 0.1:
the detector's answer depended on the CPU it ran on. With uint8 weights (uint8 x uint8) onnxruntime widens
to 16 bits before multiplying and the products are exact everywhere.

The rewrite is the same arithmetic: weights ``B`` become ``B + 128`` (uint8) and their zero point
``zb + 128``, so ``(A - za) @ ((B + 128) - (zb + 128)) == (A - za) @ (B - zb)`` exactly. Only
``MatMulInteger`` nodes whose weights and weight zero point are int8 initialisers read by nothing else are
rewritten; the model file on disk is never changed (its sha256 still verifies).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import onnx
from onnx import numpy_helper

__all__ = ["unsigned_weights"]

_SHIFT = 128


def unsigned_weights(model: bytes) -> tuple[bytes, int]:
    """``model`` with every eligible int8 ``MatMulInteger`` weight made uint8, and how many were rewritten."""
    proto = onnx.load_from_string(model)
    graph = proto.graph
    initializers = {t.name: t for t in graph.initializer}
    readers: dict[str, int] = defaultdict(int)
    for node in graph.node:
        for name in node.input:
            readers[name] += 1
    rewritten = 0
    for node in graph.node:
        if node.op_type != "MatMulInteger" or len(node.input) < 2:
            continue
        weight = initializers.get(node.input[1])
        zero_name = node.input[3] if len(node.input) > 3 else ""
        zero = initializers.get(zero_name) if zero_name else None
        if weight is None or weight.data_type != onnx.TensorProto.INT8 or readers[weight.name] != 1:
            continue
        if zero_name and (zero is None or zero.data_type != onnx.TensorProto.INT8 or readers[zero_name] != 1):
            continue
        weight.CopyFrom(numpy_helper.from_array(_shifted(numpy_helper.to_array(weight)), weight.name))
        if zero is not None:
            zero.CopyFrom(numpy_helper.from_array(_shifted(numpy_helper.to_array(zero)), zero.name))
        else:
            name = f"{weight.name}__uint8_zero_point"
            graph.initializer.append(numpy_helper.from_array(np.array(_SHIFT, dtype=np.uint8), name))
            inputs = list(node.input) + [""] * (4 - len(node.input))
            inputs[3] = name
            del node.input[:]
            node.input.extend(inputs)
        rewritten += 1
    return proto.SerializeToString(), rewritten


def _shifted(values: np.ndarray) -> np.ndarray:
    return (values.astype(np.int16) + _SHIFT).astype(np.uint8)
