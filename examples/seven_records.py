"""A sigmoid neuron with a bias, learning the tutorial's seven three-feature records.

The tutorial ("Neural Network From Scratch") draws ``weights = rand(3, 1)`` and
``bias = rand(1)`` after ``np.random.seed(42)`` and sets lr = 0.05 (its "Step 02": some
copies of the text show only the heading), then repeats, for every epoch,
``z_del = (o - y) * o * (1 - o)``, ``weights -= lr * Xᵀ @ z_del``, ``bias -= lr * Σ z_del``,
which is gradient descent on ``0.5 * Σ (o - y)**2``. Its epoch count is cut off in the text
(``range(10...``); we train for 10,000 epochs.

NOTE: the tutorial defines ``sigmoid(x) = 1 / (1 + exp(x))``, a sign slip: that is σ(-x),
which falls as x grows. We use the right σ(x) = 1 / (1 + e**-x) (``activation="sigmoid"``);
autograd derives its derivative σ(1 - σ) by itself.

Its outcome, as the tutorial states it: the point [1, 0, 0] comes out close to 0 and the
point [0, 1, 0] close to 1. All seven records end on the right side of 0.5.

The bias is a weight on a constant input of 1, so every autograd step is checked against
:func:`nn.rules.sigmoid_delta_update` on the records with a column of ones appended.

Run: ``python examples/seven_records.py``
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd_lite as ag
import nn

RECORDS = np.array(
    [[0, 1, 0], [0, 0, 1], [1, 0, 0], [1, 1, 0], [1, 1, 1], [0, 1, 1], [0, 1, 0]], dtype=float
)
LABELS = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0])
LEARNING_RATE = 0.05


def starting_parameters() -> tuple[np.ndarray, float]:
    """The tutorial's ``np.random.seed(42); rand(3, 1); rand(1)`` as (weights, bias)."""
    generator = np.random.RandomState(42)
    weights = generator.random_sample(3)
    bias = float(generator.random_sample(1)[0])
    return weights, bias


def main(epochs: int = 10_000) -> dict[str, Any]:
    """Train, compare with the delta rule at every epoch, print and return the numbers."""
    weights, bias = starting_parameters()
    neuron = nn.Neuron(3, activation="sigmoid")
    neuron.weights.data = weights.copy()
    neuron.bias.data = np.array(bias)
    optimizer = nn.SGD(neuron.parameters(), lr=LEARNING_RATE)
    print(f"starting weights {weights}, bias {bias:.8f}")

    augmented = np.hstack([RECORDS, np.ones((len(RECORDS), 1))])  # the bias's input is 1
    rule_parameters = np.append(weights, bias)
    largest_difference = 0.0
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = 0.5 * nn.mse_loss(neuron(RECORDS), LABELS, reduction="sum")
        loss.backward()
        optimizer.step()
        rule_parameters = nn.rules.sigmoid_delta_update(
            rule_parameters, augmented, LABELS, LEARNING_RATE
        )
        ours = np.append(neuron.weights.data, neuron.bias.data)
        largest_difference = max(largest_difference, float(np.max(np.abs(ours - rule_parameters))))

    with ag.no_grad():
        outputs = neuron(RECORDS).numpy()
        first = neuron(np.array([1.0, 0.0, 0.0])).item()
        second = neuron(np.array([0.0, 1.0, 0.0])).item()
    print(f"after {epochs} epochs: weights {neuron.weights.data}, bias {neuron.bias.item():.8f}")
    for record, label, out in zip(RECORDS.astype(int), LABELS, outputs, strict=True):
        print(f"{record} label {int(label)} -> {out:.6f}")
    print(f"single point [1, 0, 0] -> {first:.8f} (closer to 0: class 0)")
    print(f"single point [0, 1, 0] -> {second:.8f} (closer to 1: class 1)")
    print(
        f"autograd vs delta rule with a bias column: {epochs} updates, "
        f"largest difference {largest_difference:.3g}"
    )
    return {
        "starting_weights": weights,
        "starting_bias": bias,
        "weights": neuron.weights.numpy(),
        "bias": neuron.bias.item(),
        "outputs": outputs,
        "first_point": first,
        "second_point": second,
        "updates": epochs,
        "largest_difference": largest_difference,
    }


if __name__ == "__main__":
    main()
