"""Layers far too large for the machine are refused before anything is allocated."""

from __future__ import annotations

import numpy as np
import pytest

import nn


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.Dense(10**6, 10**7),
        lambda: nn.Dense(2, 10**12, dtype=np.float32),
        lambda: nn.Neuron(10**13),
        lambda: nn.Conv2d(10**4, 10**4, 10**3),
        lambda: nn.MLP(10**7, [10**7], 1),
    ],
)
def test_a_layer_too_large_for_memory_is_refused_before_it_is_drawn(make) -> None:
    with pytest.raises(ValueError, match="GB"):
        make()
