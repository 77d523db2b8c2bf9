"""Logic gates from single neurons: McCulloch–Pitts AND, and Rosenblatt's perceptron learning OR.

Reproduces the tutorial "Python implementation of Neuron from Scratch" through ``nn``:

* AND: fixed weights (1, 1) and a step at threshold 2, so only [1 1] fires.
* OR: a perceptron trained for 1000 epochs at lr = 0.1 from zero weights, with the bias held
  at -1 after every update (the tutorial's ``w[0] = -1``). It ends with weights (1.1, 1.1) and
  scores -1.0, 0.1, 0.1, 1.2.

The OR neuron is trained by autograd: SGD on ``0.5 * (y - step(w·x + b))**2``. Because
``step`` passes gradients straight through, every one of those steps must equal Rosenblatt's
hand-written rule ``w += lr * (y - step(w·x + b)) * x``; the script checks that after each
update and prints the largest difference (it is exactly 0).

Run: ``python examples/logic_gates.py``
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd_lite as ag
import nn

INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
OR_TARGETS = np.array([0.0, 1.0, 1.0, 1.0])
HELD_BIAS = -1.0


def and_gate() -> np.ndarray:
    """McCulloch–Pitts AND: out = step(x · (1, 1), threshold 2), no bias, nothing learned."""
    neuron = nn.Neuron(2, activation=nn.Step(threshold=2), bias=False)
    neuron.weights.data = np.array([1.0, 1.0])
    with ag.no_grad():
        return neuron(INPUTS).numpy()


def train_or_gate(epochs: int = 1000, lr: float = 0.1) -> dict[str, Any]:
    """Train the OR perceptron by autograd, checking each update against the classic rule."""
    neuron = nn.Neuron(2, activation="step")
    neuron.weights.data = np.zeros(2)
    neuron.bias.data = np.array(0.0)
    optimizer = nn.SGD(neuron.parameters(), lr=lr)
    rule_weights, rule_bias = np.zeros(2), 0.0
    largest_difference, updates = 0.0, 0
    for _ in range(epochs):
        for x, y in zip(INPUTS, OR_TARGETS, strict=True):
            optimizer.zero_grad()
            loss = 0.5 * (y - neuron(x)) ** 2
            loss.backward()
            optimizer.step()
            neuron.bias.data = np.array(HELD_BIAS)
            rule_weights, rule_bias = nn.rules.perceptron_update(
                rule_weights, rule_bias, x, y, lr
            )
            rule_bias = HELD_BIAS
            updates += 1
            largest_difference = max(
                largest_difference, float(np.max(np.abs(neuron.weights.data - rule_weights)))
            )
    with ag.no_grad():
        scores = (INPUTS @ neuron.weights + neuron.bias).numpy()
        outputs = neuron(INPUTS).numpy()
    return {
        "weights": neuron.weights.numpy(),
        "bias": neuron.bias.item(),
        "scores": scores,
        "outputs": outputs,
        "updates": updates,
        "largest_difference": largest_difference,
    }


def main() -> dict[str, Any]:
    """Run both gates, print them as the tutorial does, and return the numbers."""
    and_outputs = and_gate()
    print("McCulloch-Pitts AND (weights 1, 1; step at threshold 2):")
    for x, out in zip(INPUTS.astype(int), and_outputs, strict=True):
        print(f"{x} ---> {int(out)}")

    result = train_or_gate()
    print("\nRosenblatt perceptron OR (1000 epochs, lr 0.1, bias held at -1):")
    for x, score, out in zip(INPUTS.astype(int), result["scores"], result["outputs"], strict=True):
        print(f"{x}, {float(score)!r} ---> {int(out)}")
    bias_and_weights = np.concatenate([[result["bias"]], result["weights"]])
    print(f"bias and weights: {bias_and_weights}, rounded: {np.round(bias_and_weights)}")
    print(
        f"autograd vs perceptron rule: {result['updates']} updates, "
        f"largest weight difference {result['largest_difference']}"
    )
    return {"and_outputs": and_outputs, **result}


if __name__ == "__main__":
    main()
