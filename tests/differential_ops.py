"""The op table of the differential tests, and the random programs drawn from it.

:data:`OPS` has one line per operation: how it prints, the engine's function, a NumPy and a
PyTorch reference, and a *planner* that picks its operands and parameters. ``catalog.py``
checks each op alone on drawn arrays; in a program, ops take values that other ops made, so a
planner keeps its op in its safe domain (defined, smooth, away from kinks and ties, so that
finite differences are valid) by shifting an operand by a printed constant,
``ag.log((v2 + 1.25))``, or declines values it cannot use. :func:`generate` writes a program
from a source of choices: Hypothesis (:func:`programs`) or a seeded generator.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from differential import (
    FLOAT64,
    Arg,
    Backward,
    Call,
    Const,
    Index,
    Leaf,
    Mask,
    Program,
    Ref,
    operand,
)
from hypothesis import strategies as st

import autograd_lite as ag

try:
    import torch
except ImportError:  # PyTorch is an optional second oracle
    torch = None

MARGIN = 0.05  # distance every value keeps from kinks, ties and thresholds
BOUND = 50.0  # no value beyond this is generated: exp and float32 stay tame


# --- choices: drawn by Hypothesis, or from a seeded generator -------------------------------------
class RandomChoices:
    """Choices from a seeded NumPy generator: one fixed program per seed."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def integer(self, low: int, high: int) -> int:
        return int(self.rng.integers(low, high + 1))

    def choice(self, options: Sequence[Any]) -> Any:
        return options[self.integer(0, len(options) - 1)]

    def normal(self, shape: tuple[int, ...]) -> np.ndarray:
        return np.asarray(np.round(self.rng.normal(size=shape), 2))

    def sample(self, options: Sequence[Any], count: int) -> list:
        remaining, chosen = list(options), []
        for _ in range(count):
            chosen.append(remaining.pop(self.integer(0, len(remaining) - 1)))
        return chosen


class DrawnChoices(RandomChoices):
    """Choices drawn by Hypothesis, which can then replay and shrink a failing program."""

    def __init__(self, draw: Any) -> None:
        self.draw = draw

    def integer(self, low: int, high: int) -> int:
        return self.draw(st.integers(low, high))

    def normal(self, shape: tuple[int, ...]) -> np.ndarray:
        rng = np.random.default_rng(self.draw(st.integers(0, 2**32 - 1)))
        return np.asarray(np.round(rng.normal(size=shape), 2))


# --- generation -----------------------------------------------------------------------------------
class Context:
    """A program being written, with each statement's float64 value to plan against."""

    def __init__(self, choices: RandomChoices) -> None:
        self.choices = choices
        self.statements: list[Leaf | Call] = []
        self.values: list[np.ndarray] = []

    def add_leaf(self, shape: tuple[int, ...], requires_grad: bool = True) -> int:
        dtype = self.choices.choice([np.float64, np.float64, np.float32])
        leaf = Leaf(self.choices.normal(shape).astype(dtype), requires_grad)
        self.statements.append(leaf)
        self.values.append(leaf.data.astype(np.float64))
        return len(self.values) - 1

    def add_call(self, op: Op, args: tuple[Arg, ...], params: dict[str, Any]) -> bool:
        """Append the call unless its value is empty, not finite or beyond BOUND."""
        with np.errstate(all="ignore"):
            operands = [operand(arg, self.values, FLOAT64) for arg in args]
            value = np.asarray(op.in_float64(*operands, **params), dtype=np.float64)
        if value.size == 0 or not np.all(np.abs(value) <= BOUND):
            return False
        self.statements.append(Call(op, args, params))
        self.values.append(value)
        return True

    def pick(self, fits: Callable[[np.ndarray], bool] = lambda value: True) -> int | None:
        """A value that ``fits``: half of the time the most recent one, so programs grow deep,
        else any, so that values are reused and reach later ops by several paths."""
        candidates = [index for index, value in enumerate(self.values) if fits(value)]
        if not candidates:
            return None
        return candidates[-1] if self.choices.integer(0, 1) else self.choices.choice(candidates)

    def value(self, arg: Arg) -> np.ndarray:
        return np.asarray(operand(arg, self.values, FLOAT64))


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


# --- guards: the offset that puts an operand in its op's domain (None: no offset can) -------------
Guard = Callable[[Context, np.ndarray], "float | None"]


def within(low: float, high: float) -> Guard:
    """Shift values into [low, high] by a multiple of 0.25 (not at all if they are there)."""

    def guard(context: Context, x: np.ndarray) -> float | None:
        lowest, highest = float(np.min(x)), float(np.max(x))
        if lowest < low:
            shift = math.ceil((low - lowest) * 4) / 4
        elif highest > high:
            shift = math.floor((high - highest) * 4) / 4
        else:
            return 0.0
        return shift if low <= lowest + shift and highest + shift <= high else None

    return guard


positive = within(0.5, math.inf)
negative = within(-math.inf, -0.5)


def away_from_zero(context: Context, x: np.ndarray) -> float | None:
    """|x + offset| >= 0.5: all above 0.5 or, half of the time, all below -0.5."""
    if np.min(np.abs(x)) >= 0.5:
        return 0.0
    return (positive if context.choices.integer(0, 1) else negative)(context, x)


GRID = sorted((round(k * 0.05, 2) for k in range(-40, 41)), key=abs)  # 0 first


def clear_points(x: np.ndarray) -> list[float]:
    """Points of a 0.05 grid at least MARGIN away from every value of ``x``."""
    return [point for point in GRID if np.min(np.abs(x - point), initial=math.inf) >= MARGIN]


def clear_of_zero(context: Context, x: np.ndarray) -> float | None:
    """An offset keeping every value MARGIN away from the kink at 0 (0 if none is needed)."""
    shifts = [-point for point in clear_points(x)]
    if not shifts or shifts[0] == 0.0:
        return 0.0 if shifts else None
    return context.choices.choice(shifts[:4])


def nonzero_exponent(context: Context, x: np.ndarray) -> float | None:
    """Exponents in [-2, 2] and MARGIN away from 0, where PyTorch and the engine take the
    gradient for the base as a constant 0, so its own derivative is lost."""
    offset = within(-2, 2)(context, x)
    if offset is None:
        return None
    extra = clear_of_zero(context, x + offset)
    return None if extra is None else offset + extra


def shifted(arg: Ref | Const, offset: float) -> Ref | Const:
    if type(arg) is Ref:
        return Ref(arg.index, round(float(arg.offset + offset), 2))
    if isinstance(arg.value, np.ndarray):
        return Const(np.asarray(np.round(arg.value + offset, 2)))
    return Const(round(float(arg.value + offset), 2))


def broadcastable(*shapes: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        return False
    return True


# --- planners: one op's operands and parameters ---------------------------------------------------
Plan = tuple[tuple[Arg, ...], dict[str, Any]]
Planner = Callable[[Context], "Plan | None"]
Params = Callable[[Context, np.ndarray], "dict[str, Any] | None"]


def unary(
    guard: Guard | None = None, params: Params | None = None, fits: Callable = lambda value: True
) -> Planner:
    """One operand that ``fits``, shifted by ``guard``; parameters chosen on its values."""

    def plan(context: Context) -> Plan | None:
        index = context.pick(fits)
        if index is None:
            return None
        offset = 0.0 if guard is None else guard(context, context.values[index])
        if offset is None:
            return None
        chosen = {} if params is None else params(context, context.values[index] + offset)
        return None if chosen is None else ((Ref(index, offset),), chosen)

    return plan


def partner(context: Context, first: int) -> Ref | Const:
    """For a binary op: the value itself, another broadcastable value, or a constant (a
    number, or an array of a trailing part of the shape, 0-d included)."""
    shape = context.values[first].shape
    kind = context.choices.integer(0, 3)
    if kind == 1:
        other = context.pick(lambda value: broadcastable(value.shape, shape))
        return Ref(first if other is None else other)
    if kind == 2:
        return Const(float(context.choices.normal(())))
    if kind == 3:
        return Const(context.choices.normal(shape[context.choices.integer(0, len(shape)) :]))
    return Ref(first)


def binary(*guards: Guard | None, apart: bool = False) -> Planner:
    """Two broadcastable operands in either order; ``guards`` apply by position, and
    ``apart`` keeps the operands MARGIN apart (no ties for maximum and minimum)."""

    def plan(context: Context) -> Plan | None:
        first = Ref(context.pick())
        second = partner(context, first.index)
        args = [first, second] if context.choices.integer(0, 1) else [second, first]
        for position, guard in enumerate(guards):
            offset = None if guard is None else guard(context, context.value(args[position]))
            if guard is not None and offset is None:
                return None
            args[position] = shifted(args[position], offset or 0.0)
        if apart:
            offset = clear_of_zero(context, context.value(args[1]) - context.value(args[0]))
            if offset is None:
                return None
            args[1] = shifted(args[1], offset)
        return tuple(args), {}

    return plan


def where_plan(context: Context) -> Plan | None:
    """where(v > t, a, b): t MARGIN away from every v, a and b values or constants."""
    condition = context.pick()
    points = clear_points(context.values[condition])
    if not points:
        return None
    shape = context.values[condition].shape
    first = Ref(context.pick(lambda value: broadcastable(value.shape, shape)))
    second = partner(context, first.index)
    if not broadcastable(shape, context.value(first).shape, context.value(second).shape):
        return None
    pair = (first, second) if context.choices.integer(0, 1) else (second, first)
    return (Mask(condition, context.choices.choice(points[:6])), *pair), {}


def product(dot: bool) -> Planner:
    """matmul (any ranks >= 1, batches broadcast) or dot (1-D and 2-D): an existing partner
    that fits, or a fresh leaf or constant of a fitting shape, on either side."""
    ranks = (1, 2) if dot else (1, 2, 3, 4)

    def fits(left: tuple[int, ...], right: tuple[int, ...]) -> bool:
        if len(left) not in ranks or len(right) not in ranks:
            return False
        try:
            np.matmul(np.zeros(left), np.zeros(right))
        except ValueError:
            return False
        return True

    def plan(context: Context) -> Plan | None:
        first = context.pick(lambda value: value.ndim in ranks)
        if first is None:
            return None
        shape, on_left = context.values[first].shape, context.choices.integer(0, 1)
        pairs = [(first, j) if on_left else (j, first) for j in range(len(context.values))]
        pairs = [p for p in pairs if fits(context.values[p[0]].shape, context.values[p[1]].shape)]
        if pairs and context.choices.integer(0, 1):
            left, right = context.choices.choice(pairs)
            return (Ref(left), Ref(right)), {}
        inner = shape[-1] if on_left else shape[-2 if len(shape) > 1 else -1]
        other_shape = context.choices.choice(
            [(inner,), (inner, 2), (inner, 3)] if on_left else [(inner,), (2, inner)]
        )
        fresh: Arg = (
            Ref(context.add_leaf(other_shape))
            if context.choices.integer(0, 2)
            else Const(context.choices.normal(other_shape))
        )
        return ((Ref(first), fresh) if on_left else (fresh, Ref(first))), {}

    return plan


def axes(context: Context, x: np.ndarray) -> dict[str, Any]:
    """None, one axis (maybe negative) or several, and keepdims."""
    options: list[Any] = [None]
    if x.ndim:
        options.append(context.choices.integer(-x.ndim, x.ndim - 1))
    if x.ndim >= 2:
        options.append(
            tuple(context.choices.sample(range(x.ndim), context.choices.integer(2, x.ndim)))
        )
    return {
        "axis": context.choices.choice(options),
        "keepdims": bool(context.choices.integer(0, 1)),
    }


def groups(x: np.ndarray, axis: Any) -> np.ndarray:
    """The values each reduction over ``axis`` sees, one row per output element."""
    reduced = range(x.ndim) if axis is None else [a % x.ndim for a in np.atleast_1d(axis)]
    moved = np.moveaxis(x, list(reduced), list(range(-len(reduced), 0))) if x.ndim else x
    count = math.prod(x.shape[a] for a in reduced)
    return moved.reshape(-1, count)


def untied(context: Context, x: np.ndarray) -> dict[str, Any] | None:
    """Reduction axes whose maximum and minimum each beat the runner-up by MARGIN."""
    chosen = axes(context, x)
    rows = np.sort(groups(x, chosen["axis"]), axis=1)
    if (
        rows.shape[1] > 1
        and min(np.min(rows[:, -1] - rows[:, -2]), np.min(rows[:, 1] - rows[:, 0])) < MARGIN
    ):
        return None
    return chosen


def spread(smallest_variance: float) -> Params:
    """Reduction axes and ddof for var and std; every group's variance at least the given."""

    def params(context: Context, x: np.ndarray) -> dict[str, Any] | None:
        chosen = axes(context, x)
        rows = groups(x, chosen["axis"])
        chosen["ddof"] = context.choices.integer(0, 1 if rows.shape[1] > 1 else 0)
        if np.min(np.var(rows, axis=1, ddof=chosen["ddof"])) < smallest_variance:
            return None
        return chosen

    return params


def one_axis(context: Context, x: np.ndarray) -> dict[str, Any]:
    return {"axis": context.choices.integer(-x.ndim, x.ndim - 1)}


def new_shape(context: Context, x: np.ndarray) -> dict[str, Any]:
    """A random factorisation of the size into up to 4 axes, sometimes with one -1."""
    size, shape = x.size, []
    for _ in range(context.choices.integer(0, 3)):
        shape.append(context.choices.choice([d for d in range(1, size + 1) if size % d == 0]))
        size //= shape[-1]
    if size > 1:
        shape.append(size)
    if shape and context.choices.integer(0, 2) == 0:
        shape[context.choices.integer(0, len(shape) - 1)] = -1
    return {"shape": tuple(shape)}


def permutation(context: Context, x: np.ndarray) -> dict[str, Any]:
    return {"axes": tuple(context.choices.sample(range(x.ndim), x.ndim))}


def start_axis(context: Context, x: np.ndarray) -> dict[str, Any]:
    return {"start_axis": context.choices.integer(-x.ndim, x.ndim - 1) if x.ndim else 0}


def squeezable(context: Context, x: np.ndarray) -> dict[str, Any]:
    ones = [a for a, length in enumerate(x.shape) if length == 1]
    ones += [a - x.ndim for a in ones]
    return {"axis": context.choices.choice([None, *ones])}


def new_axis(context: Context, x: np.ndarray) -> dict[str, Any]:
    return {"axis": context.choices.integer(-x.ndim - 1, x.ndim)}


def two_axes(context: Context, x: np.ndarray) -> dict[str, Any]:
    return {
        "first": context.choices.integer(-x.ndim, x.ndim - 1),
        "second": context.choices.integer(-x.ndim, x.ndim - 1),
    }


def cast(context: Context, x: np.ndarray) -> dict[str, Any]:
    return {"dtype": context.choices.choice(["float32", "float64"])}


def masked(context: Context) -> Plan | None:
    """x[v > t]: v of x's shape or of a leading part of it, t MARGIN away from every v."""
    first = context.pick(lambda value: value.ndim > 0)
    if first is None:
        return None
    shape = context.values[first].shape
    condition = context.pick(lambda value: value.ndim > 0 and shape[: value.ndim] == value.shape)
    points = clear_points(context.values[condition])
    if not points:
        return None
    return (Ref(first), Mask(condition, context.choices.choice(points[:6]))), {}


def clip_bounds(context: Context, x: np.ndarray) -> dict[str, Any] | None:
    """Bounds MARGIN away from every value: both, or only one of them."""
    points = clear_points(x)[:12]
    if len(points) < 2:
        return None
    low, high = sorted(context.choices.sample(points, 2))
    kind = context.choices.integer(0, 2)
    return {"low": None if kind == 1 else low, "high": None if kind == 2 else high}


def index(context: Context, x: np.ndarray) -> dict[str, Any] | None:
    """Basic slices and ints (maybe after ...), or integer lists and arrays with repeats."""
    choose, kind = context.choices, context.choices.integer(0, 2)
    if kind == 0:
        count = choose.integer(1, x.ndim)
        trailing = count < x.ndim and choose.integer(0, 1)  # x[..., items]
        items: list[Any] = [Ellipsis] if trailing else []
        for length in x.shape[-count:] if trailing else x.shape[:count]:
            start = choose.integer(0, length - 1)
            options = [slice(None), slice(start - choose.integer(0, 1) * length, None)]
            options += [slice(start, choose.integer(start + 1, length), choose.choice([None, 2]))]
            items.append(choose.choice([*options, choose.integer(-length, length - 1)]))
    else:
        axis = choose.integer(0, x.ndim - (2 if kind == 2 and x.ndim > 1 else 1))
        width = choose.integer(1, 4)
        lists = []
        for length in x.shape[axis : axis + (2 if kind == 2 and x.ndim > 1 else 1)]:
            picks = [choose.integer(-length, length - 1) for _ in range(width)]
            if width > 1:
                picks[-1] = picks[0]  # a repeated index: its gradients must add up
            lists.append(picks)
        if kind == 1 and width == 4 and choose.integer(0, 1):
            lists = [np.array(lists[0]).reshape(2, 2)]
        items = [slice(None)] * axis + lists
    return {"index": Index(tuple(items))}


def joined(stack: bool) -> Planner:
    """concatenate or stack 2 or 3 values (the same one more than once, often)."""

    def plan(context: Context) -> Plan | None:
        first = context.pick(lambda value: stack or value.ndim > 0)
        if first is None:
            return None
        shape, choose = context.values[first].shape, context.choices
        axis = choose.integer(-len(shape) - stack, len(shape) - 1 + stack)

        def fits(value: np.ndarray) -> bool:
            if stack or value.ndim != len(shape):
                return value.shape == shape
            return all(
                a == b for i, (a, b) in enumerate(zip(value.shape, shape)) if i != axis % len(shape)
            )

        others = [i for i, value in enumerate(context.values) if fits(value)]
        members = [first] + [choose.choice(others) for _ in range(choose.integer(1, 2))]
        return tuple(Ref(i) for i in choose.sample(members, len(members))), {"axis": axis}

    return plan


def image_layers(context: Context) -> tuple[int, tuple[int, ...]] | None:
    image = context.pick(lambda value: value.ndim == 4)
    return None if image is None else (image, context.values[image].shape)


def conv_plan(context: Context) -> Plan | None:
    """conv2d on a 4-D value with an existing fitting weight (the image itself, maybe) or a
    fresh one, an optional bias, strides and paddings as ints or pairs."""
    found = image_layers(context)
    if found is None:
        return None
    image, (_, channels, height, width) = found
    choose = context.choices
    stride, padding = choose.choice([1, 2, (1, 2)]), choose.choice([0, 1, (1, 0)])
    pad_h, pad_w = (padding, padding) if isinstance(padding, int) else padding

    def fits(value: np.ndarray) -> bool:
        return (
            value.ndim == 4
            and value.shape[1] == channels
            and value.shape[2] <= height + 2 * pad_h
            and value.shape[3] <= width + 2 * pad_w
        )

    weight = context.pick(fits) if choose.integer(0, 1) else None
    if weight is None:
        kernel = (
            choose.integer(1, min(3, height + 2 * pad_h)),
            choose.integer(1, min(3, width + 2 * pad_w)),
        )
        weight = context.add_leaf((choose.integer(1, 2), channels, *kernel))
    args: list[Arg] = [Ref(image), Ref(weight)]
    out_channels = context.values[weight].shape[0]
    bias = choose.integer(0, 2)
    if bias:
        args.append(
            Ref(context.add_leaf((out_channels,)))
            if bias == 1
            else Const(choose.normal((out_channels,)))
        )
    return tuple(args), {"stride": stride, "padding": padding}


def windows(x: np.ndarray, kernel_size: Any, stride: Any) -> np.ndarray:
    """Every pooling window of an NCHW array: (n, c, out_h, out_w, kh, kw)."""
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    stride = (kh, kw) if stride is None else stride
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    view = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))
    return view[:, :, ::sh, ::sw]


def pool_plan(untie: bool) -> Planner:
    """A kernel (int or pair) that fits, a stride (None, int or pair); for max pooling, every
    window's maximum beats its runner-up by MARGIN."""

    def plan(context: Context) -> Plan | None:
        found = image_layers(context)
        if found is None:
            return None
        image, (_, _, height, width) = found
        choose = context.choices
        kernel = choose.choice(
            [
                choose.integer(1, min(height, width, 3)),
                (choose.integer(1, height), choose.integer(1, width)),
            ]
        )
        stride = choose.choice([None, 1, 2, (1, 2)])
        if untie:
            patches = windows(context.values[image], kernel, stride)
            rows = np.sort(patches.reshape(-1, patches.shape[-2] * patches.shape[-1]), axis=1)
            if rows.shape[1] > 1 and np.min(rows[:, -1] - rows[:, -2]) < MARGIN:
                return None
        return (Ref(image),), {"kernel_size": kernel, "stride": stride}

    return plan


def power(context: Context) -> Plan | None:
    """x ** p for a number p; a base shifted above 0.5 where p is not a positive integer."""
    exponent = context.choices.choice([2, 3, 0.5, 1.5, -1, -0.5, -2.0])
    planned = unary(None if exponent in (2, 3) else positive)(context)
    return None if planned is None else (planned[0], {"exponent": exponent})


def number_base(context: Context) -> Plan | None:
    planned = unary(within(-BOUND, 3))(context)
    return (
        None if planned is None else (planned[0], {"base": context.choices.choice([2.0, 0.5, 3.0])})
    )


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
