"""Learning-rate schedules: ``StepLR`` and ``CosineAnnealingLR``, PyTorch's numbers exactly.

A schedule holds an optimizer and sets its ``lr``; call ``step()`` once per epoch, after the
epoch's optimizer steps. Like PyTorch's, each new rate is computed from the optimizer's
current ``lr`` (the recursive form), so the rates are PyTorch's to the last bit, and a hand
change of ``optimizer.lr`` carries on into the schedule. ``state_dict()`` holds the epoch
counter, the base rate and the schedule's settings as Python numbers; restore it together
with the optimizer's state to resume a run.

>>> import numpy as np
>>> from autograd_lite import Tensor
>>> from nn.optim import SGD
>>> optimizer = SGD([Tensor(np.zeros(2), requires_grad=True)], lr=0.1)
>>> schedule = StepLR(optimizer, step_size=2, gamma=0.5)
>>> for epoch in range(5):
...     # ... one epoch of optimizer.step() calls ...
...     schedule.step()
...     print(schedule.last_epoch, schedule.get_last_lr())
1 [0.1]
2 [0.05]
3 [0.05]
4 [0.025]
5 [0.025]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from nn.optim import Optimizer, _checked_state, _count, _number


class LRScheduler:
    """What every schedule shares: the epoch counter (``last_epoch``, 0 at construction),
    ``base_lr`` (the optimizer's ``lr`` at construction), ``step()``, ``get_last_lr()`` and
    ``state_dict``/``load_state_dict``.

    A subclass names its settings in ``_settings`` (each an ``(name, check)`` pair, the check
    returning the value or raising) and computes the next rate in :meth:`_next_lr`.
    """

    _settings: tuple[tuple[str, Callable[..., Any]], ...] = ()

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__}: optimizer must be an nn optimizer (nn.SGD, nn.Adam, "
                f"nn.AdamW), got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        self.base_lr: float = optimizer.lr
        self.last_epoch = 0
        self._last_lr: float = optimizer.lr

    def _set(self, name: str, value: Any, check: Callable[..., Any]) -> None:
        try:
            setattr(self, name, check(value, name))
        except (TypeError, ValueError) as error:
            raise type(error)(f"{type(self).__name__}: {error}") from None

    def _next_lr(self, epoch: int, lr: float) -> float:
        """The rate for ``epoch`` given the optimizer's current rate ``lr``."""
        raise NotImplementedError

    def step(self) -> None:
        """End an epoch: advance ``last_epoch`` by one and set the optimizer's ``lr``.

        The optimizer checks the new rate; one it refuses (a negative rate, which PyTorch's
        recursive form can reach after a hand change of ``lr`` below ``eta_min``, or an
        overflow to infinity) raises, and the schedule and the optimizer stay as they were.
        """
        epoch = self.last_epoch + 1
        lr = self._next_lr(epoch, self.optimizer.lr)
        try:
            self.optimizer.lr = lr
        except (TypeError, ValueError) as error:
            raise type(error)(
                f"{type(self).__name__}.step: the optimizer refuses the rate for epoch {epoch} "
                f"({error})"
            ) from None
        self.last_epoch = epoch
        self._last_lr = self.optimizer.lr

    def get_last_lr(self) -> list[float]:
        """The rate the last ``step()`` set (or the starting one), one per parameter group
        as in PyTorch; ours always have one group."""
        return [self._last_lr]

    def state_dict(self) -> dict[str, Any]:
        """``last_epoch``, ``base_lr``, ``last_lr`` and the settings, as Python numbers."""
        state: dict[str, Any] = {
            "last_epoch": self.last_epoch, "base_lr": self.base_lr, "last_lr": self._last_lr,
        }
        state.update({name: getattr(self, name) for name, _ in self._settings})
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned, all or nothing: a missing, unexpected,
        ``None`` or bad entry raises one ``ValueError`` (``TypeError`` when the only problems
        are types) naming each, and nothing changes. The optimizer's ``lr`` is not touched:
        it comes back with the optimizer's own state."""
        checks: dict[str, Callable[[Any], Any]] = {
            "last_epoch": partial(_count, name="last_epoch"),
            "base_lr": partial(_number, name="base_lr"),
            "last_lr": partial(_number, name="last_lr"),
        }
        checks.update({name: partial(check, name=name) for name, check in self._settings})
        values = _checked_state(f"{type(self).__name__}.load_state_dict", state, checks)
        self.last_epoch = values["last_epoch"]
        self.base_lr = values["base_lr"]
        self._last_lr = values["last_lr"]
        for name, _ in self._settings:
            setattr(self, name, values[name])


def _positive_count(value: Any, name: str) -> int:
    return _count(value, name, minimum=1)


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs:
    lr_e = lr_{e-1} · γ when e is a multiple of step_size, else lr_{e-1};
    so lr_e = base_lr · γ^⌊e / step_size⌋ when nothing else changes the rate.
    """

    _settings = (("step_size", _positive_count), ("gamma", _number))

    step_size: int
    gamma: float

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(optimizer)
        self._set("step_size", step_size, _positive_count)
        self._set("gamma", gamma, _number)

    def _next_lr(self, epoch: int, lr: float) -> float:
        return lr * self.gamma if epoch % self.step_size == 0 else lr


class CosineAnnealingLR(LRScheduler):
    """Anneal the rate from ``base_lr`` to ``eta_min`` along half a cosine over ``T_max``
    epochs (SGDR, Loshchilov & Hutter, without restarts), then back up, periodically:
    lr_e = η_min + (base_lr - η_min) · (1 + cos(π e / T_max)) / 2.

    Computed as PyTorch does, from the previous rate:
    lr_e = η_min + (lr_{e-1} - η_min) · (1 + cos(π e / T_max)) / (1 + cos(π (e-1) / T_max)),
    and where that denominator is 0 (e - 1 an odd multiple of T_max)
    lr_e = lr_{e-1} + (base_lr - η_min) · (1 - cos(π / T_max)) / 2;
    both equal the closed form above when nothing else changes the rate.

    >>> import numpy as np
    >>> from autograd_lite import Tensor
    >>> from nn.optim import SGD
    >>> optimizer = SGD([Tensor(np.zeros(2), requires_grad=True)], lr=1.0)
    >>> schedule = CosineAnnealingLR(optimizer, T_max=4)
    >>> for epoch in range(8):
    ...     schedule.step()
    >>> round(optimizer.lr, 12), schedule.last_epoch   # back up after 2 T_max epochs
    (1.0, 8)
    """

    _settings = (("T_max", _positive_count), ("eta_min", _number))

    T_max: int  # noqa: N815 - PyTorch's name
    eta_min: float

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:  # noqa: N803
        super().__init__(optimizer)
        self._set("T_max", T_max, _positive_count)
        self._set("eta_min", eta_min, _number)

    def _next_lr(self, epoch: int, lr: float) -> float:
        period, eta_min = self.T_max, self.eta_min
        if (epoch - 1 - period) % (2 * period) == 0:
            return lr + (self.base_lr - eta_min) * (1 - math.cos(math.pi / period)) / 2
        return (
            (1 + math.cos(math.pi * epoch / period))
            / (1 + math.cos(math.pi * (epoch - 1) / period))
            * (lr - eta_min)
            + eta_min
        )
