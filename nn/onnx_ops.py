"""The ONNX spelling of each operation the engine records: :data:`TRANSLATIONS`.

Each translation reads one recorded tensor (its ``op``, ``parents``, ``attrs`` and shape) and
adds ONNX nodes through :class:`nn.export.GraphBuilder`, returning the name of the value that
holds the tensor. ONNX Runtime computes convolutions and average pools in float32 only, so in a
float64 model both are spelled out with slices and a matrix product (the same math, in float64).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from autograd_lite import Tensor

if TYPE_CHECKING:
    from nn.export import GraphBuilder

_INT64_MAX = np.iinfo(np.int64).max
_INT64_MIN = np.iinfo(np.int64).min

Translation = Callable[["GraphBuilder", Tensor], str]


def _same_op(op_type: str) -> Translation:
    """An operation that is one ONNX node on the same operands (NumPy broadcasting in both)."""

    def translate(b: GraphBuilder, out: Tensor) -> str:
        return b.emit(op_type, b.operands(out))

    return translate


def _pow(b: GraphBuilder, out: Tensor) -> str:
    """base ** exponent; a number exponent is kept in ``attrs`` and becomes a constant."""
    operands = b.operands(out)
    if len(operands) == 1:
        operands.append(b.constant(out.attrs["exponent"], out.dtype))  # type: ignore[index]
    return b.emit("Pow", operands)


def _step(b: GraphBuilder, out: Tensor) -> str:
    """1 where x >= threshold, else 0: a comparison cast back to numbers."""
    (x,) = b.operands(out)
    threshold = b.constant(out.attrs["threshold"], out.dtype)  # type: ignore[index]
    return b.emit("Cast", [b.emit("GreaterOrEqual", [x, threshold])], to=b.elem_type(out.dtype))


def _gelu(b: GraphBuilder, out: Tensor) -> str:
    """GPT-2's GELU, x/2 * (1 + tanh(√(2/π) (x + 0.044715 x³))), spelled out in elementwise
    nodes (ONNX's own Gelu needs opset 20)."""
    (x,) = b.operands(out)
    cube = b.emit("Pow", [x, b.constant(3, out.dtype)])
    inner = b.emit("Add", [x, b.emit("Mul", [b.constant(0.044715, out.dtype), cube])])
    scaled = b.emit("Mul", [b.constant(math.sqrt(2 / math.pi), out.dtype), inner])
    gate = b.emit("Add", [b.constant(1, out.dtype), b.emit("Tanh", [scaled])])
    return b.emit("Mul", [b.emit("Mul", [b.constant(0.5, out.dtype), x]), gate])


def _convert(b: GraphBuilder, out: Tensor) -> str:
    """astype and clone: the value itself, cast to the output's dtype (a clone casts nothing)."""
    return b.operands(out)[0]


def _clip(b: GraphBuilder, out: Tensor) -> str:
    """x limited to [min, max] as Max and Min (the bounds may be arrays, which Clip refuses)."""
    (result,) = b.operands(out)
    for key, op_type in (("min", "Max"), ("max", "Min")):
        bound = out.attrs[key]  # type: ignore[index]
        if bound is not None:
            values = bound.data if isinstance(bound, Tensor) else bound
            result = b.emit(op_type, [result, b.constant(values, out.dtype)])
    return result


def _where_op(b: GraphBuilder, out: Tensor) -> str:
    """a where the condition holds, else b. NOTE: the condition is not a parent (no gradient
    flows to it); it is read from what the backward rule keeps, ``saved[0]``."""
    condition = b.fixed(out.saved[0], b.twin(out).saved[0], "the condition of 'where'")
    return b.emit("Where", [b.constant(condition, bool), *b.operands(out)])


def _reduce_axes(out: Tensor) -> tuple[list[int] | None, bool]:
    """The reduced axes (None: all) and keepdims, from ``attrs``."""
    attrs = out.attrs or {}
    axis = attrs.get("axis")
    axes = None if axis is None else [int(a) for a in np.atleast_1d(axis)]
    return axes, bool(attrs.get("keepdims", False))


def _reduction(op_type: str) -> Translation:
    """sum, mean, max and min over ``axis`` (all axes when None), keeping dims or not."""

    def translate(b: GraphBuilder, out: Tensor) -> str:
        axes, keepdims = _reduce_axes(out)
        inputs = b.operands(out) + ([] if axes is None else [b.ints(axes)])
        return b.emit(op_type, inputs, keepdims=int(keepdims))

    return translate


def _variance(b: GraphBuilder, out: Tensor) -> str:
    """Σ (x - mean)² / (n - ddof), with n counted at run time (the batch axis may be reduced)."""
    (x,) = b.operands(out)
    axes, _ = _reduce_axes(out)
    keepdims = out.ndim == out.parents[0].ndim  # NOTE: var's attrs do not carry keepdims
    axes_input = [] if axes is None else [b.ints(axes)]
    mean = b.emit("ReduceMean", [x, *axes_input], keepdims=1)
    centered = b.emit("Sub", [x, mean])
    squares = b.emit("ReduceSum", [b.emit("Mul", [centered, centered]), *axes_input],
                     keepdims=int(keepdims))
    count = b.emit("Div", [b.emit("Size", [x]), b.emit("Size", [mean])])
    ddof = b.constant((out.attrs or {}).get("ddof", 0), np.int64)
    divisor = b.cast(b.emit("Sub", [count, ddof]), np.dtype(np.int64), out.dtype)
    return b.emit("Div", [squares, divisor])


def _std(b: GraphBuilder, out: Tensor) -> str:
    return b.emit("Sqrt", [_variance(b, out)])


def _layer_norm(b: GraphBuilder, out: Tensor) -> str:
    """(x - mean) / √(var + eps) * weights + bias over ``axes``, spelled out as the nine
    operations it fuses: the same arithmetic, in the model's dtype."""
    x, weights, bias = b.operands(out)
    axes = b.ints(list(out.attrs["axes"]))  # type: ignore[index]
    centered = b.emit("Sub", [x, b.emit("ReduceMean", [x, axes], keepdims=1)])
    variance = b.emit("ReduceMean", [b.emit("Mul", [centered, centered]), axes], keepdims=1)
    eps = b.constant(out.attrs["eps"], out.dtype)  # type: ignore[index]
    normalized = b.emit("Div", [centered, b.emit("Sqrt", [b.emit("Add", [variance, eps])])])
    return b.emit("Add", [b.emit("Mul", [normalized, weights]), bias])


def _softmax(op_type: str) -> Translation:
    def translate(b: GraphBuilder, out: Tensor) -> str:
        return b.emit(op_type, b.operands(out), axis=out.attrs["axis"])  # type: ignore[index]

    return translate


def _reshape(b: GraphBuilder, out: Tensor) -> str:
    """The recorded shape, with -1 for the one size that grows with the batch."""
    varying = b.varies(out)
    if sum(varying) > 1:
        raise ValueError(
            f"export_onnx: {b.describe(out)} to shape {out.shape} has several sizes that change "
            "with the batch size; ONNX's Reshape can infer only one"
        )
    shape = [-1 if grows else size for size, grows in zip(out.shape, varying)]
    return b.emit("Reshape", [*b.operands(out), b.ints(shape)])


def _flatten(b: GraphBuilder, out: Tensor) -> str:
    """The axes before ``start_axis`` kept as they are (0 copies a size), the rest merged."""
    start = out.attrs["start_axis"] if out.parents[0].ndim else 0  # type: ignore[index]
    return b.emit("Reshape", [*b.operands(out), b.ints([0] * start + [-1])])


def _transpose(b: GraphBuilder, out: Tensor) -> str:
    ndim = out.ndim
    axes = (out.attrs or {}).get("axes") or tuple(reversed(range(ndim)))
    return b.emit("Transpose", b.operands(out), perm=[int(a) % ndim for a in axes])


def _squeeze(b: GraphBuilder, out: Tensor) -> str:
    x = out.parents[0]
    axis = out.attrs["axis"]  # type: ignore[index]
    if axis is None:
        axes = [i for i, size in enumerate(x.shape) if size == 1]
        if any(b.varies(x)[i] for i in axes):
            raise ValueError(
                f"export_onnx: {b.describe(out)} without an axis removes the batch axis when the "
                "batch has one example; give squeeze the axis to remove"
            )
    else:
        axes = [int(a) for a in np.atleast_1d(axis)]
    return b.emit("Squeeze", [*b.operands(out), b.ints(axes)])


def _unsqueeze(b: GraphBuilder, out: Tensor) -> str:
    return b.emit("Unsqueeze", [*b.operands(out), b.ints([out.attrs["axis"]])])  # type: ignore[index]


def _concatenate(b: GraphBuilder, out: Tensor) -> str:
    return b.emit("Concat", b.operands(out), axis=out.attrs["axis"])  # type: ignore[index]


def _stack(b: GraphBuilder, out: Tensor) -> str:
    """A new axis on every part, then one Concat along it."""
    axis = out.attrs["axis"] % out.ndim  # type: ignore[index]
    parts = [b.emit("Unsqueeze", [part, b.ints([axis])]) for part in b.operands(out)]
    return b.emit("Concat", parts, axis=axis)


def _getitem(b: GraphBuilder, out: Tensor) -> str:
    """x[index], item by item: a slice is a Slice, an int or an integer array a Gather along
    its axis, None an Unsqueeze. Bool masks and NumPy's rules for several index arrays (or
    arrays apart from ints) have no translation."""
    index = out.attrs["index"]  # type: ignore[index]
    twin_index = b.twin(out).attrs["index"]  # type: ignore[index]
    items = index if isinstance(index, tuple) else (index,)
    twin_items = twin_index if isinstance(twin_index, tuple) else (twin_index,)
    advanced = [
        position
        for position, item in enumerate(items)
        if item is not None and item is not Ellipsis and not isinstance(item, slice)
    ]
    arrays = [p for p in advanced if np.ndim(items[p]) > 0]
    if any(np.asarray(items[p]).dtype == bool for p in advanced) or (
        arrays and (len(arrays) > 1 or advanced != list(range(advanced[0], advanced[-1] + 1)))
    ):
        raise NotImplementedError(
            f"export_onnx: no ONNX translation for 'getitem' with index {index!r}: bool masks, "
            "several index arrays and index arrays apart from int indices are not translated"
        )
    (result,) = b.operands(out)
    x = out.parents[0]
    varying = b.varies(x)
    consumed = sum(1 for item in items if item is not None and item is not Ellipsis)
    axis = source = 0  # the axis in the result so far, and the axis of x the item reads
    for item, twin_item in zip(items, twin_items):
        if item is None:
            result = b.emit("Unsqueeze", [result, b.ints([axis])])
            axis += 1
        elif item is Ellipsis:
            axis += x.ndim - consumed
            source += x.ndim - consumed
        elif isinstance(item, slice):
            bounds = _slice_bounds(item, None if varying[source] else x.shape[source])
            if bounds is not None:
                starts, ends, steps = map(b.ints, bounds)
                result = b.emit("Slice", [result, starts, ends, b.ints([axis]), steps])
            axis += 1
            source += 1
        else:
            result = b.emit("Gather", [result, b.indices(item, twin_item)], axis=axis)
            axis += np.ndim(item)
            source += 1
    return result


def _slice_bounds(item: slice, length: int | None) -> tuple[list[int], ...] | None:
    """ONNX Slice's starts, ends and steps for a Python slice of an axis of ``length``
    (None for the batch axis); None when it takes the whole axis.

    NOTE: ONNX clamps a backwards slice's start to the first element where Python gives an
    empty slice; on an axis of known length the bounds are resolved here, so this never
    matters, and on the batch axis only for starts before the first example.
    """
    step = 1 if item.step is None else item.step
    if length is None:
        if item == slice(None):
            return None
        start = item.start if item.start is not None else (_INT64_MAX if step < 0 else 0)
        stop = item.stop if item.stop is not None else (_INT64_MIN if step < 0 else _INT64_MAX)
        return [start], [stop], [step]
    chosen = range(*item.indices(length))
    if chosen == range(length):
        return None
    if not chosen:
        return [0], [0], [1]
    stop = chosen[-1] + (1 if step > 0 else -1)
    return [chosen[0]], [stop if stop >= 0 else _INT64_MIN], [step]


def _conv2d(b: GraphBuilder, out: Tensor) -> str:
    """Conv with ``stride`` and symmetric ``padding``; see the module docstring for float64."""
    x, weight, *bias = b.operands(out)
    stride, (ph, pw) = out.attrs["stride"], out.attrs["padding"]  # type: ignore[index]
    if out.dtype == np.float32:
        return b.emit("Conv", [x, weight, *bias], strides=list(stride), pads=[ph, pw, ph, pw])
    if ph or pw:
        x = b.emit("Pad", [x, b.ints([0, 0, ph, pw, 0, 0, ph, pw])])
    out_channels, channels, kh, kw = out.parents[1].shape
    # im2col: the kh * kw shifted views side by side on the channel axis, position-major, so
    # the channel index is (i * kw + j) * channels + c; the weights are laid out the same way.
    columns = b.emit("Concat", _windows(b, x, (kh, kw), stride, out.shape[2:]), axis=1)
    rows = b.emit("Transpose", [columns], perm=[0, 2, 3, 1])
    kernel = b.emit("Transpose", [weight], perm=[2, 3, 1, 0])
    kernel = b.emit("Reshape", [kernel, b.ints([kh * kw * channels, out_channels])])
    result = b.emit("MatMul", [rows, kernel])
    if bias:
        result = b.emit("Add", [result, bias[0]])
    return b.emit("Transpose", [result], perm=[0, 3, 1, 2])


def _windows(
    b: GraphBuilder, x: str, kernel: tuple[int, int], stride: tuple[int, int], out_size: tuple
) -> list[str]:
    """One strided Slice per kernel offset (i, j): element [r, q] of slice (i, j) is pixel
    (r * sh + i, q * sw + j), as in the engine's window view."""
    (kh, kw), (sh, sw), (out_h, out_w) = kernel, stride, out_size
    return [
        b.emit("Slice", [x, b.ints([i, j]), b.ints([i + sh * (out_h - 1) + 1,
                                                    j + sw * (out_w - 1) + 1]),
                         b.ints([2, 3]), b.ints([sh, sw])])
        for i in range(kh)
        for j in range(kw)
    ]


def _max_pool2d(b: GraphBuilder, out: Tensor) -> str:
    kernel, stride = out.attrs["kernel_size"], out.attrs["stride"]  # type: ignore[index]
    return b.emit("MaxPool", b.operands(out), kernel_shape=list(kernel), strides=list(stride))


def _avg_pool2d(b: GraphBuilder, out: Tensor) -> str:
    """AveragePool in float32; in float64 the sum of the kh * kw window slices over kh * kw."""
    kernel, stride = out.attrs["kernel_size"], out.attrs["stride"]  # type: ignore[index]
    (x,) = b.operands(out)
    if out.dtype == np.float32:
        return b.emit("AveragePool", [x], kernel_shape=list(kernel), strides=list(stride))
    total = b.emit("Sum", _windows(b, x, kernel, stride, out.shape[2:]))
    return b.emit("Div", [total, b.constant(math.prod(kernel), out.dtype)])


TRANSLATIONS: dict[str, Translation] = {
    "add": _same_op("Add"),
    "sub": _same_op("Sub"),
    "neg": _same_op("Neg"),
    "mul": _same_op("Mul"),
    "div": _same_op("Div"),
    "pow": _pow,
    "matmul": _same_op("MatMul"),
    "dot": _same_op("MatMul"),  # NumPy's dot and matmul agree on 1-D and 2-D operands
    "exp": _same_op("Exp"),
    "log": _same_op("Log"),
    "tanh": _same_op("Tanh"),
    "sigmoid": _same_op("Sigmoid"),
    "relu": _same_op("Relu"),
    "step": _step,
    "gelu": _gelu,
    "layer_norm": _layer_norm,
    "abs": _same_op("Abs"),
    "sqrt": _same_op("Sqrt"),
    "clip": _clip,
    "maximum": _same_op("Max"),
    "minimum": _same_op("Min"),
    "where": _where_op,
    "sum": _reduction("ReduceSum"),
    "mean": _reduction("ReduceMean"),
    "max": _reduction("ReduceMax"),
    "min": _reduction("ReduceMin"),
    "var": _variance,
    "std": _std,
    "softmax": _softmax("Softmax"),
    "log_softmax": _softmax("LogSoftmax"),
    "reshape": _reshape,
    "flatten": _flatten,
    "transpose": _transpose,
    "squeeze": _squeeze,
    "unsqueeze": _unsqueeze,
    "getitem": _getitem,
    "concatenate": _concatenate,
    "astype": _convert,
    "clone": _convert,
    "stack": _stack,
    "conv2d": _conv2d,
    "max_pool2d": _max_pool2d,
    "avg_pool2d": _avg_pool2d,
}
"""Each recorded operation's translation into ONNX nodes."""
