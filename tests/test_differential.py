"""Random whole programs against oracles that share no code with the engine.

Op-by-op tests once all passed while backward ran a node before all of its consumers: only a
graph in which one value reaches an op by two paths shows that. Here whole programs (drawn by
``differential_ops.py``) are checked by ``differential.py``: values and gradients, of leaves
and intermediates, against central finite differences of a float64 NumPy replay, and against
PyTorch when it is installed. The last tests plant known engine bugs and show that the checks
catch each one.
"""

from __future__ import annotations
import __future__

import inspect
import textwrap
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from catalog import CATALOG, required_shapes
from differential import (
    ENGINE,
    Backward,
    Call,
    Const,
    Disagreement,
    Leaf,
    Program,
    Ref,
    check_second_order,
    check_second_order_with_torch,
    check_with_finite_differences,
    check_with_torch,
    name,
    run,
    run_backward,
    to_code,
)
from differential_ops import OPS, RandomChoices, generate, programs
from hypothesis import given, settings

import autograd_lite as ag
from autograd_lite import engine

# A program costs milliseconds, so these tests draw many more examples than the profile's
# count per property: 500 programs per oracle by default and in CI, 6,000 when thorough
# (second derivatives: a quarter of that).
PROGRAMS = 20 * settings().max_examples
OP = {op.text: op for op in OPS}


@settings(max_examples=PROGRAMS)
@given(program=programs())
def test_programs_agree_with_finite_differences(program: Program) -> None:
    check_with_finite_differences(program)


@settings(max_examples=PROGRAMS)
@given(program=programs())
def test_programs_agree_with_pytorch(program: Program) -> None:
    pytest.importorskip("torch", reason="PyTorch is not installed: it is an optional oracle")
    check_with_torch(program)


@settings(max_examples=PROGRAMS // 4)
@given(program=programs())
def test_second_derivatives_agree_with_finite_differences(program: Program) -> None:
    check_second_order(program)


@settings(max_examples=PROGRAMS // 4)
@given(program=programs())
def test_second_derivatives_agree_with_pytorch(program: Program) -> None:
    pytest.importorskip("torch", reason="PyTorch is not installed: it is an optional oracle")
    check_second_order_with_torch(program)


@given(program=programs(max_calls=6))
def test_a_printed_program_reproduces_its_values_and_gradients(program: Program) -> None:
    """What a failure prints is the program itself: run as Python, it gives the same numbers."""
    printed: dict[str, Any] = {}
    exec(compile(to_code(program), "printed program", "exec"), printed)
    values = run(program, ENGINE)
    run_backward(program, values)
    for index, value in enumerate(values):
        twin = printed[name(program, index)]
        np.testing.assert_array_equal(twin.data, value.data)
        assert (twin.grad is None) == (value.grad is None)
        if value.grad is not None:
            np.testing.assert_array_equal(twin.grad, value.grad)


def recorded_name(case: Any) -> str:
    rng = np.random.default_rng(0)
    operands = case.prepare([rng.normal(size=shape) for shape in required_shapes(case)[0]])
    return case.ours(*[ag.Tensor(array, requires_grad=True) for array in operands]).op


def test_every_operation_of_the_catalog_is_in_the_programs() -> None:
    # step is left out: its straight-through gradient is not its derivative (test_ops.py).
    catalog = {recorded_name(case) for case in CATALOG} - {"step"}
    missing = catalog - {op.name for op in OPS}
    assert not missing, f"add a line for {sorted(missing)} to OPS in tests/differential_ops.py"


def test_every_line_of_the_op_table_gets_generated() -> None:
    used = {
        statement.op
        for seed in range(300)
        for statement in generate(RandomChoices(seed)).statements
        if isinstance(statement, Call)
    }
    assert [op.text for op in OPS if op not in used] == []


def division_by_itself_plus_one() -> Program:
    """x / (x + 1): x reaches div directly and through add (lost a path before 6fedf8b)."""
    x = Leaf(np.array([0.5, 2.0, -3.0]))
    plus_one = Call(OP["{0} + {1}"], (Ref(0), Const(1.0)))
    quotient = Call(OP["{0} / {1}"], (Ref(0), Ref(1)))
    return Program((x, plus_one, quotient), (Backward(2, np.array([1.0, -2.0, 0.5])),))


def broadcast_scalar_by_two_paths() -> Program:
    """x0 + x0 / x1 with a 0-d x0 broadcast against x1 (counted one path before 6fedf8b)."""
    x0, x1 = Leaf(np.array(1.5)), Leaf(np.array([0.5, 2.0, 4.0]))
    quotient = Call(OP["{0} / {1}"], (Ref(0), Ref(1)))
    total = Call(OP["{0} + {1}"], (Ref(0), Ref(2)))
    return Program((x0, x1, quotient, total), (Backward(3, np.array([1.0, 2.0, 3.0])),))


@pytest.mark.parametrize("make", [division_by_itself_plus_one, broadcast_scalar_by_two_paths])
def test_the_programs_that_once_went_wrong(make: Callable[[], Program]) -> None:
    check_with_finite_differences(make())
    check_with_finite_differences(Program(make().statements, make().backward_calls * 2))


# --- planted bugs: the checks must catch each ----------------------------------------------------
def topological_order_marked_when_pushed(*roots: ag.Tensor) -> list[ag.Tensor]:
    """The order before 6fedf8b: nodes were marked when pushed, not when expanded, so a node
    reached again by a longer path could run before one of its consumers."""
    order: list[ag.Tensor] = []
    visited = set(roots)
    stack = [(root, False) for root in roots]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        stack.append((node, True))
        for parent in node.parents:
            if parent.requires_grad and parent not in visited:
                visited.add(parent)
                stack.append((parent, False))
    return order[::-1]


def unbroadcast_to_scalars(grad: np.ndarray, shape: tuple[int, ...]) -> Any:
    """unbroadcast before 6fedf8b: summing to a 0-d shape gave a NumPy scalar, and the next
    path's gradient, added to it in place, was lost."""
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + axis
        for axis, length in enumerate(shape)
        if length == 1 and grad.shape[extra + axis] != 1
    )
    return (grad.sum(axis=axes) if axes else grad).reshape(shape)


def with_line_replaced(function: Callable[..., Any], old: str, new: str) -> Callable[..., Any]:
    """``function`` recompiled with one line of its source changed (in a copy of its module's
    namespace, so the module itself is untouched)."""
    source = textwrap.dedent(inspect.getsource(function))
    if source.count(old) != 1:
        pytest.fail(f"{function.__name__} no longer reads {old!r}: plant the bug anew")
    namespace = dict(function.__globals__)
    flags = __future__.annotations.compiler_flag
    code = compile(source.replace(old, new), "planted bug", "exec", flags=flags, dont_inherit=True)
    exec(code, namespace)
    return namespace[function.__name__]


def plant_wrong_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "topological_order", topological_order_marked_when_pushed)


def plant_dropped_fan_in(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each new path's gradient replaces the one pending instead of adding to it.
    dropped = with_line_replaced(
        engine._backward_loop, "earlier = pending.get(parent)", "earlier = None"
    )
    monkeypatch.setattr(engine, "_backward_loop", dropped)


def plant_scalar_unbroadcast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "unbroadcast", unbroadcast_to_scalars)
    # ... with the ownership rule of that time, under which the bug showed: a path's gradient
    # that a rule made fresh was the engine's own, so the next path was added into it in place.
    owning = with_line_replaced(
        engine._backward_loop,
        "pending[parent] = parent_grad",
        "owned.add(parent) if parent_grad is not grad_out else None; "
        "pending[parent] = parent_grad",
    )
    monkeypatch.setattr(engine, "_backward_loop", owning)


PLANTS = {
    "wrong topological order": (plant_wrong_order, division_by_itself_plus_one),
    "dropped fan-in": (plant_dropped_fan_in, division_by_itself_plus_one),
    "0-d fan-in lost": (plant_scalar_unbroadcast, broadcast_scalar_by_two_paths),
}


@pytest.mark.parametrize("bug", ["wrong topological order", "dropped fan-in"])
def test_a_planted_bug_fails_random_programs(bug: str, monkeypatch: pytest.MonkeyPatch) -> None:
    plant, _ = PLANTS[bug]
    plant(monkeypatch)
    for seed in range(200):
        try:
            check_with_finite_differences(generate(RandomChoices(seed)))
        except Disagreement as disagreement:
            assert "finite differences give" in str(disagreement)
            break
    else:
        pytest.fail(f"no program of seeds 0-199 noticed the {bug}")
    monkeypatch.undo()
    check_with_finite_differences(generate(RandomChoices(seed)))  # the bug, not the program


def test_second_derivatives_through_constants_fail_random_programs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A create_graph pass whose rules read their saved inputs as constants: first gradients
    stay right, second derivatives lose every term that flows through those inputs."""
    monkeypatch.setattr(engine, "_as_recorded", lambda node: node.saved)
    for seed in range(100):
        try:
            check_second_order(generate(RandomChoices(seed)))
        except Disagreement as disagreement:
            assert "Hessian of" in str(disagreement) and "grad of" not in str(disagreement)
            return
    pytest.fail("no program of seeds 0-99 noticed second derivatives through constants")


@pytest.mark.parametrize("bug", PLANTS)
def test_a_planted_bug_fails_the_program_it_once_broke(
    bug: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plant, witness = PLANTS[bug]
    plant(monkeypatch)
    with pytest.raises(Disagreement, match="finite differences give"):
        check_with_finite_differences(witness())
