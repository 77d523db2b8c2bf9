"""Optimizers: move each parameter against its gradient. ``SGD`` (with momentum) and ``Adam``.

An update changes ``.data`` only, outside the graph (what PyTorch does under ``no_grad``), by
assigning a new array: a tensor's data is read-only, because recorded operations keep it for
their backward pass. Parameters whose ``requires_grad`` is False or whose ``.grad`` is None
are skipped. Each optimizer keeps one scratch array per parameter, so that a step allocates
nothing but the new data.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from autograd_lite import Tensor


def _replace(parameter: Tensor, new_data: np.ndarray) -> None:
    """Give ``parameter`` its updated values. The fresh array is locked first, so the tensor
    takes it without a copy (see ``Tensor.data``); the assignment also marks graphs recorded
    with the old values as stale."""
    new_data = np.asarray(new_data)  # a 0-d update gives a NumPy scalar
    new_data.flags.writeable = False
    parameter.data = new_data


def _number(value: float, name: str, optimizer: str, upper: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{optimizer}: {name} must be a number, got {value!r}")
    if not (value >= 0 and (upper is None or value < upper)):
        bound = f"in [0, {upper})" if upper is not None else ">= 0"
        raise ValueError(f"{optimizer}: {name} must be {bound}, got {value}")
    return float(value)


class Optimizer:
    """What every optimizer shares: the parameter list and ``zero_grad``."""

    def __init__(self, params: Iterable[Tensor]) -> None:
        name = type(self).__name__
        wrong = TypeError(f"{name}: params must be an iterable of Tensors, e.g. model.parameters()")
        if isinstance(params, (Tensor, str, bytes)):
            raise wrong
        try:
            self.params: list[Tensor] = list(params)
        except TypeError:
            raise wrong from None
        if not self.params:
            raise ValueError(f"{name}: got an empty parameter list")
        seen: set[int] = set()
        for index, parameter in enumerate(self.params):
            if not isinstance(parameter, Tensor):
                raise TypeError(
                    f"{name}: params[{index}] is a {type(parameter).__name__}, not a Tensor"
                )
            if id(parameter) in seen:
                raise ValueError(f"{name}: params[{index}] appears more than once")
            seen.add(id(parameter))
        self._scratches: list[np.ndarray | None] = [None] * len(self.params)

    def _scratch(self, index: int, like: np.ndarray) -> np.ndarray:
        """A reusable work array shaped like ``like`` for parameter ``index``."""
        scratch = self._scratches[index]
        if scratch is None or scratch.shape != like.shape or scratch.dtype != like.dtype:
            scratch = self._scratches[index] = np.empty_like(like)
        return scratch

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None (PyTorch's default)."""
        for parameter in self.params:
            parameter.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent: w ← w - lr · g, or with momentum μ (PyTorch's form)
    v ← μ v + g (v = g at the first step), w ← w - lr · v.

    With μ = 0, one step on ``0.5 * (y - step(w·x + b))**2`` is Rosenblatt's perceptron rule
    and one step on ``0.5 * sum((y - sigmoid(X @ w))**2)`` the sigmoid delta rule (see
    :mod:`nn.rules`).

    >>> w = Tensor([1.0, 2.0], requires_grad=True)
    >>> (w * w).sum().backward()
    >>> SGD([w], lr=0.1).step()
    >>> w.data
    array([0.8, 1.6])
    """

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0) -> None:
        super().__init__(params)
        self.lr = _number(lr, "lr", "SGD")
        self.momentum = _number(momentum, "momentum", "SGD")
        self._velocity: list[np.ndarray | None] = [None] * len(self.params)

    def step(self) -> None:
        lr, momentum = self.lr, self.momentum
        for index, parameter in enumerate(self.params):
            grad = parameter.grad
            if grad is None or not parameter.requires_grad:
                continue
            if momentum:
                velocity = self._velocity[index]
                if velocity is None:
                    velocity = self._velocity[index] = grad.copy()
                else:
                    velocity *= momentum
                    velocity += grad
                grad = velocity
            update = np.multiply(grad, lr, out=self._scratch(index, grad))
            _replace(parameter, parameter.data - update)


class Adam(Optimizer):
    """Adam (Kingma & Ba), as PyTorch computes it. With g the gradient and t the step count:
    m ← β₁ m + (1 - β₁) g,  v ← β₂ v + (1 - β₂) g²,
    w ← w - lr / (1 - β₁ᵗ) · m / (√v / √(1 - β₂ᵗ) + ε).

    >>> w = Tensor([1.0, -1.0], requires_grad=True)
    >>> (w * w).sum().backward()
    >>> Adam([w], lr=0.1).step()   # the first step moves each weight by about lr
    >>> w.data.round(6)
    array([ 0.9, -0.9])
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params)
        self.lr = _number(lr, "lr", "Adam")
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"Adam: betas must be a pair of numbers, got {betas!r}")
        self.betas = (_number(betas[0], "betas[0]", "Adam", 1.0),
                      _number(betas[1], "betas[1]", "Adam", 1.0))
        self.eps = _number(eps, "eps", "Adam")
        count = len(self.params)
        self._steps = [0] * count
        self._mean: list[np.ndarray | None] = [None] * count
        self._square: list[np.ndarray | None] = [None] * count

    def step(self) -> None:
        lr, eps = self.lr, self.eps
        beta1, beta2 = self.betas
        for index, parameter in enumerate(self.params):
            grad = parameter.grad
            if grad is None or not parameter.requires_grad:
                continue
            mean, square = self._mean[index], self._square[index]
            if mean is None or square is None:
                mean = self._mean[index] = np.zeros_like(parameter.data)
                square = self._square[index] = np.zeros_like(parameter.data)
            self._steps[index] += 1
            t = self._steps[index]
            work = self._scratch(index, mean)
            mean *= beta1
            mean += np.multiply(grad, 1 - beta1, out=work)
            square *= beta2
            np.multiply(grad, grad, out=work)
            work *= 1 - beta2
            square += work
            denominator = np.sqrt(square, out=work)
            denominator /= math.sqrt(1 - beta2**t)
            denominator += eps
            update = np.divide(mean, denominator, out=work)
            update *= lr / (1 - beta1**t)
            _replace(parameter, parameter.data - update)
