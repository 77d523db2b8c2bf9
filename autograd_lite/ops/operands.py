"""Turning whatever the user passed into Tensors, with errors that name the operation.

This is the one place where dtypes meet. A Tensor operand keeps its dtype; an array or list
becomes ``Tensor(value)`` (integers and bools as float64, like the constructor); a number
(a Python or NumPy scalar) takes the dtype NumPy gives a Python number next to the other
operand (NEP 50): ``int tensor * 0.5`` is float64, ``bool tensor + 2`` is int64, and a number
never upcasts a float32 tensor.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd_lite.tensor import Tensor, describe, to_array, wrap

_NUMBER_TYPES = (int, float, np.bool_, np.integer, np.floating)
# The largest finite value of each float dtype, as a Python float, to refuse a number too
# large for the operand it meets (NumPy would turn it into inf with a warning).
_FLOAT_LIMITS = {np.dtype(t): float(np.finfo(t).max) for t in (np.float16, np.float32)}
_FLOAT64 = np.dtype(np.float64)  # NumPy keeps one dtype object per built-in type


def is_number(value: Any) -> bool:
    """A real scalar: Python bool, int or float, or a NumPy scalar of those kinds."""
    return isinstance(value, _NUMBER_TYPES)


def number_array(value: Any, like: np.dtype, op: str) -> np.ndarray:
    """The number ``value`` as a 0-d array of the dtype NumPy gives a Python number next to an
    array of dtype ``like``: ``like`` itself for floats (float32 stays float32), float64 for a
    float next to integers, int64 for an int next to bools.

    A number that does not fit that dtype raises ``ValueError`` naming ``op`` (NumPy raises
    ``OverflowError`` or, for floats, makes it inf).

    >>> number_array(0.5, np.dtype(np.int64), "mul")
    array(0.5)
    >>> number_array(2, np.dtype(np.float32), "add").dtype
    dtype('float32')
    """
    if like is _FLOAT64:  # the common case, kept short: only a huge int can fail here
        dtype = like
    else:
        if isinstance(value, np.generic):
            value = value.item()  # a NumPy scalar counts as the Python number it holds
        dtype = like if like.kind == "f" else np.result_type(like, value)
        limit = _FLOAT_LIMITS.get(dtype)  # NumPy would make a too large float inf
        if limit is not None and limit < abs(value) != math.inf:
            raise _too_large(op, value, dtype)
    try:
        return np.asarray(value, dtype=dtype)
    except OverflowError:
        raise _too_large(op, value, dtype) from None


def _too_large(op: str, value: Any, dtype: np.dtype) -> ValueError:
    return ValueError(
        f"{op}: the number {describe(value)} does not fit in {dtype}, the dtype it is computed "
        "in here; use a smaller number, or convert the tensor first (x.astype(...))"
    )


def as_tensor(value: Any, op: str, like: np.dtype | None = None) -> Tensor:
    """``value`` as a Tensor; a number next to an operand of dtype ``like`` gets the dtype of
    :func:`number_array`."""
    if isinstance(value, Tensor):
        return value
    if like is not None and isinstance(value, _NUMBER_TYPES):  # (is_number, inlined: hot)
        return wrap(number_array(value, like, op))
    return wrap(to_array(value, op=op))


def as_real(value: Any, op: str) -> Tensor:
    """``value`` as a float Tensor, for functions with real-valued results (exp, sigmoid,
    mean, ...): integer and bool data are computed in float64, as NumPy's ``mean`` does.
    Such tensors never require grad, so nothing is lost by converting them."""
    tensor = as_tensor(value, op)
    if tensor._data.dtype.kind == "f":
        return tensor
    return wrap(tensor._data.astype(np.float64))


def as_pair(a: Any, b: Any, op: str) -> tuple[Tensor, Tensor]:
    """Both operands of a binary operation as Tensors (numbers follow the other's dtype)."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            return a, b
        return a, as_tensor(b, op, a._data.dtype)
    if isinstance(b, Tensor):
        return as_tensor(a, op, b._data.dtype), b
    return as_tensor(a, op), as_tensor(b, op)


def broadcast_error(op: str, *operands: Tensor) -> ValueError:
    shapes = " and ".join(str(t.shape) for t in operands)
    return ValueError(f"{op}: shapes {shapes} cannot be broadcast together")


def numpy_error(op: str, error: Exception, *operands: Tensor) -> Exception:
    """What NumPy refused while computing ``op``, as the same kind of error naming ``op``:
    shapes that do not broadcast, or dtypes it has no loop for (``-`` of bools, integers to
    negative integer powers)."""
    if isinstance(error, ValueError):
        try:
            np.broadcast_shapes(*(t.shape for t in operands))
        except ValueError:
            return broadcast_error(op, *operands)
    details = " and ".join(f"{t.dtype} {t.shape}" for t in operands)
    return type(error)(f"{op}: NumPy refuses operands {details}: {error}")


def axis_int(axis: Any, op: str, name: str = "axis") -> int:
    """``axis`` as an int, refusing bools, None, floats and lists with ``TypeError``."""
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{op}: {name} must be an int, got {axis!r}")
    return int(axis)


def single_axis(axis: Any, shape: tuple[int, ...], op: str, name: str = "axis") -> int:
    """One axis of ``shape`` (an int, negative counting from the end) as a non-negative int."""
    axis = axis_int(axis, op, name)
    if not -len(shape) <= axis < len(shape):
        raise ValueError(f"{op}: {name} {axis} is out of range for shape {shape}")
    return axis % len(shape)


def normalize_axis(axis: Any, shape: tuple[int, ...], op: str) -> tuple[int, ...] | None:
    """``axis`` (None, an int or a tuple of ints) as a sorted tuple of non-negative axes."""
    if axis is None:
        return None
    if isinstance(axis, (tuple, list)):
        items: tuple[Any, ...] = tuple(axis)
    elif isinstance(axis, (int, np.integer)) and not isinstance(axis, (bool, np.bool_)):
        items = (axis,)
    else:
        raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
    result = []
    for item in items:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, np.integer)):
            raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
        result.append(single_axis(item, shape, op))
    if len(set(result)) != len(result):
        raise ValueError(f"{op}: repeated axis in {axis!r} for shape {shape}")
    return tuple(sorted(result))


def int_pair(value: Any, name: str, op: str, smallest: int) -> tuple[int, int]:
    """``value`` (an int or an ``(h, w)`` pair of ints) as a pair, each at least ``smallest``.

    >>> int_pair(3, "kernel_size", "max_pool2d", smallest=1)
    (3, 3)
    """
    items = value if isinstance(value, (tuple, list)) else (value, value)
    if len(items) != 2 or any(
        isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, np.integer))
        for item in items
    ):
        raise TypeError(f"{op}: {name} must be an int or an (h, w) pair of ints, got {value!r}")
    if min(items) < smallest:
        bound = "positive" if smallest == 1 else "non-negative"
        raise ValueError(f"{op}: {name} must be {bound}, got {value!r}")
    return int(items[0]), int(items[1])
