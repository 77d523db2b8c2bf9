"""Operations that move elements around: reshape, transpose, indexing, joining and splitting.

Their gradients move ``grad_out`` back to where each element came from.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_lite.engine import record
from autograd_lite.ops.operands import as_tensor, normalize_axis
from autograd_lite.tensor import Tensor


def _shape_argument(shape: tuple[Any, ...]) -> tuple[Any, ...]:
    """Accept ``reshape(2, 3)`` and ``reshape((2, 3))`` alike."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def reshape(x: Any, *shape: Any) -> Tensor:
    """out = x with a new shape (one axis may be -1);  dL/dx = dL/dout reshaped back.

    >>> reshape(Tensor([1.0, 2.0, 3.0, 4.0]), 2, -1).shape
    (2, 2)
    """
    x = as_tensor(x, "reshape")
    new_shape = _shape_argument(shape)
    try:
        out = x._data.reshape(new_shape)
    except (ValueError, TypeError):
        raise ValueError(
            f"reshape: cannot reshape shape {x.shape} ({x.size} elements) into {new_shape}"
        ) from None
    return record("reshape", out, (x,), reshape_backward, (x.shape,), {"shape": out.shape})


def reshape_backward(grad_out: np.ndarray, shape: tuple[int, ...]) -> tuple:
    """The rule of every op that only changes the shape: put dL/dout back in x's shape."""
    return (grad_out.reshape(shape),)


def transpose(x: Any, *axes: Any) -> Tensor:
    """out = x with its axes permuted (reversed when none are given);
    dL/dx = dL/dout permuted back."""
    x = as_tensor(x, "transpose")
    order = _shape_argument(axes) or tuple(reversed(range(x.ndim)))
    if sorted(normalize_axis(order, x.shape, "transpose") or ()) != list(range(x.ndim)):
        raise ValueError(f"transpose: axes {order} are not a permutation for shape {x.shape}")
    inverse = tuple(int(axis) for axis in np.argsort([axis % x.ndim for axis in order]))
    attrs = {"axes": tuple(order)} if axes else None
    out = x._data.transpose(order)
    return record("transpose", out, (x,), transpose_backward, (inverse,), attrs)


def transpose_backward(grad_out: np.ndarray, inverse: tuple[int, ...]) -> tuple:
    return (grad_out.transpose(inverse),)


def _plain_index(index: Any) -> Any:
    """Indices as NumPy takes them: Tensors become integer arrays."""
    if isinstance(index, tuple):
        return tuple(_plain_index(item) for item in index)
    if isinstance(index, Tensor):
        return index._data.astype(np.intp)
    return index


def _has_array(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(item, (list, np.ndarray)) for item in items)


def getitem(x: Any, index: Any) -> Tensor:
    """out = x[index] (basic slices and integer arrays);
    dL/dx = zeros with dL/dout added at the indexed places (repeats add up).

    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> x[[0, 0, 2]].sum().backward()
    >>> x.grad
    array([2., 0., 1.])
    """
    x = as_tensor(x, "getitem")
    index = _plain_index(index)
    try:
        out = x._data[index]
    except IndexError as error:
        raise IndexError(
            f"getitem: index {index!r} does not fit shape {x.shape}: {error}"
        ) from None
    saved = (x.shape, x.dtype, index, _has_array(index))
    attrs = {"index": index}
    return record("getitem", np.asarray(out), (x,), getitem_backward, saved, attrs)


def getitem_backward(
    grad_out: np.ndarray, shape: tuple[int, ...], dtype: np.dtype, index: Any, repeats: bool
) -> tuple:
    grad = np.zeros(shape, dtype=dtype)
    if repeats:  # integer arrays may name an element twice: add, don't overwrite
        np.add.at(grad, index, grad_out)
    else:
        grad[index] = grad_out
    return (grad,)


def flatten(x: Any, start_axis: int = 0) -> Tensor:
    """out = x with the axes from ``start_axis`` on merged into one;  dL/dx reshaped back.

    >>> flatten(Tensor(np.zeros((2, 3, 4))), 1).shape
    (2, 12)
    """
    x = as_tensor(x, "flatten")
    if x.ndim == 0:
        start = 0
        new_shape: tuple[int, ...] = (1,)
    else:
        start = normalize_axis(start_axis, x.shape, "flatten")[0]  # type: ignore[index]
        new_shape = x.shape[:start] + (int(np.prod(x.shape[start:])),)
    out = x._data.reshape(new_shape)
    return record("flatten", out, (x,), reshape_backward, (x.shape,), {"start_axis": start})


def squeeze(x: Any, axis: Any = None) -> Tensor:
    """out = x without length-1 axes (all of them, or ``axis``, which must have length 1)."""
    x = as_tensor(x, "squeeze")
    axes = normalize_axis(axis, x.shape, "squeeze")
    if axes is None:
        axes = tuple(i for i, length in enumerate(x.shape) if length == 1)
    for item in axes:
        if x.shape[item] != 1:
            raise ValueError(
                f"squeeze: axis {item} of shape {x.shape} has length {x.shape[item]}, not 1"
            )
    out = np.squeeze(x._data, axis=axes)
    return record("squeeze", out, (x,), reshape_backward, (x.shape,), {"axis": axis})


def unsqueeze(x: Any, axis: int) -> Tensor:
    """out = x with a new length-1 axis at ``axis``;  dL/dx = dL/dout with that axis removed."""
    x = as_tensor(x, "unsqueeze")
    if not isinstance(axis, (int, np.integer)):
        raise TypeError(f"unsqueeze: axis must be an int, got {axis!r}")
    if not -(x.ndim + 1) <= axis <= x.ndim:
        raise ValueError(f"unsqueeze: axis {axis} is out of range for shape {x.shape}")
    out = np.expand_dims(x._data, axis)
    return record("unsqueeze", out, (x,), reshape_backward, (x.shape,), {"axis": axis})


def _joining_axis(axis: Any, op: str) -> int:
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{op}: axis must be an int, got {axis!r}")
    return int(axis)


def _tensor_list(tensors: Any, op: str) -> tuple[Tensor, ...]:
    if isinstance(tensors, (Tensor, np.ndarray)) or not hasattr(tensors, "__iter__"):
        raise TypeError(f"{op}: takes a list of tensors, got {type(tensors).__name__}")
    items = tuple(as_tensor(item, op) for item in tensors)
    if not items:
        raise ValueError(f"{op}: needs at least one tensor")
    return items


def concatenate(tensors: Any, axis: int = 0) -> Tensor:
    """out = the tensors joined along an existing ``axis``;
    dL/dx_i = the slice of dL/dout that came from x_i.

    >>> concatenate([Tensor([1.0]), Tensor([2.0, 3.0])])
    Tensor([1., 2., 3.])
    """
    parts = _tensor_list(tensors, "concatenate")
    axis = _joining_axis(axis, "concatenate")
    try:
        out = np.concatenate([part._data for part in parts], axis=axis)
    except (ValueError, np.exceptions.AxisError):
        shapes = ", ".join(str(part.shape) for part in parts)
        raise ValueError(f"concatenate: shapes {shapes} cannot be joined on axis {axis}") from None
    boundaries = np.cumsum([part.shape[axis] for part in parts])[:-1]

    saved = (boundaries, axis)
    return record("concatenate", out, parts, concatenate_backward, saved, {"axis": axis})


def concatenate_backward(grad_out: np.ndarray, boundaries: np.ndarray, axis: int) -> tuple:
    return tuple(np.split(grad_out, boundaries, axis=axis))


def stack(tensors: Any, axis: int = 0) -> Tensor:
    """out = the tensors stacked along a new ``axis``;  dL/dx_i = dL/dout taken at index i.

    >>> stack([Tensor([1.0, 2.0]), Tensor([3.0, 4.0])]).shape
    (2, 2)
    """
    parts = _tensor_list(tensors, "stack")
    axis = _joining_axis(axis, "stack")
    try:
        out = np.stack([part._data for part in parts], axis=axis)
    except (ValueError, np.exceptions.AxisError):
        shapes = ", ".join(str(part.shape) for part in parts)
        raise ValueError(f"stack: shapes {shapes} cannot be stacked on axis {axis}") from None
    new_axis = axis % out.ndim

    return record("stack", out, parts, stack_backward, (new_axis,), {"axis": axis})


def stack_backward(grad_out: np.ndarray, axis: int) -> tuple:
    return tuple(np.moveaxis(grad_out, axis, 0))
