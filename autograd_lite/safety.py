"""Catching silently wrong gradients: replaced data, and NaN/inf under ``detect_anomaly``.

Tensor data is read-only (see ``Tensor.data``), so a recorded operation's saved arrays cannot
be edited in place. What remains possible is replacing a tensor's data between forward and
backward (an optimizer step, a hand assignment); ``backward`` refuses such a graph with
:func:`stale_data_error`. ``detect_anomaly()`` adds a finite check on every forward output
and every backward gradient, naming the operation and where the user's code created it.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np

from autograd_lite import engine

if TYPE_CHECKING:
    from autograd_lite.tensor import Tensor

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class AnomalyError(FloatingPointError):
    """A forward output or backward gradient holds NaN or inf (raised under detect_anomaly)."""


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise :class:`AnomalyError` at the first operation whose output or gradient is not
    finite, naming the operation, its inputs' shapes and the line of user code that made it.

    Off by default; while off it costs one flag test per operation.

    >>> import autograd_lite as ag
    >>> x = ag.Tensor([0.0, 1.0], requires_grad=True)
    >>> with ag.detect_anomaly():
    ...     y = x * ag.Tensor([float("nan"), 2.0])
    Traceback (most recent call last):
    ...
    autograd_lite.safety.AnomalyError: mul: forward output holds nan ...
    """
    previous = engine._Recording.anomaly
    engine._Recording.anomaly = True
    try:
        yield
    finally:
        engine._Recording.anomaly = previous


def _user_frame() -> str:
    """The innermost stack frame outside this package: where the user's code called us."""
    for frame in reversed(traceback.extract_stack()):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR):
            return f'File "{frame.filename}", line {frame.lineno}, in {frame.name}: {frame.line}'
    return "(unknown)"


def _describe_bad(values: np.ndarray) -> str:
    kinds = [
        name
        for name, found in (
            ("nan", np.isnan(values).any()),
            ("inf", np.isposinf(values).any()),
            ("-inf", np.isneginf(values).any()),
        )
        if found
    ]
    return " and ".join(kinds)


def check_forward(op: str, out: Tensor, parents: tuple[Tensor, ...]) -> None:
    """Remember where ``out`` was made; raise if its values are not all finite."""
    out.origin = _user_frame()
    if not np.isfinite(out._data).all():
        shapes = ", ".join(str(parent.shape) for parent in parents)
        raise AnomalyError(
            f"{op}: forward output holds {_describe_bad(out._data)} (inputs of shapes {shapes}); "
            f"created at {out.origin}"
        )


def check_backward(node: Tensor, parent_grads: tuple) -> None:
    """Raise if the gradients ``node``'s rule returned for its inputs are not all finite."""
    for index, grad in enumerate(parent_grads):
        grad = getattr(grad, "_data", grad)  # a recorded gradient is a Tensor
        if grad is not None and not np.isfinite(grad).all():
            shapes = ", ".join(str(parent.shape) for parent in node.parents)
            raise AnomalyError(
                f"{node.op}: backward gives {_describe_bad(np.asarray(grad))} in the gradient "
                f"of input {index} (inputs of shapes {shapes}); the operation was created at "
                f"{node.origin or '(unknown: record it under detect_anomaly)'}"
            )


def stale_data_error(node: Tensor, parent: Tensor) -> RuntimeError:
    label = f"'{parent.name}'" if parent.name else f"of shape {parent.shape}"
    return RuntimeError(
        f"backward: the tensor {label} got new data after {node.op} used it, so this graph's "
        "gradients would belong to values it no longer has; run the forward pass again after "
        "changing data (e.g. call optimizer.step() only after backward())"
    )
