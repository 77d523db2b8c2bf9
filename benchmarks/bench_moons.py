"""micrograd's demo: an MLP 2-16-16-1 on two-moons points, one training step.

The loss is the demo's: the mean hinge loss ``relu(1 - y * score)`` over the points (labels
±1) plus ``1e-4 * Σ p²`` over the parameters; then one plain gradient-descent step. It is run
two ways: with ``nn`` layers on whole batches (against micrograd: how much faster the array
engine is), and as micrograd builds it, a graph of single-element (0-d) Tensors, one node per
scalar operation (against micrograd: the cost per node).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

import autograd_lite as ag
from benchmarks.harness import Case, Contender, Gradients, Settings

SIZES = (2, 16, 16, 1)
ALPHA = 1e-4  # the demo's L2 weight
LEARNING_RATE = 0.1


def make_moons(count: int, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's ``make_moons``), labels -1 and +1."""
    rng = np.random.default_rng(seed)
    outer, inner = count // 2, count - count // 2
    angles_outer = np.linspace(0, np.pi, outer)
    angles_inner = np.linspace(0, np.pi, inner)
    points = np.concatenate([
        np.stack([np.cos(angles_outer), np.sin(angles_outer)], axis=1),
        np.stack([1 - np.cos(angles_inner), 0.5 - np.sin(angles_inner)], axis=1),
    ])
    points += rng.normal(scale=noise, size=points.shape)
    labels = np.concatenate([-np.ones(outer), np.ones(inner)])
    return points, labels


def initial_params(seed: int = 1) -> dict[str, np.ndarray]:
    """W1, b1, ..., W3, b3 for 2-16-16-1, drawn as PyTorch's ``Linear`` draws them."""
    rng = np.random.default_rng(seed)
    params = {}
    for index, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:]), start=1):
        limit = 1 / np.sqrt(n_in)
        params[f"W{index}"] = rng.uniform(-limit, limit, (n_in, n_out))
        params[f"b{index}"] = rng.uniform(-limit, limit, n_out)
    return params


# --- the baseline: by hand -----------------------------------------------------------------------
def numpy_contender(points: np.ndarray, labels: np.ndarray) -> Contender:
    """Forward, hinge loss and L2 term, analytic backward, gradient step: all by hand."""
    params = {name: value.copy() for name, value in initial_params().items()}
    count = len(labels)

    def loss_and_gradients() -> tuple[float, dict[str, np.ndarray]]:
        z1 = points @ params["W1"] + params["b1"]
        h1 = np.maximum(z1, 0)
        z2 = h1 @ params["W2"] + params["b2"]
        h2 = np.maximum(z2, 0)
        scores = (h2 @ params["W3"] + params["b3"])[:, 0]
        margins = 1 - labels * scores
        loss = np.maximum(margins, 0).mean() + ALPHA * sum((p * p).sum() for p in params.values())
        grad3 = (-(labels * (margins > 0)) / count)[:, None]
        grad2 = (grad3 @ params["W3"].T) * (z2 > 0)
        grad1 = (grad2 @ params["W2"].T) * (z1 > 0)
        grads = {
            "W3": h2.T @ grad3, "b3": grad3.sum(axis=0),
            "W2": h1.T @ grad2, "b2": grad2.sum(axis=0),
            "W1": points.T @ grad1, "b1": grad1.sum(axis=0),
        }
        for name, grad in grads.items():
            grad += 2 * ALPHA * params[name]
        return float(loss), grads

    def step() -> None:
        _, grads = loss_and_gradients()
        for name, grad in grads.items():
            params[name] -= LEARNING_RATE * grad

    def gradients() -> Gradients:
        loss, grads = loss_and_gradients()
        return {"loss": loss, **grads}

    return Contender("numpy", step, gradients)


# --- with nn layers, on the whole batch ---------------------------------------------------------
def autograd_lite_nn_contender(points: np.ndarray, labels: np.ndarray) -> Contender:
    """``nn.MLP`` on the whole batch, the demo's loss from Tensor operations, ``nn.SGD``."""
    import nn

    model = nn.MLP(SIZES[0], list(SIZES[1:-1]), SIZES[-1], activation="relu")
    layers = list(model.layers)
    start = initial_params()
    for index, layer in enumerate(layers, start=1):
        layer.weights.data = start[f"W{index}"].copy()
        layer.bias.data = start[f"b{index}"].copy()
    parameters = model.parameters()
    optimizer = nn.SGD(parameters, lr=LEARNING_RATE)
    inputs, targets = ag.Tensor(points), ag.Tensor(labels)

    def loss() -> ag.Tensor:
        scores = model(inputs).reshape(-1)
        data_loss = (1 - targets * scores).relu().mean()
        return data_loss + ALPHA * sum((p * p).sum() for p in parameters)

    def step() -> None:
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()

    def gradients() -> Gradients:
        optimizer.zero_grad()
        total = loss()
        total.backward()
        grads: dict[str, Any] = {"loss": total.item()}
        for index, layer in enumerate(layers, start=1):
            grads[f"W{index}"] = layer.weights.grad
            grads[f"b{index}"] = layer.bias.grad
        return grads

    return Contender("autograd_lite", step, gradients)


def torch_contender(torch: Any, points: np.ndarray, labels: np.ndarray) -> Contender:
    """``torch.nn.Linear`` layers on the whole batch, the same loss, ``torch.optim.SGD``."""
    start = initial_params()
    linears = []
    for index, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:]), start=1):
        linear = torch.nn.Linear(n_in, n_out, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(start[f"W{index}"].T.copy()))
            linear.bias.copy_(torch.from_numpy(start[f"b{index}"]))
        linears.append(linear)
    model = torch.nn.Sequential(
        linears[0], torch.nn.ReLU(), linears[1], torch.nn.ReLU(), linears[2]
    )
    parameters = list(model.parameters())
    optimizer = torch.optim.SGD(parameters, lr=LEARNING_RATE)
    inputs, targets = torch.from_numpy(points), torch.from_numpy(labels)

    def loss() -> Any:
        scores = model(inputs).reshape(-1)
        data_loss = torch.relu(1 - targets * scores).mean()
        return data_loss + ALPHA * sum((p * p).sum() for p in parameters)

    def step() -> None:
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()

    def gradients() -> Gradients:
        optimizer.zero_grad()
        total = loss()
        total.backward()
        grads: dict[str, Any] = {"loss": total.item()}
        for index, linear in enumerate(linears, start=1):
            grads[f"W{index}"] = linear.weight.grad.numpy().T
            grads[f"b{index}"] = linear.bias.grad.numpy()
        return grads

    return Contender("torch", step, gradients)


# --- as a graph of scalars, micrograd's way -----------------------------------------------------
class ScalarNeuron:
    """micrograd's Neuron with 0-d autograd_lite Tensors: relu(Σ wᵢ xᵢ + b), one node per op."""

    def __init__(self, weights: Sequence[float], bias: float, nonlinear: bool) -> None:
        self.weights = [ag.Tensor(weight, requires_grad=True) for weight in weights]
        self.bias = ag.Tensor(bias, requires_grad=True)
        self.nonlinear = nonlinear

    def __call__(self, x: Sequence[ag.Tensor]) -> ag.Tensor:
        activation = sum((w * xi for w, xi in zip(self.weights, x)), self.bias)
        return activation.relu() if self.nonlinear else activation

    def parameters(self) -> list[ag.Tensor]:
        return [*self.weights, self.bias]


class ScalarLayer:
    """A list of :class:`ScalarNeuron`: column j of ``weights`` feeds neuron j."""

    def __init__(self, weights: np.ndarray, biases: np.ndarray, nonlinear: bool) -> None:
        self.neurons = [
            ScalarNeuron(weights[:, j], biases[j], nonlinear) for j in range(weights.shape[1])
        ]

    def __call__(self, x: Sequence[ag.Tensor]) -> list[ag.Tensor]:
        return [neuron(x) for neuron in self.neurons]

    def parameters(self) -> list[ag.Tensor]:
        return [p for neuron in self.neurons for p in neuron.parameters()]


class ScalarMLP:
    """micrograd's MLP with 0-d Tensors: ReLU layers, then a linear output neuron."""

    def __init__(self, params: dict[str, np.ndarray]) -> None:
        count = len(params) // 2
        self.layers = [
            ScalarLayer(params[f"W{i}"], params[f"b{i}"], nonlinear=i < count)
            for i in range(1, count + 1)
        ]

    def __call__(self, x: Sequence[ag.Tensor]) -> ag.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x[0]

    def parameters(self) -> list[ag.Tensor]:
        return [p for layer in self.layers for p in layer.parameters()]


def count_nodes(root: Any, parents: Callable[[Any], Iterable[Any]]) -> int:
    """How many distinct nodes the graph under ``root`` has (iteratively: graphs are deep)."""
    seen = {id(root)}
    stack = [root]
    while stack:
        for parent in parents(stack.pop()):
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return len(seen)


def scalar_grads(layers: Sequence[Any], weight: Callable[[Any], float]) -> dict[str, np.ndarray]:
    """W1, b1, ... rebuilt from scalar neurons (``weight`` reads a parameter's gradient)."""
    grads = {}
    for index, layer in enumerate(layers, start=1):
        neurons = layer.neurons
        columns = [[weight(w) for w in _neuron_weights(neuron)] for neuron in neurons]
        grads[f"W{index}"] = np.array(columns).T
        grads[f"b{index}"] = np.array([weight(_neuron_bias(neuron)) for neuron in neurons])
    return grads


def _neuron_weights(neuron: Any) -> list[Any]:
    return neuron.weights if isinstance(neuron, ScalarNeuron) else neuron.w


def _neuron_bias(neuron: Any) -> Any:
    return neuron.bias if isinstance(neuron, ScalarNeuron) else neuron.b


def autograd_lite_scalar_contender(points: np.ndarray, labels: np.ndarray) -> Contender:
    """The demo exactly as micrograd writes it, with 0-d autograd_lite Tensors as the values."""
    model = ScalarMLP(initial_params())
    parameters = model.parameters()
    rows = [[float(v) for v in row] for row in points]
    targets = [float(y) for y in labels]
    info: dict[str, float] = {}

    def loss() -> ag.Tensor:
        inputs = [[ag.Tensor(v) for v in row] for row in rows]
        scores = [model(x) for x in inputs]
        losses = [(1 + -y * score).relu() for y, score in zip(targets, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        return data_loss + ALPHA * sum(p * p for p in parameters)

    def step() -> None:
        total = loss()
        for p in parameters:
            p.zero_grad()
        total.backward()
        for p in parameters:
            p.data = p.data - LEARNING_RATE * p.grad  # a new 0-d array, as micrograd rebinds

    def gradients() -> Gradients:
        total = loss()
        for p in parameters:
            p.zero_grad()
        total.backward()
        info["nodes"] = count_nodes(total, lambda node: node.parents)
        return {"loss": total.item(), **scalar_grads(model.layers, lambda p: float(p.grad))}

    return Contender("autograd_lite", step, gradients, info)


def micrograd_contender(micrograd: Any, points: np.ndarray, labels: np.ndarray) -> Contender:
    """micrograd's own demo step (its ``Value``, ``MLP`` and loss), from the same weights."""
    engine, layers_module = micrograd
    model = layers_module.MLP(SIZES[0], list(SIZES[1:]))
    start = initial_params()
    for index, layer in enumerate(model.layers, start=1):
        for j, neuron in enumerate(layer.neurons):
            for i, weight in enumerate(neuron.w):
                weight.data = float(start[f"W{index}"][i, j])
            neuron.b.data = float(start[f"b{index}"][j])
    parameters = model.parameters()
    rows = [[float(v) for v in row] for row in points]
    targets = [float(y) for y in labels]
    info: dict[str, float] = {}

    def loss() -> Any:
        inputs = [list(map(engine.Value, row)) for row in rows]
        scores = list(map(model, inputs))
        losses = [(1 + -y * score).relu() for y, score in zip(targets, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        return data_loss + ALPHA * sum(p * p for p in parameters)

    def step() -> None:
        total = loss()
        model.zero_grad()
        total.backward()
        for p in parameters:
            p.data -= LEARNING_RATE * p.grad

    def gradients() -> Gradients:
        total = loss()
        model.zero_grad()
        total.backward()
        info["nodes"] = count_nodes(total, lambda node: node._prev)
        return {"loss": total.data, **scalar_grads(model.layers, lambda p: float(p.grad))}

    return Contender("micrograd", step, gradients, info)


def cases(settings: Settings) -> list[Case]:
    """The demo step with ``nn`` layers, and as a graph of 0-d Tensors; micrograd beside both."""
    points, labels = make_moons(8 if settings.quick else 100)
    peers = settings.peers
    micrograd = (peers.micrograd_engine, peers.micrograd_nn)
    with_layers = [numpy_contender(points, labels), autograd_lite_nn_contender(points, labels)]
    if peers.torch is not None:
        with_layers.append(torch_contender(peers.torch, points, labels))
    scalars = [numpy_contender(points, labels), autograd_lite_scalar_contender(points, labels)]
    if peers.micrograd_engine is not None:
        with_layers.append(micrograd_contender(micrograd, points, labels))
        scalars.append(micrograd_contender(micrograd, points, labels))
    where = f"{len(labels)} two-moons points"
    return [
        Case("moons_nn", f"micrograd demo MLP 2-16-16-1 step, {where}, nn layers", with_layers,
             budget=8.0, warmup=1, collect_between=True),
        Case("moons_scalar", f"micrograd demo MLP 2-16-16-1 step, {where}, 0-d Tensors",
             scalars, budget=12.0, min_repeats=5, warmup=1, collect_between=True),
    ]
