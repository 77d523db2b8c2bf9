"""The op catalog: one line per operation drives the forward and the gradient tests.

Each case names our function, the NumPy reference it must match, how many operands it takes,
which values are safe for finite differences (away from kinks and outside the domain), and
which shapes its operands may have.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import autograd_lite as ag


def _away_from(points: tuple[float, ...]) -> Callable[[np.ndarray], np.ndarray]:
    """Move values at least 0.05 away from each kink, so central differences stay on one side."""

    def nudge(values: np.ndarray) -> np.ndarray:
        for point in points:
            near = np.abs(values - point) < 0.05
            values = np.where(near, point + 0.05 * np.where(values >= point, 1, -1), values)
        return values

    return nudge


def positive(values: np.ndarray) -> np.ndarray:
    return np.abs(values) + 0.5


def distinct(values: np.ndarray) -> np.ndarray:
    """Values at least 0.05 apart (each moved up by 0.05 per rank): no ties for max/min."""
    ranks = np.argsort(np.argsort(values.ravel(), kind="stable"), kind="stable")
    return values + 0.05 * ranks.reshape(values.shape)


def real(values: np.ndarray) -> np.ndarray:
    return values


@dataclass(frozen=True)
class OpCase:
    name: str
    ours: Callable[..., Any]
    reference: Callable[..., Any]
    arity: int = 1
    shapes: str = "any"  # any | nonempty | broadcast | matmul | dot | list | same | conv | image
    # | two_rows | two_cols | mask_rows (2-D, for a mask over the rows)
    domain: tuple[Callable[[np.ndarray], np.ndarray], ...] = (real,)
    differentiable: bool = True
    constant_operands: tuple[int, ...] = ()  # operands no gradient flows to (a condition)

    def __repr__(self) -> str:
        return self.name

    def prepare(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        domains = self.domain * self.arity if len(self.domain) == 1 else self.domain
        return [fix(array) for fix, array in zip(domains, arrays)]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _gelu(x: np.ndarray) -> np.ndarray:
    """GPT-2's tanh approximation, written out the textbook way."""
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# --- references written the slow, obvious way ----------------------------------------------------
def as_pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def reference_conv2d(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, stride: Any, padding: Any
) -> np.ndarray:
    sh, sw = as_pair(stride)
    ph, pw = as_pair(padding)
    n, channels, height, width = x.shape
    out_channels, _, kh, kw = weight.shape
    padded = np.zeros((n, channels, height + 2 * ph, width + 2 * pw))
    padded[:, :, ph : ph + height, pw : pw + width] = x
    out_h = (height + 2 * ph - kh) // sh + 1
    out_w = (width + 2 * pw - kw) // sw + 1
    out = np.zeros((n, out_channels, out_h, out_w))
    for b in range(n):
        for o in range(out_channels):
            for r in range(out_h):
                for q in range(out_w):
                    total = 0.0 if bias is None else bias[o]
                    for c in range(channels):
                        for i in range(kh):
                            for j in range(kw):
                                total += weight[o, c, i, j] * padded[b, c, r * sh + i, q * sw + j]
                    out[b, o, r, q] = total
    return out


def reference_pool(x: np.ndarray, kernel: Any, stride: Any, reduce: Any) -> np.ndarray:
    kh, kw = as_pair(kernel)
    sh, sw = as_pair(kernel if stride is None else stride)
    n, channels, height, width = x.shape
    out_h, out_w = (height - kh) // sh + 1, (width - kw) // sw + 1
    out = np.zeros((n, channels, out_h, out_w))
    for b in range(n):
        for c in range(channels):
            for r in range(out_h):
                for q in range(out_w):
                    out[b, c, r, q] = reduce(x[b, c, r * sh : r * sh + kh, q * sw : q * sw + kw])
    return out


def _log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


CATALOG: list[OpCase] = [
    # arithmetic
    OpCase("add", ag.add, np.add, 2, "broadcast"),
    OpCase("sub", ag.sub, np.subtract, 2, "broadcast"),
    OpCase("mul", ag.mul, np.multiply, 2, "broadcast"),
    OpCase("div", ag.div, np.divide, 2, "broadcast", (real, positive)),
    OpCase("neg", ag.neg, np.negative),
    OpCase("pow_number", lambda x: x**3, lambda x: x**3),
    OpCase("pow_half", lambda x: x**0.5, np.sqrt, domain=(positive,)),
    OpCase("pow_tensor", ag.pow, np.power, 2, "broadcast", (positive, real)),
    OpCase("rpow", lambda x: 2.0**x, lambda x: 2.0**x),
    OpCase("matmul", ag.matmul, np.matmul, 2, "matmul"),
    OpCase("dot", ag.dot, np.dot, 2, "dot"),
    # elementwise functions
    OpCase("exp", ag.exp, np.exp),
    OpCase("log", ag.log, np.log, domain=(positive,)),
    OpCase("tanh", ag.tanh, np.tanh),
    OpCase("sigmoid", ag.sigmoid, _sigmoid),
    OpCase("gelu", ag.gelu, _gelu),
    OpCase("relu", ag.relu, lambda x: np.maximum(x, 0), domain=(_away_from((0.0,)),)),
    OpCase("step", ag.step, lambda x: (x >= 0).astype(x.dtype), differentiable=False),
    OpCase(
        "step_threshold",
        lambda x: ag.step(x, 0.5),
        lambda x: (x >= 0.5) * 1.0,
        differentiable=False,
    ),
    OpCase("abs", ag.abs, np.abs, domain=(_away_from((0.0,)),)),
    OpCase("sqrt", ag.sqrt, np.sqrt, domain=(positive,)),
    OpCase(
        "clip",
        lambda x: ag.clip(x, -0.5, 0.5),
        lambda x: np.clip(x, -0.5, 0.5),
        domain=(_away_from((-0.5, 0.5)),),
    ),
    OpCase(
        "clip_min",
        lambda x: ag.clip(x, min=0.2),
        lambda x: np.clip(x, 0.2, None),
        domain=(_away_from((0.2,)),),
    ),
    OpCase("maximum", ag.maximum, np.maximum, 2, "broadcast", (real, _away_from((0.0,)))),
    OpCase("minimum", ag.minimum, np.minimum, 2, "broadcast", (real, _away_from((0.0,)))),
    OpCase(
        "maximum_number",
        lambda x: ag.maximum(x, 0.1),
        lambda x: np.maximum(x, 0.1),
        domain=(_away_from((0.1,)),),
    ),
    OpCase(
        "where",
        lambda c, a, b: ag.where(c > 0, a, b),
        lambda c, a, b: np.where(c > 0, a, b),
        3,
        "broadcast",
        constant_operands=(0,),
    ),
    # reductions
    OpCase("sum", ag.sum, np.sum),
    OpCase(
        "sum_axis0", lambda x: ag.sum(x, axis=0), lambda x: np.sum(x, axis=0), shapes="nonempty"
    ),
    OpCase(
        "sum_last_keepdims",
        lambda x: ag.sum(x, axis=-1, keepdims=True),
        lambda x: np.sum(x, axis=-1, keepdims=True),
        shapes="nonempty",
    ),
    OpCase("mean", ag.mean, np.mean),
    OpCase(
        "mean_axis0", lambda x: ag.mean(x, axis=0), lambda x: np.mean(x, axis=0), shapes="nonempty"
    ),
    OpCase("max", ag.max, np.max, domain=(distinct,)),
    OpCase(
        "max_axis_keepdims",
        lambda x: ag.max(x, axis=-1, keepdims=True),
        lambda x: np.max(x, axis=-1, keepdims=True),
        shapes="nonempty",
        domain=(distinct,),
    ),
    OpCase("min", ag.min, np.min, domain=(distinct,)),
    OpCase(
        "min_axis0",
        lambda x: ag.min(x, axis=0),
        lambda x: np.min(x, axis=0),
        shapes="nonempty",
        domain=(distinct,),
    ),
    OpCase("var", ag.var, np.var),
    OpCase(
        "var_axis0_ddof",
        lambda x: ag.var(x, axis=0, ddof=1),
        lambda x: np.var(x, axis=0, ddof=1),
        shapes="two_rows",
    ),
    OpCase("std", ag.std, np.std, shapes="two_rows"),
    OpCase(
        "std_last_keepdims",
        lambda x: ag.std(x, axis=-1, keepdims=True),
        lambda x: np.std(x, axis=-1, keepdims=True),
        shapes="two_cols",
    ),
    OpCase("softmax", ag.softmax, _softmax, shapes="nonempty"),
    OpCase("log_softmax", ag.log_softmax, _log_softmax, shapes="nonempty"),
    # shapes
    OpCase("reshape", lambda x: ag.reshape(x, -1), lambda x: x.reshape(-1)),
    OpCase("transpose", ag.transpose, np.transpose),
    OpCase("T", lambda x: x.T, lambda x: x.T),
    OpCase("flatten", ag.flatten, lambda x: x.reshape(-1)),
    OpCase("squeeze", ag.squeeze, np.squeeze),
    OpCase("unsqueeze", lambda x: ag.unsqueeze(x, 0), lambda x: x[None]),
    OpCase("getitem_slice", lambda x: x[::2], lambda x: x[::2], shapes="nonempty"),
    OpCase("getitem_repeats", lambda x: x[[0, 0, -1]], lambda x: x[[0, 0, -1]], shapes="nonempty"),
    OpCase(
        "getitem_mask",
        lambda x: x[x > 0],
        lambda x: x[x > 0],
        domain=(_away_from((0.0,)),),
    ),
    OpCase(
        "getitem_mask_rows",
        lambda x: x[x[:, 0] > 0, 1:],
        lambda x: x[x[:, 0] > 0, 1:],
        shapes="mask_rows",
        domain=(_away_from((0.0,)),),
    ),
    OpCase("permute", lambda x: x.permute(*reversed(range(x.ndim))), np.transpose),
    OpCase("swapaxes", lambda x: x.swapaxes(0, -1), lambda x: np.swapaxes(x, 0, -1),
           shapes="nonempty"),
    # dtype casts and copies: the gradient is cast back to the input's dtype
    OpCase("astype_double_and_back", lambda x: x.double().astype(x.dtype), lambda x: x * 1),
    OpCase("clone", lambda x: x.clone(), np.copy),
    OpCase(
        "concatenate", lambda *xs: ag.concatenate(xs), lambda *xs: np.concatenate(xs), 2, "list"
    ),
    OpCase(
        "stack", lambda *xs: ag.stack(xs, axis=-1), lambda *xs: np.stack(xs, axis=-1), 2, "same"
    ),
    # convolution and pooling, NCHW
    OpCase("conv2d", ag.conv2d, lambda x, w: reference_conv2d(x, w, None, 1, 0), 2, "conv"),
    OpCase(
        "conv2d_bias_stride2_pad1",
        lambda x, w, b: ag.conv2d(x, w, b, stride=2, padding=1),
        lambda x, w, b: reference_conv2d(x, w, b, 2, 1),
        3,
        "conv_bias",
    ),
    OpCase(
        "max_pool2d",
        lambda x: ag.max_pool2d(x, 2),
        lambda x: reference_pool(x, 2, None, np.max),
        shapes="image",
        domain=(distinct,),
    ),
    OpCase(
        "max_pool2d_overlapping",
        lambda x: ag.max_pool2d(x, (2, 3), stride=1),
        lambda x: reference_pool(x, (2, 3), 1, np.max),
        shapes="image",
        domain=(distinct,),
    ),
    OpCase(
        "avg_pool2d",
        lambda x: ag.avg_pool2d(x, 2),
        lambda x: reference_pool(x, 2, None, np.mean),
        shapes="image",
    ),
]

SIDE = st.integers(1, 4)
REQUIRED_SINGLE = [(), (3,), (1, 3)]
REQUIRED_PAIRS = [((), (3,)), ((3,), ()), ((3,), (1, 3)), ((1, 3), (2, 1)), ((2, 3), (3,))]


def required_shapes(case: OpCase) -> list[tuple[tuple[int, ...], ...]]:
    """The shapes every case is always checked on: (), (n,) and (1, n) where the op allows."""
    if case.shapes == "any":
        return [(shape,) for shape in REQUIRED_SINGLE]
    if case.shapes == "nonempty":
        return [(shape,) for shape in REQUIRED_SINGLE[1:]]
    if case.shapes == "two_rows":
        return [((2, 3),), ((3,),)] if case.name == "std" else [((2, 3),), ((2,),)]
    if case.shapes == "two_cols":
        return [((3, 2),), ((2,),)]
    if case.shapes == "broadcast":
        return [pair + pair[:1] * (case.arity - 2) for pair in REQUIRED_PAIRS]
    if case.shapes == "matmul":
        return [
            ((3,), (3,)),
            ((2, 3), (3,)),
            ((3,), (3, 2)),
            ((2, 3), (3, 4)),
            ((2, 2, 3), (3, 4)),
            ((3,), (2, 3, 4)),
            ((2, 1, 2, 3), (3, 3, 2)),
        ]
    if case.shapes == "dot":
        return [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4))]
    if case.shapes == "mask_rows":
        return [((4, 3),), ((2, 1),)]
    if case.shapes == "list":
        return [((3,), (2,)), ((1, 3), (2, 3))]
    if case.shapes == "same":
        return [((3,), (3,)), ((), ()), ((1, 3), (1, 3))]
    if case.shapes == "conv":
        return [((1, 1, 4, 4), (1, 1, 3, 3)), ((2, 3, 5, 4), (2, 3, 2, 3))]
    if case.shapes == "conv_bias":
        return [((1, 1, 4, 4), (1, 1, 3, 3), (1,)), ((2, 2, 5, 5), (3, 2, 3, 3), (3,))]
    if case.shapes == "image":
        return [((1, 1, 4, 4),), ((2, 3, 5, 6),)]
    raise ValueError(case.shapes)


@st.composite
def drawn_shapes(draw: Any, case: OpCase) -> tuple[tuple[int, ...], ...]:
    """Random operand shapes that fit the case, broadcasting pairs included."""
    if case.shapes == "any":
        return (draw(array_shapes(min_dims=0, max_dims=3, max_side=4)),)
    if case.shapes == "nonempty":
        return (draw(array_shapes(min_dims=1, max_dims=3, max_side=4)),)
    if case.shapes == "two_rows":
        rest = draw(array_shapes(min_dims=0, max_dims=2, max_side=3))
        return ((draw(st.integers(2, 4)),) + rest,)
    if case.shapes == "two_cols":
        rest = draw(array_shapes(min_dims=0, max_dims=2, max_side=3))
        return (rest + (draw(st.integers(2, 4)),),)
    if case.shapes == "broadcast":
        pair = draw(mutually_broadcastable_shapes(num_shapes=case.arity, max_dims=3, max_side=4))
        return pair.input_shapes
    if case.shapes in ("matmul", "dot"):
        n, k, m = draw(SIDE), draw(SIDE), draw(SIDE)
        left = draw(st.sampled_from([(k,), (n, k)]))
        right = draw(st.sampled_from([(k,), (k, m)]))
        if case.shapes == "matmul":
            batch = draw(array_shapes(min_dims=0, max_dims=2, max_side=3))
            if len(left) == 2:
                left = batch + left
            elif len(right) == 2 and draw(st.booleans()):
                right = batch + right
        return left, right
    if case.shapes == "mask_rows":
        return ((draw(SIDE), draw(SIDE)),)
    if case.shapes == "list":
        rest = draw(array_shapes(min_dims=0, max_dims=2, max_side=3))
        return (draw(SIDE),) + rest, (draw(SIDE),) + rest
    if case.shapes == "same":
        shape = draw(array_shapes(min_dims=0, max_dims=3, max_side=4))
        return shape, shape
    if case.shapes in ("conv", "conv_bias", "image"):
        batch, channels = draw(st.integers(1, 2)), draw(st.integers(1, 3))
        height, width = draw(st.integers(3, 6)), draw(st.integers(3, 6))
        image = (batch, channels, height, width)
        if case.shapes == "image":
            return (image,)
        out_channels = draw(st.integers(1, 3))
        kernel = (out_channels, channels, draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        return (image, kernel) if case.shapes == "conv" else (image, kernel, (out_channels,))
    raise ValueError(case.shapes)
