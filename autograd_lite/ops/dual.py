"""The few functions backward rules call, each running on NumPy arrays or on Tensors alike.

A backward rule is written once. ``backward()`` runs it on arrays (the fast path); a pass with
``create_graph=True`` runs the very same lines on Tensors, so that the gradient is recorded
and can be differentiated again. Operators (``*``, ``/``, ``@``, ``-``, comparisons) and the
methods arrays and Tensors share (``.sum``, ``.reshape``, ``.transpose``, ``.swapaxes``,
``.astype``) need no help; for the rest a rule calls this module, which picks the NumPy
function or the recorded operation by the type of the values. (HIPS autograd does the same
with its wrapped ``autograd.numpy``.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_lite import ops
from autograd_lite.tensor import Tensor


def is_recorded(*values: Any) -> bool:
    """True when a rule is running on Tensors (its gradient will be differentiated again)."""
    for value in values:  # (a loop: any() over a generator costs more than the rule's work)
        if isinstance(value, Tensor):
            return True
    return False


def values(x: Any) -> np.ndarray:
    """The array behind ``x``: masks and signs are computed from it as constants."""
    return x._data if isinstance(x, Tensor) else x


def exp(x: Any) -> Any:
    return ops.exp(x) if isinstance(x, Tensor) else np.exp(x)


def log(x: Any) -> Any:
    return ops.log(x) if isinstance(x, Tensor) else np.log(x)


def sqrt(x: Any) -> Any:
    return ops.sqrt(x) if isinstance(x, Tensor) else np.sqrt(x)


def tanh(x: Any) -> Any:
    return ops.tanh(x) if isinstance(x, Tensor) else np.tanh(x)


def sigmoid(x: Any) -> Any:
    return ops.sigmoid(x) if isinstance(x, Tensor) else ops.functions.stable_sigmoid(x)


def softmax(x: Any, axis: int) -> Any:
    return ops.softmax(x, axis) if isinstance(x, Tensor) else ops.reductions.softmax_array(x, axis)


def where(condition: np.ndarray, a: Any, b: Any) -> Any:
    """``a`` where the (constant) condition holds, else ``b``."""
    return ops.where(condition, a, b) if is_recorded(a, b) else np.where(condition, a, b)


def broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    """``x`` repeated along axes to ``shape`` (a read-only view for arrays)."""
    return ops.shapes.broadcast_to(x, shape) if isinstance(x, Tensor) else np.broadcast_to(x, shape)


def scatter_add(values: Any, shape: tuple[int, ...], index: Any) -> Any:
    """Zeros of ``shape`` with ``values`` added at ``index`` (repeats add up): the adjoint of
    ``x[index]``."""
    if isinstance(values, Tensor):
        return ops.shapes.scatter_add(values, shape, index)
    return ops.shapes.scatter_add_array(values, shape, index)


def col2im(cols: Any, shape: tuple[int, ...], stride: tuple[int, int]) -> Any:
    """Every window element added back onto its pixel: the adjoint of the window view."""
    if isinstance(cols, Tensor):
        return ops.conv.col2im(cols, shape, stride)
    return ops.conv.col2im_array(cols, shape, stride)


def windows(x: Any, kernel: tuple[int, int], stride: tuple[int, int]) -> Any:
    """Every kh x kw window of an image batch, ``(n, c, out_h, out_w, kh, kw)``."""
    if isinstance(x, Tensor):
        return ops.conv.windows(x, kernel, stride)
    return ops.conv.windows_array(x, kernel, stride)
