"""Activation modules, and the lookup that turns ``activation="relu"`` into a function.

Each module only applies the engine's operation, whose docstring gives the formula and its
derivative: ``sigmoid(x) = 1 / (1 + e**-x)``, ``relu(x) = max(x, 0)``, ``tanh(x)`` and
``step(x) = 1 if x >= threshold else 0`` (whose backward is straight-through, so that
gradient descent reproduces Rosenblatt's perceptron rule; see :func:`autograd_lite.step`) and
``gelu(x) = x/2 (1 + tanh(√(2/π) (x + 0.044715 x³)))`` (GPT-2's tanh approximation).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import autograd_lite as ag
from autograd_lite import Tensor
from nn.module import Module

Activation = Callable[[Tensor], Tensor]

ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": ag.sigmoid,
    "relu": ag.relu,
    "step": ag.step,
    "tanh": ag.tanh,
    "gelu": ag.gelu,
}


def get_activation(
    activation: str | Activation | None, owner: str | None = None
) -> Activation | None:
    """The function for an ``activation=`` argument: a known name, a callable, or None.

    Errors start with ``owner`` (the layer being built) when it is given.

    >>> get_activation("relu") is ag.relu
    True
    >>> get_activation("swish", "Dense")
    Traceback (most recent call last):
    ...
    ValueError: Dense: unknown activation 'swish'; known: None, 'sigmoid', 'relu', 'step', \
'tanh', 'gelu', or any callable Tensor -> Tensor
    """
    if activation is None or (callable(activation) and not isinstance(activation, str)):
        return activation
    where = f"{owner}: " if owner else ""
    if isinstance(activation, str):
        if activation in ACTIVATIONS:
            return ACTIVATIONS[activation]
        known = ", ".join(repr(name) for name in ACTIVATIONS)
        raise ValueError(
            f"{where}unknown activation {activation!r}; known: None, {known}, "
            "or any callable Tensor -> Tensor"
        )
    raise TypeError(
        f"{where}activation must be None, a name or a callable Tensor -> Tensor, "
        f"got {type(activation).__name__}"
    )


def activation_name(activation: str | Activation | None) -> str | None:
    """How an ``activation=`` argument reads in a ``repr``: the name, or the callable's name."""
    if activation is None or isinstance(activation, str):
        return activation
    if isinstance(activation, Module):
        return repr(activation)
    return getattr(activation, "__name__", type(activation).__name__)


class Sigmoid(Module):
    """out = 1 / (1 + e**-x), elementwise; d out / dx = out (1 - out).

    >>> Sigmoid()(ag.Tensor([0.0]))
    Tensor([0.5])
    """

    def forward(self, x: Any) -> Tensor:
        return ag.sigmoid(x)


class ReLU(Module):
    """out = max(x, 0), elementwise; d out / dx = 1 where x > 0, else 0 (0 at the kink).

    >>> ReLU()(ag.Tensor([-1.0, 2.0]))
    Tensor([0., 2.])
    """

    def forward(self, x: Any) -> Tensor:
        return ag.relu(x)


class Tanh(Module):
    """out = tanh(x), elementwise; d out / dx = 1 - out**2."""

    def forward(self, x: Any) -> Tensor:
        return ag.tanh(x)


class GELU(Module):
    """out = x/2 (1 + t) with t = tanh(√(2/π) (x + 0.044715 x³)), elementwise (GPT-2's tanh
    approximation, PyTorch's ``gelu(approximate="tanh")``);
    d out / dx = (1 + t)/2 + x/2 (1 - t²) √(2/π) (1 + 3 · 0.044715 x²).

    >>> GELU()(ag.Tensor([-1.0, 0.0, 1.0]))
    Tensor([-0.15880801,  0.        ,  0.84119199])
    """

    def forward(self, x: Any) -> Tensor:
        return ag.gelu(x)


class Step(Module):
    """out = 1 where x >= threshold, else 0; backward passes the gradient straight through.

    NOTE: straight-through is what makes one SGD step on ``0.5 * (y - step(w·x + b))**2``
    equal Rosenblatt's update ``w += lr * (y - step(w·x + b)) * x``.

    >>> Step(threshold=2)(ag.Tensor([1.0, 2.0]))
    Tensor([0., 1.])
    """

    def __init__(self, threshold: float = 0.0) -> None:
        super().__init__()
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
            raise TypeError(f"Step: threshold must be a number, got {threshold!r}")
        self.threshold = threshold

    def forward(self, x: Any) -> Tensor:
        return ag.step(x, self.threshold)

    def label(self) -> str:
        return f"Step({self.threshold:g})"

    def extra_repr(self) -> str:
        return f"threshold={self.threshold!r}"
