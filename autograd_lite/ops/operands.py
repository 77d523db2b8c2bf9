"""Turning whatever the user passed into Tensors, with errors that name the operation."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_lite.tensor import Tensor, to_array, wrap


def as_tensor(value: Any, op: str, like: np.dtype | None = None) -> Tensor:
    """``value`` as a Tensor; a Python number takes the dtype ``like`` so float32 stays float32."""
    if isinstance(value, Tensor):
        return value
    if like is not None and isinstance(value, (int, float)):
        return wrap(np.asarray(value, dtype=like))
    return wrap(to_array(value, op=op))


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


def normalize_axis(axis: Any, shape: tuple[int, ...], op: str) -> tuple[int, ...] | None:
    """``axis`` (None, an int or a tuple of ints) as a sorted tuple of non-negative axes."""
    if axis is None:
        return None
    ndim = len(shape)
    if isinstance(axis, (int, np.integer)):
        axes: tuple[Any, ...] = (axis,)
    elif isinstance(axis, (tuple, list)):
        axes = tuple(axis)
    else:
        raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
    result = []
    for item in axes:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, np.integer)):
            raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= item < ndim:
            raise ValueError(f"{op}: axis {item} is out of range for shape {shape}")
        result.append(int(item) % ndim)
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
