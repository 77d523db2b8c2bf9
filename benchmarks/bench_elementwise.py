"""Per-operation overhead: forward and backward of a long elementwise chain, per operation.

The chain repeats the block ``y = sigmoid(relu(y * w + b))`` (mul, add, relu, sigmoid) with
one shared ``w`` and ``b``, so every operation gets a gradient and ``w``, ``b`` collect one per
block. On shape (4,) the NumPy work is nearly free and the figure is the framework's own cost
per operation; on (256, 256) the arithmetic dominates and a framework should add nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd_lite as ag
from benchmarks.harness import Case, Contender, Gradients, Settings, step_of

OPS_PER_BLOCK = 4  # mul, add, relu, sigmoid


def _inputs(shape: tuple[int, ...], seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x": rng.normal(size=shape),
        "w": rng.uniform(0.5, 1.5, size=shape),
        "b": rng.normal(scale=0.1, size=shape),
    }


def numpy_contender(inputs: dict[str, np.ndarray], blocks: int) -> Contender:
    """The chain by hand: the forward keeps what the backward needs, the backward is analytic."""
    x, w, b = inputs["x"], inputs["w"], inputs["b"]

    def forward_backward() -> Gradients:
        ys, zs, outs = [], [], []
        y = x
        for _ in range(blocks):
            ys.append(y)
            z = y * w + b
            # relu's output is >= 0, so exp(-r) <= 1: the plain sigmoid formula cannot overflow.
            y = 1 / (1 + np.exp(-np.maximum(z, 0)))
            zs.append(z)
            outs.append(y)
        grad = np.ones_like(y)  # d(sum of y)/dy: the chain is seeded with ones
        grad_w = np.zeros_like(w)
        grad_b = np.zeros_like(b)
        for y_in, z, out in zip(reversed(ys), reversed(zs), reversed(outs)):
            grad = grad * out * (1 - out)
            grad = grad * (z > 0)
            grad_b += grad
            grad_w += grad * y_in
            grad = grad * w
        return {"loss": y.sum(), "x": grad, "w": grad_w, "b": grad_b}

    return Contender("numpy", step_of(forward_backward), forward_backward)


def autograd_lite_contender(inputs: dict[str, np.ndarray], blocks: int) -> Contender:
    """The chain as autograd_lite Tensors, backpropagated from ones."""
    x, w, b = (ag.Tensor(inputs[name], requires_grad=True) for name in ("x", "w", "b"))
    seed = np.ones(x.shape)

    def forward_backward() -> Any:
        for tensor in (x, w, b):
            tensor.zero_grad()
        y = x
        for _ in range(blocks):
            y = (y * w + b).relu().sigmoid()
        y.backward(seed)
        return y

    def gradients() -> Gradients:
        y = forward_backward()
        return {"loss": y.data.sum(), "x": x.grad, "w": w.grad, "b": b.grad}

    return Contender("autograd_lite", step_of(forward_backward), gradients)


def torch_contender(torch: Any, inputs: dict[str, np.ndarray], blocks: int) -> Contender:
    """The same chain in PyTorch (CPU, float64)."""
    x, w, b = (
        torch.tensor(inputs[name], dtype=torch.float64, requires_grad=True)
        for name in ("x", "w", "b")
    )
    seed = torch.ones_like(x)

    def forward_backward() -> Any:
        for tensor in (x, w, b):
            tensor.grad = None
        y = x
        for _ in range(blocks):
            y = torch.sigmoid(torch.relu(y * w + b))
        y.backward(seed)
        return y

    def gradients() -> Gradients:
        y = forward_backward()
        return {
            "loss": y.detach().sum().item(),
            **{name: t.grad.numpy() for name, t in (("x", x), ("w", w), ("b", b))},
        }

    return Contender("torch", step_of(forward_backward), gradients)


def chain_case(name: str, shape: tuple[int, ...], blocks: int, settings: Settings) -> Case:
    """One chain of ``blocks`` × (mul, add, relu, sigmoid) on ``shape``, timed per operation."""
    inputs = _inputs(shape)
    contenders = [numpy_contender(inputs, blocks), autograd_lite_contender(inputs, blocks)]
    if settings.peers.torch is not None:
        contenders.append(torch_contender(settings.peers.torch, inputs, blocks))
    return Case(
        name=name,
        title=f"elementwise chain fwd+bwd, shape {shape}, {blocks * OPS_PER_BLOCK} ops, per op",
        contenders=contenders,
        units=blocks * OPS_PER_BLOCK,
        unit="op",
        budget=6.0,
    )


def cases(settings: Settings) -> list[Case]:
    """The shape-(4,) and shape-(256, 256) chains (smaller in quick mode)."""
    if settings.quick:
        return [
            chain_case("elementwise_small", (4,), 3, settings),
            chain_case("elementwise_large", (16, 16), 3, settings),
        ]
    return [
        chain_case("elementwise_small", (4,), 25, settings),
        chain_case("elementwise_large", (256, 256), 25, settings),
    ]
