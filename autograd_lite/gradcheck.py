"""Check a function's backward pass against central finite differences, in float64."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograd_lite.engine import grad, no_grad
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
    return _compare("gradcheck", fn, inputs, eps, atol, rtol, record_values=False)


def gradgradcheck(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Compare second derivatives of ``fn(*inputs).sum()`` with finite differences of its
    gradients.

    The first gradients g_i (made with ``create_graph=True``) are projected on fixed random
    directions r_i, h = Σ_i Σ g_i * r_i, and backward's gradient of h (which runs every rule
    of the first backward pass backwards again) is checked against central differences of h,
    where each h needs only first derivatives. Raises :class:`GradcheckError` like
    :func:`gradcheck`.

    >>> x = Tensor([0.5, -1.0, 2.0], requires_grad=True)
    >>> gradgradcheck(lambda t: t.tanh() * t, x)
    True
    """
    checked = _checked_inputs(inputs, "gradgradcheck")
    directions = np.random.default_rng(0)
    projections = [directions.normal(size=np.shape(inputs[i].data)) for i in checked]

    def projected_gradient(*arguments: Any) -> Tensor:
        out = _call(fn, list(arguments)).sum()
        firsts = grad(out, [arguments[i] for i in checked], create_graph=True)
        terms = [(first * r).sum() for first, r in zip(firsts, projections)]
        return sum(terms[1:], terms[0])

    return _compare("gradgradcheck", projected_gradient, inputs, eps, atol, rtol, True)


def _checked_inputs(inputs: tuple[Any, ...], check: str) -> list[int]:
    checked = [
        i for i, value in enumerate(inputs) if isinstance(value, Tensor) and value.requires_grad
    ]
    if not checked:
        raise ValueError(f"{check}: no input is a Tensor with requires_grad=True; nothing to check")
    return checked


def _compare(
    check: str,
    fn: Callable[..., Tensor],
    inputs: tuple[Any, ...],
    eps: float,
    atol: float,
    rtol: float,
    record_values: bool,
) -> bool:
    """backward's gradient of ``fn(*inputs).sum()`` against central differences, in float64.

    ``record_values`` evaluates the shifted sums with recording on (``fn`` itself
    differentiates); otherwise under ``no_grad``.
    """
    checked = _checked_inputs(inputs, check)
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
        """f(inputs) summed to a number."""
        if record_values:
            return float(np.sum(_call(fn, as_arguments(arrays))._data))
        with no_grad():
            return float(np.sum(_call(fn, as_arguments(arrays))._data))

    arguments = as_arguments(values)
    out = _call(fn, arguments).sum()
    if out.requires_grad:
        out.backward()

    for i in checked:
        gradient = arguments[i].grad
        analytic = np.zeros_like(values[i]) if gradient is None else gradient
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
                f"{check}: input {i} (shape {values[i].shape}), element "
                f"{tuple(int(j) for j in worst)}: backward gives {float(analytic[worst])!r}, "
                f"finite differences give {float(numeric[worst])!r}"
            )
    return True


def _call(fn: Callable[..., Tensor], arguments: list[Any]) -> Tensor:
    out = fn(*arguments)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    return out
