"""Reductions (sum, mean, max, min, var, std) and the softmax family.

A reduction's gradient is ``grad_out`` put back on the reduced axes (``expand``) and spread
over the elements that produced each output.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd_lite.engine import record
from autograd_lite.ops.operands import as_tensor, normalize_axis
from autograd_lite.tensor import Tensor


def _reduced_axes(x: Tensor, axis: Any, keepdims: Any, op: str) -> tuple[int, ...]:
    """The axes to reduce (all when ``axis`` is None), after checking ``keepdims``."""
    if not isinstance(keepdims, (bool, np.bool_)):
        raise TypeError(f"{op}: keepdims must be True or False, got {keepdims!r}")
    axes = normalize_axis(axis, x.shape, op)
    return tuple(range(x.ndim)) if axes is None else axes


def _expand(grad_out: np.ndarray, axes: tuple[int, ...], keepdims: bool) -> np.ndarray:
    """``grad_out`` with the reduced axes back as length-1 axes, ready to broadcast."""
    return grad_out if keepdims else np.expand_dims(grad_out, axes)


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
    axes = _reduced_axes(x, axis, keepdims, "sum")
    out = np.asarray(x._data.sum(axis=axes, keepdims=keepdims))
    saved = (axes, keepdims, x.shape, 1)
    return record("sum", out, (x,), spread_backward, saved, _axis_attrs(axis, keepdims))


def spread_backward(
    grad_out: np.ndarray, axes: tuple[int, ...], keepdims: bool, shape: tuple[int, ...], count: int
) -> tuple:
    """sum and mean: each input element gets dL/dout of its output, divided by ``count``."""
    grad = _expand(grad_out, axes, keepdims)
    return (np.broadcast_to(grad / count if count != 1 else grad, shape),)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """out = Σ x / n over ``axis``;  dL/dx = dL/dout / n for every element."""
    x = as_tensor(x, "mean")
    axes = _reduced_axes(x, axis, keepdims, "mean")
    count = _count(x, axes)
    if count == 0:
        raise ValueError(f"mean: no elements to average over axis {axis} of shape {x.shape}")
    out = np.asarray(x._data.mean(axis=axes, keepdims=keepdims))
    saved = (axes, keepdims, x.shape, count)
    return record("mean", out, (x,), spread_backward, saved, _axis_attrs(axis, keepdims))


def _extremum(op: str, fn: Any, x: Any, axis: Any, keepdims: bool) -> Tensor:
    """``max``/``min`` over ``axis``, recorded with :func:`extremum_backward`."""
    x = as_tensor(x, op)
    axes = _reduced_axes(x, axis, keepdims, op)
    if _count(x, axes) == 0 or x.size == 0:
        raise ValueError(f"{op}: no elements to reduce over axis {axis} of shape {x.shape}")
    kept = fn(x._data, axis=axes, keepdims=True)
    out = kept if keepdims else np.squeeze(kept, axis=axes)
    saved = (x._data, kept, axes, keepdims)
    return record(op, out, (x,), extremum_backward, saved, _axis_attrs(axis, keepdims))


def extremum_backward(
    grad_out: np.ndarray, x: np.ndarray, kept: np.ndarray, axes: tuple[int, ...], keepdims: bool
) -> tuple:
    """dL/dout goes to the extreme elements. NOTE: tied extremes share it equally (amax)."""
    winners = x == kept
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


def _variance_parts(
    x: Tensor, axis: Any, keepdims: Any, ddof: Any, op: str
) -> tuple[tuple[int, ...], np.ndarray, int]:
    if isinstance(ddof, (bool, np.bool_)) or not isinstance(ddof, (int, np.integer)):
        raise TypeError(f"{op}: ddof must be an int, got {ddof!r}")
    axes = _reduced_axes(x, axis, keepdims, op)
    count = _count(x, axes) - ddof
    if count <= 0:
        raise ValueError(
            f"{op}: {count + ddof} elements over axis {axis} of shape {x.shape} "
            f"are too few for ddof={ddof}"
        )
    centered = x._data - x._data.mean(axis=axes, keepdims=True)
    return axes, centered, count


def var(x: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """out = Σ (x - mean)² / (n - ddof);  dL/dx = dL/dout * 2 (x - mean) / (n - ddof).

    >>> var(Tensor([1.0, 2.0, 3.0, 4.0])).item()
    1.25
    """
    x = as_tensor(x, "var")
    axes, centered, count = _variance_parts(x, axis, keepdims, ddof, "var")
    out = np.asarray((centered * centered).sum(axis=axes, keepdims=keepdims) / count)
    saved = (centered, axes, keepdims, count)
    return record("var", out, (x,), var_backward, saved, {"axis": axis, "ddof": ddof})


def var_backward(
    grad_out: np.ndarray, centered: np.ndarray, axes: tuple[int, ...], keepdims: bool, count: int
) -> tuple:
    return (_expand(grad_out, axes, keepdims) * (2 / count) * centered,)


def std(x: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """out = √var(x);  dL/dx = dL/dout * (x - mean) / ((n - ddof) * out)."""
    x = as_tensor(x, "std")
    axes, centered, count = _variance_parts(x, axis, keepdims, ddof, "std")
    out = np.asarray(np.sqrt((centered * centered).sum(axis=axes, keepdims=keepdims) / count))
    saved = (centered, out, axes, keepdims, count)
    return record("std", out, (x,), std_backward, saved, {"axis": axis, "ddof": ddof})


def std_backward(
    grad_out: np.ndarray,
    centered: np.ndarray,
    out: np.ndarray,
    axes: tuple[int, ...],
    keepdims: bool,
    count: int,
) -> tuple:
    kept = _expand(out, axes, keepdims)
    return (_expand(grad_out, axes, keepdims) * centered / (count * kept),)


def _single_axis(x: Tensor, axis: Any, op: str) -> int:
    if not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{op}: axis must be an int, got {axis!r}")
    return normalize_axis(axis, x.shape, op)[0]  # type: ignore[index]


def softmax(x: Any, axis: int = -1) -> Tensor:
    """out = e**x / Σ e**x along ``axis`` (shifted by the max, so it never overflows);
    dL/dx = out * (dL/dout - Σ dL/dout * out).

    >>> softmax(Tensor([1000.0, 1000.0]))
    Tensor([0.5, 0.5])
    """
    x = as_tensor(x, "softmax")
    axis = _single_axis(x, axis, "softmax")
    shifted = np.exp(x._data - x._data.max(axis=axis, keepdims=True, initial=-np.inf))
    out = shifted / shifted.sum(axis=axis, keepdims=True)
    return record("softmax", out, (x,), softmax_backward, (out, axis), {"axis": axis})


def softmax_backward(grad_out: np.ndarray, out: np.ndarray, axis: int) -> tuple:
    return (out * (grad_out - (grad_out * out).sum(axis=axis, keepdims=True)),)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """out = x - log Σ e**x along ``axis`` (stable);  dL/dx = dL/dout - e**out * Σ dL/dout."""
    x = as_tensor(x, "log_softmax")
    axis = _single_axis(x, axis, "log_softmax")
    shifted = x._data - x._data.max(axis=axis, keepdims=True, initial=-np.inf)
    out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return record("log_softmax", out, (x,), log_softmax_backward, (out, axis), {"axis": axis})


def log_softmax_backward(grad_out: np.ndarray, out: np.ndarray, axis: int) -> tuple:
    return (grad_out - np.exp(out) * grad_out.sum(axis=axis, keepdims=True),)
