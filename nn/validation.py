"""The argument checks every layer shares; each error starts with the layer that was given it.

>>> positive_int(3, "n_inputs", "Dense")
3
>>> positive_int(0, "n_inputs", "Dense")
Traceback (most recent call last):
...
ValueError: Dense: n_inputs must be a positive int, got 0
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from autograd_lite import Tensor
from nn.module import Module


def as_generator(
    rng: int | np.random.Generator | None, owner: str | None = None
) -> np.random.Generator:
    """``rng`` as a Generator: a seed makes a new one, a Generator is used as it is.

    Errors start with ``owner`` (the layer being built) when it is given.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    where = f"{owner}: " if owner else ""
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        if rng is not None and rng < 0:
            raise ValueError(f"{where}an rng seed must be non-negative, got {rng}")
        return np.random.default_rng(rng)
    raise TypeError(
        f"{where}rng must be an int seed, a numpy.random.Generator or None, got {rng!r}"
    )


def positive_int(value: Any, what: str, owner: str) -> int:
    """``value`` as an int >= 1 (``TypeError`` for a non-int or a bool, ``ValueError`` below 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{owner}: {what} must be a positive int, got {value!r}")
    if value < 1:
        raise ValueError(f"{owner}: {what} must be a positive int, got {value}")
    return int(value)


def float_dtype(dtype: Any, owner: str) -> np.dtype:
    """``dtype`` as a NumPy floating dtype, or a ``TypeError``."""
    try:
        kind = np.dtype(dtype)
    except (TypeError, ValueError):
        raise TypeError(f"{owner}: dtype must be a float dtype, got {dtype!r}") from None
    if kind.kind != "f":
        raise TypeError(f"{owner}: dtype must be a float dtype such as float64, got {kind}")
    return kind


def bias_flag(bias: Any, owner: str) -> bool:
    """``bias`` if it is True or False (a NumPy bool too), else a ``TypeError``."""
    if not isinstance(bias, (bool, np.bool_)):
        raise TypeError(f"{owner}: bias must be True or False, got {bias!r}")
    return bool(bias)


def numeric_input(layer: Module, x: Any) -> Tensor | np.ndarray:
    """``x`` as it is if a Tensor, else as a numeric NumPy array; errors name ``layer``."""
    if isinstance(x, Tensor):
        return x
    try:
        array = np.asarray(x)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{layer.label()}: cannot read the input as numbers ({error})") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{layer.label()}: expected numbers as input, got an array of dtype {array.dtype}"
        )
    return array


def check_allocation(shape: tuple[int, ...], dtype: np.dtype, owner: str) -> None:
    """Refuse a parameter whose draw would not fit in the memory free right now, before
    anything is allocated (the operating system may promise memory it does not have, so a
    ``MemoryError`` cannot be relied on). The draw is float64, then cast to ``dtype``.

    >>> check_allocation((2, 10**12), np.dtype(np.float32), "Dense(2→1000000000000)")
    Traceback (most recent call last):
    ...
    ValueError: Dense(2→1000000000000): weights of shape (2, 1000000000000) need 24000 GB ...
    """
    per_element = 8 + (dtype.itemsize if dtype != np.float64 else 0)
    needed = math.prod(shape) * per_element
    free = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    if needed > free:
        raise ValueError(
            f"{owner}: weights of shape {shape} need {needed / 1e9:.0f} GB while drawn, "
            f"more than the {free / 1e9:.0f} GB of memory free"
        )
