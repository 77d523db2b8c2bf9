"""Arithmetic: ``+ - * / **``, ``@``, ``dot``, and the comparisons (bool results, not recorded).

Each operation computes ``out`` with NumPy and defines, right below, its backward rule: the
gradient of the loss with respect to each operand, given ``grad_out`` = dL/dout. The engine
sums the result back over broadcast axes, so the rules here may return broadcast shapes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd_lite.engine import record
from autograd_lite.ops import dual
from autograd_lite.ops.operands import as_pair, as_tensor, is_number, number_array, numpy_error
from autograd_lite.tensor import Tensor, describe, to_array, wrap


def _broadcasting(op: str, fn: Any, a: Tensor, b: Tensor) -> np.ndarray:
    """Apply NumPy's ``fn`` to both operands; what NumPy refuses (shapes that clash, ``-`` of
    bools, integers to negative powers) raises the same kind of error naming ``op``.

    The result is always an array: NumPy gives a scalar for 0-d operands, and turning it into
    an array here, before any rule saves it, spares ``record`` looking for it in ``saved``.
    """
    try:
        out = fn(a._data, b._data)
    except (ValueError, TypeError) as error:
        raise numpy_error(op, error, a, b) from None
    return out if type(out) is np.ndarray else np.asarray(out)


def add(a: Any, b: Any) -> Tensor:
    """out = a + b;  dL/da = dL/dout,  dL/db = dL/dout.

    >>> add(Tensor([1.0, 2.0]), 3)
    Tensor([4., 5.])
    """
    a, b = as_pair(a, b, "add")
    return record("add", _broadcasting("add", np.add, a, b), (a, b), add_backward)


def add_backward(grad_out: Any) -> tuple:
    return grad_out, grad_out


def sub(a: Any, b: Any) -> Tensor:
    """out = a - b;  dL/da = dL/dout,  dL/db = -dL/dout."""
    a, b = as_pair(a, b, "sub")
    out = _broadcasting("sub", np.subtract, a, b)
    return record("sub", out, (a, b), sub_backward, (b._requires_grad,))


def sub_backward(grad_out: Any, needs_b: bool) -> tuple:
    return grad_out, -grad_out if needs_b else None


def neg(x: Any) -> Tensor:
    """out = -x;  dL/dx = -dL/dout."""
    x = as_tensor(x, "neg")
    try:
        out = np.negative(x._data)
    except TypeError as error:  # bools: NumPy asks for ~ instead
        raise numpy_error("neg", error, x) from None
    return record("neg", out, (x,), neg_backward)


def neg_backward(grad_out: Any) -> tuple:
    return (-grad_out,)


def mul(a: Any, b: Any) -> Tensor:
    """out = a * b;  dL/da = dL/dout * b,  dL/db = dL/dout * a.

    >>> x = Tensor(3.0, requires_grad=True)
    >>> (x * x).backward()   # x used twice: both paths add up
    >>> x.grad
    array(6.)
    """
    a, b = as_pair(a, b, "mul")
    out = _broadcasting("mul", np.multiply, a, b)
    saved = (a._data, b._data, a._requires_grad, b._requires_grad)
    return record("mul", out, (a, b), mul_backward, saved)


def mul_backward(grad_out: Any, a: Any, b: Any, needs_a: bool, needs_b: bool) -> tuple:
    return grad_out * b if needs_a else None, grad_out * a if needs_b else None


def div(a: Any, b: Any) -> Tensor:
    """out = a / b;  dL/da = dL/dout / b,  dL/db = -dL/dout * a / b**2 = -dL/dout * out / b."""
    a, b = as_pair(a, b, "div")
    out = _broadcasting("div", np.divide, a, b)
    return record("div", out, (a, b), div_backward, (b._data, out, b._requires_grad))


def div_backward(grad_out: Any, b: Any, out: Any, needs_b: bool) -> tuple:
    grad_a = grad_out / b
    return grad_a, -grad_a * out if needs_b else None


def pow(base: Any, exponent: Any) -> Tensor:  # noqa: A001 - the contract's name
    """out = base ** exponent;  dL/dbase = dL/dout * exponent * base ** (exponent - 1),
    dL/dexponent = dL/dout * out * log(base).

    A number exponent keeps the graph to one parent; a Tensor exponent (or a number base,
    ``2 ** x``) gets its own gradient. The edges follow PyTorch: see :func:`pow_backward`.

    >>> x = Tensor(3.0, requires_grad=True)
    >>> (x ** 2).backward()
    >>> x.grad
    array(6.)
    """
    if isinstance(exponent, (int, float)) and isinstance(base, Tensor):
        x = base._data
        number_array(exponent, x.dtype, "pow")  # refuses a number too large for x's dtype
        try:
            out = x**exponent
        except (ValueError, OverflowError) as error:  # integers to negative integer powers
            raise ValueError(f"pow: {x.dtype} ** {exponent!r}: {error}") from None
        attrs = {"exponent": exponent}
        return record("pow", out, (base,), pow_number_backward, (x, exponent), attrs)
    a, b = as_pair(base, exponent, "pow")
    out = _broadcasting("pow", np.power, a, b)
    saved = (a._data, b._data, out, a._requires_grad, b._requires_grad)
    return record("pow", out, (a, b), pow_backward, saved)


def pow_number_backward(grad_out: Any, x: Any, exponent: float) -> tuple:
    # NOTE: x ** 0 is constant, so its derivative is 0 even at x == 0, where the formula
    # would give 0 * 0 ** -1 = NaN (PyTorch masks it the same way).
    if exponent == 0:
        return (grad_out * 0,)
    return (grad_out * exponent * x ** (exponent - 1),)


def pow_backward(
    grad_out: Any, x: Any, e: Any, out: Any, needs_base: bool, needs_exponent: bool
) -> tuple:
    """dL/dbase = g * e * x**(e - 1), 0 where e == 0;  dL/de = g * out * log(x), 0 where
    x == 0 and e >= 0 (the limit of x**e log x), as PyTorch has it: so ``0 ** e`` has
    gradient 0 for e > 0 and -inf for e < 0.

    NOTE: the masked places are also kept out of the formulas (x**(e - 1) with e := 1,
    log(x) with x := 1), so that differentiating the rule again gives no 0 * inf = NaN there.
    """
    grad_base = grad_exponent = None
    if needs_base:
        e_zero = dual.values(e) == 0
        safe_e = dual.where(e_zero, 1.0, e)
        grad_base = grad_out * dual.where(e_zero, 0.0, e * x ** (safe_e - 1))
    if needs_exponent:
        zero_base = (dual.values(x) == 0) & (dual.values(e) >= 0)
        with np.errstate(divide="ignore", invalid="ignore"):  # log of a negative base is NaN
            log_base = dual.log(dual.where(zero_base, 1.0, x))
        grad_exponent = grad_out * dual.where(zero_base, 0.0, out * log_base)
    return grad_base, grad_exponent


def matmul_backward(grad_out: Any, x: Any, y: Any, needs_x: bool, needs_y: bool) -> tuple:
    """The rule shared by ``matmul`` and ``dot``: dL/dx = g @ y^T, dL/dy = x^T @ g.

    1-D operands are promoted as NumPy does (x to a row, y to a column) and demoted again, and
    batch axes are left for the engine to sum.
    """
    if x.ndim == 2 and y.ndim == 2:  # the common case, spelled out
        return (grad_out @ y.T if needs_x else None, x.T @ grad_out if needs_y else None)
    if x.ndim > 2 and y.ndim == 2:  # a stack of rows times one matrix: see _stacked_rows
        x_rows, grad_rows = _stacked_rows(x), _stacked_rows(grad_out)
        return (
            (grad_rows @ y.T).reshape(x.shape) if needs_x else None,
            x_rows.T @ grad_rows if needs_y else None,
        )
    x2 = x[None, :] if x.ndim == 1 else x
    y2 = y[:, None] if y.ndim == 1 else y
    grad2 = grad_out
    if y.ndim == 1:
        grad2 = grad2[..., None]
    if x.ndim == 1:
        grad2 = grad2[..., None, :]
    grad_x = grad_y = None
    if needs_x:
        grad_x = grad2 @ y2.swapaxes(-1, -2)
        if x.ndim == 1:
            grad_x = grad_x[..., 0, :]
    if needs_y:
        grad_y = x2.swapaxes(-1, -2) @ grad2
        if y.ndim == 1:
            grad_y = grad_y[..., 0]
    return grad_x, grad_y


def _stacked_rows(x: Any) -> Any:
    """``x`` of shape (..., n, k) as one matrix of rows, (... * n, k).

    NOTE: NumPy multiplies a stack of matrices by one matrix one stacked item at a time; as one
    matrix of all the rows it is a single product (a GPT's (32, 16, 64) @ (64, 256): forward
    and dL/dx about 15% faster, and dL/dy, otherwise 32 products summed, 40%).
    """
    return x.reshape(math.prod(x.shape[:-1]), x.shape[-1])


def _inner_mismatch(op: str, a: Tensor, b: Tensor) -> ValueError:
    inner_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    return ValueError(
        f"{op}: shapes {a.shape} and {b.shape} do not line up: the last axis of the first "
        f"({a.shape[-1]}) must equal the {'second-to-last' if b.ndim > 1 else 'only'} axis of "
        f"the second ({inner_b})"
    )


def matmul(a: Any, b: Any) -> Tensor:
    """out = a @ b (NumPy ``matmul``: batches broadcast, 1-D operands promoted);
    dL/da = dL/dout @ b^T,  dL/db = a^T @ dL/dout.

    >>> (Tensor([[1.0, 2.0]]) @ Tensor([[3.0], [4.0]])).item()
    11.0
    """
    a, b = as_pair(a, b, "matmul")
    x, y = a._data, b._data
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(
            f"matmul: operands need at least one axis, got shapes {a.shape} and {b.shape}; "
            "use mul to scale by a number"
        )
    try:
        if x.ndim > 2 and y.ndim == 2:
            out = (_stacked_rows(x) @ y).reshape(*x.shape[:-1], y.shape[-1])
        else:
            out = x @ y
    except ValueError:
        if a.shape[-1] != (b.shape[-2] if b.ndim > 1 else b.shape[0]):
            raise _inner_mismatch("matmul", a, b) from None
        raise ValueError(
            f"matmul: the batch axes of shapes {a.shape} and {b.shape} cannot be broadcast"
        ) from None
    saved = (x, y, a._requires_grad, b._requires_grad)
    return record("matmul", out, (a, b), matmul_backward, saved)


def dot(a: Any, b: Any) -> Tensor:
    """NumPy ``dot`` of 1-D and 2-D operands: vector·vector, matrix·vector, vector·matrix,
    matrix·matrix; its gradients are those of ``matmul``.

    >>> w = Tensor([0.2, -0.27, -0.5, 1.0])
    >>> round((dot(w, [1, 2, 3, 2.5]) + 2.0).item(), 2)
    2.66
    """
    a, b = as_pair(a, b, "dot")
    if a.ndim not in (1, 2) or b.ndim not in (1, 2):
        raise ValueError(
            f"dot: takes 1-D or 2-D operands, got shapes {a.shape} and {b.shape}; "
            "use matmul for batches and mul for numbers"
        )
    if a.shape[-1] != (b.shape[-2] if b.ndim > 1 else b.shape[0]):
        raise _inner_mismatch("dot", a, b)
    saved = (a._data, b._data, a._requires_grad, b._requires_grad)
    return record("dot", np.dot(a._data, b._data), (a, b), matmul_backward, saved)


def _compare(op: str, fn: Any, a: Any, b: Any) -> Tensor:
    """A comparison as a bool tensor. Not recorded: no gradient flows through it.

    A number is handed to NumPy as it is, which compares it exactly with any dtype
    (``uint8 tensor < 300`` is all True); other operands are read as by every operation.
    """
    left, right = (
        value._data if isinstance(value, Tensor) else value if is_number(value)
        else to_array(value, op=op)
        for value in (a, b)
    )
    return _unrecorded(op, fn, left, right)


def _unrecorded(op: str, fn: Any, *values: Any) -> Tensor:
    """NumPy's ``fn`` of arrays and numbers, as a tensor that is not recorded (comparisons and
    bitwise operations); what NumPy refuses raises an error naming ``op``."""
    try:
        return wrap(np.asarray(fn(*values)))
    except OverflowError:  # a Python int too large for the other operand's dtype
        number = next(value for value in values if is_number(value))
        raise ValueError(
            f"{op}: the number {describe(number)} does not fit the other operand's dtype"
        ) from None
    except ValueError:
        shapes = " and ".join(str(np.shape(value)) for value in values)
        raise ValueError(f"{op}: shapes {shapes} cannot be broadcast together") from None


def less(a: Any, b: Any) -> Tensor:
    """True where a < b (``a < b``)."""
    return _compare("less", np.less, a, b)


def less_equal(a: Any, b: Any) -> Tensor:
    """True where a <= b (``a <= b``)."""
    return _compare("less_equal", np.less_equal, a, b)


def greater(a: Any, b: Any) -> Tensor:
    """True where a > b (``a > b``).

    >>> x = Tensor([-1.0, 2.0, 3.0])
    >>> x > 0
    Tensor([False,  True,  True], dtype=bool)
    >>> (x > 0).sum().item(), (x > 0).mean().item()
    (2, 0.6666666666666666)
    """
    return _compare("greater", np.greater, a, b)


def greater_equal(a: Any, b: Any) -> Tensor:
    """True where a >= b (``a >= b``)."""
    return _compare("greater_equal", np.greater_equal, a, b)


def equal(a: Any, b: Any) -> Tensor:
    """True where a == b (``a == b``)."""
    return _compare("equal", np.equal, a, b)


def not_equal(a: Any, b: Any) -> Tensor:
    """True where a != b (``a != b``)."""
    return _compare("not_equal", np.not_equal, a, b)



def _bitwise(op: str, fn: Any, *operands: Any) -> Tensor:
    """A bitwise operation on bool or integer operands, as a tensor; not recorded. On bools
    these are the logical operations that combine masks: ``(x > 0) & (x < 1)``."""
    return _unrecorded(op, fn, *(_bitwise_operand(value, op) for value in operands))


def _bitwise_operand(value: Any, op: str) -> Any:
    """A Tensor's array, a number as it is, anything else as an array of its own dtype; bools
    and integers only (a float has no bits to combine)."""
    if isinstance(value, Tensor):
        kind = value._data.dtype.kind
        data = value._data
    elif is_number(value):
        kind = "f" if isinstance(value, (float, np.floating)) else "i"
        data = value
    else:
        try:
            dtype = np.asarray(value).dtype
        except (TypeError, ValueError):  # ragged lists and the like
            dtype = np.dtype(object)
        kind = dtype.kind
        data = to_array(value, dtype, op) if kind in "biu" else value
    if kind not in "biu":
        what = f"a {value.dtype} tensor" if isinstance(value, Tensor) else describe(value)
        raise TypeError(
            f"{op}: takes bool or integer operands, got {what}; for a mask, compare first: "
            "(x > 0) & (x < 1)"
        )
    return data


def bitwise_and(a: Any, b: Any) -> Tensor:
    """a & b: elementwise and of bools (both masks hold), bitwise for integers.

    >>> x = Tensor([-1.0, 0.5, 2.0])
    >>> (x > 0) & (x < 1)
    Tensor([False,  True, False], dtype=bool)
    """
    return _bitwise("bitwise_and", np.bitwise_and, a, b)


def bitwise_or(a: Any, b: Any) -> Tensor:
    """a | b: elementwise or of bools (either mask holds), bitwise for integers."""
    return _bitwise("bitwise_or", np.bitwise_or, a, b)


def bitwise_xor(a: Any, b: Any) -> Tensor:
    """a ^ b: elementwise exclusive or of bools (exactly one holds), bitwise for integers."""
    return _bitwise("bitwise_xor", np.bitwise_xor, a, b)


def invert(x: Any) -> Tensor:
    """~x: elementwise not of bools (the mask's complement), bitwise not for integers."""
    return _bitwise("invert", np.invert, x)
