"""How the differential tests write programs: choices, guards and planners.

A planner picks one op's operands among the values a program has so far, and its parameters,
keeping the op in its safe domain (defined, smooth, away from kinks and ties, so that finite
differences are valid): it shifts an operand by a printed constant, ``ag.log((v2 + 1.25))``,
or declines values it cannot use. Choices come from Hypothesis (which can then shrink a
failing program) or from a seeded generator.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from differential import FLOAT64, Arg, Call, Const, Index, Leaf, Mask, Ref, operand
from hypothesis import strategies as st

if TYPE_CHECKING:
    from differential_ops import Op

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


def away_from_zero(context: Context, x: np.ndarray) -> float | None:
    """|x + offset| >= max(0.5, max|x| / 10): all above that or, half of the time, all below
    its negative. A denominator much smaller than the values it is made of (19.22 - 19.75)
    would amplify their rounding past any fixed tolerance."""
    bound = max(0.5, 0.1 * float(np.max(np.abs(x), initial=0.0)))
    if np.min(np.abs(x), initial=math.inf) >= bound:
        return 0.0
    side = within(bound, math.inf) if context.choices.integer(0, 1) else within(-math.inf, -bound)
    return side(context, x)


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
