"""Run the project's ONNX graphs with PyTorch, on a GPU, for latency measurements (build/bench time only).

Why this exists: the runtime is onnxruntime on CPU. The device machine that measures GPU latency has
PyTorch with CUDA but only the CPU build of onnxruntime, and onnxruntime-gpu's CUDA provider is several
hundred MB (more than a device call carries). So the same ONNX graph is executed node by node with torch
operators. Only the operators our four graphs use are implemented (CLIP ViT-B/16 int8, YuNet, SFace,
plus what AASIST's torch source needs none of); anything else raises ``NotImplementedError``.

How it stays fast enough to measure the GPU rather than Python:

* ``Plan`` fixes the input shapes and folds everything that does not depend on input *values* (shape
  arithmetic, weight de-quantisation, constants) once, on the CPU, so only the tensor work is left;
* the remaining nodes run in order on the device; a ``Plan`` can be captured into a CUDA graph
  (``CudaGraphRunner``) so one replay launches every kernel without Python in the loop.

``MatMulInteger`` (the int8 model's matrix products) has two implementations:
``exact`` (integer products emulated in float32 — matches onnxruntime to float rounding) and ``int8``
(``torch._int_mm``: int8 tensor cores with int32 accumulation, the way a GPU would run this model).
Nothing in ``src/`` imports this module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import helper, numpy_helper

Tensor = torch.Tensor
Op = Callable[["Ctx", onnx.NodeProto, list[Any], dict[str, Any]], list[Tensor]]

_ONNX_TO_TORCH = {
    onnx.TensorProto.FLOAT: torch.float32,
    onnx.TensorProto.FLOAT16: torch.float16,
    onnx.TensorProto.INT64: torch.int64,
    onnx.TensorProto.INT32: torch.int32,
    onnx.TensorProto.INT8: torch.int8,
    onnx.TensorProto.UINT8: torch.uint8,
    onnx.TensorProto.BOOL: torch.bool,
}

# Inputs read as Python values (shapes, axes, indices into shapes), by op and input position.
_SHAPE_ARGS = {
    "Reshape": {1},
    "Unsqueeze": {1},
    "Squeeze": {1},
    "Slice": {1, 2, 3, 4},
    "Expand": {1},
    "ConstantOfShape": {0},
    "Resize": {1, 2, 3},
    "ReduceMean": {1},
}


@dataclass
class Ctx:
    """What an operator needs besides its inputs: the MatMulInteger mode."""

    matmul_integer: str = "exact"


def _attrs(node: onnx.NodeProto) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for a in node.attribute:
        value = helper.get_attribute_value(a)
        if isinstance(value, bytes):
            value = value.decode()
        elif isinstance(value, onnx.TensorProto):
            value = torch.from_numpy(numpy_helper.to_array(value).copy())
        out[a.name] = value
    return out


def _ints(x: Any) -> list[int]:
    if isinstance(x, Tensor):
        return [int(v) for v in x.reshape(-1).tolist()]
    return [int(v) for v in x]


def _axis(axis: int, rank: int) -> int:
    return axis + rank if axis < 0 else axis


# ---- operators --------------------------------------------------------------------------------------------


def _binary(fn: Callable[[Tensor, Tensor], Tensor]) -> Op:
    return lambda ctx, node, x, a: [fn(x[0], x[1])]


def _unary(fn: Callable[[Tensor], Tensor]) -> Op:
    return lambda ctx, node, x, a: [fn(x[0])]


def _cast(ctx: Ctx, node: onnx.NodeProto, x: list[Any], a: dict[str, Any]) -> list[Tensor]:
    return [x[0].to(_ONNX_TO_TORCH[a["to"]])]


def _reshape(ctx: Ctx, node: onnx.NodeProto, x: list[Any], a: dict[str, Any]) -> list[Tensor]:
    shape = _ints(x[1])
    if not a.get("allowzero", 0):
        shape = [x[0].shape[i] if s == 0 else s for i, s in enumerate(shape)]
    return [x[0].reshape(shape)]


def _unsqueeze(ctx: Ctx, node: onnx.NodeProto, x: list[Any], a: dict[str, Any]) -> list[Tensor]:
    axes = _ints(x[1]) if len(x) > 1 else list(a["axes"])
    out = x[0]
    rank = out.dim() + len(axes)
    for axis in sorted(_axis(v, rank) for v in axes):
        out = out.unsqueeze(axis)
    return [out]


def _squeeze(ctx: Ctx, node: onnx.NodeProto, x: list[Any], a: dict[str, Any]) -> list[Tensor]:
    axes = _ints(x[1]) if len(x) > 1 else list(a.get("axes", []))
    if not axes:
        return [x[0].squeeze()]
    return [x[0].squeeze(tuple(_axis(v, x[0].dim()) for v in axes))]


def _concat(ctx: Ctx, node: onnx.NodeProto, x: list[Any], a: dict[str, Any]) -> list[Tensor]:
    parts = [t for t in x if t.numel() or t.dim() > 1]
    return [torch.cat(parts, dim=a["axis"])]


def _gather(ctx: Ctx, node: onnx.NodeProto, x: list[Any], a: dict[str, Any]) -> list[Tensor]:
    data, idx = x[0], x[1].to(x[0].device)
    axis = _axis(a.get("axis", 0), data.dim())
    idx = torch.where(idx < 0, idx + data.shape[axis], idx)
    out = torch.index_select(data, axis, idx.reshape(-1).long())
    return [out.reshape(data.shape[:axis] + idx.shape + data.shape[axis + 1 :])]


def _slice(ctx: Ctx, node: onnx.NodeProto, x: list[Any], a: dict[str, Any]) -> list[Tensor]:
    data = x[0]
    starts, ends = _ints(x[1]), _ints(x[2])
    axes = _ints(x[3]) if len(x) > 3 and x[3] is not None else list(range(len(starts)))
    steps = _ints(x[4]) if len(x) > 4 and x[4] is not None else [1] * len(starts)
    index: list[slice] = [slice(None)] * data.dim()
    for s, e, ax, st in zip(starts, ends, axes, steps, strict=True):
        if st != 1:
            raise NotImplementedError("Slice with step != 1")
        dim = data.shape[_axis(ax, data.dim())]
        index[_axis(ax, data.dim())] = slice(max(min(s, dim), -dim), max(min(e, dim), -dim - 1))
    return [data[tuple(index)]]


def _transpose(ctx: Ctx, node: onnx.NodeProto, x: list[Any], a: dict[str, Any]) -> list[Tensor]:
    perm = a.get("perm") or list(reversed(range(x[0].dim())))
    return [x[0].permute(*perm)]


def _reduce_mean(ctx: Ctx, node: onnx.NodeProto, x: list[Any], a: dict[str, Any]) -> list[Tensor]:
    axes = _ints(x[1]) if len(x) > 1 else list(a["axes"])
    return [x[0].mean(dim=tuple(axes), keepdim=bool(a.get("keepdims", 1)))]


def _softmax(ctx: Ctx, node: onnx.NodeProto, x: list[Any], a: dict[str, Any]) -> list[Tensor]:
    return [torch.softmax(x[0], dim=a.get("axis", -1))]


def _conv(ctx: Ctx, node: onnx.NodeProto, x: list[Any], a: dict[str, Any]) -> list[Tensor]:
    pads = a.get("pads", [0, 0, 0, 0])
    if pads[:2] != pads[2:]:
        raise NotImplementedError("asymmetric Conv padding")
    bias = x[2] if len(x) > 2 else None
    return [
        F.conv2d(
            x[0],
            x[1],
            bias,
            stride=a.get("strides", 1),
            padding=pads[:2],
            dilation=a.get("dilations", 1),
            groups=a.get("group", 1),
        )
    ]


def _max_pool(ctx: Ctx, node: onnx.NodeProto, x: list[Any], a: dict[str, Any]) -> list[Tensor]:
    pads = a.get("pads", [0, 0, 0, 0])
    return [
        F.max_pool2d(
            x[0],
            a["kernel_shape"],
            a.get("strides", a["kernel_shape"]),
            pads[:2],
            ceil_mode=bool(a.get("ceil_mode", 0)),
        )
    ]


def _resize(ctx: Ctx, node: onnx.NodeProto, x: list[Any], a: dict[str, Any]) -> list[Tensor]:
    if a.get("mode", "nearest") != "nearest" or a.get("coordinate_transformation_mode") != "asymmetric":
        raise NotImplementedError("Resize other than nearest/asymmetric")
    sizes = _ints(x[3]) if len(x) > 3 and x[3] is not None and x[3].numel() else None
    if sizes is None:
        scales = [float(v) for v in x[2].reshape(-1).tolist()]
        sizes = [int(s * f) for s, f in zip(x[0].shape, scales, strict=True)]
    return [F.interpolate(x[0], size=sizes[2:], mode="nearest")]


def _batch_norm(ctx: Ctx, node: onnx.NodeProto, x: list[Any], a: dict[str, Any]) -> list[Tensor]:
    return [F.batch_norm(x[0], x[3], x[4], x[1], x[2], False, 0.0, a.get("epsilon", 1e-5))]


def _gemm(ctx: Ctx, node: onnx.NodeProto, x: list[Any], a: dict[str, Any]) -> list[Tensor]:
    left = x[0].t() if a.get("transA", 0) else x[0]
    right = x[1].t() if a.get("transB", 0) else x[1]
    out = a.get("alpha", 1.0) * (left @ right)
    if len(x) > 2 and x[2] is not None:
        out = out + a.get("beta", 1.0) * x[2]
    return [out]


def _prelu(ctx: Ctx, node: onnx.NodeProto, x: list[Any], a: dict[str, Any]) -> list[Tensor]:
    slope = x[1]
    return [torch.where(x[0] >= 0, x[0], x[0] * slope)]


def _flatten(ctx: Ctx, node: onnx.NodeProto, x: list[Any], a: dict[str, Any]) -> list[Tensor]:
    axis = _axis(a.get("axis", 1), x[0].dim())
    return [x[0].reshape(int(np.prod(x[0].shape[:axis])), -1)]


def _expand(ctx: Ctx, node: onnx.NodeProto, x: list[Any], a: dict[str, Any]) -> list[Tensor]:
    shape = _ints(x[1])
    rank = max(len(shape), x[0].dim())
    target = [1] * (rank - len(shape)) + shape
    have = [1] * (rank - x[0].dim()) + list(x[0].shape)
    final = [h if t == 1 else t for h, t in zip(have, target, strict=True)]
    return [x[0].reshape(have).expand(final)]


def _constant_of_shape(ctx: Ctx, node: onnx.NodeProto, x: list[Any], a: dict[str, Any]) -> list[Tensor]:
    value = a.get("value", torch.zeros(1))
    return [torch.full(_ints(x[0]), value.reshape(-1)[0].item(), dtype=value.dtype)]


def _where(ctx: Ctx, node: onnx.NodeProto, x: list[Any], a: dict[str, Any]) -> list[Tensor]:
    return [torch.where(x[0].bool(), x[1], x[2])]


def _constant(ctx: Ctx, node: onnx.NodeProto, x: list[Any], a: dict[str, Any]) -> list[Tensor]:
    if "value" in a:
        return [a["value"]]
    if "value_float" in a:
        return [torch.tensor(a["value_float"], dtype=torch.float32)]
    if "value_int" in a:
        return [torch.tensor(a["value_int"], dtype=torch.int64)]
    if "value_ints" in a:
        return [torch.tensor(a["value_ints"], dtype=torch.int64)]
    raise NotImplementedError(f"Constant with {sorted(a)}")


def _shape(ctx: Ctx, node: onnx.NodeProto, x: list[Any], a: dict[str, Any]) -> list[Tensor]:
    return [torch.tensor(list(x[0].shape), dtype=torch.int64)]


def _dequantize(ctx: Ctx, node: onnx.NodeProto, x: list[Any], a: dict[str, Any]) -> list[Tensor]:
    q, scale = x[0], x[1]
    zero = x[2] if len(x) > 2 and x[2] is not None else torch.zeros_like(scale, dtype=q.dtype)
    axis = _axis(a.get("axis", 1), q.dim())
    block = a.get("block_size", 0)
    if scale.numel() > 1 and block:
        scale = scale.repeat_interleave(block, dim=axis).narrow(axis, 0, q.shape[axis])
        zero = zero.repeat_interleave(block, dim=axis).narrow(axis, 0, q.shape[axis])
    elif scale.numel() > 1:
        view = [1] * q.dim()
        view[axis] = -1
        scale, zero = scale.reshape(view), zero.reshape(view)
    return [(q.float() - zero.float()) * scale]


def _dynamic_quantize(ctx: Ctx, node: onnx.NodeProto, x: list[Any], a: dict[str, Any]) -> list[Tensor]:
    # ONNX DynamicQuantizeLinear: uint8, range always includes 0, round half to even.
    v = x[0]
    lo = torch.clamp(v.amin(), max=0.0)
    hi = torch.clamp(v.amax(), min=0.0)
    scale = (hi - lo) / 255.0
    scale = torch.where(scale == 0, torch.ones_like(scale), scale)
    zero = torch.clamp(torch.round(-lo / scale), 0, 255)
    q = torch.clamp(torch.round(v / scale) + zero, 0, 255)
    return [q.to(torch.uint8), scale, zero.to(torch.uint8)]


def _matmul_integer(ctx: Ctx, node: onnx.NodeProto, x: list[Any], a: dict[str, Any]) -> list[Tensor]:
    left, right = x[0], x[1]
    a_zero = x[2] if len(x) > 2 and x[2] is not None else None
    b_zero = x[3] if len(x) > 3 and x[3] is not None else None
    if ctx.matmul_integer == "int8" and left.numel() // left.shape[-1] > 16:  # cuBLASLt int8 needs m > 16
        checkable = not (right.is_cuda and torch.cuda.is_current_stream_capturing())  # no syncs in capture
        if right.dtype != torch.int8 or (checkable and b_zero is not None and bool((b_zero != 0).any())):
            raise NotImplementedError("int8 MatMulInteger needs int8 weights with a zero zero point")
        # (A - za) @ B = (A - 128) @ B + (128 - za) * colsum(B), with A - 128 in int8.
        flat = left.reshape(-1, left.shape[-1])
        shifted = (flat.to(torch.int16) - 128).to(torch.int8)
        out = torch._int_mm(shifted, right).float()
        if a_zero is not None:
            out = out + (128.0 - a_zero.float()) * right.float().sum(0)
        else:
            out = out + 128.0 * right.float().sum(0)
        return [out.reshape(*left.shape[:-1], right.shape[-1])]
    centred = left.float() - (a_zero.float() if a_zero is not None else 0.0)
    weights = right.float() - (b_zero.float() if b_zero is not None else 0.0)
    return [centred @ weights]


OPS: dict[str, Op] = {
    "Add": _binary(torch.add),
    "Sub": _binary(torch.sub),
    "Mul": _binary(torch.mul),
    "Div": _binary(lambda p, q: torch.div(p, q, rounding_mode="trunc") if not p.is_floating_point() else p / q),
    "Pow": _binary(torch.pow),
    "MatMul": _binary(torch.matmul),
    "Equal": _binary(torch.eq),
    "Sqrt": _unary(torch.sqrt),
    "Sigmoid": _unary(torch.sigmoid),
    "Relu": _unary(torch.relu),
    "Dropout": _unary(lambda t: t),
    "Cast": _cast,
    "Reshape": _reshape,
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Concat": _concat,
    "Gather": _gather,
    "Slice": _slice,
    "Transpose": _transpose,
    "ReduceMean": _reduce_mean,
    "Softmax": _softmax,
    "Conv": _conv,
    "MaxPool": _max_pool,
    "Resize": _resize,
    "BatchNormalization": _batch_norm,
    "Gemm": _gemm,
    "PRelu": _prelu,
    "Flatten": _flatten,
    "Expand": _expand,
    "ConstantOfShape": _constant_of_shape,
    "Where": _where,
    "Constant": _constant,
    "Shape": _shape,
    "DequantizeLinear": _dequantize,
    "DynamicQuantizeLinear": _dynamic_quantize,
    "MatMulInteger": _matmul_integer,
}


# ---- plans ------------------------------------------------------------------------------------------------


@dataclass
class _Step:
    node: onnx.NodeProto
    op: Op
    attrs: dict[str, Any]
    inputs: list[tuple[str, bool]]  # (value name, or static key: name, or "cpu:" + name for shape args)


@dataclass
class Plan:
    """One ONNX graph specialised to fixed input shapes: static values folded, tensor work left."""

    steps: list[_Step]
    static: dict[str, Any]  # folded values read by steps: CPU tensors for shape arguments, else on device
    outputs: list[str]
    input_names: list[str]
    ctx: Ctx
    folded: int = 0

    def run(self, *inputs: Tensor) -> list[Tensor]:
        values: dict[str, Any] = dict(zip(self.input_names, inputs, strict=True))
        static = self.static
        for step in self.steps:
            args = [static[n] if s else values[n] if n else None for n, s in step.inputs]
            outs = step.op(self.ctx, step.node, args, step.attrs)
            for name, value in zip(step.node.output, outs, strict=False):
                values[name] = value
        return [values[n] if n in values else static[n] for n in self.outputs]


def plan(
    model: onnx.ModelProto,
    example: Sequence[Tensor],
    device: torch.device,
    *,
    matmul_integer: str = "exact",
    input_names: Sequence[str] | None = None,
) -> Plan:
    """Specialise ``model`` to the shapes of ``example`` on ``device``.

    One pass over the graph: a node whose inputs are all static (initialisers, constants, shapes) is
    computed now on the CPU and folded; every other node is run once on ``device`` (which checks it) and
    kept as a step. Static inputs of steps are placed where the step reads them: shape arguments stay on
    the CPU as values, tensor operands move to ``device`` once."""
    graph = model.graph
    ctx = Ctx(matmul_integer=matmul_integer)
    cpu: dict[str, Any] = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in graph.initializer}
    names = list(input_names or [i.name for i in graph.input if i.name not in cpu])
    static: dict[str, Any] = {}
    live: dict[str, Any] = {n: e.to(device) for n, e in zip(names, example, strict=True)}
    steps: list[_Step] = []
    folded = 0
    for node in graph.node:
        op = OPS.get(node.op_type)
        if op is None:
            raise NotImplementedError(f"ONNX operator {node.op_type}")
        attrs = _attrs(node)
        if node.op_type == "Shape" or not any(n in live for n in node.input if n):
            # The shape of a live value is static too: shapes are fixed by the plan.
            args = [live[n] if n in live else cpu.get(n) if n else None for n in node.input]
            cpu.update(zip(node.output, op(ctx, node, args, attrs), strict=False))
            folded += 1
            continue
        shape_args = _SHAPE_ARGS.get(node.op_type, set())
        inputs: list[tuple[str, bool]] = []
        for i, name in enumerate(node.input):
            if not name or name in live:
                inputs.append((name, False))
                continue
            key = f"cpu:{name}" if i in shape_args else name
            if key not in static:
                static[key] = cpu[name] if i in shape_args else cpu[name].to(device)
            inputs.append((key, True))
        step = _Step(node, op, attrs, inputs)
        args = [static[n] if s else live[n] if n else None for n, s in inputs]
        live.update(zip(node.output, op(ctx, node, args, attrs), strict=False))
        steps.append(step)
    for out in graph.output:
        if out.name not in live:
            static[out.name] = cpu[out.name].to(device)
    return Plan(steps, static, [o.name for o in graph.output], names, ctx, folded)


class CudaGraphRunner:
    """``fn`` (a ``Plan``'s ``run``, or a torch module) captured once into a CUDA graph for fixed input
    tensors, after two warm-up calls on a side stream; ``run`` copies the inputs in and replays."""

    def __init__(self, fn: Callable[..., Any], example: Sequence[Tensor]) -> None:
        self.inputs = [e.clone() for e in example]
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(2):
                fn(*self.inputs)
        torch.cuda.current_stream().wait_stream(stream)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.outputs = fn(*self.inputs)

    def run(self, *inputs: Tensor) -> Any:
        for slot, value in zip(self.inputs, inputs, strict=True):
            slot.copy_(value)
        self.graph.replay()
        return self.outputs


__all__ = ["OPS", "CudaGraphRunner", "Plan", "plan"]
