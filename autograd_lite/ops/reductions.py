"""Reductions (sum, mean, max, min, var, std) and the softmax family.

A reduction's gradient is ``grad_out`` put back on the reduced axes (``expand``) and spread
over the elements that produced each output.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from autograd_lite.engine import record
from autograd_lite.ops import dual
from autograd_lite.ops.operands import as_real, as_tensor, normalize_axis, single_axis
from autograd_lite.tensor import Tensor, wrap


def _reduced_axes(x: Tensor, axis: Any, keepdims: Any, op: str) -> tuple[tuple[int, ...], bool]:
    """The axes to reduce (all when ``axis`` is None) and ``keepdims`` as a Python bool."""
    if not isinstance(keepdims, (bool, np.bool_)):
        raise TypeError(f"{op}: keepdims must be True or False, got {keepdims!r}")
    axes = normalize_axis(axis, x.shape, op)
    return tuple(range(x.ndim)) if axes is None else axes, bool(keepdims)


def _expand(grad_out: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    """``grad_out`` with the reduced axes back as length-1 axes, ready to broadcast."""
    if keepdims:
        return grad_out
    kept_shape = list(grad_out.shape)
    for axis in axes:
        kept_shape.insert(axis, 1)
    return grad_out.reshape(kept_shape)


def _count(x: Tensor, axes: tuple[int, ...]) -> int:
    return math.prod(x.shape[axis] for axis in axes)


def _axis_attrs(axis: Any, keepdims: bool) -> dict[str, Any]:
    return {"axis": axis, "keepdims": keepdims} if axis is not None or keepdims else {}


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """out = Σ x over ``axis``;  dL/dx = dL/dout, copied to every summed element.

    >>> sum(Tensor([[1.0, 2.0], [3.0, 4.0]]), axis=0)
    Tensor([4., 6.])
    """
    x = as_tensor(x, "sum")
    axes, keepdims = _reduced_axes(x, axis, keepdims, "sum")
    out = np.asarray(x._data.sum(axis=axes, keepdims=keepdims))
    saved = (axes, keepdims, x.shape, 1)
    return record("sum", out, (x,), spread_backward, saved, _axis_attrs(axis, keepdims))


def spread_backward(
    grad_out: Any, axes: tuple[int, ...], keepdims: bool, shape: tuple[int, ...], count: int
) -> tuple:
    """sum and mean: each input element gets dL/dout of its output, divided by ``count``."""
    grad = _expand(grad_out, axes, keepdims)
    # NOTE: a mean over no elements (count 0) spreads onto no elements: nothing to divide.
    return (dual.broadcast_to(grad / count if count > 1 else grad, shape),)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """out = Σ x / n over ``axis``;  dL/dx = dL/dout / n for every element.

    The mean of no elements is NaN, as in NumPy (without its warning). Integers and bools are
    averaged in float64 (the mean of a mask is the fraction of True).
    """
    x = as_real(x, "mean")
    axes, keepdims = _reduced_axes(x, axis, keepdims, "mean")
    count = _count(x, axes)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(x._data.sum(axis=axes, keepdims=keepdims) / count)
    saved = (axes, keepdims, x.shape, count)
    return record("mean", out, (x,), spread_backward, saved, _axis_attrs(axis, keepdims))


def _extremum(op: str, fn: Any, x: Any, axis: Any, keepdims: bool) -> Tensor:
    """``max``/``min`` over ``axis``, recorded with :func:`extremum_backward`."""
    x = as_tensor(x, op)
    axes, keepdims = _reduced_axes(x, axis, keepdims, op)
    if _count(x, axes) == 0 or x.size == 0:
        raise ValueError(f"{op}: no elements to reduce over axis {axis} of shape {x.shape}")
    kept = fn(x._data, axis=axes, keepdims=True)
    out = kept if keepdims else np.squeeze(kept, axis=axes)
    saved = (x._data, kept, axes, keepdims)
    return record(op, out, (x,), extremum_backward, saved, _axis_attrs(axis, keepdims))


def extremum_backward(
    grad_out: Any, x: Any, kept: np.ndarray, axes: tuple[int, ...], keepdims: bool
) -> tuple:
    """dL/dout goes to the extreme elements. NOTE: tied extremes share it equally (amax)."""
    winners = dual.values(x) == kept
    return (winners * (_expand(grad_out, axes, keepdims) / winners.sum(axes, keepdims=True)),)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """out = the largest x over ``axis``;  dL/dx = dL/dout at the maxima, 0 elsewhere.

    >>> x = Tensor([1.0, 3.0, 3.0], requires_grad=True)
    >>> max(x).backward()
    >>> x.grad
    array([0. , 0.5, 0.5])
    """
    return _extremum("max", np.max, x, axis, keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """out = the smallest x over ``axis``;  dL/dx = dL/dout at the minima (ties share)."""
    return _extremum("min", np.min, x, axis, keepdims)


def _arg_extremum(op: str, fn: Any, x: Any, axis: Any) -> Tensor:
    """``argmax``/``argmin``: integer positions, not recorded (no gradient flows to them)."""
    x = as_tensor(x, op)
    if axis is not None:
        axis = single_axis(axis, x.shape, op)
    if x.size == 0 or (axis is not None and x.shape[axis] == 0):
        raise ValueError(f"{op}: no elements to search along axis {axis} of shape {x.shape}")
    return wrap(np.asarray(fn(x._data, axis=axis)))


def argmax(x: Any, axis: Any = None) -> Tensor:
    """The index of the largest x (over the flattened x, or along ``axis``); the first one on
    ties, as in NumPy. An integer tensor, not recorded.

    >>> argmax(Tensor([[1.0, 5.0], [7.0, 2.0]]), axis=1)
    Tensor([1, 0], dtype=int64)
    """
    return _arg_extremum("argmax", np.argmax, x, axis)


def argmin(x: Any, axis: Any = None) -> Tensor:
    """The index of the smallest x (over the flattened x, or along ``axis``); the first on ties."""
    return _arg_extremum("argmin", np.argmin, x, axis)


def _variance_parts(
    x: Tensor, axis: Any, keepdims: Any, ddof: Any, op: str
) -> tuple[tuple[int, ...], bool, np.ndarray, int]:
    """The reduced axes, keepdims, x minus its mean, and the divisor n - ddof (0 when
    ddof >= n: the result is then inf or NaN, as in NumPy)."""
    if isinstance(ddof, (bool, np.bool_)) or not isinstance(ddof, (int, np.integer)):
        raise TypeError(f"{op}: ddof must be an int, got {ddof!r}")
    axes, keepdims = _reduced_axes(x, axis, keepdims, op)
    count = builtins.max(_count(x, axes) - int(ddof), 0)
    return axes, keepdims, _centered(x._data, axes), count


def _centered(x: Any, axes: tuple[int, ...]) -> Any:
    """x minus its mean over ``axes`` (NaN over no elements). The rules recompute it from x
    itself, so that differentiating a rule again reaches x through the mean too."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return x - x.sum(axis=axes, keepdims=True) / math.prod(x.shape[axis] for axis in axes)


def var(x: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """out = Σ (x - mean)² / (n - ddof);  dL/dx = dL/dout * 2 (x - mean) / (n - ddof).

    >>> var(Tensor([1.0, 2.0, 3.0, 4.0])).item()
    1.25
    """
    x = as_real(x, "var")
    axes, keepdims, centered, count = _variance_parts(x, axis, keepdims, ddof, "var")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray((centered * centered).sum(axis=axes, keepdims=keepdims) / count)
    saved = (x._data, axes, keepdims, count)
    attrs = {"axis": axis, "keepdims": keepdims, "ddof": ddof}
    return record("var", out, (x,), var_backward, saved, attrs)


def var_backward(
    grad_out: Any, x: Any, axes: tuple[int, ...], keepdims: bool, count: int
) -> tuple:
    scale = 2 / count if count else math.inf  # ddof >= n: inf, as the forward's n / 0
    with np.errstate(invalid="ignore"):
        return (_expand(grad_out, axes, keepdims) * scale * _centered(x, axes),)


def std(x: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """out = √var(x);  dL/dx = dL/dout * (x - mean) / ((n - ddof) * out).

    NOTE: where out is 0 (all elements equal) the gradient is 0, as in PyTorch, not the
    0 / 0 = NaN of the formula.
    """
    x = as_real(x, "std")
    axes, keepdims, centered, count = _variance_parts(x, axis, keepdims, ddof, "std")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(np.sqrt((centered * centered).sum(axis=axes, keepdims=keepdims) / count))
    saved = (x._data, out, axes, keepdims, count)
    attrs = {"axis": axis, "keepdims": keepdims, "ddof": ddof}
    return record("std", out, (x,), std_backward, saved, attrs)


def std_backward(
    grad_out: Any, x: Any, out: Any, axes: tuple[int, ...], keepdims: bool, count: int
) -> tuple:
    kept = _expand(out, axes, keepdims)
    zero = dual.values(kept) == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = _expand(grad_out, axes, keepdims) / (count * dual.where(zero, 1.0, kept))
        return (dual.where(zero, 0.0, scale * _centered(x, axes)),)


def max_kept(x: np.ndarray, axis: int) -> np.ndarray:
    """``x.max(axis=axis, keepdims=True)`` (-inf for an empty axis) of a float ``x``: softmax's
    shift.

    NOTE: NumPy reduces a short last axis slowly, row by row: the max over the 16 keys of a
    (32, 4, 16, 16) attention score takes 53 µs, over 27 logits of (512, 27) 32 µs. Copied with
    that axis first, the maxima come from whole-row ``maximum`` passes: 22 and 7 µs. A max is
    exact in any order, so the values are the same (a zero's sign may differ, which a shift
    cannot see: x - 0.0 and x - (-0.0) are equal). Rows longer than 32, or a small array, go
    the direct way, which is faster for them.
    """
    if axis == x.ndim - 1 and x.shape[-1] <= 32 and x.size >= 64:
        return np.ascontiguousarray(x.T).max(axis=0, initial=-np.inf).T[..., None]
    return x.max(axis=axis, keepdims=True, initial=-np.inf)


def softmax_array(x: np.ndarray, axis: int) -> np.ndarray:
    """e**x / Σ e**x along ``axis``, shifted by the max so it never overflows. Entries of
    -inf (a mask) give 0; a slice that is all -inf gives NaN, as in PyTorch."""
    with np.errstate(invalid="ignore"):
        shifted = np.exp(x - max_kept(x, axis))
        return shifted / shifted.sum(axis=axis, keepdims=True)


def softmax(x: Any, axis: int = -1) -> Tensor:
    """out = e**x / Σ e**x along ``axis`` (shifted by the max, so it never overflows);
    dL/dx = out * (dL/dout - Σ dL/dout * out). Masked (-inf) entries give 0 and gradient 0.

    >>> softmax(Tensor([1000.0, 1000.0]))
    Tensor([0.5, 0.5])
    >>> softmax(Tensor([0.0, -np.inf]))
    Tensor([1., 0.])
    """
    x = as_real(x, "softmax")
    axis = single_axis(axis, x.shape, "softmax")
    out = softmax_array(x._data, axis)
    return record("softmax", out, (x,), softmax_backward, (out, axis), {"axis": axis})


def softmax_backward(grad_out: Any, out: Any, axis: int) -> tuple:
    return (out * (grad_out - (grad_out * out).sum(axis=axis, keepdims=True)),)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """out = x - log Σ e**x along ``axis`` (stable);  dL/dx = dL/dout - e**out * Σ dL/dout.

    Masked (-inf) entries give -inf; their gradient is finite (e**out is 0 there).
    """
    x = as_real(x, "log_softmax")
    axis = single_axis(axis, x.shape, "log_softmax")
    with np.errstate(invalid="ignore"):
        shifted = x._data - max_kept(x._data, axis)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return record("log_softmax", out, (x,), log_softmax_backward, (out, axis), {"axis": axis})


def log_softmax_backward(grad_out: Any, out: Any, axis: int) -> tuple:
    return (grad_out - dual.exp(out) * grad_out.sum(axis=axis, keepdims=True),)
