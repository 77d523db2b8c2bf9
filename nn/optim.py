"""Optimizers: move each parameter against its gradient. ``SGD`` (with momentum), ``Adam``,
``AdamW``, and ``clip_grad_norm`` to bound the gradients first.

An update changes ``.data`` only, outside the graph (what PyTorch does under ``no_grad``), by
assigning a new array: a tensor's data is read-only, because recorded operations keep it for
their backward pass. Parameters whose ``requires_grad`` is False or whose ``.grad`` is None
are skipped. Every gradient is checked (its shape, a real dtype) before any parameter moves,
and it is used in its parameter's dtype, so a float32 model stays float32. Each optimizer
keeps one scratch array per parameter, so that a step allocates little but the new data.

Hyper-parameters are finite numbers, checked on every assignment (``optimizer.lr = 0.01``
from a user or a learning-rate schedule included). ``state_dict()`` holds everything a step
depends on, as flat string keys and NumPy arrays or Python numbers (so it fits in an
``.npz``); after ``load_state_dict`` training continues bit for bit as if never stopped.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

import numpy as np

from autograd_lite import Tensor


def _replace(parameter: Tensor, new_data: np.ndarray) -> None:
    """Give ``parameter`` its updated values. The fresh array is locked first, so the tensor
    takes it without a copy (see ``Tensor.data``); the assignment also marks graphs recorded
    with the old values as stale."""
    new_data = np.asarray(new_data)  # a 0-d update gives a NumPy scalar
    new_data.setflags(write=False)  # (half the cost of assigning flags.writeable)
    parameter.data = new_data


def _number(value: Any, name: str, upper: float | None = None) -> float:
    """``value`` as a Python float, if it is a finite real number in [0, upper) (or >= 0).

    A 0-d array counts as a number (that is how an ``.npz`` gives numbers back). The error
    names ``name``; callers add whose argument it is.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"{name} must be finite, got a number too large for a float") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {number}")
    if not (number >= 0 and (upper is None or number < upper)):
        bound = f"in [0, {upper})" if upper is not None else ">= 0"
        raise ValueError(f"{name} must be {bound}, got {number}")
    return number


def _count(value: Any, name: str, minimum: int = 0) -> int:
    """``value`` as a Python int, if it is an integer (or 0-d integer array) >= ``minimum``."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _checked_state(
    where: str, state: Any, checks: Mapping[str, Callable[[Any], Any]]
) -> dict[str, Any]:
    """Run every entry of ``state`` through its check (``checks`` maps each expected key to a
    function returning the value to keep or raising). Raise one error naming every missing,
    unexpected, ``None`` or bad entry: ``ValueError``, or ``TypeError`` when the only problems
    are types. Nothing is changed here, so a caller that assigns afterwards is all or nothing.
    """
    if not isinstance(state, Mapping):
        raise TypeError(
            f"{where}: expected a mapping of name to value (what state_dict() returns), "
            f"got {type(state).__name__}"
        )
    problems: list[str] = []
    type_problems: list[str] = []
    missing = [key for key in checks if key not in state]
    unexpected = [key for key in state if key not in checks]
    if missing:
        problems.append(f"missing {', '.join(map(repr, missing))}")
    if unexpected:
        problems.append(f"unexpected {', '.join(map(repr, unexpected))}")
    values: dict[str, Any] = {}
    for key, check in checks.items():
        if key not in state:
            continue
        if state[key] is None:
            problems.append(f"{key!r} is None")
            continue
        try:
            values[key] = check(state[key])
        except TypeError as error:
            type_problems.append(str(error))
        except ValueError as error:
            problems.append(str(error))
    if problems or type_problems:
        error_type = ValueError if problems else TypeError
        raise error_type(f"{where}: nothing loaded: {'; '.join(problems + type_problems)}")
    return values


def _parameters(params: Any, owner: str) -> list[Tensor]:
    """``params`` as a list of distinct Tensors (a single Tensor is refused: PyTorch's
    optimizers refuse it too, and it is usually a forgotten ``.parameters()``)."""
    wrong = TypeError(f"{owner}: params must be an iterable of Tensors, e.g. model.parameters()")
    if isinstance(params, (Tensor, str, bytes)):
        raise wrong
    try:
        parameters: list[Tensor] = list(params)
    except TypeError:
        raise wrong from None
    seen: set[int] = set()
    for index, parameter in enumerate(parameters):
        if not isinstance(parameter, Tensor):
            raise TypeError(
                f"{owner}: params[{index}] is a {type(parameter).__name__}, not a Tensor"
            )
        if id(parameter) in seen:
            raise ValueError(f"{owner}: params[{index}] appears more than once")
        seen.add(id(parameter))
    return parameters


def _gradient(parameter: Tensor, index: int, owner: str) -> np.ndarray:
    """``parameter.grad`` as an array, checked to be real numbers of the parameter's shape."""
    try:
        grad = np.asarray(parameter.grad)
    except (TypeError, ValueError):
        raise TypeError(
            f"{owner}: params[{index}].grad cannot be read as an array "
            f"({type(parameter.grad).__name__})"
        ) from None
    if grad.dtype.kind not in "fiu":
        raise TypeError(f"{owner}: params[{index}].grad has dtype {grad.dtype}, not real numbers")
    if grad.shape != parameter.shape:
        raise ValueError(
            f"{owner}: params[{index}].grad has shape {grad.shape}, "
            f"the parameter has shape {parameter.shape}"
        )
    return grad


class Optimizer:
    """What every optimizer shares: the parameter list, checked hyper-parameters,
    ``zero_grad`` and ``state_dict``/``load_state_dict``.

    A subclass names its hyper-parameters in ``_hyperparameters`` and its per-parameter state
    in :meth:`_per_parameter` (lists indexed like ``params``: integer counts named in
    ``_counts``, and arrays, ``None`` until a parameter's first update; a saved ``None`` is
    written as an array full of ``_unstarted``, which must act exactly as ``None`` does).
    """

    _hyperparameters: tuple[str, ...] = ("lr",)
    _counts: tuple[str, ...] = ()
    _unstarted: float = 0.0

    lr: float

    def __init__(self, params: Iterable[Tensor]) -> None:
        self.params: list[Tensor] = _parameters(params, type(self).__name__)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        self._scratches: list[np.ndarray | None] = [None] * len(self.params)

    def __setattr__(self, name: str, value: Any) -> None:
        """Check a hyper-parameter on every assignment (so a schedule, a user or
        ``load_state_dict`` cannot set a NaN learning rate); other attributes pass through."""
        if name in self._hyperparameters:
            try:
                value = self._checked_hyperparameter(name, value)
            except (TypeError, ValueError) as error:
                raise type(error)(f"{type(self).__name__}: {error}") from None
        super().__setattr__(name, value)

    def _checked_hyperparameter(self, name: str, value: Any) -> Any:
        return _number(value, name)

    def _per_parameter(self) -> dict[str, list[Any]]:
        """The lists that hold each parameter's state, by ``state_dict`` name."""
        return {}

    def _scratch(self, index: int, like: np.ndarray) -> np.ndarray:
        """A reusable work array shaped like ``like`` for parameter ``index``."""
        scratch = self._scratches[index]
        if scratch is None or scratch.shape != like.shape or scratch.dtype != like.dtype:
            scratch = self._scratches[index] = np.empty_like(like)
        return scratch

    def _gradients(self) -> list[tuple[int, Tensor, np.ndarray, np.ndarray]]:
        """``(index, parameter, values, gradient)`` for every parameter to update, all checked
        first (``values`` is ``parameter.data``, read once).
        Each gradient is used in its parameter's dtype: a float64 gradient set by hand on a
        float32 parameter acts as float32, so the parameter stays float32."""
        live = []
        for index, parameter in enumerate(self.params):
            grad, data = parameter.grad, parameter.data
            if grad is None or not parameter.requires_grad:
                continue
            if not (type(grad) is np.ndarray and grad.shape == data.shape
                    and grad.dtype == data.dtype):  # the usual case, already right
                grad = _gradient(parameter, index, type(self).__name__).astype(data.dtype)
            live.append((index, parameter, data, grad))
        return live

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None (PyTorch's default)."""
        for parameter in self.params:
            parameter.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        raise NotImplementedError

    def _hyperparameter_entries(self) -> dict[str, Any]:
        """Hyper-parameters as flat entries: a pair ``betas`` becomes ``betas.0``, ``betas.1``."""
        entries: dict[str, Any] = {}
        for name in self._hyperparameters:
            value = getattr(self, name)
            if isinstance(value, tuple):
                entries.update({f"{name}.{i}": item for i, item in enumerate(value)})
            else:
                entries[name] = value
        return entries

    def state_dict(self) -> dict[str, Any]:
        """Everything a step depends on, as ``name → NumPy array or Python number``: the
        hyper-parameters (``lr``, ...) and per parameter ``i`` its state (``step.i``,
        ``momentum_buffer.i``, ``exp_avg.i``, ...). Arrays are copies.

        >>> w = Tensor([1.0, 2.0], requires_grad=True)
        >>> optimizer = SGD([w], lr=0.1, momentum=0.9)
        >>> sorted(optimizer.state_dict())
        ['lr', 'momentum', 'momentum_buffer.0', 'weight_decay']
        """
        state = self._hyperparameter_entries()
        for name, values in self._per_parameter().items():
            for index, (value, parameter) in enumerate(zip(values, self.params)):
                if name in self._counts:
                    state[f"{name}.{index}"] = value
                elif value is None:
                    state[f"{name}.{index}"] = np.full(
                        parameter.shape, self._unstarted, parameter.dtype
                    )
                else:
                    state[f"{name}.{index}"] = value.copy()
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (hyper-parameters included), all or nothing.

        Every entry is checked first; a missing or unexpected key, a ``None``, a non-finite
        or out-of-range hyper-parameter, a negative or non-integer count, or an array that is
        not floating-point or not its parameter's shape raises one ``ValueError`` naming each
        (``TypeError`` when the only problems are types), and nothing changes. Arrays are
        copied and cast to their parameter's dtype.
        """
        name = type(self).__name__
        checks: dict[str, Callable[[Any], Any]] = {}
        for key in self._hyperparameter_entries():
            checks[key] = self._entry_check(key)
        for kind in self._per_parameter():
            for index, parameter in enumerate(self.params):
                key = f"{kind}.{index}"
                if kind in self._counts:
                    checks[key] = partial(_count, name=key)
                else:
                    checks[key] = partial(_state_array, key=key, parameter=parameter, index=index)
        values = _checked_state(f"{name}.load_state_dict", state, checks)
        for key in self._hyperparameters:
            if f"{key}.0" in values:
                setattr(self, key, (values[f"{key}.0"], values[f"{key}.1"]))
            else:
                setattr(self, key, values[key])
        for kind, lists in self._per_parameter().items():
            for index in range(len(self.params)):
                lists[index] = values[f"{kind}.{index}"]

    def _entry_check(self, key: str) -> Callable[[Any], Any]:
        """The check of one flat hyper-parameter entry (``betas.1`` is checked as a beta)."""
        return partial(_number, name=key)


def _state_array(value: Any, key: str, parameter: Tensor, index: int) -> np.ndarray:
    """A saved per-parameter array, checked against ``params[index]`` and copied into its dtype."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        raise TypeError(f"{key!r} cannot be read as an array ({type(value).__name__})") from None
    if array.dtype.kind != "f":
        raise TypeError(f"{key!r} has dtype {array.dtype}, not a float dtype")
    if array.shape != parameter.shape:
        raise ValueError(
            f"{key!r} has shape {array.shape}, params[{index}] has shape {parameter.shape}"
        )
    return array.astype(parameter.dtype, copy=True)


class SGD(Optimizer):
    """Stochastic gradient descent as PyTorch computes it. With g the gradient, λ the weight
    decay (an L2 penalty λ/2 ‖w‖² added to the loss) and μ the momentum:
    d = g + λ w;  v ← μ v + d (v = d at the first step);  w ← w - lr · (v if μ else d).

    With μ = λ = 0, one step on ``0.5 * (y - step(w·x + b))**2`` is Rosenblatt's perceptron
    rule and one step on ``0.5 * sum((y - sigmoid(X @ w))**2)`` the sigmoid delta rule (see
    :mod:`nn.rules`).

    >>> w = Tensor([1.0, 2.0], requires_grad=True)
    >>> (w * w).sum().backward()
    >>> SGD([w], lr=0.1).step()
    >>> w.data
    array([0.8, 1.6])
    """

    _hyperparameters = ("lr", "momentum", "weight_decay")
    # NOTE: a velocity that has not started is saved as -0.0s: μ·(-0.0) + d is exactly d for
    # every d, signed zeros included, so after a load it starts as v = d just as PyTorch's does.
    _unstarted = -0.0

    momentum: float
    weight_decay: float

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params)
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self._velocity: list[np.ndarray | None] = [None] * len(self.params)

    def _per_parameter(self) -> dict[str, list[Any]]:
        return {"momentum_buffer": self._velocity}

    def step(self) -> None:
        lr, momentum, weight_decay = self.lr, self.momentum, self.weight_decay
        for index, parameter, data, grad in self._gradients():
            if weight_decay:
                work = self._scratch(index, data)
                grad = np.add(np.multiply(data, weight_decay, out=work), grad, out=work)
            if momentum:
                velocity = self._velocity[index]
                if velocity is None:
                    velocity = self._velocity[index] = grad.copy()
                else:
                    velocity *= momentum
                    velocity += grad
                grad = velocity
            # w - lr·d written as (-lr)·d + w, straight into the new array: the same bits
            # (negation is exact), and no third array for the memory to carry.
            new_data = np.multiply(grad, -lr)
            new_data += data
            _replace(parameter, new_data)


class Adam(Optimizer):
    """Adam (Kingma & Ba), as PyTorch computes it. With g the gradient, λ the weight decay
    (L2, added to the gradient: g ← g + λ w) and t the parameter's step count:
    m ← β₁ m + (1 - β₁) g,  v ← β₂ v + (1 - β₂) g²,
    w ← w - lr / (1 - β₁ᵗ) · m / (√v / √(1 - β₂ᵗ) + ε).

    >>> w = Tensor([1.0, -1.0], requires_grad=True)
    >>> (w * w).sum().backward()
    >>> Adam([w], lr=0.1).step()   # the first step moves each weight by about lr
    >>> w.data.round(6)
    array([ 0.9, -0.9])
    """

    _hyperparameters = ("lr", "betas", "eps", "weight_decay")
    _counts = ("step",)
    _unstarted = 0.0  # zero moments at step 0 are exactly a fresh start
    _decoupled = False

    betas: tuple[float, float]
    eps: float
    weight_decay: float

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params)
        self.lr = lr
        self.betas = betas
        self.eps = eps
        self.weight_decay = weight_decay
        count = len(self.params)
        self._steps = [0] * count
        self._mean: list[np.ndarray | None] = [None] * count
        self._square: list[np.ndarray | None] = [None] * count

    def _checked_hyperparameter(self, name: str, value: Any) -> Any:
        if name != "betas":
            return _number(value, name)
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            raise TypeError(f"betas must be a pair of numbers, got {value!r}")
        return (_number(value[0], "betas[0]", 1.0), _number(value[1], "betas[1]", 1.0))

    def _entry_check(self, key: str) -> Callable[[Any], Any]:
        upper = 1.0 if key.startswith("betas.") else None
        return partial(_number, name=key, upper=upper)

    def _per_parameter(self) -> dict[str, list[Any]]:
        return {"step": self._steps, "exp_avg": self._mean, "exp_avg_sq": self._square}

    def step(self) -> None:
        lr, eps, weight_decay = self.lr, self.eps, self.weight_decay
        beta1, beta2 = self.betas
        for index, parameter, data, grad in self._gradients():
            if weight_decay and not self._decoupled:
                grad = grad + data * weight_decay
            mean, square = self._mean[index], self._square[index]
            if mean is None or square is None:
                mean = self._mean[index] = np.zeros_like(data)
                square = self._square[index] = np.zeros_like(data)
            self._steps[index] += 1
            t = self._steps[index]
            work = self._scratch(index, mean)
            mean *= beta1
            mean += np.multiply(grad, 1 - beta1, out=work)
            square *= beta2
            np.multiply(grad, grad, out=work)
            work *= 1 - beta2
            square += work
            denominator = np.sqrt(square, out=work)
            denominator /= math.sqrt(1 - beta2**t)
            denominator += eps
            # w - update written as (-update) + w in a fresh array that becomes the new data
            # (the same bits: negation is exact)
            new_data = np.divide(mean, denominator)
            new_data *= -lr / (1 - beta1**t)
            if weight_decay and self._decoupled:
                data = data * (1 - lr * weight_decay)
            new_data += data
            _replace(parameter, new_data)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as PyTorch's ``AdamW``: the
    decay shrinks the weights directly instead of entering the moments,
    w ← w · (1 - lr · λ), then Adam's update from the plain gradient g.

    >>> w = Tensor([1.0, -1.0], requires_grad=True)
    >>> w.grad = np.zeros(2)
    >>> AdamW([w], lr=0.1, weight_decay=0.5).step()   # no gradient: only the decay acts
    >>> w.data
    array([ 0.95, -0.95])
    """

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


def clip_grad_norm(parameters: Iterable[Tensor] | Tensor, max_norm: float) -> float:
    """Scale the gradients so that their global 2-norm is at most ``max_norm``, as PyTorch's
    ``clip_grad_norm_``; return the norm before clipping.

    With N = √(Σ ‖gᵢ‖²) over every parameter that has a ``.grad`` (frozen ones included, as in
    PyTorch), each gradient becomes gᵢ · min(1, max_norm / (N + 1e-6)); the 1e-6 keeps the
    division finite when N = 0. Gradients are replaced by new arrays of their own dtype, never
    edited in place; all are checked before any changes. No gradients at all gives 0.0.

    >>> w = Tensor([0.0, 0.0], requires_grad=True)
    >>> w.grad = np.array([3.0, 4.0])
    >>> clip_grad_norm([w], max_norm=1.0)
    5.0
    >>> w.grad.round(6)
    array([0.6, 0.8])
    """
    owner = "clip_grad_norm"
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    try:
        limit = _number(max_norm, "max_norm")
    except (TypeError, ValueError) as error:
        raise type(error)(f"{owner}: {error}") from None
    with_grads = [
        (parameter, _gradient(parameter, index, owner))
        for index, parameter in enumerate(_parameters(parameters, owner))
        if parameter.grad is not None
    ]
    if not with_grads:
        return 0.0
    norms = np.array([np.linalg.norm(grad.ravel()) for _, grad in with_grads], dtype=np.float64)
    total = float(np.linalg.norm(norms))
    coefficient = limit / (total + 1e-6)
    if not coefficient >= 1.0:  # NaN too: a NaN norm makes every gradient NaN, as in PyTorch
        for parameter, grad in with_grads:
            parameter.grad = grad * coefficient
    return total
