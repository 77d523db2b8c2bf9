"""Check a function's backward pass against central finite differences, in float64."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograd_lite.engine import no_grad
from autograd_lite.tensor import Tensor


class GradcheckError(RuntimeError):
    """The gradient that backward derived differs from the finite-difference estimate."""


def gradcheck(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Compare backward's gradient of ``fn(*inputs).sum()`` with central differences.

    For every element x_k of every input Tensor with ``requires_grad=True``:
    ``(f(x + eps e_k) - f(x - eps e_k)) / (2 eps)`` must match the derived gradient within
    ``atol + rtol * |numeric|``. Inputs are copied to float64 first, so the caller's tensors
    and gradients are never touched. Other inputs are passed to ``fn`` unchanged.

    Returns True, or raises :class:`GradcheckError` naming the input, the worst element and
    both values.

    >>> x = Tensor([0.5, -1.0, 2.0], requires_grad=True)
    >>> gradcheck(lambda t: t.sigmoid() * t, x)
    True
    """
    checked = [
        i for i, value in enumerate(inputs) if isinstance(value, Tensor) and value.requires_grad
    ]
    if not checked:
        raise ValueError(
            "gradcheck: no input is a Tensor with requires_grad=True; nothing to check"
        )
    values = [
        np.array(inputs[i]._data, dtype=np.float64) if i in checked else inputs[i]
        for i in range(len(inputs))
    ]

    def as_arguments(arrays: list[Any]) -> list[Any]:
        return [
            Tensor(arrays[i], requires_grad=True) if i in checked else arrays[i]
            for i in range(len(arrays))
        ]

    def total(arrays: list[Any]) -> float:
        """f(inputs) summed to a number, recording nothing."""
        with no_grad():
            return float(np.sum(_call(fn, as_arguments(arrays))._data))

    arguments = as_arguments(values)
    out = _call(fn, arguments).sum()
    if out.requires_grad:
        out.backward()

    for i in checked:
        grad = arguments[i].grad
        analytic = np.zeros_like(values[i]) if grad is None else grad
        numeric = np.empty_like(values[i])
        for k in range(values[i].size):
            sums = []
            for shift in (eps, -eps):
                shifted = list(values)
                shifted[i] = values[i].copy()
                shifted[i].flat[k] += shift
                sums.append(total(shifted))
            numeric.flat[k] = (sums[0] - sums[1]) / (2 * eps)
        excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
        excess = np.where(np.isnan(excess), np.inf, excess)
        if excess.size and excess.max() > 0:
            worst = np.unravel_index(np.argmax(excess), excess.shape)
            raise GradcheckError(
                f"gradcheck: input {i} (shape {values[i].shape}), element "
                f"{tuple(int(j) for j in worst)}: backward gives {float(analytic[worst])!r}, "
                f"finite differences give {float(numeric[worst])!r}"
            )
    return True


def _call(fn: Callable[..., Tensor], arguments: list[Any]) -> Tensor:
    out = fn(*arguments)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    return out
