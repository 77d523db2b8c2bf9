"""Operations that move elements around: reshape, transpose, indexing, joining and splitting.

Their gradients move ``grad_out`` back to where each element came from.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_lite.engine import record, unbroadcast
from autograd_lite.ops import dual
from autograd_lite.ops.operands import as_tensor, axis_int, normalize_axis, single_axis
from autograd_lite.tensor import Tensor, as_dtype, wrap


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


def reshape_backward(grad_out: Any, shape: tuple[int, ...]) -> tuple:
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


def transpose_backward(grad_out: Any, inverse: tuple[int, ...]) -> tuple:
    return (grad_out.transpose(inverse),)


def _plain_index(index: Any) -> Any:
    """Indices as NumPy takes them: a Tensor gives its array, which must hold integers or
    bools (a float index is refused, not truncated)."""
    if isinstance(index, tuple):
        return tuple(_plain_index(item) for item in index)
    if isinstance(index, Tensor):
        if index._data.dtype.kind not in "biu":
            raise IndexError(
                f"getitem: index tensors must hold integers or bools, got {index.dtype}; "
                "convert it with .astype(np.int64)"
            )
        return index._data
    return index


def _has_array(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(item, (list, np.ndarray)) for item in items)


def getitem(x: Any, index: Any) -> Tensor:
    """out = x[index], as NumPy indexes: ints, slices, None, ``...``, integer arrays and bool
    masks (``x[x > 0]``; arrays, lists or Tensors);
    dL/dx = zeros with dL/dout added at the indexed places (repeats add up).

    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> x[[0, 0, 2]].sum().backward()
    >>> x.grad
    array([2., 0., 1.])
    >>> x[x > 1.5]
    Tensor([2., 3.], op='getitem', requires_grad=True)
    """
    x = as_tensor(x, "getitem")
    index = _plain_index(index)
    try:
        out = x._data[index]
    except (IndexError, ValueError, TypeError) as error:  # ValueError: a zero slice step
        kind = ValueError if isinstance(error, ValueError) else IndexError
        raise kind(f"getitem: cannot index shape {x.shape} with {index!r}: {error}") from None
    attrs = {"index": index}
    return record("getitem", np.asarray(out), (x,), getitem_backward, (x.shape, index), attrs)


def getitem_backward(grad_out: Any, shape: tuple[int, ...], index: Any) -> tuple:
    return (dual.scatter_add(grad_out, shape, index),)


def scatter_add_array(values: np.ndarray, shape: tuple[int, ...], index: Any) -> np.ndarray:
    """Zeros of ``shape`` with ``values`` added at ``index``; repeated indices add up."""
    out = np.zeros(shape, dtype=values.dtype)
    if _has_array(index):  # integer arrays may name an element twice: add, don't overwrite
        np.add.at(out, index, values)  # (it takes bool masks as NumPy indexing does)
    else:
        out[index] = values
    return out


def scatter_add(values: Any, shape: tuple[int, ...], index: Any) -> Tensor:
    """out = zeros(shape) with ``values`` added at ``index`` (the adjoint of ``x[index]``);
    dL/dvalues = dL/dout[index]. What getitem's gradient is made of, so that it can be
    differentiated again."""
    values = as_tensor(values, "scatter_add")
    out = scatter_add_array(values._data, shape, index)
    return record("scatter_add", out, (values,), scatter_add_backward, (index,), {"index": index})


def scatter_add_backward(grad_out: Any, index: Any) -> tuple:
    return (grad_out[index],)


def broadcast_to(x: Any, shape: tuple[int, ...]) -> Tensor:
    """out = x repeated along axes to ``shape`` (NumPy broadcasting);  dL/dx = dL/dout summed
    over the repeated axes. (What the gradients of sum and mean are made of.)"""
    x = as_tensor(x, "broadcast_to")
    out = np.broadcast_to(x._data, shape)
    return record("broadcast_to", out, (x,), broadcast_to_backward, (x.shape,), {"shape": shape})


def broadcast_to_backward(grad_out: Any, shape: tuple[int, ...]) -> tuple:
    return (unbroadcast(grad_out, shape),)


def astype(x: Any, dtype: Any) -> Tensor:
    """out = x converted to ``dtype``;  dL/dx = dL/dout, converted back to x's dtype by the
    engine, as for every gradient.

    >>> astype(Tensor([1.5, 2.5]), "float32")
    Tensor([1.5, 2.5], dtype=float32)
    """
    x = as_tensor(x, "astype")
    target = as_dtype(dtype, "astype")
    out = x._data.astype(target)
    if target.kind != "f":  # integers and bools carry no gradient: nothing to record
        return wrap(out)
    return record("astype", out, (x,), clone_backward, attrs={"dtype": str(target)})


def clone(x: Any) -> Tensor:
    """out = a copy of x, recorded;  dL/dx = dL/dout."""
    x = as_tensor(x, "clone")
    return record("clone", x._data.copy(), (x,), clone_backward)


def clone_backward(grad_out: Any) -> tuple:
    return (grad_out,)


def flatten(x: Any, start_axis: int = 0) -> Tensor:
    """out = x with the axes from ``start_axis`` on merged into one;  dL/dx reshaped back.

    >>> flatten(Tensor(np.zeros((2, 3, 4))), 1).shape
    (2, 12)
    """
    x = as_tensor(x, "flatten")
    # a 0-d tensor becomes one element, as in PyTorch (its start axis is 0 or -1)
    start = single_axis(start_axis, x.shape or (1,), "flatten", "start_axis")
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
    axis = axis_int(axis, "unsqueeze")
    if not -(x.ndim + 1) <= axis <= x.ndim:
        raise ValueError(f"unsqueeze: axis {axis} is out of range for shape {x.shape}")
    out = np.expand_dims(x._data, axis)
    return record("unsqueeze", out, (x,), reshape_backward, (x.shape,), {"axis": axis})


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
    axis = axis_int(axis, "concatenate")
    try:
        out = np.concatenate([part._data for part in parts], axis=axis)
    except (ValueError, OverflowError, np.exceptions.AxisError):
        shapes = ", ".join(str(part.shape) for part in parts)
        raise ValueError(f"concatenate: shapes {shapes} cannot be joined on axis {axis}") from None
    ends = np.cumsum([part.shape[axis] for part in parts]).tolist()
    spans = tuple(zip([0] + ends[:-1], ends))
    saved = (spans, axis % out.ndim)
    return record("concatenate", out, parts, concatenate_backward, saved, {"axis": axis})


def concatenate_backward(grad_out: Any, spans: tuple[tuple[int, int], ...], axis: int) -> tuple:
    before = (slice(None),) * axis
    return tuple(grad_out[before + (slice(start, end),)] for start, end in spans)


def stack(tensors: Any, axis: int = 0) -> Tensor:
    """out = the tensors stacked along a new ``axis``;  dL/dx_i = dL/dout taken at index i.

    >>> stack([Tensor([1.0, 2.0]), Tensor([3.0, 4.0])]).shape
    (2, 2)
    """
    parts = _tensor_list(tensors, "stack")
    axis = axis_int(axis, "stack")
    try:
        out = np.stack([part._data for part in parts], axis=axis)
    except (ValueError, OverflowError, np.exceptions.AxisError):
        shapes = ", ".join(str(part.shape) for part in parts)
        raise ValueError(f"stack: shapes {shapes} cannot be stacked on axis {axis}") from None
    new_axis = axis % out.ndim
    saved = (new_axis, len(parts))
    return record("stack", out, parts, stack_backward, saved, {"axis": axis})


def stack_backward(grad_out: Any, axis: int, count: int) -> tuple:
    before = (slice(None),) * axis
    return tuple(grad_out[before + (i,)] for i in range(count))
