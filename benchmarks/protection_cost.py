"""What the in-place protection costs on the big MLP training step.

MLP 784-256-128-10, batch 128, float32, one BLAS thread. "Protected" is the library as it is;
"unprotected" is the same code with two protections patched out: ``.data`` handed out
writable and arrays taken without copies. The stale-graph check (one integer comparison per
edge of the walk) stays in both: the engine's own walk is timed, never a copy of it. The two
run in interleaved rounds; the overhead is the median of the per-round ratios.

    python -m benchmarks.protection_cost
"""

import importlib
import time

import numpy as np

import nn
from autograd_lite.ops import operands
from benchmarks.environment import limit_threads

tensor = importlib.import_module("autograd_lite.tensor")  # the module: ag.tensor is the function

LIMITER = limit_threads(1)  # (kept alive for the run)
rng = np.random.default_rng(0)
X = rng.normal(size=(128, 784)).astype(np.float32)
labels = rng.integers(0, 10, 128)

protected = dict(data=tensor.Tensor.data, to_array=tensor.to_array)


def unprotected_to_array(data, dtype=None, op="Tensor"):
    if isinstance(data, tensor.Tensor):
        data = data._data
    array = np.asarray(data) if dtype is None else np.asarray(data, dtype=dtype)
    return array if array.dtype.kind == "f" else array.astype(np.float64)


def set_data(self, value):
    self._data = unprotected_to_array(value)
    self.data_version = 0


def switch(on):
    if on:
        tensor.Tensor.data = protected["data"]
        tensor.to_array = protected["to_array"]
        operands.to_array = protected["to_array"]
    else:
        tensor.Tensor.data = property(lambda self: self._data, set_data)
        tensor.to_array = unprotected_to_array
        operands.to_array = unprotected_to_array


def make():
    model = nn.MLP(784, [256, 128], 10, rng=0, dtype=np.float32)
    opt = nn.SGD(model.parameters(), lr=0.01)

    def step():
        opt.zero_grad()
        loss = nn.cross_entropy(model(X), labels)
        loss.backward()
        opt.step()

    return step


steps = {True: make(), False: make()}
for on in (True, False):
    switch(on)
    steps[on]()
ratios, times = [], {True: [], False: []}
for round_ in range(30):
    for on in (True, False) if round_ % 2 else (False, True):
        switch(on)
        t0 = time.perf_counter()
        for _ in range(10):
            steps[on]()
        times[on].append((time.perf_counter() - t0) / 10)
    ratios.append(times[True][-1] / times[False][-1])
switch(True)
print(
    f"big MLP step: protected {np.median(times[True]) * 1e3:.3f} ms, "
    f"unprotected {np.median(times[False]) * 1e3:.3f} ms, "
    f"overhead {100 * (np.median(ratios) - 1):+.1f}% (median of {len(ratios)} per-round ratios)"
)
