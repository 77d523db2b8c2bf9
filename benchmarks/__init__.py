"""The speed harness: autograd_lite against hand-written NumPy and, when installed, its peers.

Run it with ``python -m benchmarks.run`` (see ``benchmarks/README.md``). Each ``bench_*.py``
module here is one suite: it exposes ``cases(settings)`` returning :class:`benchmarks.harness.Case`
objects, and the runner finds it by its name.
"""
