"""Differential testing of whole programs against oracles that share no code with the engine.

A :class:`Program` is a list of statements (leaves, and operation calls on earlier values)
followed by ``backward`` calls; ``differential_ops.py`` holds the op table and draws random
programs (with ``differential_planners.py``). :func:`run` replays a program on a backend: the
engine, plain NumPy or PyTorch, and the checks compare

- every value with NumPy: shape and dtype at the leaves' own precision, numbers in float64;
- every ``.grad`` with the contract: ``None`` exactly where no backward call reached, else an
  ``np.ndarray`` of the data's shape and dtype, a leaf's its own array;
- the gradients of every leaf and of a few intermediates with central finite differences of
  the same program replayed in float64 NumPy (:func:`check_with_finite_differences`);
- every value and every gradient with PyTorch (:func:`check_with_torch`);
- second derivatives: gradients made by ``ag.grad(..., create_graph=True)``, differentiated
  again along a fixed direction, against mixed central differences and against PyTorch
  (:func:`check_second_order`, :func:`check_second_order_with_torch`).

A failing program prints as the Python code that reproduces it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

import autograd_lite as ag

try:
    import torch
except ImportError:  # PyTorch is an optional second oracle
    torch = None

if TYPE_CHECKING:
    from differential_ops import Op

EPS = 1e-6  # finite-difference step, in float64


# --- programs -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ref:
    """An earlier value, plus ``offset`` (the shift that keeps an op in its domain)."""

    index: int
    offset: float = 0.0


@dataclass(frozen=True)
class Const:
    """A Python number or a float64 array: an operand no gradient flows to."""

    value: Any


@dataclass(frozen=True)
class Mask:
    """``value > threshold``, a condition for ``where``: comparisons record nothing."""

    index: int
    threshold: float


Arg = Ref | Const | Mask


@dataclass(frozen=True)
class Leaf:
    data: np.ndarray  # in its own dtype
    requires_grad: bool = True


@dataclass(frozen=True)
class Call:
    op: Op
    args: tuple[Arg, ...]
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Backward:
    root: int
    seed: np.ndarray | None  # None: backward() with its implied 1
    form: str = "array"  # the seed passed as an "array", a "tensor" or (one element) a "number"

    def argument(self) -> Any:
        if self.form == "tensor":
            return ag.Tensor(self.seed)
        return self.seed.item() if self.form == "number" else self.seed

    def code(self) -> str:
        if self.seed is None:
            return ""
        if self.form == "number":
            return repr(self.seed.item())
        return (
            f"ag.Tensor({array_code(self.seed)})"
            if self.form == "tensor"
            else array_code(self.seed)
        )


@dataclass(frozen=True)
class Program:
    statements: tuple[Leaf | Call, ...]
    backward_calls: tuple[Backward, ...] = ()

    def __repr__(self) -> str:
        return to_code(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How Hypothesis prints a falsifying example: as the code."""
        printer.text(to_code(self))

    def requires_grad(self) -> list[bool]:
        flags: list[bool] = []
        for statement in self.statements:
            if isinstance(statement, Leaf):
                flags.append(statement.requires_grad)
            else:
                flags.append(any(flags[arg.index] for arg in statement.args if type(arg) is Ref))
        return flags

    def reached(self) -> set[int]:
        """Statements some backward call reaches: its root and, through every Ref, the values
        that require a gradient (a Mask or a Const carries none)."""
        flags, seen = self.requires_grad(), set()
        stack = [call.root for call in self.backward_calls]
        while stack:
            index = stack.pop()
            if index in seen or not flags[index]:
                continue
            seen.add(index)
            statement = self.statements[index]
            if isinstance(statement, Call):
                stack.extend(arg.index for arg in statement.args if type(arg) is Ref)
        return seen


# --- backends: one replay, three ways to evaluate it ----------------------------------------------
@dataclass(frozen=True)
class Backend:
    implementation: str  # the Op field holding this backend's function
    leaf: Callable[[Leaf], Any]
    constant: Callable[[Any], Any]


def _torch_constant(value: Any) -> Any:
    return torch.tensor(value) if isinstance(value, np.ndarray) else value


def _torch_leaf(leaf: Leaf) -> Any:
    return torch.tensor(leaf.data, dtype=torch.float64, requires_grad=leaf.requires_grad)


ENGINE = Backend(
    "ours", lambda leaf: ag.Tensor(leaf.data, requires_grad=leaf.requires_grad), lambda c: c
)
NATIVE = Backend("numpy", lambda leaf: leaf.data, lambda value: value)  # leaves' own dtypes
FLOAT64 = Backend("in_float64", lambda leaf: leaf.data.astype(np.float64), lambda value: value)
TORCH = Backend("torch", _torch_leaf, _torch_constant)  # float64 throughout


def run(program: Program, backend: Backend, override: dict[int, Any] | None = None) -> list:
    """Every statement's value on ``backend``; ``override`` replaces chosen values (a leaf's
    or an intermediate's), which is how finite differences perturb them."""
    values: list[Any] = []
    for index, statement in enumerate(program.statements):
        if override is not None and index in override:
            values.append(override[index])
        elif isinstance(statement, Leaf):
            values.append(backend.leaf(statement))
        else:
            operands = [operand(arg, values, backend) for arg in statement.args]
            function = getattr(statement.op, backend.implementation)
            values.append(function(*operands, **statement.params))
    return values


def operand(arg: Arg, values: list, backend: Backend) -> Any:
    if type(arg) is Ref:
        return values[arg.index] + arg.offset if arg.offset else values[arg.index]
    if type(arg) is Mask:
        return values[arg.index] > arg.threshold
    return backend.constant(arg.value)


def run_backward(program: Program, values: list) -> None:
    """The program's backward calls, on engine values."""
    for call in program.backward_calls:
        if call.seed is None:
            values[call.root].backward()
        else:
            values[call.root].backward(call.argument())


def loss(program: Program, values: list) -> float:
    """What the backward calls differentiate, added up: the sum of each root times its seed."""
    total = 0.0
    for call in program.backward_calls:
        total += float(np.sum(values[call.root] * (1.0 if call.seed is None else call.seed)))
    return total


# --- a program printed as the Python code that reproduces it --------------------------------------
def name(program: Program, index: int) -> str:
    return ("x" if isinstance(program.statements[index], Leaf) else "v") + str(index)


def array_code(array: np.ndarray) -> str:
    """``np.array(...)`` on one line, each number as short as it can be and still read back
    exactly in the array's dtype."""

    def nested(item: np.ndarray) -> str:
        if item.ndim:
            return "[" + ", ".join(nested(row) for row in item) + "]"
        if item.dtype.kind == "f":
            return np.format_float_positional(item[()], unique=True, trim="0")
        return repr(item.item())

    dtype = "" if array.dtype in (np.float64, np.int64) else f", dtype=np.{array.dtype}"
    return f"np.array({nested(array)}{dtype})"


def value_code(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return array_code(value)
    if isinstance(value, Index):
        return value.code()
    return f"({value!r})" if isinstance(value, float) and value < 0 else repr(value)


def arg_code(program: Program, arg: Arg) -> str:
    if type(arg) is Ref:
        if not arg.offset:
            return name(program, arg.index)
        sign = "-" if arg.offset < 0 else "+"
        return f"({name(program, arg.index)} {sign} {abs(arg.offset)!r})"
    if type(arg) is Mask:
        return f"{name(program, arg.index)} > {arg.threshold!r}"
    return value_code(arg.value)


def to_code(program: Program) -> str:
    lines = ["import numpy as np", "import autograd_lite as ag", ""]
    for index, statement in enumerate(program.statements):
        if isinstance(statement, Leaf):
            flag = ", requires_grad=True" if statement.requires_grad else ""
            text = f"ag.Tensor({array_code(statement.data)}{flag})"
        else:
            args = [arg_code(program, arg) for arg in statement.args]
            params = {key: value_code(value) for key, value in statement.params.items()}
            text = statement.op.text.format(*args, all=", ".join(args), **params)
        lines.append(f"{name(program, index)} = {text}")
    for call in program.backward_calls:
        lines.append(f"{name(program, call.root)}.backward({call.code()})")
    return "\n".join(lines)


@dataclass(frozen=True)
class Index:
    """A getitem index: a tuple of slices, ints, integer lists and integer arrays."""

    items: tuple

    def code(self) -> str:
        def one(item: Any) -> str:
            if isinstance(item, slice):
                step = "" if item.step is None else f":{item.step}"
                start, stop = ("" if bound is None else bound for bound in (item.start, item.stop))
                return f"{start}:{stop}{step}"
            if item is Ellipsis:
                return "..."
            return array_code(item) if isinstance(item, np.ndarray) else repr(item)

        return ", ".join(one(item) for item in self.items)

    def for_torch(self) -> tuple:
        return tuple(torch.as_tensor(i) if isinstance(i, np.ndarray) else i for i in self.items)


# --- the checks -----------------------------------------------------------------------------------
class Disagreement(AssertionError):
    """The engine and an oracle disagree on a program; the message shows both and the code."""


def report(program: Program, problems: list[str]) -> str:
    code = "\n".join("    " + line for line in to_code(program).splitlines())
    return "\n".join(["on this program:", "", code, "", *problems])


def tolerance(program: Program) -> float:
    """Relative tolerance: float32 arithmetic anywhere loosens every comparison."""
    for statement in program.statements:
        if isinstance(statement, Leaf) and statement.data.dtype == np.float32:
            return 2e-3
        if isinstance(statement, Call) and statement.params.get("dtype") == "float32":
            return 2e-3
    return 1e-6


def mismatch(
    label: str,
    got: Any,
    expected: Any,
    rtol: float,
    oracle: str,
    scale: float = 0.1,
    slack: Any = 0.0,
) -> str | None:
    """None if ``got`` is within ``rtol`` of ``expected``, measured against each element, the
    largest, and ``scale`` (the size of what was summed: a result that cancels to 0 keeps the
    rounding error of its terms), plus ``slack``: the oracle's own error, where known.
    ``oracle`` names it with its verb: "PyTorch gives"."""
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    error = np.abs(got - expected)
    allowed = rtol * (np.abs(expected) + np.max(np.abs(expected), initial=0.0) + scale) + slack
    if np.all(error <= allowed):
        return None
    worst = np.unravel_index(np.argmax(error - allowed), error.shape) if error.ndim else ()
    options = {"precision": 6, "separator": ", ", "threshold": 50}
    return (
        f"{label} = {np.array2string(got, **options)}\n"
        f"    but {oracle} {np.array2string(expected, **options)}\n"
        f"    (worst at {[int(i) for i in worst]}: {float(got[worst])!r} "
        f"against {float(expected[worst])!r})"
    )


def largest(values: list) -> float:
    """The largest magnitude in a program's values: the scale of its rounding errors."""
    return max(float(np.max(np.abs(value), initial=0.0)) for value in values)


def engine_pass(program: Program) -> list:
    """The program and its backward calls on the engine; an exception is a disagreement."""
    try:
        with np.errstate(all="raise"):
            values = run(program, ENGINE)
            run_backward(program, values)
    except Exception as error:  # whatever the engine raises on a valid program is a bug
        message = f"the engine raised {type(error).__name__}: {error}"
        raise Disagreement(report(program, [message])) from error
    return values


def contract_problems(program: Program, values: list) -> list[str]:
    """Values against NumPy (shape and dtype at the leaves' own precision, numbers in
    float64), recorded op names, requires_grad, and the form of every ``.grad``."""
    problems = []
    flags, reached, rtol = program.requires_grad(), program.reached(), tolerance(program)
    with np.errstate(all="ignore"):
        native, exact = run(program, NATIVE), run(program, FLOAT64)
    for index, value in enumerate(values):
        label, statement = name(program, index), program.statements[index]
        expected = np.asarray(native[index])
        if (value.shape, value.dtype) != (expected.shape, expected.dtype):
            problems.append(
                f"{label} has shape {value.shape} and dtype {value.dtype}; "
                f"NumPy says {expected.shape} and {expected.dtype}"
            )
        else:
            problems.append(
                mismatch(label, value.data, exact[index], rtol / 100, "NumPy gives", largest(exact))
            )
        if value.requires_grad != flags[index]:
            problems.append(f"{label}.requires_grad is {value.requires_grad}, not {flags[index]}")
        if isinstance(statement, Call) and flags[index] and value.op != statement.op.name:
            problems.append(f"{label}.op is {value.op!r}, not {statement.op.name!r}")
        grad = value.grad
        if index not in reached:
            if grad is not None:
                problems.append(f"{label}.grad should be None: no backward call reaches it")
        elif type(grad) is not np.ndarray or (grad.shape, grad.dtype) != (value.shape, value.dtype):
            form = (
                f"{type(grad).__name__} {getattr(grad, 'shape', '')} {getattr(grad, 'dtype', '')}"
            )
            problems.append(f"{label}.grad is {form}, not an ndarray {value.shape} {value.dtype}")
    problems.extend(shared_leaf_gradients(program, values))
    return [problem for problem in problems if problem]


def shared_leaf_gradients(program: Program, values: list) -> list[str]:
    """A leaf's ``.grad`` is its own array, as in PyTorch: users (and optimizers) edit it in
    place, which must not change any other tensor's gradient."""
    grads = [(i, value.grad) for i, value in enumerate(values) if type(value.grad) is np.ndarray]
    return [
        f"{name(program, i)}.grad shares memory with {name(program, j)}.grad"
        for i, grad in grads
        if isinstance(program.statements[i], Leaf)
        for j, other in grads
        if i != j and np.shares_memory(grad, other)
    ]


def finite_differences(program: Program, index: int, base: list) -> np.ndarray:
    """d(loss)/d(statement ``index``) by central differences of the float64 replay, the
    other statements' inputs held fixed (for an intermediate: its own inputs)."""
    point = np.asarray(base[index], dtype=np.float64)
    gradient = np.zeros(point.shape)
    for position in np.ndindex(point.shape):
        step = np.zeros(point.shape)
        step[position] = EPS
        up = loss(program, run(program, FLOAT64, {index: point + step}))
        down = loss(program, run(program, FLOAT64, {index: point - step}))
        gradient[position] = (up - down) / (2 * EPS)
    return gradient


def checked_intermediates(program: Program, count: int) -> list[int]:
    """The reached intermediates used most often (fan-in is where engines go wrong)."""
    uses = [0] * len(program.statements)
    for statement in program.statements:
        if isinstance(statement, Call):
            for arg in statement.args:
                if type(arg) is Ref:
                    uses[arg.index] += 1
    reached = program.reached()
    calls = [i for i, s in enumerate(program.statements) if isinstance(s, Call) and i in reached]
    return sorted(calls, key=lambda i: (-uses[i], -i))[:count]


def check_with_finite_differences(program: Program, intermediates: int = 3) -> None:
    """Raise :class:`Disagreement` unless values, the ``.grad`` contract, every reached
    leaf's gradient and those of a few intermediates agree with the float64 NumPy replay."""
    values = engine_pass(program)
    problems = contract_problems(program, values)
    rtol, reached = tolerance(program), program.reached()
    leaves = [i for i, s in enumerate(program.statements) if isinstance(s, Leaf) and i in reached]
    with np.errstate(all="ignore"):
        base = run(program, FLOAT64)
        for index in leaves + checked_intermediates(program, intermediates):
            if values[index].grad is not None:  # a missing one is a contract problem, above
                expected = finite_differences(program, index, base)
                label = f"{name(program, index)}.grad"
                problems.append(
                    mismatch(label, values[index].grad, expected, rtol, "finite differences give")
                )
    problems = [problem for problem in problems if problem]
    if problems:
        raise Disagreement(report(program, problems))


def check_with_torch(program: Program) -> None:
    """Raise :class:`Disagreement` unless every value and every ``.grad`` (None included)
    agrees with PyTorch running the same program in float64."""
    values = engine_pass(program)
    problems = contract_problems(program, values)
    reference = run(program, TORCH)
    for index, tensor in enumerate(reference):
        if tensor.requires_grad and isinstance(program.statements[index], Call):
            tensor.retain_grad()
    for call in program.backward_calls:
        root = reference[call.root]
        seed = torch.ones_like(root) if call.seed is None else torch.tensor(call.seed)
        root.backward(seed, retain_graph=True)
    rtol, scale = tolerance(program), largest([tensor.detach().numpy() for tensor in reference])
    for index, (value, tensor) in enumerate(zip(values, reference)):
        label = name(program, index)
        expected = tensor.detach().numpy()
        problems.append(mismatch(label, value.data, expected, rtol / 100, "PyTorch gives", scale))
        if (value.grad is None) != (tensor.grad is None):
            problems.append(f"{label}.grad is {value.grad}; PyTorch's is {tensor.grad}")
        elif value.grad is not None:
            problems.append(
                mismatch(f"{label}.grad", value.grad, tensor.grad.numpy(), rtol, "PyTorch gives")
            )
    problems = [problem for problem in problems if problem]
    if problems:
        raise Disagreement(report(program, problems))


# --- second order ---------------------------------------------------------------------------------
STEP = 2e-4  # largest step of the mixed second differences, in float64


def hessian_vector_products(program: Program, leaves: list[int]) -> tuple[list, list]:
    """On the engine: the first gradients of the backward calls' loss with respect to
    ``leaves``, made by ``ag.grad(..., create_graph=True)``, and the gradients of their
    projection on the fixed directions of :func:`directions` (the Hessian times them)."""
    values = run(program, ENGINE)
    inputs = [values[index] for index in leaves]
    calls = program.backward_calls
    seeds = [None if call.seed is None else call.argument() for call in calls]
    first = ag.grad([values[call.root] for call in calls], inputs, seeds, create_graph=True)
    projection = sum((g * d).sum() for g, d in zip(first, directions(program, leaves)))
    return list(first), list(ag.grad(projection, inputs))


def directions(program: Program, leaves: list[int]) -> list[np.ndarray]:
    rng = np.random.default_rng(len(program.statements))
    return [rng.uniform(-1, 1, size=program.statements[index].data.shape) for index in leaves]


def mixed_differences(program: Program, leaves: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """d/dx d/dt loss(x + t r) for the fixed directions r, and a bound on its error: central
    differences in both with steps h and h/2, combined by Richardson's extrapolation (error of
    order h**4); how far the two steps disagree bounds what is left (it is of order h**2)."""
    base = run(program, FLOAT64)
    moves = directions(program, leaves)

    def differences(index: int, position: tuple, step: float) -> float:
        corners = []
        for along_x, along_r in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
            override = {i: base[i] + along_r * step * r for i, r in zip(leaves, moves)}
            override[index] = np.array(override[index], dtype=np.float64)
            override[index][position] += along_x * step
            corners.append(loss(program, run(program, FLOAT64, override)))
        return (corners[0] - corners[1] - corners[2] + corners[3]) / (4 * step**2)

    # Each loss carries a rounding error of about 1e-16 times the size of its terms, divided
    # by step**2 in the differences.
    terms = sum(
        float(np.sum(np.abs(base[call.root] * (1.0 if call.seed is None else call.seed))))
        for call in program.backward_calls
    )
    rounding = 1e-15 * terms / (STEP / 2) ** 2
    results = []
    for index in leaves:
        result, uncertainty = np.zeros(np.shape(base[index])), np.zeros(np.shape(base[index]))
        for position in np.ndindex(result.shape):
            coarse, fine = (differences(index, position, step) for step in (STEP, STEP / 2))
            result[position] = (4 * fine - coarse) / 3
            uncertainty[position] = abs(fine - coarse) + rounding
        results.append((result, uncertainty))
    return results


def second_order_pass(program: Program) -> tuple[list[int], list, list]:
    """The reached leaves, and on them :func:`hessian_vector_products`; an exception is a
    disagreement."""
    reached = program.reached()
    leaves = [i for i, s in enumerate(program.statements) if isinstance(s, Leaf) and i in reached]
    if not leaves:
        return [], [], []
    try:
        with np.errstate(all="raise"):
            first, second = hessian_vector_products(program, leaves)
    except Exception as error:  # whatever the engine raises on a valid program is a bug
        message = f"the engine raised {type(error).__name__}: {error}"
        raise Disagreement(report(program, [message])) from error
    return leaves, first, second


def check_second_order(program: Program) -> None:
    """Raise :class:`Disagreement` unless, for every reached leaf, ``ag.grad`` with
    ``create_graph=True`` gives the gradient finite differences give, and differentiating that
    gradient again (projected on a fixed direction) gives the mixed second differences."""
    leaves, first, second = second_order_pass(program)
    rtol, problems = tolerance(program), []
    with np.errstate(all="ignore"):
        base = run(program, FLOAT64)
        mixed = mixed_differences(program, leaves)
        for index, gradient, hessian, (expected, uncertain) in zip(leaves, first, second, mixed):
            label = name(program, index)
            expected_first = finite_differences(program, index, base)
            oracle = "finite differences give"
            problems.append(
                mismatch(f"grad of {label}", gradient.data, expected_first, rtol, oracle)
            )
            problems.append(
                mismatch(
                    f"Hessian of {label} times r",
                    hessian.data,
                    expected,
                    rtol,
                    oracle,
                    slack=uncertain,
                )
            )
    problems = [problem for problem in problems if problem]
    if problems:
        raise Disagreement(report(program, problems))


def check_second_order_with_torch(program: Program) -> None:
    """Raise :class:`Disagreement` unless the engine's first gradients made with
    ``create_graph=True``, and their projection differentiated again, agree with PyTorch's
    ``torch.autograd.grad`` doing the same in float64."""
    leaves, first, second = second_order_pass(program)
    values = run(program, TORCH)
    inputs = [values[index] for index in leaves]
    roots = [values[call.root] for call in program.backward_calls]
    seeds = [
        torch.ones_like(root) if call.seed is None else torch.tensor(call.seed)
        for root, call in zip(roots, program.backward_calls)
    ]
    # PyTorch may answer None for a gradient it knows to be zero, or a "ZeroTensor" that
    # crashes .numpy(): adding each to real zeros gives an ordinary tensor.
    gradients = torch.autograd.grad(roots, inputs, seeds, create_graph=True, allow_unused=True)
    gradients = [torch.zeros_like(x) + (0 if g is None else g) for g, x in zip(gradients, inputs)]
    moves = [torch.tensor(move) for move in directions(program, leaves)]
    projection = sum((g * move).sum() for g, move in zip(gradients, moves))
    hessians = [None] * len(inputs)
    if leaves and projection.requires_grad:
        hessians = list(torch.autograd.grad(projection, inputs, allow_unused=True))
    hessians = [torch.zeros_like(x) + (0 if h is None else h) for h, x in zip(hessians, inputs)]
    rtol, problems = tolerance(program), []
    for index, ours, theirs in zip(leaves, zip(first, second), zip(gradients, hessians)):
        label = name(program, index)
        for what, got, expected in zip(("grad of", "Hessian times r of"), ours, theirs):
            expected = expected.detach().numpy()
            problems.append(mismatch(f"{what} {label}", got.data, expected, rtol, "PyTorch gives"))
    problems = [problem for problem in problems if problem]
    if problems:
        raise Disagreement(report(program, problems))
