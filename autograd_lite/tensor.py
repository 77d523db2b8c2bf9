"""What a Tensor is: a NumPy array, its gradient, and the link to the operation that made it.

The operations themselves live in :mod:`autograd_lite.ops`; the methods here only forward to
them, so that ``x.sigmoid()`` and ``autograd_lite.sigmoid(x)`` are one and the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from autograd_lite import engine


def to_array(data: Any, dtype: Any = None, op: str = "Tensor") -> np.ndarray:
    """Convert ``data`` to an array of the caller's own: integers and bools become float64
    unless ``dtype`` says otherwise, floats keep their precision, and an existing array is
    copied, so that later edits to the caller's array cannot reach a graph.

    Strings, None, objects and complex numbers raise ``TypeError`` naming ``op``, and so does
    a NumPy masked array: its mask would be silently dropped.
    """
    if dtype is not None:
        dtype = as_dtype(dtype, op)
    if isinstance(data, Tensor):
        data = data._data
    elif type(data) is not np.ndarray and isinstance(data, np.ma.MaskedArray):
        raise TypeError(
            f"{op}: got a masked array, whose mask a Tensor cannot keep; pass "
            "array.filled(value) to choose what the masked places hold"
        )
    try:
        array = np.asarray(data)
    except (TypeError, ValueError, OverflowError) as error:
        raise TypeError(
            f"{op}: cannot make a numeric array from {describe(data)} ({error})"
        ) from None
    if array.dtype.kind not in "biuf":  # checked before any cast: complex must not lose its
        raise TypeError(  # imaginary part on the way to a real dtype
            f"{op}: expected numbers, got {describe(data)} of dtype {array.dtype}; "
            "pass an int, float, list of numbers or a real-valued NumPy array"
        )
    if dtype is not None:
        return array.astype(dtype, copy=array is data)
    if array.dtype.kind == "f":
        return array.copy() if array is data else array
    return array.astype(np.float64)


def as_dtype(dtype: Any, op: str) -> np.dtype:
    """``dtype`` as a NumPy dtype of real numbers (bool, integer or float), or ``TypeError``."""
    try:
        result = np.dtype(dtype)
    except Exception:  # NumPy raises several kinds for a bad dtype spec
        raise TypeError(f"{op}: {dtype!r} is not a NumPy dtype") from None
    if result.kind not in "biuf":
        raise TypeError(f"{op}: dtype must be a real number type, got {result}")
    return result


def wrap(
    array: np.ndarray,
    op: str | None = None,
    parents: tuple[Tensor, ...] = (),
    backward_rule: engine.BackwardRule | None = None,
    saved: tuple = (),
    attrs: dict[str, Any] | None = None,
) -> Tensor:
    """A tensor around a float array the library owns, no copy, no checks (internal use): a
    leaf, or, given the operation that made it, a recorded result (what ``engine.record``
    makes; each slot is written once)."""
    tensor = Tensor.__new__(Tensor)
    tensor._data = array
    tensor.data_version = engine._Recording.assignments
    tensor.origin = None
    tensor.lineage = None
    tensor.grad = None
    tensor._requires_grad = backward_rule is not None  # a recorded result needs a gradient
    tensor._name = None
    tensor.op = op
    tensor.parents = parents
    tensor.backward_rule = backward_rule
    tensor.saved = saved
    tensor.attrs = attrs
    tensor.scope = engine._Recording.scope
    return tensor


def checked_requires_grad(value: Any, dtype: np.dtype, op: str) -> bool:
    """``value`` as a bool, if it is one and a tensor of ``dtype`` may require grad (floats
    only); otherwise ``TypeError`` naming ``op``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: requires_grad must be True or False, got {describe(value)}")
    if value and dtype.kind != "f":
        raise TypeError(
            f"{op}: only floating-point tensors can require gradients, got {dtype}; "
            "convert it first with .astype(np.float64)"
        )
    return bool(value)


def describe(value: Any) -> str:
    """``value``'s type and a repr cut to 40 characters, for error messages."""
    text = repr(value)
    return f"{type(value).__name__} {text[:40] + '...' if len(text) > 40 else text}"


class Tensor:
    """A NumPy array that remembers how it was computed, so gradients can flow back.

    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    array([2., 4., 6.])
    """

    __slots__ = (
        "_data",
        "data_version",
        "origin",
        "lineage",
        "grad",
        "_requires_grad",
        "_name",
        "op",
        "parents",
        "backward_rule",
        "saved",
        "attrs",
        "scope",
        "__weakref__",
    )
    # Let NumPy hand ``array + tensor`` to ``Tensor.__radd__`` instead of looping elementwise.
    __array_ufunc__ = None

    _data: np.ndarray
    data_version: int
    origin: str | None
    lineage: str | None  # set when values came from a tensor that required grad, unrecorded
    grad: np.ndarray | None
    _requires_grad: bool
    _name: str | None
    op: str | None
    parents: tuple[Tensor, ...]
    backward_rule: engine.BackwardRule | None
    saved: tuple
    attrs: dict[str, Any] | None
    scope: tuple[str, ...]

    def __init__(
        self, data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None
    ) -> None:
        self._data = to_array(data, dtype)
        self.data_version = engine._Recording.assignments
        self.origin = None
        self.lineage = None
        self.grad = None
        self.requires_grad = requires_grad
        self.name = name
        self.op = None
        self.parents = ()
        self.backward_rule = None
        self.saved = ()
        self.attrs = None
        self.scope = engine._Recording.scope

    # --- what it holds -------------------------------------------------------------------------
    @property
    def data(self) -> np.ndarray:
        """The values, as a read-only NumPy array.

        Read-only because recorded operations keep these very arrays for their backward
        pass: an edit in place would silently change the gradients. To change a tensor,
        assign a new array (``w.data = w.data - lr * w.grad``); ``numpy()`` gives a copy
        you may edit.
        """
        array = self._data
        if array.flags.writeable:
            array.flags.writeable = False
        return array

    @data.setter
    def data(self, value: Any) -> None:
        """Replace the values. Graphs recorded before this no longer match the tensor, so
        backpropagating through one of them raises an error instead of mixing old and new.

        The new values are copied, except a float array that is already read-only and owns
        its memory: nobody can change that one, so it is taken as it is (optimizers lock
        their freshly computed arrays to save the copy).
        """
        if (
            isinstance(value, np.ndarray)
            and value.dtype.kind == "f"
            and not value.flags.writeable
            and value.base is None
        ):
            self._replace_data(value)
        else:
            self._replace_data(to_array(value, op="Tensor.data"))

    def _replace_data(self, array: np.ndarray) -> None:
        """Hold ``array`` (the caller's to give away) from now on; graphs recorded before
        are refused as stale."""
        self._data = array
        self.data_version = engine.next_assignment()

    @property
    def requires_grad(self) -> bool:
        """Whether gradients flow to this tensor: True or False, and True only for floats."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value is False or (value is True and self._data.dtype.kind == "f"):
            self._requires_grad = value  # the common cases, first: every recorded op sets it
        else:
            self._requires_grad = checked_requires_grad(value, self._data.dtype, "Tensor")

    @property
    def name(self) -> str | None:
        """A label for pictures and explanations (``nn`` names parameters by where they live)."""
        return self._name

    @name.setter
    def name(self, value: str | None) -> None:
        if value is not None and not isinstance(value, str):
            raise TypeError(f"Tensor: name must be a str or None, got {describe(value)}")
        self._name = value

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> int:
        return self._data.size

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def T(self) -> Tensor:  # noqa: N802 - NumPy's name
        return ops.transpose(self)

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self._data.size != 1:
            raise ValueError(f"item: only a one-element tensor has an item, shape is {self.shape}")
        return self._data.item()

    def numpy(self) -> np.ndarray:
        """A copy of the data: changing it cannot change the graph."""
        return self._data.copy()

    def tolist(self) -> Any:
        """The data as nested Python lists of Python numbers (a number for a 0-d tensor)."""
        return self._data.tolist()

    def detach(self) -> Tensor:
        """A leaf sharing this tensor's data, cut off from the graph.

        It holds a new view of the same memory, not the same array object: a backward rule
        run with ``create_graph`` finds its inputs by their arrays' identity, so two tensors
        must never hold one array object (``x.detach() * x``).
        """
        leaf = wrap(self._data.view())
        leaf._name = self._name
        return leaf

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``.grad`` becomes None)."""
        self.grad = None

    def backward(self, grad: Any = None) -> None:
        """Backpropagate from this tensor; see :func:`autograd_lite.engine.backward`."""
        engine.backward(self, grad)

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", prefix="Tensor(")
        extras = "".join(
            f", {key}={value!r}"
            for key, value in (("name", self.name), ("op", self.op))
            if value is not None
        )
        if self.requires_grad:
            extras += ", requires_grad=True"
        if self._data.dtype != np.float64:
            extras += f", dtype={self._data.dtype}"
        return f"Tensor({body}{extras})"

    __hash__ = object.__hash__

    def __len__(self) -> int:
        """The length of the first axis (``TypeError`` for a 0-d tensor, as in NumPy)."""
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor; use .item() for its value")
        return len(self._data)

    def __iter__(self) -> Iterator[Tensor]:
        """``self[0]``, ``self[1]``, ... along the first axis, each recorded like any index."""
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor; use .item() for its value")
        return (ops.getitem(self, i) for i in range(len(self._data)))

    def __bool__(self) -> bool:
        return bool(self._data)

    def __float__(self) -> float:
        return float(self._data)

    # --- arithmetic ----------------------------------------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return ops.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops.div(other, self)

    def __pow__(self, exponent: Any) -> Tensor:
        return ops.pow(self, exponent)

    def __rpow__(self, base: Any) -> Tensor:
        return ops.pow(base, self)

    def __matmul__(self, other: Any) -> Tensor:
        return ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return ops.neg(self)

    def __abs__(self) -> Tensor:
        return ops.abs(self)

    def __getitem__(self, index: Any) -> Tensor:
        return ops.getitem(self, index)

    # --- in place: only where no graph can need the old values ----------------------------------
    def _update(self, operation: Any, other: Any, symbol: str) -> Tensor:
        """``self`` holding ``operation(self, other)`` from now on (``+=`` and friends).

        Allowed inside ``no_grad()`` or on a tensor that does not require grad; the old
        values are gone, so graphs recorded before are refused as stale (as after a ``.data``
        assignment). As in NumPy, the result keeps this tensor's shape and dtype: an operand
        that broadcasts to a larger shape, or a result of another kind (``int += 0.5``), is
        refused. Nothing changes before every check has passed.
        """
        op = operation.__name__
        if self._requires_grad and engine.is_grad_enabled():
            raise RuntimeError(
                f"{op}: `x {symbol} ...` on a tensor that requires grad would change values its "
                f"graph needs; for an update such as a parameter step, write it inside "
                f"`with no_grad():`, or write `x = x {symbol[:-1]} ...` to record a new tensor"
            )
        result = operation(self, other)
        if result._requires_grad:
            raise RuntimeError(
                f"{op}: `x {symbol} y` with y requiring grad would need a gradient that x, "
                f"updated in place, cannot record; write `x = x {symbol[:-1]} y`, or do it "
                "inside `with no_grad():`"
            )
        data = result._data
        if data.shape != self._data.shape:
            raise ValueError(
                f"{op}: `x {symbol} y` cannot change x's shape {self.shape} to {data.shape}"
            )
        if data.dtype != self._data.dtype:
            if not np.can_cast(data.dtype, self._data.dtype, "same_kind"):
                raise TypeError(
                    f"{op}: `x {symbol} y` gives {data.dtype} values, which a {self.dtype} "
                    f"tensor cannot hold; write `x = x {symbol[:-1]} y` for a new tensor"
                )
            data = data.astype(self._data.dtype)
        self._replace_data(data)
        return self

    def __iadd__(self, other: Any) -> Tensor:
        return self._update(ops.add, other, "+=")

    def __isub__(self, other: Any) -> Tensor:
        return self._update(ops.sub, other, "-=")

    def __imul__(self, other: Any) -> Tensor:
        return self._update(ops.mul, other, "*=")

    def __itruediv__(self, other: Any) -> Tensor:
        return self._update(ops.div, other, "/=")

    def __ipow__(self, exponent: Any) -> Tensor:
        return self._update(ops.pow, exponent, "**=")

    # --- comparisons: bool tensors, never recorded ---------------------------------------------
    def __lt__(self, other: Any) -> Tensor:
        return ops.less(self, other)

    def __le__(self, other: Any) -> Tensor:
        return ops.less_equal(self, other)

    def __gt__(self, other: Any) -> Tensor:
        return ops.greater(self, other)

    def __ge__(self, other: Any) -> Tensor:
        return ops.greater_equal(self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return ops.equal(self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return ops.not_equal(self, other)

    # --- bitwise: combining masks, (x > 0) & (x < 1); bools and integers, never recorded ------
    def __and__(self, other: Any) -> Tensor:
        return ops.bitwise_and(self, other)

    def __rand__(self, other: Any) -> Tensor:
        return ops.bitwise_and(other, self)

    def __or__(self, other: Any) -> Tensor:
        return ops.bitwise_or(self, other)

    def __ror__(self, other: Any) -> Tensor:
        return ops.bitwise_or(other, self)

    def __xor__(self, other: Any) -> Tensor:
        return ops.bitwise_xor(self, other)

    def __rxor__(self, other: Any) -> Tensor:
        return ops.bitwise_xor(other, self)

    def __invert__(self) -> Tensor:
        return ops.invert(self)

    # --- named operations ----------------------------------------------------------------------
    def dot(self, other: Any) -> Tensor:
        return ops.dot(self, other)

    def matmul(self, other: Any) -> Tensor:
        return ops.matmul(self, other)

    def add(self, other: Any) -> Tensor:
        return ops.add(self, other)

    def sub(self, other: Any) -> Tensor:
        return ops.sub(self, other)

    def mul(self, other: Any) -> Tensor:
        return ops.mul(self, other)

    def div(self, other: Any) -> Tensor:
        return ops.div(self, other)

    def neg(self) -> Tensor:
        return ops.neg(self)

    def pow(self, exponent: Any) -> Tensor:
        return ops.pow(self, exponent)

    def exp(self) -> Tensor:
        return ops.exp(self)

    def log(self) -> Tensor:
        return ops.log(self)

    def tanh(self) -> Tensor:
        return ops.tanh(self)

    def sigmoid(self) -> Tensor:
        return ops.sigmoid(self)

    def relu(self) -> Tensor:
        return ops.relu(self)

    def gelu(self) -> Tensor:
        return ops.gelu(self)

    def step(self, threshold: float = 0.0) -> Tensor:
        return ops.step(self, threshold)

    def abs(self) -> Tensor:
        return ops.abs(self)

    def sqrt(self) -> Tensor:
        return ops.sqrt(self)

    def clip(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - the contract's names
        return ops.clip(self, min, max)

    def maximum(self, other: Any) -> Tensor:
        return ops.maximum(self, other)

    def minimum(self, other: Any) -> Tensor:
        return ops.minimum(self, other)

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return ops.sum(self, axis, keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return ops.mean(self, axis, keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return ops.max(self, axis, keepdims)

    def argmax(self, axis: Any = None) -> Tensor:
        return ops.argmax(self, axis)

    def argmin(self, axis: Any = None) -> Tensor:
        return ops.argmin(self, axis)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return ops.min(self, axis, keepdims)

    def var(self, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        return ops.var(self, axis, keepdims, ddof)

    def std(self, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        return ops.std(self, axis, keepdims, ddof)

    def softmax(self, axis: int = -1) -> Tensor:
        return ops.softmax(self, axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return ops.log_softmax(self, axis)

    def reshape(self, *shape: Any) -> Tensor:
        return ops.reshape(self, *shape)

    def transpose(self, *axes: Any) -> Tensor:
        return ops.transpose(self, *axes)

    def permute(self, *axes: Any) -> Tensor:
        """PyTorch's name for ``transpose(*axes)``."""
        return ops.transpose(self, *axes)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        """x with two axes exchanged (PyTorch's ``transpose(a, b)``; NumPy's ``swapaxes``)."""
        order = list(range(self.ndim))
        for axis in (axis1, axis2):
            if not isinstance(axis, (int, np.integer)) or isinstance(axis, (bool, np.bool_)):
                raise TypeError(f"swapaxes: axes must be ints, got {axis1!r} and {axis2!r}")
            if not -self.ndim <= axis < self.ndim:
                raise ValueError(f"swapaxes: axis {axis} is out of range for shape {self.shape}")
        order[axis1], order[axis2] = order[axis2], order[axis1]
        return ops.transpose(self, order)

    def astype(self, dtype: Any) -> Tensor:
        return ops.astype(self, dtype)

    def float(self) -> Tensor:
        """A float32 copy, recorded (PyTorch's ``float()``)."""
        return ops.astype(self, np.float32)

    def double(self) -> Tensor:
        """A float64 copy, recorded (PyTorch's ``double()``)."""
        return ops.astype(self, np.float64)

    def clone(self) -> Tensor:
        return ops.clone(self)

    def flatten(self, start_axis: int = 0) -> Tensor:
        return ops.flatten(self, start_axis)

    def squeeze(self, axis: Any = None) -> Tensor:
        return ops.squeeze(self, axis)

    def unsqueeze(self, axis: int) -> Tensor:
        return ops.unsqueeze(self, axis)

    def conv2d(self, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0) -> Tensor:
        return ops.conv2d(self, weight, bias, stride, padding)

    def max_pool2d(self, kernel_size: Any, stride: Any = None) -> Tensor:
        return ops.max_pool2d(self, kernel_size, stride)

    def avg_pool2d(self, kernel_size: Any, stride: Any = None) -> Tensor:
        return ops.avg_pool2d(self, kernel_size, stride)


from autograd_lite import ops  # noqa: E402 - ops needs Tensor defined first
