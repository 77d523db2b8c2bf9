"""Function transforms, as in ``torch.func`` and HIPS autograd: functions in, functions out.

``grad(f)`` is the function x ↦ ∇f(x); ``jacobian(f)`` x ↦ ∂f(x)/∂x; ``hessian(f)`` the
jacobian of the gradient. They are built on :func:`autograd_lite.grad` and nest to any order:
an inner transform that is handed a Tensor which requires grad (because an outer transform is
differentiating it) records its result, so the outer one can differentiate it again.

>>> import autograd_lite as ag
>>> from autograd_lite import func
>>> cube = lambda x: x ** 3
>>> func.grad(cube)(2.0).item(), func.grad(func.grad(cube))(2.0).item()
(12.0, 12.0)
>>> func.grad(func.grad(func.grad(cube)))(2.0).item()
6.0
>>> func.hessian(lambda v: (v[0] * v[1] ** 2))(ag.Tensor([1.0, 3.0]))
Tensor([[0., 6.],
        [6., 2.]])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograd_lite import engine, ops
from autograd_lite.tensor import Tensor

Function = Callable[..., Any]
ArgNums = int | tuple[int, ...]


def grad(f: Function, argnums: ArgNums = 0) -> Function:
    """x ↦ the gradient of ``f`` (which must return a one-element Tensor) at x: a Tensor of
    x's shape, or a tuple of them for a tuple ``argnums``."""

    def gradient(*args: Any) -> Any:
        return value_and_grad(f, argnums)(*args)[1]

    return gradient


def value_and_grad(f: Function, argnums: ArgNums = 0) -> Function:
    """x ↦ ``(f(x), gradient of f at x)``."""

    def both(*args: Any) -> tuple[Tensor, Any]:
        arguments, targets, nested = _differentiable(args, argnums, "value_and_grad")
        value = _call(f, arguments, "grad")
        if value.size != 1:
            raise ValueError(
                f"grad: f must return a one-element Tensor, got shape {value.shape}; "
                "use jacobian for a vector-valued f"
            )
        gradients = engine.grad(value, targets, create_graph=nested)
        return value, gradients if isinstance(argnums, tuple) else gradients[0]

    return both


def jacobian(f: Function, argnums: ArgNums = 0) -> Function:
    """x ↦ ∂f(x)/∂x, of shape ``f(x).shape + x.shape`` (a tuple for a tuple ``argnums``):
    one backward pass per element of f(x)."""

    def jacobian_at(*args: Any) -> Any:
        arguments, targets, nested = _differentiable(args, argnums, "jacobian")
        out = _call(f, arguments, "jacobian")
        rows: list[list[Tensor]] = [[] for _ in targets]
        for index in range(out.size):
            seed = np.zeros(out.size, dtype=out.dtype)
            seed[index] = 1
            row = engine.grad(out, targets, seed.reshape(out.shape), create_graph=nested)
            for per_target, gradient in zip(rows, row):
                per_target.append(gradient)
        jacobians = tuple(
            ops.stack(per_target).reshape(out.shape + target.shape) if per_target
            else Tensor(np.zeros(out.shape + target.shape, dtype=target.dtype))
            for per_target, target in zip(rows, targets)
        )
        return jacobians if isinstance(argnums, tuple) else jacobians[0]

    return jacobian_at


def hessian(f: Function, argnums: ArgNums = 0) -> Function:
    """x ↦ the matrix of second derivatives of a one-element ``f``, of shape
    ``x.shape + x.shape`` (the jacobian of the gradient); nested tuples for a tuple ``argnums``."""
    if isinstance(argnums, tuple):

        def blocks(*args: Any) -> tuple:
            return tuple(
                jacobian(_component(grad(f, argnums), i), argnums)(*args)
                for i in range(len(argnums))
            )

        return blocks
    return jacobian(grad(f, argnums), argnums)


def _component(f: Function, index: int) -> Function:
    return lambda *args: f(*args)[index]


def _differentiable(
    args: tuple[Any, ...], argnums: ArgNums, transform: str
) -> tuple[list[Any], tuple[Tensor, ...], bool]:
    """The arguments with the differentiated ones as Tensors that require grad, those
    Tensors, and whether to record the result (an outer transform is differentiating it)."""
    numbers = argnums if isinstance(argnums, tuple) else (argnums,)
    if not numbers or any(
        isinstance(n, bool) or not isinstance(n, (int, np.integer)) for n in numbers
    ):
        raise TypeError(f"{transform}: argnums must be an int or a tuple of ints, got {argnums!r}")
    if any(not -len(args) <= n < len(args) for n in numbers):
        raise ValueError(
            f"{transform}: argnums {argnums!r} is out of range for {len(args)} arguments"
        )
    if len({n % len(args) for n in numbers}) != len(numbers):
        raise ValueError(f"{transform}: argnums {argnums!r} repeats an argument")
    arguments = list(args)
    nested = False
    for n in numbers:
        value = arguments[n]
        if isinstance(value, Tensor) and value.requires_grad:
            nested = True
        else:
            data = value.data if isinstance(value, Tensor) else value
            arguments[n] = Tensor(data, requires_grad=True)
    targets = tuple(arguments[n] for n in numbers)
    return arguments, targets, nested and engine.is_grad_enabled()


def _call(f: Function, arguments: list[Any], transform: str) -> Tensor:
    out = f(*arguments)
    if not isinstance(out, Tensor):
        raise TypeError(f"{transform}: f must return a Tensor, got {type(out).__name__}")
    return out
