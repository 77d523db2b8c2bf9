"""Backward through a long chain: 1e4, 1e5 and 1e6 scalar operations, build and backward apart.

The chain alternates ``y = y * c`` and ``y = y + d`` on a 0-d float64 value, so dL/dx is
``c ** (n / 2)`` (with c = 1 + 1e-6 that is about 1.65 at 1e6: never 0 or overflowing). The
figures are seconds per operation for building the graph and for the backward pass; the growth
1e6 / 1e5 of build plus backward says whether a graph's whole life stays linear in its length.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

import autograd_lite as ag
from benchmarks.harness import Case, Contender, Gradients, Settings

FACTOR = 1.0 + 1e-6
OFFSET = 1e-3
START = 0.5


def numpy_contender(length: int) -> Contender:
    """By hand: the forward computes, the backward multiplies by each mul's constant."""
    result: dict[str, float] = {}

    def step() -> dict[str, float]:
        start = time.perf_counter()
        y = np.asarray(START)
        for index in range(length):
            y = y * FACTOR if index % 2 == 0 else y + OFFSET
        built = time.perf_counter()
        grad = np.asarray(1.0)
        for index in reversed(range(length)):
            if index % 2 == 0:  # d(y * c)/dy = c; d(y + d)/dy = 1 costs nothing
                grad = grad * FACTOR
        done = time.perf_counter()
        result.update(loss=float(y), x=float(grad))
        return {"build": built - start, "backward": done - built}

    def gradients() -> Gradients:
        step()
        return dict(result)

    return Contender("numpy", step, gradients)


def autograd_lite_contender(length: int) -> Contender:
    """The chain recorded as autograd_lite Tensors, then ``backward()`` from its end."""
    result: dict[str, Any] = {}

    def step() -> dict[str, float]:
        start = time.perf_counter()
        x = ag.Tensor(START, requires_grad=True)
        y = x
        for index in range(length):
            y = y * FACTOR if index % 2 == 0 else y + OFFSET
        built = time.perf_counter()
        y.backward()
        done = time.perf_counter()
        result.update(loss=y.item(), x=x.grad)
        return {"build": built - start, "backward": done - built}

    def gradients() -> Gradients:
        step()
        return dict(result)

    return Contender("autograd_lite", step, gradients)


def torch_contender(torch: Any, length: int) -> Contender:
    """The same chain in PyTorch on a 0-d float64 tensor."""
    result: dict[str, Any] = {}

    def step() -> dict[str, float]:
        start = time.perf_counter()
        x = torch.tensor(START, dtype=torch.float64, requires_grad=True)
        y = x
        for index in range(length):
            y = y * FACTOR if index % 2 == 0 else y + OFFSET
        built = time.perf_counter()
        y.backward()
        done = time.perf_counter()
        result.update(loss=y.item(), x=x.grad.numpy())
        return {"build": built - start, "backward": done - built}

    def gradients() -> Gradients:
        step()
        return dict(result)

    return Contender("torch", step, gradients)


def chain_case(name: str, length: int, settings: Settings) -> Case:
    """A chain of ``length`` operations; each contender's first run is its gradient check."""
    contenders = [numpy_contender(length), autograd_lite_contender(length)]
    if settings.peers.torch is not None:
        contenders.append(torch_contender(settings.peers.torch, length))
    for contender in contenders:
        contender.info["length"] = length
    return Case(
        name=name,
        title=f"chain of {length:,} scalar ops (mul, add), per op",
        contenders=contenders,
        units=length,
        unit="op",
        rtol=1e-9,
        atol=0.0,
        warmup=0 if length >= 100_000 else 2,
        budget=5.0,
        min_repeats=3,
        max_repeats=30,
    )


def cases(settings: Settings) -> list[Case]:
    """Chains of 1e4, 1e5 and 1e6 operations (1e2, 1e3 and 5e3 in quick mode)."""
    lengths = (100, 1_000, 5_000) if settings.quick else (10_000, 100_000, 1_000_000)
    names = ("chain_short", "chain_medium", "chain_long")
    return [chain_case(name, length, settings) for name, length in zip(names, lengths)]
