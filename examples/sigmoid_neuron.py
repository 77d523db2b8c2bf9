"""One sigmoid neuron with three inputs, trained 10,000 times: the classic delta-rule tutorial.

The tutorial draws its starting weights with NumPy's legacy generator at seed 15
(``2 * random((3, 1)) - 1``), then repeats ``w += Xᵀ @ ((y - o) * o * (1 - o))`` with
``o = sigmoid(X @ w)``. Here the same neuron is an ``nn.Neuron`` without bias, trained by
SGD (lr = 1) on ``0.5 * sum((y - o)**2)``: autograd derives that very update, and the script
checks it against :func:`nn.rules.sigmoid_delta_update` after every iteration.

Expected (from the tutorial): starting weights 0.69763539, -0.64220815, -0.89127357; after
training 9.67341006, -0.20852727, -4.62943754; and 0.99993707 for the input [1, 0, 0].

Run: ``python examples/sigmoid_neuron.py``
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd_lite as ag
import nn

INPUTS = np.array([[0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1]], dtype=float)
TARGETS = np.array([0.0, 1.0, 1.0, 0.0])


def starting_weights() -> np.ndarray:
    """The tutorial's ``random.seed(15); 2 * random.random((3, 1)) - 1``, as a vector."""
    return 2 * np.random.RandomState(15).random_sample(3) - 1


def main(iterations: int = 10_000) -> dict[str, Any]:
    """Train, compare with the delta rule at every step, print and return the numbers."""
    start = starting_weights()
    neuron = nn.Neuron(3, activation="sigmoid", bias=False)
    neuron.weights.data = start.copy()
    optimizer = nn.SGD(neuron.parameters(), lr=1.0)
    print("Random starting weights: ")
    print(start.reshape(3, 1))

    rule_weights = start.copy()
    largest_difference = 0.0
    for _ in range(iterations):
        optimizer.zero_grad()
        loss = 0.5 * ((TARGETS - neuron(INPUTS)) ** 2).sum()
        loss.backward()
        optimizer.step()
        rule_weights = nn.rules.sigmoid_delta_update(rule_weights, INPUTS, TARGETS, 1.0)
        largest_difference = max(
            largest_difference, float(np.max(np.abs(neuron.weights.data - rule_weights)))
        )

    with ag.no_grad():
        test_output = neuron(np.array([1.0, 0.0, 0.0])).item()
    print("New weights after training: ")
    print(neuron.weights.data.reshape(3, 1))
    print("Test of input [1, 0, 0] -> ?: ")
    print(np.array([test_output]))
    print(
        f"autograd vs delta rule: {iterations} updates, "
        f"largest weight difference {largest_difference:.3g}"
    )
    return {
        "starting_weights": start,
        "weights": neuron.weights.numpy(),
        "test_output": test_output,
        "updates": iterations,
        "largest_difference": largest_difference,
    }


if __name__ == "__main__":
    main()
