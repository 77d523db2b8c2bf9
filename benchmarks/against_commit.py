"""The first-order path of this checkout against an older commit's, in one process.

The older commit's ``autograd_lite`` and ``nn`` are extracted with ``git archive`` and imported
beside the current ones under other names (``old_autograd_lite``, ``old_nn``), so both run in
the same process, on the same NumPy and allocator, in alternating samples. Each sample is
CPU time (``time.process_time``: a process waiting for a core is not charged); a figure is
the minimum over samples. Two ratios, new over old: of the minima, and the median over rounds
of each round's own quotient (a round is one sample of each, back to back).

    python -m benchmarks.against_commit            # against 6fedf8b, the last commit whose
                                                   # backward rules ran on arrays only
    python -m benchmarks.against_commit 4a2202b --only mlp_small chain_4

The workloads are the speed benchmark's: the two MLP training steps, the elementwise chains
(mul, add, relu, sigmoid) on shapes (4,) and (256, 256), and the 1,000,000-op scalar chain's
build and backward (apart).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

import autograd_lite
import nn
from benchmarks.environment import limit_threads

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_COMMIT = "6fedf8b"

Step = Callable[[], float | None]  # one sample's work; returns its own time when it times parts


def import_commit(commit: str, into: Path) -> tuple[ModuleType, ModuleType]:
    """``commit``'s ``autograd_lite`` and ``nn``, imported as ``old_autograd_lite``/``old_nn``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "autograd_lite", "nn"],
        check=True, capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    for name in ("autograd_lite", "nn"):
        (into / name).rename(into / f"old_{name}")
    for source in into.rglob("*.py"):
        text = re.sub(r"\bautograd_lite\b", "old_autograd_lite", source.read_text())
        text = re.sub(r"^(\s*)(from|import) nn\b", r"\1\2 old_nn", text, flags=re.MULTILINE)
        source.write_text(text)
    sys.path.insert(0, str(into))
    return importlib.import_module("old_autograd_lite"), importlib.import_module("old_nn")


def mlp_step(ag: ModuleType, nn_: ModuleType, sizes: tuple[int, ...], batch: int,
             dtype: Any) -> Step:
    rng = np.random.default_rng(0)
    model = nn_.MLP(sizes[0], list(sizes[1:-1]), sizes[-1], activation="relu", rng=0,
                    dtype=dtype)
    optimizer = nn_.SGD(model.parameters(), lr=0.01)
    inputs = rng.normal(size=(batch, sizes[0])).astype(dtype)
    labels = rng.integers(0, sizes[-1], batch)

    def step() -> None:
        optimizer.zero_grad()
        nn_.cross_entropy(model(inputs), labels).backward()
        optimizer.step()

    return step


def elementwise_chain(ag: ModuleType, nn_: ModuleType, shape: tuple[int, ...]) -> Step:
    rng = np.random.default_rng(0)
    x, w, b = (ag.Tensor(rng.normal(size=shape), requires_grad=True) for _ in range(3))
    seed = np.ones(shape)

    def step() -> None:
        for tensor in (x, w, b):
            tensor.grad = None
        y = x
        for _ in range(25):  # 100 operations
            y = (y * w + b).relu().sigmoid()
        y.backward(seed)

    return step


def scalar_chain(ag: ModuleType, nn_: ModuleType, part: str) -> Step:
    def step() -> float:
        start = time.process_time()
        y = ag.Tensor(0.5, requires_grad=True)
        for index in range(1_000_000):
            y = y * (1.0 + 1e-6) if index % 2 == 0 else y + 1e-3
        built = time.process_time()
        y.backward()
        done = time.process_time()
        return built - start if part == "build" else done - built

    return step


# name → (how to make its step, steps per sample, samples per side)
WORKLOADS: dict[str, tuple[Callable[[ModuleType, ModuleType], Step], int, int]] = {
    "mlp_big": (lambda ag, nn_: mlp_step(ag, nn_, (784, 256, 128, 10), 128, np.float32), 5, 40),
    "mlp_small": (lambda ag, nn_: mlp_step(ag, nn_, (64, 32, 10), 32, np.float64), 100, 100),
    "chain_4": (lambda ag, nn_: elementwise_chain(ag, nn_, (4,)), 5, 40),
    "chain_256": (lambda ag, nn_: elementwise_chain(ag, nn_, (256, 256)), 1, 60),
    "chain_1e6_build": (lambda ag, nn_: scalar_chain(ag, nn_, "build"), 1, 5),
    "chain_1e6_backward": (lambda ag, nn_: scalar_chain(ag, nn_, "backward"), 1, 5),
}


def sample(step: Step, repeats: int) -> float:
    """CPU seconds per step: the step's own figure if it times its parts, else the whole.
    The garbage the other side left is collected first, untimed, so neither pays for it."""
    gc.collect()
    start = time.process_time()
    own = 0.0
    for _ in range(repeats):
        part = step()
        own += part or 0.0
    return (own or time.process_time() - start) / repeats


def compare(name: str, old: tuple[ModuleType, ModuleType]) -> tuple[float, float, float]:
    """Minimum old and new CPU time per step, and the median per-round quotient new / old."""
    make, repeats, samples = WORKLOADS[name]
    steps = {"old": make(*old), "new": make(autograd_lite, nn)}
    times: dict[str, list[float]] = {"old": [], "new": []}
    for round_index in range(samples):
        order = ("old", "new") if round_index % 2 == 0 else ("new", "old")
        for side in order:
            times[side].append(sample(steps[side], repeats))
    quotients = [new / old for old, new in zip(times["old"], times["new"])]
    return min(times["old"]), min(times["new"]), float(np.median(quotients))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commit", nargs="?", default=DEFAULT_COMMIT)
    parser.add_argument("--only", nargs="+", choices=list(WORKLOADS), default=list(WORKLOADS))
    parser.add_argument("--row", action="store_true", help="print the table row only")
    args = parser.parse_args(argv)
    if not args.row:
        print(f"CPU-time minima, one BLAS thread; old = {args.commit}, new = this checkout")
        print(f"| workload | {args.commit} | this checkout | new / old, minima "
              "| new / old, median per round |")
        print("|---|---|---|---|---|", flush=True)
        # Each workload in a fresh process: what one leaves in the heap moves the next one's
        # small-array timings by a few percent.
        for name in args.only:
            subprocess.run([sys.executable, "-m", "benchmarks.against_commit", args.commit,
                            "--only", name, "--row"], check=True, cwd=ROOT)
        return
    with limit_threads(1), tempfile.TemporaryDirectory() as folder:
        old = import_commit(args.commit, Path(folder))
        for name in args.only:
            old_time, new_time, median_quotient = compare(name, old)
            print(f"| {name} | {old_time * 1e6:,.1f} µs | {new_time * 1e6:,.1f} µs "
                  f"| {new_time / old_time:.3f} | {median_quotient:.3f} |", flush=True)

if __name__ == "__main__":
    main()
