"""The fuzzer over ``nn``: junk for every constructor, forward call, loss and optimizer.

Each call must either work or raise ValueError/TypeError whose message names the class or
function, and no parameter, gradient or tensor made before the call may change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fuzz import JUNK, SMALL_INT_OR_JUNK

import autograd_lite as ag
import nn


class World:
    """Models, an optimizer and a tensor made before the call, with gradients in place."""

    def __init__(self) -> None:
        self.dense = nn.Dense(3, 2, activation="relu", rng=0)
        self.mlp = nn.MLP(3, [4], 2, rng=1)
        self.conv = nn.Conv2d(1, 2, 3, rng=2)
        self.tensor = ag.Tensor([[0.5, -1.0, 2.0]], requires_grad=True)
        loss = self.dense(self.tensor).sum() + self.mlp(self.tensor).sum()
        loss = loss + self.conv(np.ones((1, 1, 4, 4))).sum()
        loss.backward()
        self.optimizer = nn.SGD(self.dense.parameters(), lr=0.1)
        self.snapshot = self.state()

    def tensors(self) -> list[ag.Tensor]:
        models = (self.dense, self.mlp, self.conv)
        return [p for model in models for p in model.parameters()] + [self.tensor]

    def state(self) -> list[np.ndarray]:
        return [a.copy() for t in self.tensors() for a in (t.data, t.grad)]

    def assert_untouched(self) -> None:
        for before, now in zip(self.snapshot, self.state()):
            np.testing.assert_array_equal(before, now)


def _calls(world: World) -> dict[str, tuple[str, Callable[..., Any], int]]:
    """name -> (word the error must contain, callable, number of junk arguments)."""
    return {
        "Neuron": ("Neuron", lambda *a: nn.Neuron(*a), 3),
        "Dense": ("Dense", lambda *a: nn.Dense(*a), 4),
        "MLP": ("MLP", lambda *a: nn.MLP(*a), 4),
        "Conv2d": ("Conv2d", lambda *a: nn.Conv2d(*a), 5),
        "MaxPool2d": ("MaxPool2d", lambda *a: nn.MaxPool2d(*a), 2),
        "AvgPool2d": ("AvgPool2d", lambda *a: nn.AvgPool2d(*a), 2),
        "Dropout": ("Dropout", lambda *a: nn.Dropout(*a), 2),
        "Step": ("Step", lambda *a: nn.Step(*a), 1),
        "SGD": ("SGD", lambda lr, m: nn.SGD(world.dense.parameters(), lr, m), 2),
        "Adam": ("Adam", lambda lr, b, e: nn.Adam(world.dense.parameters(), lr, b, e), 3),
        "SGD params": ("SGD", lambda p: nn.SGD(p, lr=0.1), 1),
        "Dense forward": ("Dense", lambda x: world.dense(x), 1),
        "MLP forward": ("MLP", lambda x: world.mlp(x), 1),
        "Conv2d forward": ("Conv2d", lambda x: world.conv(x), 1),
        "mse_loss": ("mse_loss", nn.mse_loss, 3),
        "binary_cross_entropy": ("binary_cross_entropy", nn.binary_cross_entropy, 3),
        "binary_cross_entropy_with_logits": (
            "binary_cross_entropy_with_logits", nn.binary_cross_entropy_with_logits, 3),
        "cross_entropy": ("cross_entropy", nn.cross_entropy, 3),
        "load_state_dict": ("load_state_dict", lambda d: world.dense.load_state_dict(d), 1),
    }


NAMES = [
    "Neuron", "Dense", "MLP", "Conv2d", "MaxPool2d", "AvgPool2d", "Dropout", "Step", "SGD", "Adam",
    "SGD params", "Dense forward", "MLP forward", "Conv2d forward", "mse_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "load_state_dict",
]


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_nn_junk_either_works_or_fails_cleanly(name: str, data: st.DataObject) -> None:
    world = World()
    word, call, arity = _calls(world)[name]
    arguments = [data.draw(JUNK if i == 0 else SMALL_INT_OR_JUNK) for i in range(arity)]
    with np.errstate(all="ignore"):
        try:
            call(*arguments)
        except (ValueError, TypeError) as error:
            assert word in str(error), f"{type(error).__name__} without {word!r}: {error}"
    world.assert_untouched()
