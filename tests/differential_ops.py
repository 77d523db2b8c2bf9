"""The op table of the differential tests, and the random programs drawn from it.

:data:`OPS` has one line per operation: how it prints, the engine's function, a NumPy and a
PyTorch reference, and a planner (``differential_planners.py``) that picks its operands and
parameters. ``catalog.py`` checks each op alone on drawn arrays; here ops take values that
other ops made. :func:`generate` writes a program from a source of choices, and
:func:`programs` is the Hypothesis strategy.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from differential import Backward, Index, Program
from differential_planners import (
    BOUND,
    Context,
    DrawnChoices,
    Planner,
    RandomChoices,
    away_from_zero,
    axes,
    binary,
    cast,
    clear_of_zero,
    clip_bounds,
    conv_plan,
    index,
    joined,
    masked,
    new_axis,
    new_shape,
    nonzero_exponent,
    number_base,
    one_axis,
    permutation,
    pool_plan,
    positive,
    power,
    product,
    spread,
    squeezable,
    start_axis,
    two_axes,
    unary,
    untied,
    where_plan,
    windows,
    within,
)
from hypothesis import strategies as st

import autograd_lite as ag

try:
    import torch
except ImportError:  # PyTorch is an optional second oracle
    torch = None


def generate(choices: RandomChoices, max_calls: int = 12) -> Program:
    """1 to ``max_calls`` operations on 1 to 3 leaves (more if an op asks for a fresh weight),
    then 1 to 3 backward calls, each seeded with a random array or the implied 1."""
    context = Context(choices)
    n, m = choices.integer(2, 3), choices.integer(1, 3)
    image = (1, choices.integer(1, 2), 4, n + 1)
    shapes = [(), (), (n,), (1, n), (m, n), (m, 1), (2, m, n), image, image]
    for number in range(choices.integer(1, 3)):
        context.add_leaf(choices.choice(shapes), number == 0 or choices.integer(0, 4) > 0)
    wanted, made = choices.integer(1, max_calls), 0
    for _ in range(4 * max_calls):
        if made == wanted:
            break
        op = choices.choice(OPS)
        planned = op.plan(context)
        made += planned is not None and context.add_call(op, *planned)
    flags = Program(tuple(context.statements)).requires_grad()
    roots = [index for index, flag in enumerate(flags) if flag]
    calls = []
    for number in range(choices.integer(1, 3)):
        root = roots[-1] if number == 0 else choices.choice(roots)
        shape = context.values[root].shape
        single = math.prod(shape) == 1
        seed = None if single and choices.integer(0, 1) else choices.normal(shape)
        form = choices.choice(["array", "array", "tensor"] + ["number"] * single)
        calls.append(Backward(root, seed, form))
    return Program(tuple(context.statements), tuple(calls))


@st.composite
def programs(draw: Any, max_calls: int = 12) -> Program:
    """Hypothesis strategy for programs (see :func:`generate`)."""
    return generate(DrawnChoices(draw), max_calls)


# --- NumPy references that need more than one NumPy call ------------------------------------------
def np_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def np_log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted_x = x - np.max(x, axis=axis, keepdims=True)
    return shifted_x - np.log(np.sum(np.exp(shifted_x), axis=axis, keepdims=True))


def np_gelu(x: np.ndarray) -> np.ndarray:
    """GELU, tanh approximation: x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3)))."""
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def np_flatten(x: np.ndarray, start_axis: int) -> np.ndarray:
    return x.reshape(x.shape[: start_axis % x.ndim] + (-1,)) if x.ndim else x.reshape(1)


def np_conv2d(
    x: np.ndarray, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0
) -> np.ndarray:
    """Cross-correlation: out[n, o, i, j] = sum over c, p, q of weight[o, c, p, q] times the
    padded x[n, c, i * sh + p, j * sw + q], plus bias[o]."""
    pad_h, pad_w = (padding, padding) if isinstance(padding, int) else padding
    padded = np.pad(x, ((0, 0), (0, 0), (pad_h, pad_h), (pad_w, pad_w)))
    patches = windows(padded, weight.shape[2:], stride)
    out = np.einsum("ncijpq,ocpq->noij", patches, weight)
    return out if bias is None else out + np.reshape(bias, (-1, 1, 1))


def _t(value: Any) -> Any:
    """A PyTorch float64 tensor of a number (torch.maximum and friends take no numbers)."""
    return value if torch.is_tensor(value) else torch.tensor(value, dtype=torch.float64)


def torch_reduction(function: str) -> Callable[..., Any]:
    """NumPy's ``axis``, ``keepdims`` and ``ddof`` spelled as PyTorch's ``dim``, ``keepdim``
    and ``correction`` (amax and amin want every axis named where NumPy says None)."""

    def call(x: Any, axis: Any, keepdims: bool, **ddof: int) -> Any:
        if axis is None and function in ("amax", "amin"):
            axis = tuple(range(x.ndim))
        extra = {"correction": ddof["ddof"]} if ddof else {}
        return getattr(torch, function)(x, dim=axis, keepdim=keepdims, **extra)

    return call


def pool(reduce: Callable[..., Any]) -> Callable[..., Any]:
    """A NumPy pooling reference: ``reduce`` over every window."""
    return lambda x, kernel_size, stride: reduce(windows(x, kernel_size, stride), axis=(-2, -1))


# --- the op table: one line per operation ---------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Op:
    """One operation. ``name`` is what the engine records as ``.op``; ``text`` prints a call
    (``{0}``, ``{1}``: the operands, ``{all}``: all of them, ``{param}``: a parameter);
    ``ours``, ``numpy`` and ``torch`` take the operands and the parameters as keywords
    (``torch`` may be the name of a function of ``torch``); ``plan`` picks them."""

    name: str
    text: str
    ours: Callable[..., Any]
    numpy: Callable[..., Any]
    torch_function: Callable[..., Any] | str
    plan: Planner
    float64: Callable[..., Any] | None = None  # for the float64 replay, where numpy casts down

    def __repr__(self) -> str:
        return self.text

    @classmethod
    def shared(cls, name: str, text: str, function: Callable[..., Any], plan: Planner) -> Op:
        """An op the three backends spell alike (Python's operators, methods they share)."""
        return cls(name, text, function, function, function, plan)

    def in_float64(self, *operands: Any, **params: Any) -> Any:
        return (self.float64 or self.numpy)(*operands, **params)

    def torch(self, *operands: Any, **params: Any) -> Any:
        function = self.torch_function
        function = getattr(torch, function) if isinstance(function, str) else function
        out = function(*operands, **params)
        # torch.flatten of a 1-D tensor returns the tensor itself; a view keeps them apart.
        return out.view_as(out) if any(out is item for item in operands) else out


def nd(least: int) -> Callable[[np.ndarray], bool]:
    return lambda value: value.ndim >= least


def power_of(x: Any, exponent: float) -> Any:
    return x**exponent


def base_to(x: Any, base: float) -> Any:
    return base**x


def swapped(x: Any, first: int, second: int) -> Any:
    return x.swapaxes(first, second)


def reshaped(x: Any, shape: tuple[int, ...]) -> Any:
    return x.reshape(shape)


def indexed(x: Any, index: Index) -> Any:
    return x[index.items]


def np_sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def np_relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def torch_gelu(x: Any) -> Any:
    return torch.nn.functional.gelu(x, approximate="tanh")


def torch_clip(x: Any, low: float | None, high: float | None) -> Any:
    return torch.clamp(x, low, high)


def clipped(x: Any, low: float | None, high: float | None) -> Any:
    return ag.clip(x, low, high) if isinstance(x, ag.Tensor) else np.clip(x, low, high)


def joining(function: Callable[..., Any]) -> Callable[..., Any]:
    """concatenate/stack/cat as a function of the operands themselves."""
    return lambda *xs, axis: function(list(xs), axis)


# fmt: off
OPS: list[Op] = [
    Op.shared("add", "{0} + {1}", operator.add, binary()),
    Op.shared("sub", "{0} - {1}", operator.sub, binary()),
    Op.shared("mul", "{0} * {1}", operator.mul, binary()),
    Op.shared("div", "{0} / {1}", operator.truediv, binary(None, away_from_zero)),
    Op.shared("neg", "-{0}", operator.neg, unary()),
    Op.shared("pow", "{0} ** {exponent}", power_of, power),
    Op.shared("pow", "{base} ** {0}", base_to, number_base),
    Op.shared("pow", "{0} ** {1}", operator.pow, binary(positive, nonzero_exponent)),
    Op.shared("matmul", "{0} @ {1}", operator.matmul, product(dot=False)),
    Op("dot", "ag.dot({0}, {1})", ag.dot, np.dot, operator.matmul, product(dot=True)),
    Op("exp", "ag.exp({0})", ag.exp, np.exp, "exp", unary(within(-BOUND, 3))),
    Op("log", "ag.log({0})", ag.log, np.log, "log", unary(positive)),
    Op("tanh", "ag.tanh({0})", ag.tanh, np.tanh, "tanh", unary()),
    Op("sigmoid", "ag.sigmoid({0})", ag.sigmoid, np_sigmoid, "sigmoid", unary()),
    Op("gelu", "ag.gelu({0})", ag.gelu, np_gelu, torch_gelu, unary()),
    Op("relu", "ag.relu({0})", ag.relu, np_relu, "relu", unary(clear_of_zero)),
    Op("abs", "ag.abs({0})", ag.abs, np.abs, "abs", unary(clear_of_zero)),
    Op("sqrt", "ag.sqrt({0})", ag.sqrt, np.sqrt, "sqrt", unary(positive)),
    Op("clip", "ag.clip({0}, {low}, {high})", clipped, clipped, torch_clip,
       unary(params=clip_bounds)),
    Op("maximum", "ag.maximum({0}, {1})", ag.maximum, np.maximum,
       lambda a, b: torch.maximum(_t(a), _t(b)), binary(apart=True)),
    Op("minimum", "ag.minimum({0}, {1})", ag.minimum, np.minimum,
       lambda a, b: torch.minimum(_t(a), _t(b)), binary(apart=True)),
    Op("where", "ag.where({0}, {1}, {2})", ag.where, np.where,
       lambda c, a, b: torch.where(c, _t(a), _t(b)), where_plan),
    Op("sum", "ag.sum({0}, axis={axis}, keepdims={keepdims})", ag.sum, np.sum,
       torch_reduction("sum"), unary(params=axes)),
    Op("mean", "ag.mean({0}, axis={axis}, keepdims={keepdims})", ag.mean, np.mean,
       torch_reduction("mean"), unary(params=axes)),
    Op("max", "ag.max({0}, axis={axis}, keepdims={keepdims})", ag.max, np.max,
       torch_reduction("amax"), unary(params=untied)),
    Op("min", "ag.min({0}, axis={axis}, keepdims={keepdims})", ag.min, np.min,
       torch_reduction("amin"), unary(params=untied)),
    Op("var", "ag.var({0}, axis={axis}, keepdims={keepdims}, ddof={ddof})", ag.var, np.var,
       torch_reduction("var"), unary(params=spread(0.0))),
    Op("std", "ag.std({0}, axis={axis}, keepdims={keepdims}, ddof={ddof})", ag.std, np.std,
       torch_reduction("std"), unary(params=spread(0.01))),
    Op("softmax", "ag.softmax({0}, axis={axis})", ag.softmax, np_softmax,
       lambda x, axis: torch.softmax(x, axis), unary(params=one_axis, fits=nd(1))),
    Op("log_softmax", "ag.log_softmax({0}, axis={axis})", ag.log_softmax, np_log_softmax,
       lambda x, axis: torch.log_softmax(x, axis), unary(params=one_axis, fits=nd(1))),
    Op.shared("reshape", "{0}.reshape({shape})", reshaped, unary(params=new_shape)),
    Op("transpose", "ag.transpose({0}, {axes})", lambda x, axes: ag.transpose(x, axes),
       np.transpose, lambda x, axes: x.permute(axes), unary(params=permutation)),
    Op("transpose", "{0}.T", lambda x: x.T, lambda x: x.T,
       lambda x: x.permute(tuple(reversed(range(x.ndim)))), unary()),
    Op("flatten", "ag.flatten({0}, {start_axis})", ag.flatten, np_flatten,
       lambda x, start_axis: torch.flatten(x, start_axis), unary(params=start_axis)),
    Op("squeeze", "ag.squeeze({0}, {axis})", ag.squeeze, np.squeeze,
       lambda x, axis: x.squeeze() if axis is None else x.squeeze(axis), unary(params=squeezable)),
    Op("unsqueeze", "ag.unsqueeze({0}, {axis})", ag.unsqueeze, np.expand_dims,
       lambda x, axis: x.unsqueeze(axis), unary(params=new_axis)),
    Op("getitem", "{0}[{index}]", indexed, indexed, lambda x, index: x[index.for_torch()],
       unary(params=index, fits=nd(1))),
    Op.shared("getitem", "{0}[{1}]", operator.getitem, masked),
    Op("transpose", "{0}.permute{axes}", lambda x, axes: x.permute(*axes), np.transpose,
       lambda x, axes: x.permute(axes), unary(params=permutation)),
    Op.shared("transpose", "{0}.swapaxes({first}, {second})", swapped,
              unary(params=two_axes, fits=nd(1))),
    Op("astype", "{0}.astype({dtype})", lambda x, dtype: x.astype(dtype),
       lambda x, dtype: x.astype(dtype), lambda x, dtype: x.double(), unary(params=cast),
       float64=lambda x, dtype: np.array(x, dtype=np.float64)),
    Op("clone", "{0}.clone()", lambda x: x.clone(), np.copy, lambda x: x.clone(), unary()),
    Op("concatenate", "ag.concatenate([{all}], axis={axis})", joining(ag.concatenate),
       joining(np.concatenate), joining(lambda xs, axis: torch.cat(xs, axis)), joined(stack=False)),
    Op("stack", "ag.stack([{all}], axis={axis})", joining(ag.stack), joining(np.stack),
       joining(lambda xs, axis: torch.stack(xs, axis)), joined(stack=True)),
    Op("conv2d", "ag.conv2d({all}, stride={stride}, padding={padding})", ag.conv2d, np_conv2d,
       lambda *args, **kw: torch.nn.functional.conv2d(*args, **kw), conv_plan),
    Op("max_pool2d", "ag.max_pool2d({0}, {kernel_size}, {stride})", ag.max_pool2d, pool(np.max),
       lambda *args, **kw: torch.nn.functional.max_pool2d(*args, **kw), pool_plan(untie=True)),
    Op("avg_pool2d", "ag.avg_pool2d({0}, {kernel_size}, {stride})", ag.avg_pool2d,
       pool(np.mean), lambda *args, **kw: torch.nn.functional.avg_pool2d(*args, **kw),
       pool_plan(untie=False)),
]
# fmt: on
