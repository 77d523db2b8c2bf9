"""What a Tensor is: a NumPy array, its gradient, and the link to the operation that made it.

The operations themselves live in :mod:`autograd_lite.ops`; the methods here only forward to
them, so that ``x.sigmoid()`` and ``autograd_lite.sigmoid(x)`` are one and the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_lite import engine


def to_array(data: Any, dtype: Any = None, op: str = "Tensor") -> np.ndarray:
    """Convert ``data`` to an array of the caller's own: integers and bools become float64
    unless ``dtype`` says otherwise, floats keep their precision, and an existing array is
    copied, so that later edits to the caller's array cannot reach a graph.

    Strings, None, objects and complex numbers raise ``TypeError`` naming ``op``.
    """
    if dtype is not None:
        dtype = as_dtype(dtype, op)
    if isinstance(data, Tensor):
        data = data._data
    try:
        array = np.asarray(data)
    except (TypeError, ValueError, OverflowError) as error:
        raise TypeError(
            f"{op}: cannot make a numeric array from {_describe(data)} ({error})"
        ) from None
    if array.dtype.kind not in "biuf":  # checked before any cast: complex must not lose its
        raise TypeError(  # imaginary part on the way to a real dtype
            f"{op}: expected numbers, got {_describe(data)} of dtype {array.dtype}; "
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


def wrap(array: np.ndarray) -> Tensor:
    """A leaf around a float array the library owns: no copy, no checks (internal use)."""
    leaf = Tensor.__new__(Tensor)
    leaf._data = array
    leaf.data_version = engine._Recording.assignments
    leaf.origin = None
    leaf.grad = None
    leaf.requires_grad = False
    leaf.name = None
    leaf.op = None
    leaf.parents = ()
    leaf.backward_rule = None
    leaf.saved = ()
    leaf.attrs = None
    leaf.scope = engine._Recording.scope
    return leaf


def _describe(value: Any) -> str:
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
        "grad",
        "requires_grad",
        "name",
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
    grad: np.ndarray | None
    requires_grad: bool
    name: str | None
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
        if requires_grad and self._data.dtype.kind != "f":
            raise TypeError(
                f"Tensor: only floating-point tensors can require gradients, got {self._data.dtype}"
            )
        self.data_version = engine._Recording.assignments
        self.origin = None
        self.grad = None
        self.requires_grad = bool(requires_grad)
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
            self._data = value
        else:
            self._data = to_array(value, op="Tensor.data")
        self.data_version = engine.next_assignment()

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

    def detach(self) -> Tensor:
        """A leaf sharing this tensor's data, cut off from the graph."""
        leaf = wrap(self._data)
        leaf.name = self.name
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
        return len(self._data)

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

    # --- comparisons: 0/1 float tensors, never recorded -----------------------------------------
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
