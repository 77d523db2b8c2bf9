"""Making tensors, under NumPy's and PyTorch's names: ``tensor``, ``zeros``, ``ones``, ``full``,
``zeros_like``, ``ones_like``, ``arange``, ``linspace``, ``rand`` and ``randn``.

Each takes ``dtype=`` (float64 unless given; for ``*_like``, the dtype of the tensor given)
and ``requires_grad=``. A shape is an int or a tuple of ints (``zeros``, ``ones``, ``rand``
and ``randn`` also take the lengths one by one, as PyTorch does); ``rng`` is an int seed or a
``numpy.random.Generator`` (None draws fresh entropy). Bad arguments raise ``TypeError`` or
``ValueError`` naming the function.

>>> import autograd_lite as ag
>>> ag.zeros((2, 3)).shape, ag.arange(3), ag.ones(2, dtype="float32")
((2, 3), Tensor([0., 1., 2.]), Tensor([1., 1.], dtype=float32))
>>> ag.randn(2, 2, rng=0).shape
(2, 2)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd_lite.ops.operands import is_number, number_array
from autograd_lite.tensor import Tensor, as_dtype, checked_requires_grad, describe, to_array, wrap


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """``Tensor(data, requires_grad=requires_grad, dtype=dtype)`` under PyTorch's name.

    Unlike ``torch.tensor``, integers and bools become float64 unless ``dtype`` says otherwise.
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with 0: ``zeros((2, 3))`` or ``zeros(2, 3)``."""
    size, kind = _shape(_shape_args(shape), "zeros"), _dtype(dtype, "zeros")
    return _finish(np.zeros(size, dtype=kind), requires_grad, "zeros")


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with 1: ``ones((2, 3))`` or ``ones(2, 3)``."""
    size, kind = _shape(_shape_args(shape), "ones"), _dtype(dtype, "ones")
    return _finish(np.ones(size, dtype=kind), requires_grad, "ones")


def full(shape: Any, value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` filled with the number ``value`` (converted to ``dtype`` as NumPy
    converts it; a value the dtype cannot hold raises ``ValueError``).

    >>> full((2,), 0.5)
    Tensor([0.5, 0.5])
    """
    size, kind = _shape(shape, "full"), _dtype(dtype, "full")
    if not is_number(value):
        raise TypeError(f"full: value must be a number, got {describe(value)}")
    fill = number_array(value, kind, "full")
    if kind.kind in "iu" and fill.dtype.kind == "f":
        limits = np.iinfo(kind)
        if not limits.min <= fill <= limits.max:  # NaN fails this too
            raise ValueError(f"full: the number {describe(value)} does not fit in {kind}")
    return _finish(np.full(size, fill, dtype=kind), requires_grad, "full")


def zeros_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``x``'s shape and (unless ``dtype`` is given) dtype; ``x`` is read as
    ``Tensor(x)`` reads it."""
    source = _source(x, "zeros_like")
    kind = source.dtype if dtype is None else _dtype(dtype, "zeros_like")
    return _finish(np.zeros(source.shape, dtype=kind), requires_grad, "zeros_like")


def ones_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of ``x``'s shape and (unless ``dtype`` is given) dtype."""
    source = _source(x, "ones_like")
    kind = source.dtype if dtype is None else _dtype(dtype, "ones_like")
    return _finish(np.ones(source.shape, dtype=kind), requires_grad, "ones_like")


def arange(
    start: Any, stop: Any = None, step: Any = 1, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """start, start + step, ... up to but not including stop (``arange(n)``: 0 to n - 1), as
    NumPy's ``arange``.

    >>> arange(1, 2, 0.25)
    Tensor([1.  , 1.25, 1.5 , 1.75])
    """
    if stop is None:
        start, stop = 0, start
    for name, value in (("start", start), ("stop", stop), ("step", step)):
        _finite(value, name, "arange")
    if step == 0:
        raise ValueError("arange: step must not be 0")
    kind = _dtype(dtype, "arange")
    try:
        values = np.arange(start, stop, step, dtype=kind)
    except (ValueError, OverflowError, MemoryError) as error:
        raise ValueError(f"arange: no array from {describe(start)} to {describe(stop)} "
                         f"by {describe(step)}: {error}") from None
    return _finish(values, requires_grad, "arange")


def linspace(
    start: Any, stop: Any, num: int, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """``num`` evenly spaced numbers from start to stop, both included (NumPy's ``linspace``).

    >>> linspace(0, 1, 5)
    Tensor([0.  , 0.25, 0.5 , 0.75, 1.  ])
    """
    _finite(start, "start", "linspace")
    _finite(stop, "stop", "linspace")
    if isinstance(num, (bool, np.bool_)) or not isinstance(num, (int, np.integer)):
        raise TypeError(f"linspace: num must be an int, got {describe(num)}")
    if num < 0:
        raise ValueError(f"linspace: num must not be negative, got {num}")
    kind = _dtype(dtype, "linspace")
    return _finish(np.linspace(start, stop, int(num)).astype(kind), requires_grad, "linspace")


def rand(*shape: Any, rng: Any = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform random numbers in [0, 1): ``rand(2, 3)`` or ``rand((2, 3))``.

    >>> values = rand(1000, rng=0)
    >>> (values >= 0).sum().item(), (values < 1).sum().item()
    (1000, 1000)
    """
    size, kind = _shape(_shape_args(shape), "rand"), _random_dtype(dtype, "rand")
    return _finish(_generator(rng, "rand").random(size, dtype=kind), requires_grad, "rand")


def randn(*shape: Any, rng: Any = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal random numbers (mean 0, variance 1): ``randn(2, 3)`` or ``randn((2, 3))``."""
    size, kind = _shape(_shape_args(shape), "randn"), _random_dtype(dtype, "randn")
    values = _generator(rng, "randn").standard_normal(size, dtype=kind)
    return _finish(values, requires_grad, "randn")


def _finish(array: np.ndarray, requires_grad: Any, op: str) -> Tensor:
    """``array`` as a leaf, after checking ``requires_grad`` against its dtype."""
    out = wrap(array)
    out._requires_grad = checked_requires_grad(requires_grad, array.dtype, op)
    return out


def _shape_args(shape: tuple[Any, ...]) -> Any:
    """``f(2, 3)`` and ``f((2, 3))`` alike."""
    return shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def _shape(shape: Any, op: str) -> tuple[int, ...]:
    items = (shape,) if isinstance(shape, (int, np.integer)) else shape
    if not isinstance(items, (tuple, list)) or any(
        isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, np.integer))
        for item in items
    ):
        raise TypeError(f"{op}: shape must be an int or a tuple of ints, got {describe(shape)}")
    if any(item < 0 for item in items):
        raise ValueError(f"{op}: shape must not have negative lengths, got {shape!r}")
    return tuple(int(item) for item in items)


def _dtype(dtype: Any, op: str) -> np.dtype:
    return np.dtype(np.float64) if dtype is None else as_dtype(dtype, op)


def _random_dtype(dtype: Any, op: str) -> np.dtype:
    kind = _dtype(dtype, op)
    if kind not in (np.float32, np.float64):
        raise TypeError(f"{op}: dtype must be float32 or float64, got {kind}")
    return kind


def _source(x: Any, op: str) -> np.ndarray:
    return x._data if isinstance(x, Tensor) else to_array(x, op=op)


def _finite(value: Any, name: str, op: str) -> None:
    if isinstance(value, (bool, np.bool_)) or not is_number(value):
        raise TypeError(f"{op}: {name} must be a number, got {describe(value)}")
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        raise ValueError(f"{op}: {name} must be finite, got {value!r}")


def _generator(rng: Any, op: str) -> np.random.Generator:
    if rng is None or isinstance(rng, np.random.Generator):
        return np.random.default_rng(rng)
    if isinstance(rng, (bool, np.bool_)) or not isinstance(rng, (int, np.integer)):
        raise TypeError(
            f"{op}: rng must be an int seed or a numpy.random.Generator, got {describe(rng)}"
        )
    if rng < 0:
        raise ValueError(f"{op}: an rng seed must not be negative, got {rng}")
    return np.random.default_rng(int(rng))
