"""From one neuron to two dense layers and ReLU, with the gradients autograd finds for them.

Reproduces the tutorial "Essence of Neural Networks" through ``nn``:

1. one neuron: inputs (1, 2, 3, 2.5), weights (0.2, -0.27, -0.5, 1.0), bias 2 → 2.66;
2. two dense layers applied to three input rows → a 3×3 output. The tutorial keeps one row
   of weights per neuron and computes ``inputs @ weights.T + biases``; ``nn.Dense`` keeps one
   column per neuron (shape (n_inputs, n_outputs)), so its ``weights`` is the tutorial's
   transposed;
3. ReLU on (0, 2, -1, 3.3, 2.7, 1.1, 2.2, -100) → (0, 2, 0, 3.3, 2.7, 1.1, 2.2, 0);
4. the tutorial's last block feeds 4-feature rows to ``layer_dense(2, 5)``, which cannot work;
   ``nn.Dense`` says so and names both sizes.

For each, backward on the sum of the outputs gives the gradients, which the script compares
with the ones worked out by hand (for L = Σ out with out = x @ W + b: dL/dW = xᵀ @ 1,
dL/db = Σ_rows 1, dL/dx = 1 @ Wᵀ; and dReLU/dx = 1 where x > 0, else 0).

Run: ``python examples/dense_layers.py``
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd_lite as ag
import nn

NEURON_INPUTS = [1.0, 2.0, 3.0, 2.5]
NEURON_WEIGHTS = [0.2, -0.27, -0.5, 1.0]
NEURON_BIAS = 2.0

BATCH = [[1.0, 2.0, 3.0, 2.5], [2.0, 5.0, -1.0, 2.0], [-1.5, 2.7, 3.3, -0.8]]
WEIGHTS1 = [[-0.2, -0.27, -0.5, 1.0], [0.5, 0.91, -0.5, -0.33], [0.2, 0.8, -0.5, 1.0]]
BIASES1 = [2.0, 3.0, 0.5]
WEIGHTS2 = [[0.2, -0.27, -0.5], [0.5, 0.91, -0.5], [-0.44, 0.8, -0.5]]
BIASES2 = [-1.0, 3.0, 0.5]

RELU_INPUTS = [0.0, 2.0, -1.0, 3.3, 2.7, 1.1, 2.2, -100.0]


def single_neuron() -> dict[str, Any]:
    """out = w · x + b for the tutorial's neuron, and d out / d(w, b) = (x, 1)."""
    neuron = nn.Neuron(4, activation=None)
    neuron.weights.data = np.array(NEURON_WEIGHTS)
    neuron.bias.data = np.array(NEURON_BIAS)
    out = neuron(NEURON_INPUTS)
    out.backward()
    return {
        "output": out.item(),
        "grad_weights": neuron.weights.grad,
        "grad_bias": neuron.bias.grad,
    }


def two_layers() -> dict[str, Any]:
    """The tutorial's two layers as ``Sequential(Dense(4, 3), Dense(3, 3))``, with gradients."""
    model = nn.Sequential(nn.Dense(4, 3), nn.Dense(3, 3))
    first, second = model[0], model[1]
    first.weights.data = np.array(WEIGHTS1).T.copy()
    first.bias.data = np.array(BIASES1)
    second.weights.data = np.array(WEIGHTS2).T.copy()
    second.bias.data = np.array(BIASES2)
    x = ag.Tensor(BATCH, requires_grad=True)
    out = model(x)
    out.sum().backward()

    # The same gradients by hand, for L = Σ out.
    ones = np.ones((3, 3))
    hidden = np.array(BATCH) @ first.weights.data + first.bias.data
    grad_hidden = ones @ second.weights.data.T
    by_hand = {
        "0.weights": np.array(BATCH).T @ grad_hidden,
        "0.bias": grad_hidden.sum(axis=0),
        "1.weights": hidden.T @ ones,
        "1.bias": ones.sum(axis=0),
        "inputs": grad_hidden @ first.weights.data.T,
    }
    found = {name: parameter.grad for name, parameter in model.named_parameters()}
    found["inputs"] = x.grad
    difference = max(float(np.max(np.abs(found[name] - by_hand[name]))) for name in by_hand)
    return {"output": out.numpy(), "gradients": found, "largest_difference": difference}


def relu() -> dict[str, Any]:
    """``nn.ReLU`` on the tutorial's list, and its gradient (1 where x > 0, else 0)."""
    x = ag.Tensor(RELU_INPUTS, requires_grad=True)
    out = nn.ReLU()(x)
    out.sum().backward()
    return {"output": out.numpy(), "gradient": x.grad}


def width_error() -> str:
    """What ``Dense(2, 5)`` says when fed the tutorial's 4-feature rows."""
    try:
        nn.Dense(2, 5, rng=0)(BATCH)
    except ValueError as error:
        return str(error)
    raise RuntimeError("Dense(2, 5) accepted 4-feature rows")


def main() -> dict[str, Any]:
    """Run the four parts, print them, and return the numbers."""
    with np.printoptions(precision=8, suppress=True):
        return _report()


def _report() -> dict[str, Any]:
    neuron = single_neuron()
    print(f"one neuron: w · x + b = {neuron['output']:.2f}")
    print(f"  d out / d weights = {neuron['grad_weights']}, d out / d bias = {neuron['grad_bias']}")

    layers = two_layers()
    print("two dense layers, output:")
    print(layers["output"])
    print("  gradients of the output's sum:")
    for name, grad in layers["gradients"].items():
        print(f"  d sum / d {name} =\n{grad}")
    print(f"  autograd vs by hand: largest difference {layers['largest_difference']}")

    activation = relu()
    print(f"ReLU: {activation['output']}")
    print(f"  d sum / d x = {activation['gradient']}")

    message = width_error()
    print(f"the tutorial's layer_dense(2, 5) on 4-feature rows: {message}")
    return {"neuron": neuron, "layers": layers, "relu": activation, "width_error": message}


if __name__ == "__main__":
    main()
