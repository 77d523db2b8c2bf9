"""The classic hand-written learning rules, in plain NumPy with no autograd.

They are the reference that autograd's derived gradients are checked against: one SGD step on
the right loss must give exactly these updates. This module imports nothing from
``autograd_lite``, so it is an independent second opinion.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def perceptron_update(
    w: Any, b: float, x: Any, y: float, lr: float
) -> tuple[np.ndarray, float]:
    """Rosenblatt's perceptron rule for one example (step at 0):

        e = y - step(w·x + b),   w' = w + lr · e · x,   b' = b + lr · e

    where step(z) = 1 if z >= 0 else 0. It equals one SGD step on ``0.5 * (y - step(w·x + b))**2``
    when step's derivative is taken as 1 (straight-through). Inputs are not modified.

    >>> perceptron_update(np.zeros(2), 0.0, np.array([1.0, 0.0]), 0.0, 0.1)
    (array([-0.1,  0. ]), -0.1)
    """
    w = np.asarray(w, dtype=float)
    x = np.asarray(x, dtype=float)
    output = 1.0 if x @ w + b >= 0 else 0.0
    error = y - output
    return w + lr * error * x, float(b + lr * error)


def sigmoid(z: Any) -> np.ndarray:
    """The logistic function 1 / (1 + e**-z), written as the tutorials write it.

    (Overflow of e**-z for very negative z gives 1 / inf = 0, the right limit.)
    """
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-np.asarray(z, dtype=float)))


def sigmoid_delta_update(w: Any, X: Any, y: Any, lr: float) -> np.ndarray:  # noqa: N803
    """The delta rule of one sigmoid neuron without bias, over a batch X (rows are examples):

        o = sigmoid(X @ w),   w' = w + lr · Xᵀ @ ((y - o) · o · (1 - o))

    It equals one SGD step on ``0.5 * sum((y - sigmoid(X @ w))**2)``; o (1 - o) is the
    sigmoid's derivative. (A bias is a weight on an extra input column of ones.) Inputs are
    not modified.

    >>> sigmoid_delta_update(np.zeros(2), np.array([[1.0, 0.0]]), np.array([1.0]), 1.0)
    array([0.125, 0.   ])
    """
    w = np.asarray(w, dtype=float)
    X = np.asarray(X, dtype=float)  # noqa: N806 - the formula's name
    y = np.asarray(y, dtype=float)
    o = sigmoid(X @ w)
    return w + lr * X.T @ ((y - o) * o * (1 - o))
