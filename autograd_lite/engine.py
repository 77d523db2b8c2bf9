"""Recording and replaying the graph: ``no_grad``, ``name_scope``, ``record`` and ``backward``.

Every operation computes its output with NumPy and hands it to :func:`record` together with its
parents, its backward rule and what the rule needs saved. The rule,
``rule(grad_out, *saved)``, maps the gradient of the output to one gradient per parent (or
``None`` where a parent needs none); the engine alone sums fan-in, undoes broadcasting and
writes ``.grad``.

Rules are plain module-level functions and ``saved`` a plain tuple of arrays and numbers,
rather than a closure per node: a closure and its cells are objects the cyclic garbage
collector must keep visiting, which made a long graph of small tensors twice as slow to build.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import Any

import numpy as np

BackwardRule = Callable[..., tuple]


class _RecordingState:
    """Process-wide recording state: whether ops record, the current name scope, whether
    anomaly checks are on, and a clock of ``.data`` assignments that stamps each tensor.

    NOTE: one instance, not class attributes: assigning a class attribute invalidates the
    interpreter's attribute caches for that class, and every module call and no_grad block
    assigns the scope or the flag (an empty module call 530 -> 450 ns).
    """

    __slots__ = ("enabled", "scope", "anomaly", "assignments")

    def __init__(self) -> None:
        self.enabled = True
        self.scope: tuple[str, ...] = ()
        self.anomaly = False
        self.assignments = 0


_Recording = _RecordingState()


def next_assignment() -> int:
    """Tick the assignment clock; a tensor whose ``.data`` is replaced takes the new value."""
    _Recording.assignments += 1
    return _Recording.assignments


class no_grad:  # noqa: N801 - used like a function, as in PyTorch
    """Record nothing inside the block (or the decorated function): every result is a plain
    leaf.

    >>> import autograd_lite as ag
    >>> x = ag.Tensor(2.0, requires_grad=True)
    >>> with ag.no_grad():
    ...     y = x * 3
    >>> y.requires_grad, y.op
    (False, None)
    >>> @ag.no_grad()
    ... def predict(t):
    ...     return t * 3
    >>> predict(x).requires_grad
    False
    """

    def __init__(self) -> None:
        self.outer: list[bool] = []  # a stack, so one object may be re-entered

    def __enter__(self) -> None:
        self.outer.append(_Recording.enabled)
        _Recording.enabled = False

    def __exit__(self, *exc_info: object) -> None:
        _Recording.enabled = self.outer.pop()

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def without_recording(*args: Any, **kwargs: Any) -> Any:
            with self:
                return function(*args, **kwargs)

        return without_recording


def is_grad_enabled() -> bool:
    """True unless inside :func:`no_grad`."""
    return _Recording.enabled


class name_scope:  # noqa: N801 - used like a function
    """Tag every tensor made inside the block with ``label`` (nested scopes stack up).

    The tags land in ``Tensor.scope`` (a tuple, outermost first); ``nn`` modules use this so
    that a drawn graph can group each module's nodes. (A small class rather than a generator
    context manager: every module call enters one, so it should cost next to nothing.)

    >>> import autograd_lite as ag
    >>> with ag.name_scope("layer"):
    ...     y = ag.Tensor(1.0, requires_grad=True) * 2
    >>> y.scope
    ('layer',)
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self.outer: list[tuple[str, ...]] = []  # a stack, so one scope object may be re-entered

    def __enter__(self) -> None:
        self.outer.append(_Recording.scope)
        _Recording.scope = _Recording.scope + (self.label,)

    def __exit__(self, *exc_info: object) -> None:
        _Recording.scope = self.outer.pop()


def record(
    op: str,
    out_data: np.ndarray,
    parents: tuple[Tensor, ...],
    backward_rule: BackwardRule,
    saved: tuple = (),
    attrs: dict[str, Any] | None = None,
) -> Tensor:
    """Wrap ``out_data`` in a Tensor; link it to ``parents`` only if a gradient can flow.

    ``backward_rule(grad_out, *saved)`` gives the gradient for each parent; ``attrs`` are
    small attributes (axis, threshold, ...) for labels. Under ``no_grad()`` or when no parent
    requires a gradient, the result is a plain leaf: no parents, no rule, nothing saved.
    """
    if type(out_data) is not np.ndarray:
        # NumPy returns scalars for 0-d results; a Tensor always holds an array, and a rule
        # that saved the output must find that very array (see ``_as_recorded``).
        scalar, out_data = out_data, np.asarray(out_data)
        if saved:
            saved = tuple(out_data if item is scalar else item for item in saved)
    for parent in parents:
        if parent._requires_grad:
            if _Recording.enabled:
                out = wrap(out_data, op, parents, backward_rule, saved, attrs)
            else:
                out = wrap(out_data)
                out.lineage = _lineage(op, parent)
            break
    else:
        out = wrap(out_data)
        for parent in parents:  # a constant computed from an unrecorded result keeps its lineage
            if parent.lineage is not None:
                out.lineage = parent.lineage
                break
    if _Recording.anomaly:
        check_forward(op, out, parents)
    return out


def _lineage(op: str, parent: Tensor) -> str:
    """Where an unrecorded result's values came from, for backward's error message."""
    name = f" {parent.name!r}" if parent.name else ""
    return f"{op} of the tensor{name} of shape {parent.shape} inside no_grad()"


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``.

    Written with the methods arrays and Tensors share, so a recorded gradient is summed by
    recorded operations.

    >>> unbroadcast(np.ones((2, 3)), (3,))
    array([2., 2., 2.])
    >>> unbroadcast(np.ones((2, 3)), (2, 1))
    array([[3.],
           [3.]])
    """
    extra = grad.ndim - len(shape)
    if extra == 1 and grad.shape[1:] == shape and shape:  # the common case: a bias, a batch
        # (np.add.reduce skips the method's Python wrapper: a bias's gradient is on every step)
        return np.add.reduce(grad, axis=0) if type(grad) is np.ndarray else grad.sum(axis=0)
    axes = tuple(range(extra)) + tuple(
        extra + axis
        for axis, length in enumerate(shape)
        if length == 1 and grad.shape[extra + axis] != 1
    )
    # NOTE: keepdims, because summing every axis of an array away gives a NumPy scalar, not an
    # array that later paths can be added into in place; the reshape drops the kept axes.
    return grad.sum(axis=axes, keepdims=True).reshape(shape) if axes else grad.reshape(shape)


_FINISHED = object()


def topological_order(*roots: Tensor) -> list[Tensor]:
    """Every tensor the ``roots`` depend on and that requires a gradient, consumers first.

    Iterative depth-first search, so graph depth is limited only by memory. It also refuses
    a graph in which some tensor's ``.data`` was replaced after an operation used it: that
    operation's gradient would belong to values the tensor no longer has.
    """
    order: list[Tensor] = []
    # A node is marked when it is expanded, not when it is pushed: a node pushed early but
    # reached again through a longer path must still be finished after every consumer on
    # that path, or its gradient would be read before all of its fan-in had arrived.
    expanded_nodes: set[Tensor] = set()
    # The stack holds nodes to expand; _FINISHED on top of a node means its parents are all
    # done and it goes into the order (a marker instead of a (node, flag) pair per push: no
    # tuple to allocate, a third less time per node).
    stack: list[Any] = list(reversed(roots))
    while stack:
        node = stack.pop()
        if node is _FINISHED:
            order.append(stack.pop())
            continue
        if node in expanded_nodes:
            continue
        expanded_nodes.add(node)
        stack.append(node)
        stack.append(_FINISHED)
        version = node.data_version
        for parent in node.parents:
            if parent.data_version > version:
                raise stale_data_error(node, parent)
            if parent._requires_grad and parent not in expanded_nodes:
                if parent.parents:
                    stack.append(parent)
                else:
                    # A leaf has nothing to wait for: it is finished where it is found, which
                    # is before any of its consumers finishes (the one that finds it included).
                    expanded_nodes.add(parent)
                    order.append(parent)
    order.reverse()
    return order


Observer = Callable[["Tensor", np.ndarray, tuple], None]


def backward(root: Tensor, grad: Any = None, observer: Observer | None = None) -> None:
    """Backpropagate from ``root``: add dL/dnode to ``.grad`` of every node on the way.

    ``grad`` is dL/droot (default 1 for a one-element root). Each node's rule gets the total
    gradient of its output once every consumer has contributed, because nodes are visited in
    topological order. ``observer(node, grad_out, parent_grads)``, if given, sees every rule
    applied, with the gradients it returned (before the engine sums them to shape); it is how
    the step-by-step explanation narrates a pass.
    """
    if not root._requires_grad:
        raise RuntimeError(_no_graph_message(root, "backward"))
    _backward_pass({root: _root_gradient(root, grad, "backward")}, observer=observer)


def grad(
    outputs: Any, inputs: Any, grad_outputs: Any = None, create_graph: bool = False
) -> tuple[Tensor, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, as ``torch.autograd.grad``.

    ``outputs`` is a Tensor or a list of Tensors (their gradients add up), ``inputs`` a Tensor
    or a list; the result is a tuple of Tensors in the order of ``inputs``. No ``.grad``
    changes. An input the outputs do not depend on gets zeros. ``grad_outputs`` (one per
    output) follow ``backward(grad)``'s rules. With ``create_graph=True`` every backward rule
    runs on Tensors, so the gradients are recorded functions of the inputs and can be
    differentiated again, to any order; without it they are plain leaves.

    >>> import autograd_lite as ag
    >>> x = ag.Tensor(3.0, requires_grad=True)
    >>> (dy,) = ag.grad(x ** 3, x, create_graph=True)   # 3 x**2
    >>> (d2y,) = ag.grad(dy, x)                          # 6 x
    >>> dy.item(), d2y.item()
    (27.0, 18.0)
    """
    roots = _tensor_tuple(outputs, "outputs")
    targets = _tensor_tuple(inputs, "inputs")
    seeds = [None] * len(roots) if grad_outputs is None else grad_outputs
    if isinstance(seeds, Tensor) or not isinstance(seeds, (list, tuple)):
        seeds = [seeds]
    if len(seeds) != len(roots):
        raise ValueError(f"grad: {len(roots)} outputs but {len(seeds)} grad_outputs")
    for target in targets:
        if not target.requires_grad:
            raise RuntimeError(
                f"grad: input of shape {target.shape} does not require grad; create it with "
                "requires_grad=True"
            )
    root_grads: list[Any] = [
        _root_gradient(root, seed, "grad") for root, seed in zip(roots, seeds)
    ]
    seeds_by_root: dict[Tensor, Any] = {}
    for root, root_grad in zip(roots, root_grads):
        if root.requires_grad:  # an output listed twice gets the sum of its seeds
            earlier = seeds_by_root.get(root)
            seeds_by_root[root] = root_grad if earlier is None else _accumulate(earlier, root_grad)
    if create_graph:
        seeds_by_root = {root: wrap(seed) for root, seed in seeds_by_root.items()}
    found: dict[Tensor, Any] = dict.fromkeys(targets)
    if seeds_by_root:
        _backward_pass(seeds_by_root, found, create_graph)
    results = []
    for target in targets:
        total = found[target]
        if total is None:
            total = np.zeros(target.shape, dtype=target.dtype)
        # (a view: one array may be the gradient of two inputs, `add`'s, and two tensors must
        # never hold one array object; see Tensor.detach)
        results.append(total if isinstance(total, Tensor) else wrap(total.view()))
    return tuple(results)


def _tensor_tuple(value: Any, what: str) -> tuple[Tensor, ...]:
    items = (value,) if isinstance(value, Tensor) else value
    if not isinstance(items, (list, tuple)) or not items:
        raise TypeError(f"grad: {what} must be a Tensor or a non-empty list of Tensors")
    for item in items:
        if not isinstance(item, Tensor):
            raise TypeError(f"grad: {what} must hold Tensors, got {type(item).__name__}")
    return tuple(items)


def _backward_pass(
    pending: dict[Tensor, Any],
    found: dict[Tensor, Any] | None = None,
    create_graph: bool = False,
    observer: Observer | None = None,
) -> None:
    """The loop of :func:`backward` and :func:`grad`: each node's rule, in topological order,
    starting from the roots' gradients in ``pending`` (a dict it empties).

    With ``found`` None, every node's total gradient is added to its ``.grad``; otherwise only
    the nodes that are keys of ``found`` get theirs, there. With ``create_graph`` the
    gradients are Tensors and every rule, sum and cast is a recorded operation.
    """
    # The pass creates no reference cycles, but it allocates many small objects, and each
    # allocation burst made the cyclic garbage collector re-walk the whole graph (about half
    # the time of a long backward). So it is paused for the pass and restored after.
    collector_was_on = gc.isenabled()
    gc.disable()
    try:
        _backward_loop(pending, found, create_graph, observer)
    finally:
        if collector_was_on:
            gc.enable()


def _backward_loop(
    pending: dict[Tensor, Any],
    found: dict[Tensor, Any] | None,
    create_graph: bool,
    observer: Observer | None,
) -> None:
    order = topological_order(*pending)  # (Tensors hash by identity: they key dicts directly)
    check_gradients = _Recording.anomaly
    # Tensors whose pending gradient is an array the engine made (the sum of two paths, or a
    # leaf's copy), so that later paths are added into it in place: a weight used many times
    # costs one new array, not one per use. A rule's fresh array is not counted (a rule may
    # return one array for two inputs), which also keeps this set to the nodes with fan-in.
    owned: set[Tensor] = set()
    ndarray = np.ndarray
    for node in order:
        grad_out = pending.pop(node, None)
        if grad_out is None:  # every path to it was cut (a rule returned None): nothing to add
            continue
        if found is None:
            node.grad = grad_out if node.grad is None else _accumulate(node.grad, grad_out)
        elif node in found:
            found[node] = grad_out
        rule = node.backward_rule
        if rule is None:
            continue
        parent_grads = rule(grad_out, *(_as_recorded(node) if create_graph else node.saved))
        if check_gradients:
            check_backward(node, parent_grads)
        if observer is not None:
            observer(node, grad_out, parent_grads)
        if create_graph:
            for parent, parent_grad in zip(node.parents, parent_grads):
                if parent_grad is not None and parent._requires_grad:
                    _add_recorded(pending, parent, parent_grad)
            continue
        for parent, parent_grad in zip(node.parents, parent_grads):
            if parent_grad is None or not parent._requires_grad:
                continue
            if type(parent_grad) is not ndarray:
                parent_grad = np.asarray(parent_grad)  # NumPy's 0-d arithmetic gives scalars
            parent_data = parent._data
            if parent_grad.shape != parent_data.shape:
                parent_grad = unbroadcast(parent_grad, parent_data.shape)
            if (
                parent_grad.dtype is not parent_data.dtype
                and parent_grad.dtype != parent_data.dtype
            ):
                parent_grad = parent_grad.astype(parent_data.dtype)
            earlier = pending.get(parent)
            if earlier is not None:
                if parent in owned:
                    earlier += parent_grad
                else:
                    pending[parent] = _accumulate(earlier, parent_grad)
                    owned.add(parent)
                continue
            if parent.backward_rule is None and (
                parent_grad is grad_out or parent_grad.base is not None
            ):
                # A leaf keeps its gradient and users may edit it in place: it gets its own
                # (a rule returns, for each input, a fresh array or grad_out or a view of it).
                parent_grad = parent_grad.copy()
                owned.add(parent)
            pending[parent] = parent_grad


def _add_recorded(pending: dict[Tensor, Any], parent: Tensor, grad: Any) -> None:
    """The recorded counterpart of the array steps above: shape, dtype and fan-in, each a
    recorded operation, so the gradient stays a function of the inputs."""
    if not isinstance(grad, Tensor):
        grad = wrap(np.asarray(grad))
    if grad.shape != parent.shape:
        grad = unbroadcast(grad, parent.shape)
    if grad.dtype != parent.dtype:
        grad = grad.astype(parent.dtype)
    earlier = pending.get(parent)
    pending[parent] = grad if earlier is None else earlier + grad


def _as_recorded(node: Tensor) -> tuple:
    """``node.saved`` with its inputs' and its own data replaced by those Tensors.

    A rule saves exactly the arrays it needs; the ones that are an input's data or the output's
    own data are the values a second derivative must flow through. Swapping in the Tensors
    makes the rule's arithmetic on them recorded (everything else it saved is a constant: a
    mask, a shape, an index).
    """
    sources = {id(parent._data): parent for parent in node.parents}
    sources[id(node._data)] = node
    return tuple(
        sources.get(id(item), item) if type(item) is np.ndarray else item for item in node.saved
    )


def _accumulate(total: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """total + grad as a new array (never in place: gradients may be shared)."""
    result = total + grad
    return result if type(result) is np.ndarray else np.asarray(result)


def _no_graph_message(root: Tensor, op: str) -> str:
    if root.lineage is not None:
        return (
            f"{op}: this tensor does not require grad: its values come from {root.lineage}, "
            "which records nothing. Compute it outside no_grad() to backpropagate; and if a "
            "parameter was rebound there (`w = w - lr * w.grad`), that made a new tensor that "
            "needs no gradient: update it in place instead, `with no_grad(): w -= lr * w.grad`"
        )
    return (
        f"{op}: this tensor does not require grad and has no recorded graph; "
        "create its inputs with requires_grad=True"
    )


def _root_gradient(root: Tensor, grad: Any, op: str) -> np.ndarray:
    """Check and convert the gradient the user seeds ``backward`` (or ``grad``) with."""
    shape = root._data.shape
    if grad is None:
        if root._data.size != 1:
            raise RuntimeError(
                f"{op}: grad can be implied only for a one-element tensor, but this one "
                f"has shape {shape}; pass grad= with that shape"
            )
        # (np.ones goes through Python: these two C calls take half its time)
        return np.array(1, dtype=root._data.dtype).reshape(shape)
    values = np.asarray(getattr(grad, "data", grad))
    if values.dtype.kind not in "biuf":
        raise TypeError(f"{op}: grad must be numeric, got dtype {values.dtype}")
    if values.shape != shape:
        if values.size == 1 and root._data.size == 1:
            values = values.reshape(shape)
        else:
            raise ValueError(
                f"{op}: grad has shape {values.shape} but the tensor has shape {shape}"
            )
    return values.astype(root._data.dtype, copy=True)


# Imported last: these modules need this one.
from autograd_lite.safety import check_backward, check_forward, stale_data_error  # noqa: E402
from autograd_lite.tensor import Tensor, wrap  # noqa: E402
