"""Elementwise functions and activations, each with its local derivative right below it.

Functions with real-valued results (exp, log, tanh, gelu, sigmoid, sqrt) compute integer and
bool inputs in float64 (see :func:`operands.as_real`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd_lite.engine import record
from autograd_lite.ops import dual
from autograd_lite.ops.operands import as_pair, as_real, as_tensor, broadcast_error
from autograd_lite.tensor import Tensor, describe


def exp(x: Any) -> Tensor:
    """out = e**x;  dL/dx = dL/dout * out."""
    x = as_real(x, "exp")
    out = np.exp(x._data)
    return record("exp", out, (x,), exp_backward, (out,))


def exp_backward(grad_out: Any, out: Any) -> tuple:
    return (grad_out * out,)


def log(x: Any) -> Tensor:
    """out = ln(x);  dL/dx = dL/dout / x. (No hidden epsilon: log(0) is -inf, as in NumPy.)"""
    x = as_real(x, "log")
    return record("log", np.log(x._data), (x,), log_backward, (x._data,))


def log_backward(grad_out: Any, x: Any) -> tuple:
    return (grad_out / x,)


def tanh(x: Any) -> Tensor:
    """out = tanh(x);  dL/dx = dL/dout * (1 - out**2)."""
    x = as_real(x, "tanh")
    out = np.tanh(x._data)
    return record("tanh", out, (x,), tanh_backward, (out,))


def tanh_backward(grad_out: Any, out: Any) -> tuple:
    return (grad_out * (1.0 - out * out),)


GELU_SCALE = math.sqrt(2 / math.pi)  # a Python float: float32 stays float32
GELU_CUBIC = 0.044715


def gelu(x: Any) -> Tensor:
    """GELU, GPT-2's tanh approximation:  out = x/2 * (1 + t),  t = tanh(√(2/π) (x + 0.044715 x³));
    dL/dx = dL/dout * (½ (1 + t) + ½ x (1 - t²) √(2/π) (1 + 3 · 0.044715 x²)).

    >>> gelu(Tensor([-1.0, 0.0, 1.0]))
    Tensor([-0.15880801,  0.        ,  0.84119199])
    """
    x = as_real(x, "gelu")
    data = x._data
    t = np.tanh(GELU_SCALE * (data + GELU_CUBIC * data * data * data))
    out = 0.5 * data * (1 + t)
    return record("gelu", out, (x,), gelu_backward, (data, t))


def gelu_backward(grad_out: Any, x: Any, t: Any) -> tuple:
    # NOTE: t, kept from the forward pass, is a constant to a recorded pass, which needs it as a
    # function of x: there it is computed again.
    if dual.is_recorded(x):
        t = dual.tanh(GELU_SCALE * (x + GELU_CUBIC * x * x * x))
    slope = 0.5 * (1 + t) + (0.5 * GELU_SCALE) * x * (1 - t * t) * (1 + 3 * GELU_CUBIC * x * x)
    return (grad_out * slope,)


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e**-x), with exact limits and no warnings.

    NOTE: for very negative x (below about -709 in float64, -88 in float32) e**-x overflows
    to inf, and 1 / (1 + inf) is exactly 0: the right answer. That overflow is expected, so
    its warning is silenced; nothing else can overflow, and no branch or clipping is needed.
    The formula is the textbook one, so results match hand-written code bit for bit.
    """
    # One array, reused in place: a large array makes every temporary count.
    out = np.negative(x) if x.dtype.kind == "f" else np.negative(x, dtype=np.float64)
    if type(out) is not np.ndarray:  # a 0-d x gives a NumPy scalar
        out = np.asarray(out)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1.0  # (a float: NumPy converts a Python int more slowly)
    return np.reciprocal(out, out=out)


def sigmoid(x: Any) -> Tensor:
    """out = 1 / (1 + e**-x);  dL/dx = dL/dout * out * (1 - out).

    >>> sigmoid(Tensor([-1000.0, 0.0, 1000.0]))
    Tensor([0. , 0.5, 1. ])
    """
    x = as_real(x, "sigmoid")
    out = stable_sigmoid(x._data)
    return record("sigmoid", out, (x,), sigmoid_backward, (out,))


def sigmoid_backward(grad_out: Any, out: Any) -> tuple:
    return (grad_out * out * (1.0 - out),)


def relu(x: Any) -> Tensor:
    """out = max(x, 0);  dL/dx = dL/dout where x > 0, else 0.

    NOTE: at the kink x == 0 the derivative is taken as 0 (PyTorch's choice).

    >>> relu(Tensor([-1.0, 0.0, 2.0]))
    Tensor([0., 0., 2.])
    """
    x = as_tensor(x, "relu")
    return record("relu", np.maximum(x._data, 0), (x,), relu_backward, (x._data,))


def relu_backward(grad_out: Any, x: Any) -> tuple:
    return (grad_out * (x > 0.0),)  # a comparison is a constant, on arrays and Tensors alike


def step(x: Any, threshold: float = 0.0) -> Tensor:
    """out = 1 where x >= threshold, else 0;  backward: dL/dx = dL/dout (straight through).

    NOTE: the true derivative is 0 almost everywhere, which would stop all learning. Passing
    the gradient straight through makes one gradient-descent step on
    ``0.5 * (y - step(w·x + b))**2`` equal Rosenblatt's perceptron update
    ``w += lr * (y - step(w·x + b)) * x`` exactly, at the threshold too.

    >>> step(Tensor([-0.5, 0.0, 2.0]))
    Tensor([0., 1., 1.])
    >>> step(Tensor([1.0, 2.0]), threshold=2)
    Tensor([0., 1.])
    """
    x = as_tensor(x, "step")
    if not isinstance(threshold, (int, float, np.number)):
        raise TypeError(f"step: threshold must be a number, got {type(threshold).__name__}")
    try:
        out = (x._data >= threshold).astype(x._data.dtype)
    except OverflowError:  # a Python int too large for a float
        raise ValueError(f"step: threshold {describe(threshold)} is too large") from None
    return record("step", out, (x,), step_backward, attrs={"threshold": threshold})


def step_backward(grad_out: Any) -> tuple:
    return (grad_out,)


def abs(x: Any) -> Tensor:  # noqa: A001 - the contract's name
    """out = |x|;  dL/dx = dL/dout * sign(x).  NOTE: at x == 0 the derivative is 0 (PyTorch)."""
    x = as_tensor(x, "abs")
    return record("abs", np.abs(x._data), (x,), abs_backward, (x._data,))


def abs_backward(grad_out: Any, x: Any) -> tuple:
    return (grad_out * np.sign(dual.values(x)),)


def sqrt(x: Any) -> Tensor:
    """out = √x;  dL/dx = dL/dout / (2 out)."""
    x = as_real(x, "sqrt")
    out = np.sqrt(x._data)
    return record("sqrt", out, (x,), sqrt_backward, (out,))


def sqrt_backward(grad_out: Any, out: Any) -> tuple:
    return (grad_out / (2 * out),)


def clip(x: Any, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - contract names
    """out = x limited to [min, max];  dL/dx = dL/dout where min <= x <= max, else 0.

    NOTE: at a bound itself the gradient passes (PyTorch's ``clamp``).

    >>> clip(Tensor([-2.0, 0.5, 3.0]), 0, 1)
    Tensor([0. , 0.5, 1. ])
    """
    x = as_tensor(x, "clip")
    if min is None and max is None:
        raise ValueError("clip: give at least one of min and max")
    low = None if min is None else as_tensor(min, "clip", x._data.dtype)._data
    high = None if max is None else as_tensor(max, "clip", x._data.dtype)._data
    data = x._data
    try:
        out = np.clip(data, low, high)
    except ValueError:
        bounds = [t for t in (low, high) if t is not None]
        shapes = " and ".join(str(np.shape(t)) for t in bounds)
        raise ValueError(f"clip: shape {x.shape} and bound shapes {shapes} clash") from None
    if out.shape != data.shape:
        raise ValueError(f"clip: bounds would change the shape {x.shape} to {out.shape}")
    attrs = {"min": min, "max": max}
    return record("clip", out, (x,), clip_backward, (data, low, high), attrs)


def clip_backward(grad_out: Any, x: Any, low: np.ndarray | None, high: np.ndarray | None) -> tuple:
    data = dual.values(x)
    inside = np.ones(data.shape, dtype=bool)
    if low is not None:
        inside &= data >= low
    if high is not None:
        inside &= data <= high
    return (grad_out * inside,)


def _extremum_pair(op: str, fn: Any, a: Any, b: Any) -> Tensor:
    """``maximum``/``minimum`` of two operands, recorded with :func:`extremum_pair_backward`."""
    a, b = as_pair(a, b, op)
    try:
        out = fn(a._data, b._data)
    except ValueError:
        raise broadcast_error(op, a, b) from None
    saved = (a._data, b._data, out, a._requires_grad, b._requires_grad)
    return record(op, out, (a, b), extremum_pair_backward, saved)


def extremum_pair_backward(
    grad_out: Any, x: Any, y: Any, out: Any, needs_x: bool, needs_y: bool
) -> tuple:
    """The gradient goes to whichever operand equals the output. NOTE: ties split it equally."""
    x, y, out = dual.values(x), dual.values(y), dual.values(out)
    share_x = (x == out) * (1 - 0.5 * (x == y))
    return (
        grad_out * share_x if needs_x else None,
        grad_out * (1 - share_x) if needs_y else None,
    )


def maximum(a: Any, b: Any) -> Tensor:
    """out = max(a, b) elementwise;  the gradient goes to the larger, split equally on ties.

    >>> maximum(Tensor([1.0, 5.0]), 3)
    Tensor([3., 5.])
    """
    return _extremum_pair("maximum", np.maximum, a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """out = min(a, b) elementwise;  the gradient goes to the smaller, split equally on ties."""
    return _extremum_pair("minimum", np.minimum, a, b)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """out = a where condition is true (a bool tensor or array, or non-zero numbers), else b;
    dL/da = dL/dout where condition, dL/db = dL/dout elsewhere. The condition gets no gradient.

    >>> x = Tensor([-1.0, 2.0])
    >>> where(x > 0, x, 0)
    Tensor([0., 2.])
    """
    mask = as_tensor(condition, "where")._data.astype(bool)
    a, b = as_pair(a, b, "where")
    try:
        out = np.where(mask, a._data, b._data)
    except ValueError:
        raise ValueError(
            f"where: condition {mask.shape} and operands {a.shape} and {b.shape} "
            "cannot be broadcast together"
        ) from None
    saved = (mask, a._requires_grad, b._requires_grad)
    return record("where", out, (a, b), where_backward, saved)


def where_backward(grad_out: Any, mask: np.ndarray, needs_a: bool, needs_b: bool) -> tuple:
    return (
        dual.where(mask, grad_out, 0) if needs_a else None,
        dual.where(mask, 0, grad_out) if needs_b else None,
    )
