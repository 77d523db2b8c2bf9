"""Memory: RSS growth over 200 training steps, and the cyclic garbage each step leaves.

The step is the big MLP's (784-256-128-10, batch 128, float32; see :mod:`bench_mlp`). A
framework that frees its graphs by reference counting leaves no cyclic garbage, and after a
warm-up its resident memory stays flat.
"""

from __future__ import annotations

import numpy as np

from benchmarks import bench_mlp
from benchmarks.harness import Case, Settings


def cases(settings: Settings) -> list[Case]:
    """One memory case on the big MLP's training step (a small MLP in quick mode)."""
    if settings.quick:
        sizes, batch, steps = (24, 16, 12, 10), 8, 10
    else:
        sizes, batch, steps = (784, 256, 128, 10), 128, 200
    problem = bench_mlp.make_problem(sizes, batch, np.float32)
    arrows = "-".join(map(str, sizes))
    return [
        Case(
            name="memory",
            title=f"MLP {arrows} training steps, batch {batch}, float32",
            contenders=bench_mlp.contenders(problem, settings),
            kind="memory",
            memory_steps=steps,
            **bench_mlp.tolerances(np.float32),
        )
    ]
