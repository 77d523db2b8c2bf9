"""One MLP training step: zero_grad, forward, cross-entropy, backward, SGD update.

Two sizes from the targets: 784-256-128-10 with ReLU at batch 128 in float32 (big matrices: the
framework should vanish behind BLAS) and 64-32-10 at batch 32 in float64 (small matrices: the
framework's per-operation cost shows). Every contender starts from the same weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import autograd_lite as ag
from benchmarks.harness import Case, Contender, Gradients, HandWrittenSGD, Settings

LEARNING_RATE = 0.01


@dataclass
class Problem:
    """Layer sizes, a batch of inputs and labels, and the starting weights (W1, b1, W2, ...)."""

    sizes: tuple[int, ...]
    inputs: np.ndarray
    labels: np.ndarray
    params: dict[str, np.ndarray]

    @property
    def dtype(self) -> np.dtype:
        return self.inputs.dtype

    @property
    def layers(self) -> int:
        return len(self.sizes) - 1


def make_problem(sizes: Sequence[int], batch: int, dtype: Any, seed: int = 0) -> Problem:
    """Random inputs and labels, and weights drawn as PyTorch's ``Linear`` draws them."""
    rng = np.random.default_rng(seed)
    params = {}
    for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        limit = 1 / np.sqrt(n_in)
        params[f"W{index}"] = rng.uniform(-limit, limit, (n_in, n_out)).astype(dtype)
        params[f"b{index}"] = rng.uniform(-limit, limit, n_out).astype(dtype)
    inputs = rng.normal(size=(batch, sizes[0])).astype(dtype)
    labels = rng.integers(0, sizes[-1], size=batch)
    return Problem(tuple(sizes), inputs, labels, params)


class NumpyMLP(HandWrittenSGD):
    """The MLP by hand: forward with ReLU, stable softmax cross-entropy, analytic backward."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.params = {name: value.copy() for name, value in problem.params.items()}
        self.learning_rate = LEARNING_RATE

    def loss_and_gradients(self) -> tuple[float, dict[str, np.ndarray]]:
        x, labels, params = self.problem.inputs, self.problem.labels, self.params
        n = self.problem.layers
        activations = [x]
        pre_activations = []
        for index in range(1, n + 1):
            z = activations[-1] @ params[f"W{index}"] + params[f"b{index}"]
            pre_activations.append(z)
            if index < n:
                activations.append(np.maximum(z, 0))
        logits = pre_activations[-1]
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        rows = np.arange(len(labels))
        batch = len(labels)
        loss = float(np.log(total[:, 0]).sum() - shifted[rows, labels].sum()) / batch
        grad = exp / total  # softmax - onehot, over the batch: dL/dlogits
        grad[rows, labels] -= 1
        grad /= batch
        grads = {}
        for index in range(n, 0, -1):
            grads[f"W{index}"] = activations[index - 1].T @ grad
            grads[f"b{index}"] = grad.sum(axis=0)
            if index > 1:
                grad = (grad @ params[f"W{index}"].T) * (pre_activations[index - 2] > 0)
        return loss, grads


def numpy_contender(problem: Problem) -> Contender:
    model = NumpyMLP(problem)
    return Contender("numpy", model.step, model.gradients)


def autograd_lite_contender(problem: Problem) -> Contender:
    """``nn.MLP`` with ``nn.cross_entropy`` and ``nn.SGD``, as a user writes the loop."""
    import nn

    sizes = problem.sizes
    model = nn.MLP(sizes[0], list(sizes[1:-1]), sizes[-1], activation="relu",
                   dtype=problem.dtype)
    layers = list(model.layers)
    for index, layer in enumerate(layers, start=1):
        layer.weights.data = problem.params[f"W{index}"].copy()
        layer.bias.data = problem.params[f"b{index}"].copy()
    optimizer = nn.SGD(model.parameters(), lr=LEARNING_RATE)
    inputs = ag.Tensor(problem.inputs)
    labels = problem.labels

    def step() -> None:
        optimizer.zero_grad()
        loss = nn.cross_entropy(model(inputs), labels)
        loss.backward()
        optimizer.step()

    def gradients() -> Gradients:
        optimizer.zero_grad()
        loss = nn.cross_entropy(model(inputs), labels)
        loss.backward()
        grads: dict[str, Any] = {"loss": loss.item()}
        for index, layer in enumerate(layers, start=1):
            grads[f"W{index}"] = layer.weights.grad
            grads[f"b{index}"] = layer.bias.grad
        return grads

    return Contender("autograd_lite", step, gradients)


def torch_contender(torch: Any, problem: Problem) -> Contender:
    """``torch.nn.Linear``/``ReLU`` layers, ``F.cross_entropy`` and ``torch.optim.SGD``."""
    sizes = problem.sizes
    dtype = torch.float32 if problem.dtype == np.float32 else torch.float64
    modules: list[Any] = []
    linears = []
    for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        linear = torch.nn.Linear(n_in, n_out, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(problem.params[f"W{index}"].T.copy()))
            linear.bias.copy_(torch.from_numpy(problem.params[f"b{index}"]))
        linears.append(linear)
        modules += [linear, torch.nn.ReLU()]
    model = torch.nn.Sequential(*modules[:-1])
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    inputs = torch.from_numpy(problem.inputs)
    labels = torch.from_numpy(problem.labels)
    cross_entropy = torch.nn.functional.cross_entropy

    def step() -> None:
        optimizer.zero_grad()
        loss = cross_entropy(model(inputs), labels)
        loss.backward()
        optimizer.step()

    def gradients() -> Gradients:
        optimizer.zero_grad()
        loss = cross_entropy(model(inputs), labels)
        loss.backward()
        grads: dict[str, Any] = {"loss": loss.item()}
        for index, linear in enumerate(linears, start=1):
            grads[f"W{index}"] = linear.weight.grad.numpy().T
            grads[f"b{index}"] = linear.bias.grad.numpy()
        return grads

    return Contender("torch", step, gradients)


def contenders(problem: Problem, settings: Settings) -> list[Contender]:
    """NumPy by hand, autograd_lite with ``nn``, and PyTorch when installed."""
    found = [numpy_contender(problem), autograd_lite_contender(problem)]
    if settings.peers.torch is not None:
        found.append(torch_contender(settings.peers.torch, problem))
    return found


def tolerances(dtype: Any) -> dict[str, float]:
    """Gradient-check tolerances: float32 sums in a different order differ in the 6th digit."""
    return {"rtol": 1e-3, "atol": 1e-6} if np.dtype(dtype) == np.float32 else {}


def mlp_case(name: str, sizes: Sequence[int], batch: int, dtype: Any, settings: Settings) -> Case:
    problem = make_problem(sizes, batch, dtype)
    arrows = "-".join(map(str, sizes))
    return Case(
        name=name,
        title=f"MLP {arrows} training step, batch {batch}, {np.dtype(dtype).name}",
        contenders=contenders(problem, settings),
        budget=8.0,
        warmup=3,
        **tolerances(dtype),
    )


def cases(settings: Settings) -> list[Case]:
    """The big float32 MLP and the small float64 one (both shrunk in quick mode)."""
    if settings.quick:
        return [
            mlp_case("mlp_big", (24, 16, 12, 10), 8, np.float32, settings),
            mlp_case("mlp_small", (12, 8, 10), 4, np.float64, settings),
        ]
    return [
        mlp_case("mlp_big", (784, 256, 128, 10), 128, np.float32, settings),
        mlp_case("mlp_small", (64, 32, 10), 32, np.float64, settings),
    ]
