"""Loss functions: each returns a scalar Tensor, averaged (``reduction="mean"``) or summed.

``mse_loss`` is built from engine operations. The cross-entropies are single fused
operations, each with its backward rule right below its forward: the composed binary forms
have a wrong or non-finite gradient exactly where it matters, and the softmax one is on every
classifier's hot path (see the NOTEs).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd_lite import Tensor
from autograd_lite.engine import record
from autograd_lite.ops import dual
from autograd_lite.ops.operands import as_real
from autograd_lite.ops.reductions import max_kept

REDUCTIONS = ("mean", "sum")


def _as_tensor(value: Any, loss: str, what: str, like: Tensor | None = None) -> Tensor:
    """``value`` as a Tensor (numbers follow ``like``'s dtype); errors name ``loss``."""
    if isinstance(value, Tensor):
        return value
    try:
        return Tensor(value, dtype=None if like is None else like.dtype)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{loss}: {what} must be numbers ({error})") from None


def _check_reduction(loss: str, reduction: Any) -> None:
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(f"{loss}: reduction must be 'mean' or 'sum', got {reduction!r}")


def _check(loss: str, first: str, a: Tensor, second: str, b: Tensor, reduction: str) -> None:
    _check_reduction(loss, reduction)
    if a.shape != b.shape:
        raise ValueError(
            f"{loss}: {first} has shape {a.shape} but {second} has shape {b.shape}; "
            "they must match (reshape one of them)"
        )


def _reduce(elements: Tensor, reduction: str) -> Tensor:
    return elements.mean() if reduction == "mean" else elements.sum()


def mse_loss(pred: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error: L = mean((pred - target)**2) (or the sum);
    dL/dpred = 2 (pred - target) / n (n = 1 for the sum).

    >>> mse_loss(Tensor([1.0, 2.0]), [0.0, 4.0]).item()
    2.5
    """
    pred = _as_tensor(pred, "mse_loss", "pred")
    target = _as_tensor(target, "mse_loss", "target", pred)
    _check("mse_loss", "pred", pred, "target", target, reduction)
    diff = pred - target
    return _reduce(diff * diff, reduction)


def _binary_cross_entropy_elements(prob: Tensor, target: Tensor) -> Tensor:
    """ℓ = -(t log p + (1 - t) log(1 - p)), each log clamped at -100 (PyTorch);
    dℓ/dp = (p - t) / (p (1 - p)),  dℓ/dt = log(1 - p) - log p.

    NOTE: composing ``-(t * log(p) + ...)`` from ``log`` gives -inf at p = 0 or 1 and a nan
    gradient. Like PyTorch we clamp each log at -100 in the forward pass and the denominator
    p (1 - p) at 1e-12 in the backward pass, so a confident wrong answer costs at most 100 and
    its gradient stays finite.
    """
    p, t = prob.data, target.data
    out = -(t * _clamped_log(p) + (1 - t) * _clamped_log(1 - p))
    saved = (p, t, target.requires_grad)
    return record("binary_cross_entropy", out, (prob, target), _bce_backward, saved)


def _clamped_log(values: Any) -> Any:
    """log(values), clamped at -100 (PyTorch), without evaluating log(0)."""
    floor = dual.values(values) <= _LOG_FLOOR
    return dual.where(floor, -100.0, dual.log(dual.where(floor, 1.0, values)))


_LOG_FLOOR = math.exp(-100)


def _bce_backward(grad_out: Any, p: Any, t: Any, target_needs: bool) -> tuple:
    p_values = dual.values(p)
    small = p_values * (1 - p_values) < 1e-12
    grad_prob = grad_out * (p - t) / dual.where(small, 1e-12, p * (1 - p))
    grad_target = grad_out * (_clamped_log(1 - p) - _clamped_log(p)) if target_needs else None
    return grad_prob, grad_target


def binary_cross_entropy(prob: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities: L = mean(-(t log p + (1 - t) log(1 - p))).

    Each log is clamped at -100 as in PyTorch, so p = 0 or 1 give a finite loss. ``prob``
    must lie in [0, 1]; for raw scores use :func:`binary_cross_entropy_with_logits`.

    >>> round(binary_cross_entropy(Tensor([0.9, 0.2]), [1.0, 0.0]).item(), 6)
    0.164252
    >>> binary_cross_entropy(Tensor([0.0]), [1.0]).item()
    100.0
    """
    prob = _as_tensor(prob, "binary_cross_entropy", "prob")
    target = _as_tensor(target, "binary_cross_entropy", "target", prob)
    _check("binary_cross_entropy", "prob", prob, "target", target, reduction)
    data = prob.data
    if data.size and not (data.min() >= 0 and data.max() <= 1):
        raise ValueError(
            f"binary_cross_entropy: prob must lie in [0, 1], got values from {data.min()} to "
            f"{data.max()}; for raw scores use binary_cross_entropy_with_logits"
        )
    return _reduce(_binary_cross_entropy_elements(prob, target), reduction)


def _logits_cross_entropy_elements(logits: Tensor, target: Tensor) -> Tensor:
    """ℓ = max(z, 0) - z t + log(1 + e**-|z|)  (= -(t log σ(z) + (1 - t) log(1 - σ(z))));
    dℓ/dz = σ(z) - t,  dℓ/dt = -z.

    NOTE: the form above never exponentiates a positive number, so logits of ±1000 give exact,
    finite values. Composing it from ``relu``, ``abs`` and ``log`` would give the wrong
    gradient -t at z = 0 (both kinks take derivative 0 there), instead of σ(0) - t = 0.5 - t;
    the fused rule is right everywhere.
    """
    z, t = logits.data, target.data
    out = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
    saved = (z, t, target.requires_grad)
    return record(
        "binary_cross_entropy_with_logits", out, (logits, target), _logits_bce_backward, saved
    )


def _logits_bce_backward(grad_out: Any, z: Any, t: Any, target_needs: bool) -> tuple:
    grad_target = -grad_out * z if target_needs else None
    return grad_out * (dual.sigmoid(z) - t), grad_target


def binary_cross_entropy_with_logits(logits: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of raw scores z: L = mean(-(t log σ(z) + (1 - t) log(1 - σ(z)))),
    computed stably for any z; dL/dz = (σ(z) - t) / n.

    >>> binary_cross_entropy_with_logits(Tensor([1000.0, -1000.0]), [1.0, 0.0]).item()
    0.0
    >>> binary_cross_entropy_with_logits(Tensor([-1000.0]), [1.0]).item()
    1000.0
    """
    logits = _as_tensor(logits, "binary_cross_entropy_with_logits", "logits")
    target = _as_tensor(target, "binary_cross_entropy_with_logits", "target", logits)
    _check("binary_cross_entropy_with_logits", "logits", logits, "target", target, reduction)
    return _reduce(_logits_cross_entropy_elements(logits, target), reduction)


def _class_labels(labels: Any, logits: Tensor) -> np.ndarray:
    """``labels`` as an integer array of shape (batch,), each in [0, classes)."""
    try:
        values = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
    except (TypeError, ValueError) as error:
        raise TypeError(f"cross_entropy: cannot read labels as an array ({error})") from None
    if values.dtype.kind == "f" and np.all(np.mod(values, 1) == 0):
        values = values.astype(np.intp)
    if values.dtype.kind not in "iu":
        raise TypeError(
            f"cross_entropy: labels must be integer class indices, got dtype {values.dtype}"
        )
    batch, classes = logits.shape
    if values.shape != (batch,):
        raise ValueError(
            f"cross_entropy: logits has shape {logits.shape} so labels must have shape "
            f"({batch},), got {values.shape}"
        )
    # As unsigned integers, negative labels wrap to huge ones: one maximum checks both ends.
    if values.size and np.maximum.reduce(values.astype(np.uint64)) >= classes:
        raise ValueError(
            f"cross_entropy: labels must lie in [0, {classes}) for logits of shape "
            f"{logits.shape}, got values from {values.min()} to {values.max()}"
        )
    return values


def _softmax_cross_entropy(logits: Tensor, classes: np.ndarray, scale: float) -> Tensor:
    """L = scale · Σ_i (log Σ_j e**z_ij - z_i,y_i);  dL/dz = scale · (softmax(z) - onehot(y)).

    NOTE: one fused operation rather than ``log_softmax``, a one-hot product and a sum: that
    would record three nodes and run three backward rules, where this computes the softmax
    once and keeps it for the backward pass (a training step's loss is on the hot path). The
    row maximum is subtracted before exponentiating, so logits of ±1000 stay finite.
    """
    z = logits.data
    shifted = z - max_kept(z, 1)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    rows = np.arange(len(classes))
    out = np.asarray((np.log(total).sum() - shifted[rows, classes].sum()) * scale)
    saved = (z, exp, total, rows, classes, scale)
    return record("cross_entropy", out, (logits,), _cross_entropy_backward, saved)


def _cross_entropy_backward(
    grad_out: Any,
    z: Any,
    exp: np.ndarray,
    total: np.ndarray,
    rows: np.ndarray,
    classes: np.ndarray,
    scale: float,
) -> tuple:
    if dual.is_recorded(grad_out):  # differentiated again: the softmax must be a function of z
        onehot = np.zeros(z.shape, dtype=z.dtype)
        onehot[rows, classes] = 1
        return ((dual.softmax(z, axis=1) - onehot) * (grad_out * scale),)
    grad = exp / total  # the softmax, in a fresh array this rule may edit in place
    grad[rows, classes] -= 1
    grad *= grad_out * scale
    return (grad,)


def cross_entropy(logits: Any, labels: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy: L = mean_i(-log softmax(z_i)[y_i]) for logits z (batch, classes)
    and integer labels y (batch,); dL/dz_i = (softmax(z_i) - onehot(y_i)) / batch.

    Stable for any logits: the row maximum is subtracted before exponentiating.

    >>> round(cross_entropy(Tensor([[2.0, 0.0], [0.0, 0.0]]), [0, 1]).item(), 6)
    0.410038
    >>> cross_entropy(Tensor([[1000.0, -1000.0]]), [1]).item()
    2000.0
    """
    # Integer and bool logits are computed in float64, like every real-valued function's input
    # (exp of int8 would be float16, and uint8 would wrap around when shifted by its maximum).
    logits = as_real(_as_tensor(logits, "cross_entropy", "logits"), "cross_entropy")
    _check_reduction("cross_entropy", reduction)
    if logits.ndim != 2 or logits.shape[1] == 0:
        raise ValueError(
            f"cross_entropy: logits must have shape (batch, classes) with at least one class, "
            f"got {logits.shape}"
        )
    classes = _class_labels(labels, logits)
    batch = logits.shape[0]
    if batch == 0 and reduction == "mean":
        raise ValueError(f"cross_entropy: no rows to average in logits of shape {logits.shape}")
    return _softmax_cross_entropy(logits, classes, 1.0 / batch if reduction == "mean" else 1.0)
