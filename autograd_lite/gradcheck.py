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
    checked = [i for i, value in enumerate(inputs) if isinstance(value, Tensor) and value.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input is a Tensor with requires_grad=True; nothing to check")
    base = [np.array(value.data, dtype=np.float64) if i in checked else value for i, value in enumerate(inputs)]

    def evaluate(arrays: list[Any], record_graph: bool) -> Tensor:
        args = [Tensor(arrays[i], requires_grad=record_graph) if i in checked else arrays[i] for i in range(len(arrays))]
        out = fn(*args)
        if not isinstance(out, Tensor):
            raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
        return args, out  # type: ignore[return-value]

    args, out = evaluate(base, record_graph=True)  # type: ignore[misc]
    total = out.sum()
    if total.requires_grad:
        total.backward()

    for i in checked:
        analytic = args[i].grad if args[i].grad is not None else np.zeros_like(base[i])
        numeric = np.empty_like(base[i])
        for k in range(base[i].size):
            numeric.flat[k] = _central_difference(evaluate, base, i, k, eps)
        excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
        if excess.size and not np.all(excess <= 0):
            worst = np.unravel_index(np.nanargmax(np.where(np.isnan(excess), np.inf, excess)), excess.shape)
            raise GradcheckError(
                f"gradcheck: input {i} (shape {base[i].shape}), element {tuple(int(j) for j in worst)}: "
                f"backward gives {analytic[worst]!r}, finite differences give {numeric[worst]!r}"
            )
    return True


def _central_difference(evaluate: Callable, base: list[Any], i: int, k: int, eps: float) -> float:
    """(f(x + eps e_k) - f(x - eps e_k)) / (2 eps) for element k of input i."""
    sums = []
    for shift in (eps, -eps):
        shifted = list(base)
        shifted[i] = base[i].copy()
        shifted[i].flat[k] += shift
        with no_grad():
            _, out = evaluate(shifted, record_graph=False)
        sums.append(float(np.sum(out.data)))
    return (sums[0] - sums[1]) / (2 * eps)
