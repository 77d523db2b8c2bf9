"""``export_onnx``: a model as an ONNX file, translated from the graph the engine records.

The model runs once in eval mode on the example input, which requires a gradient so that every
operation that reads it is recorded. The recorded graph is then walked from the input to the
output and each operation is translated by one function of :data:`TRANSLATIONS` into ONNX
nodes: parameters become initializers named by their ``state_dict`` keys, the example input
becomes the graph input ``"input"``, every other leaf a ``Constant`` node.

The batch axis stays free. To learn which sizes are the batch size in disguise, the model also
runs on the example with one more row (its first row repeated) and the two graphs are compared
operation by operation: a size that changes with the batch is written as -1 in a reshape, and a
constant that changes with the input (computed from it outside the graph, through ``.data`` or a
comparison) is refused instead of being frozen into the file.

ONNX Runtime computes convolutions and average pools in float32 only, so in a float64 model
both are spelled out with slices and a matrix product (the same math, in float64).
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from autograd_lite import Tensor, is_grad_enabled
from nn.module import Module

OPSET = 18
"""The ONNX operator set written (18: every reduction takes its axes as an input)."""

IR_VERSION = 8
"""The file format version that goes with opset 18, so older runtimes can read the file."""

_INT64_MAX = np.iinfo(np.int64).max
_INT64_MIN = np.iinfo(np.int64).min


def export_onnx(model: Module, example_input: Any, path: str | os.PathLike) -> Path:
    """Write ``model`` to ``path`` as an ONNX model and return the path written.

    ``example_input`` is one batch (axis 0 is the batch axis) of what ``model`` takes: floats,
    or integers such as token indices. The file computes ``model(x)`` in eval mode for any
    batch size; the other axes keep the example's sizes. The model's training mode is restored
    afterwards. Needs the ``onnx`` package (``pip install -e ".[onnx]"``).

    Raises ``NotImplementedError`` naming every recorded operation that has no ONNX
    translation, and ``ValueError`` when the graph depends on the batch size in a way ONNX
    cannot express or holds a value computed from the input outside the recorded graph (which
    the file would freeze); in each case no file is written.

    For example (serving the file with ONNX Runtime)::

        path = nn.export_onnx(model, x_train[:8], "model.onnx")
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        scores = session.run(None, {"input": x_test})[0]      # equals model(x_test)
    """
    onnx = _import_onnx()
    if not isinstance(model, Module):
        raise TypeError(f"export_onnx: model must be an nn.Module, got {type(model).__name__}")
    if not is_grad_enabled():
        raise RuntimeError(
            "export_onnx: called inside no_grad(), where nothing is recorded; call it outside"
        )
    x, twin_x = _example_pair(example_input)
    out, twin_out = _run_in_eval_mode(model, x, twin_x)
    builder = _Builder(onnx, model, x, twin_x, out, twin_out)
    proto = builder.build(type(model).__name__)
    onnx.checker.check_model(proto)
    target = Path(path)
    onnx.save(proto, os.fspath(target))
    return target


def _import_onnx() -> Any:
    try:
        import onnx
        import onnx.checker
        import onnx.helper
        import onnx.numpy_helper
    except ImportError:
        raise ImportError(
            'export_onnx needs the onnx package: pip install -e ".[onnx]" '
            '(or pip install "onnx>=1.16")'
        ) from None
    return onnx


def _example_pair(example_input: Any) -> tuple[Tensor, Tensor]:
    """The example as the traced input, and the same batch with its first row repeated.

    A float input requires a gradient, so that operations reading only the input are recorded
    too; an integer input (indices) cannot, and becomes int64.
    """
    data = example_input.data if isinstance(example_input, Tensor) else np.asarray(example_input)
    if data.dtype.kind not in "iuf":
        raise TypeError(
            f"export_onnx: example_input must hold floats or integers, got dtype {data.dtype}"
        )
    if data.ndim == 0 or data.shape[0] == 0:
        raise ValueError(
            f"export_onnx: example_input needs a batch axis (axis 0) with at least one entry, "
            f"got shape {data.shape}"
        )
    grown = np.concatenate([data, data[:1]])
    if data.dtype.kind == "f":
        return Tensor(data, requires_grad=True), Tensor(grown, requires_grad=True)
    return Tensor(data, dtype=np.int64), Tensor(grown, dtype=np.int64)


def _run_in_eval_mode(model: Module, x: Tensor, twin_x: Tensor) -> tuple[Tensor, Tensor]:
    """``model(x)`` and ``model(twin_x)`` in eval mode; every module's own mode restored."""
    modes: list[tuple[Module, bool]] = []
    pending = [model]
    while pending:  # parents before children, so restoring in this order is exact
        module = pending.pop(0)
        modes.append((module, module.training))
        pending.extend(module.children())
    model.eval()
    try:
        outputs = model(x), model(twin_x)
    finally:
        for module, mode in modes:
            module.train(mode)
    for output in outputs:
        if not isinstance(output, Tensor):
            raise TypeError(
                f"export_onnx: the model must return one Tensor, got {type(output).__name__}"
            )
    return outputs


def _graph_order(root: Tensor) -> list[Tensor]:
    """Every tensor ``root`` was computed from, leaves included, each after its parents.

    The engine's iterative depth-first walk (no recursion limit), over all parents; parents are
    visited in order, so two runs of the same code give the same sequence.
    """
    order: list[Tensor] = []
    expanded: set[Tensor] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        if finished:
            order.append(node)
            continue
        if node in expanded:
            continue
        expanded.add(node)
        stack.append((node, True))
        stack.extend((parent, False) for parent in reversed(node.parents))
    return order


def _describe(tensor: Tensor) -> str:
    """Where a tensor was made, for messages: its op and module scope."""
    scope = f" in {tensor.scope[-1]}" if tensor.scope else ""
    return f"{tensor.op!r}{scope}"


class _Builder:
    """The ONNX graph under construction: nodes, initializers, and each tensor's ONNX name."""

    def __init__(
        self, onnx: Any, model: Module, x: Tensor, twin_x: Tensor, out: Tensor, twin_out: Tensor
    ) -> None:
        self.onnx = onnx
        self.helper = onnx.helper
        self.x, self.twin_x = x, twin_x
        self.out = out
        self.order = _graph_order(out)
        twin_order = _graph_order(twin_out)
        missing = sorted({t.op for t in self.order if t.op and t.op not in TRANSLATIONS})
        if missing:
            raise NotImplementedError(
                f"export_onnx: no ONNX translation for the operation(s) "
                f"{', '.join(map(repr, missing))}; no file was written"
            )
        if [t.op for t in self.order] != [t.op for t in twin_order]:
            raise ValueError(
                "export_onnx: the model records different operations for a batch one larger "
                "than the example, so no single ONNX graph serves every batch size"
            )
        self.twins = dict(zip(self.order, twin_order))
        self.parameters = {tensor: name for name, tensor in model.named_parameters()}
        self.nodes: list[Any] = []
        self.used_parameters: set[Tensor] = set()
        self.names: dict[Tensor, str] = {}
        self.casts: dict[tuple[str, str], str] = {}
        self.int_constants: dict[tuple[int, ...], str] = {}
        self.counter = itertools.count()
        self.scope: tuple[str, ...] = ()

    # --- the graph as a whole ---------------------------------------------------------------
    def build(self, graph_name: str) -> Any:
        for tensor in self.order:
            if tensor.op is None:
                self.names[tensor] = self._leaf(tensor)
            else:
                self.scope = tensor.scope
                self.names[tensor] = TRANSLATIONS[tensor.op](self, tensor)
        result = self.names[self.out]
        producer = next((node for node in self.nodes if result in node.output), None)
        if producer is None or any(result in node.input for node in self.nodes):
            # the output is the input itself, or a value other nodes read too
            self.scope = ()
            self.emit("Identity", [result], output="output")
        else:
            producer.output[0] = "output"
        helper = self.helper
        input_shape: list[Any] = ["batch", *self.x.shape[1:]]
        output_shape = [
            ("batch" if (n, m) == (len(self.x), len(self.twin_x)) else None) if n != m else n
            for n, m in zip(self.out.shape, self.twins[self.out].shape)
        ]
        graph = helper.make_graph(
            self.nodes,
            graph_name,
            [helper.make_tensor_value_info("input", self.elem_type(self.x.dtype), input_shape)],
            [helper.make_tensor_value_info("output", self.elem_type(self.out.dtype), output_shape)],
            initializer=[  # in state_dict order
                self.onnx.numpy_helper.from_array(tensor.data, name)
                for tensor, name in self.parameters.items()
                if tensor in self.used_parameters
            ],
        )
        proto = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name="autograd_lite",
        )
        proto.ir_version = IR_VERSION
        return proto

    def _leaf(self, leaf: Tensor) -> str:
        if leaf is self.x:
            return "input"
        name = self.parameters.get(leaf)
        if name is not None:
            self.used_parameters.add(leaf)
            return name
        consumer = next((t for t in self.order if any(p is leaf for p in t.parents)), None)
        what = "the output" if consumer is None else f"a constant read by {_describe(consumer)}"
        return self.constant(self.fixed(leaf.data, self.twins[leaf].data, what))

    # --- what translations call -------------------------------------------------------------
    def elem_type(self, dtype: np.dtype) -> int:
        return self.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))

    def emit(self, op_type: str, inputs: list[str], output: str | None = None, **attrs: Any) -> str:
        """Add one node; return the name of its output."""
        number = next(self.counter)
        name = output or f"{op_type.lower()}_{number}"
        label = "/".join((*self.scope, f"{op_type}_{number}"))
        self.nodes.append(self.helper.make_node(op_type, inputs, [name], name=label, **attrs))
        return name

    def constant(self, value: Any, dtype: Any = None) -> str:
        """A ``Constant`` node holding ``value`` (as ``dtype`` when given)."""
        array = np.asarray(value, dtype=dtype)
        tensor = self.onnx.numpy_helper.from_array(array)
        return self.emit("Constant", [], value=tensor)

    def ints(self, values: Any) -> str:
        """A 1-D int64 constant: axes, shapes, slice bounds (one node per distinct value)."""
        key = tuple(int(value) for value in values)
        if key not in self.int_constants:
            self.int_constants[key] = self.constant(key, np.int64)
        return self.int_constants[key]

    def cast(self, name: str, from_dtype: np.dtype, dtype: Any) -> str:
        """``name`` converted to ``dtype`` (one Cast per value and dtype)."""
        if np.dtype(from_dtype) == np.dtype(dtype):
            return name
        key = (name, np.dtype(dtype).str)
        if key not in self.casts:
            self.casts[key] = self.emit("Cast", [name], to=self.elem_type(dtype))
        return self.casts[key]

    def operands(self, tensor: Tensor) -> list[str]:
        """The ONNX names of ``tensor``'s parents, each cast to ``tensor``'s dtype.

        NumPy promotes mixed operands (a float32 weight times a float64 constant is float64);
        ONNX wants them equal, so they are cast to what NumPy computed in.
        """
        return [self.cast(self.names[p], p.dtype, tensor.dtype) for p in tensor.parents]

    def twin(self, tensor: Tensor) -> Tensor:
        return self.twins[tensor]

    def varies(self, tensor: Tensor) -> list[bool]:
        """For each axis of ``tensor``: does its size change with the batch size?"""
        twin_shape = self.twins[tensor].shape
        if len(twin_shape) != tensor.ndim:
            raise ValueError(
                f"export_onnx: {_describe(tensor)} gives shape {tensor.shape} for the example but "
                f"{twin_shape} for a batch one larger; its rank must not depend on the batch size"
            )
        return [n != m for n, m in zip(tensor.shape, twin_shape)]

    def fixed(self, value: Any, twin_value: Any, what: str) -> np.ndarray:
        """``value`` if it is the same in both runs; a value the input changed is refused."""
        array, twin_array = np.asarray(value), np.asarray(twin_value)
        if array.shape != twin_array.shape or not np.array_equal(
            array, twin_array, equal_nan=array.dtype.kind == "f"
        ):
            raise ValueError(
                f"export_onnx: {what}, of shape {array.shape}, changes from one run to the "
                f"next (shape {twin_array.shape} for a batch one larger): it was computed from "
                "the input outside the recorded graph (through .data, .numpy() or a "
                "comparison) or drawn at random, and ONNX would freeze it; compute it with "
                "recorded operations"
            )
        return array

    def indices(self, index: Any, twin_index: Any) -> str:
        """An integer index array: the graph input when it is the example's own values (token
        indices looked up in an embedding), else a constant."""
        array, twin_array = np.asarray(index), np.asarray(twin_index)
        if self.x.dtype.kind in "iu" and _same_values(array, self.x.data) and _same_values(
            twin_array, self.twin_x.data
        ):
            return "input"
        return self.constant(self.fixed(array, twin_array, "an index array"), np.int64)


def _same_values(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.array_equal(a, b))


# --- translations: one function per recorded operation, returning the output's ONNX name ------
Translation = Callable[[_Builder, Tensor], str]


def _same_op(op_type: str) -> Translation:
    """An operation that is one ONNX node on the same operands (NumPy broadcasting in both)."""

    def translate(b: _Builder, out: Tensor) -> str:
        return b.emit(op_type, b.operands(out))

    return translate


def _pow(b: _Builder, out: Tensor) -> str:
    """base ** exponent; a number exponent is kept in ``attrs`` and becomes a constant."""
    operands = b.operands(out)
    if len(operands) == 1:
        operands.append(b.constant(out.attrs["exponent"], out.dtype))  # type: ignore[index]
    return b.emit("Pow", operands)


def _step(b: _Builder, out: Tensor) -> str:
    """1 where x >= threshold, else 0: a comparison cast back to numbers."""
    (x,) = b.operands(out)
    threshold = b.constant(out.attrs["threshold"], out.dtype)  # type: ignore[index]
    return b.emit("Cast", [b.emit("GreaterOrEqual", [x, threshold])], to=b.elem_type(out.dtype))


def _gelu(b: _Builder, out: Tensor) -> str:
    """GPT-2's GELU, x/2 * (1 + tanh(√(2/π) (x + 0.044715 x³))), spelled out in elementwise
    nodes (ONNX's own Gelu needs opset 20)."""
    (x,) = b.operands(out)
    cube = b.emit("Pow", [x, b.constant(3, out.dtype)])
    inner = b.emit("Add", [x, b.emit("Mul", [b.constant(0.044715, out.dtype), cube])])
    scaled = b.emit("Mul", [b.constant(math.sqrt(2 / math.pi), out.dtype), inner])
    gate = b.emit("Add", [b.constant(1, out.dtype), b.emit("Tanh", [scaled])])
    return b.emit("Mul", [b.emit("Mul", [b.constant(0.5, out.dtype), x]), gate])


def _convert(b: _Builder, out: Tensor) -> str:
    """astype and clone: the value itself, cast to the output's dtype (a clone casts nothing)."""
    return b.operands(out)[0]


def _clip(b: _Builder, out: Tensor) -> str:
    """x limited to [min, max] as Max and Min (the bounds may be arrays, which Clip refuses)."""
    (result,) = b.operands(out)
    for key, op_type in (("min", "Max"), ("max", "Min")):
        bound = out.attrs[key]  # type: ignore[index]
        if bound is not None:
            values = bound.data if isinstance(bound, Tensor) else bound
            result = b.emit(op_type, [result, b.constant(values, out.dtype)])
    return result


def _where_op(b: _Builder, out: Tensor) -> str:
    """a where the condition holds, else b. NOTE: the condition is not a parent (no gradient
    flows to it); it is read from what the backward rule keeps, ``saved[0]``."""
    condition = b.fixed(out.saved[0], b.twin(out).saved[0], "the condition of 'where'")
    return b.emit("Where", [b.constant(condition, bool), *b.operands(out)])


def _reduce_axes(out: Tensor) -> tuple[list[int] | None, bool]:
    """The reduced axes (None: all) and keepdims, from ``attrs``."""
    attrs = out.attrs or {}
    axis = attrs.get("axis")
    axes = None if axis is None else [int(a) for a in np.atleast_1d(axis)]
    return axes, bool(attrs.get("keepdims", False))


def _reduction(op_type: str) -> Translation:
    """sum, mean, max and min over ``axis`` (all axes when None), keeping dims or not."""

    def translate(b: _Builder, out: Tensor) -> str:
        axes, keepdims = _reduce_axes(out)
        inputs = b.operands(out) + ([] if axes is None else [b.ints(axes)])
        return b.emit(op_type, inputs, keepdims=int(keepdims))

    return translate


def _variance(b: _Builder, out: Tensor) -> str:
    """Σ (x - mean)² / (n - ddof), with n counted at run time (the batch axis may be reduced)."""
    (x,) = b.operands(out)
    axes, _ = _reduce_axes(out)
    keepdims = out.ndim == out.parents[0].ndim  # NOTE: var's attrs do not carry keepdims
    axes_input = [] if axes is None else [b.ints(axes)]
    mean = b.emit("ReduceMean", [x, *axes_input], keepdims=1)
    centered = b.emit("Sub", [x, mean])
    squares = b.emit("ReduceSum", [b.emit("Mul", [centered, centered]), *axes_input],
                     keepdims=int(keepdims))
    count = b.emit("Div", [b.emit("Size", [x]), b.emit("Size", [mean])])
    ddof = b.constant((out.attrs or {}).get("ddof", 0), np.int64)
    divisor = b.cast(b.emit("Sub", [count, ddof]), np.dtype(np.int64), out.dtype)
    return b.emit("Div", [squares, divisor])


def _std(b: _Builder, out: Tensor) -> str:
    return b.emit("Sqrt", [_variance(b, out)])


def _softmax(op_type: str) -> Translation:
    def translate(b: _Builder, out: Tensor) -> str:
        return b.emit(op_type, b.operands(out), axis=out.attrs["axis"])  # type: ignore[index]

    return translate


def _reshape(b: _Builder, out: Tensor) -> str:
    """The recorded shape, with -1 for the one size that grows with the batch."""
    varying = b.varies(out)
    if sum(varying) > 1:
        raise ValueError(
            f"export_onnx: {_describe(out)} to shape {out.shape} has several sizes that change "
            "with the batch size; ONNX's Reshape can infer only one"
        )
    shape = [-1 if grows else size for size, grows in zip(out.shape, varying)]
    return b.emit("Reshape", [*b.operands(out), b.ints(shape)])


def _flatten(b: _Builder, out: Tensor) -> str:
    """The axes before ``start_axis`` kept as they are (0 copies a size), the rest merged."""
    start = out.attrs["start_axis"] if out.parents[0].ndim else 0  # type: ignore[index]
    return b.emit("Reshape", [*b.operands(out), b.ints([0] * start + [-1])])


def _transpose(b: _Builder, out: Tensor) -> str:
    ndim = out.ndim
    axes = (out.attrs or {}).get("axes") or tuple(reversed(range(ndim)))
    return b.emit("Transpose", b.operands(out), perm=[int(a) % ndim for a in axes])


def _squeeze(b: _Builder, out: Tensor) -> str:
    x = out.parents[0]
    axis = out.attrs["axis"]  # type: ignore[index]
    if axis is None:
        axes = [i for i, size in enumerate(x.shape) if size == 1]
        if any(b.varies(x)[i] for i in axes):
            raise ValueError(
                f"export_onnx: {_describe(out)} without an axis removes the batch axis when the "
                "batch has one example; give squeeze the axis to remove"
            )
    else:
        axes = [int(a) for a in np.atleast_1d(axis)]
    return b.emit("Squeeze", [*b.operands(out), b.ints(axes)])


def _unsqueeze(b: _Builder, out: Tensor) -> str:
    return b.emit("Unsqueeze", [*b.operands(out), b.ints([out.attrs["axis"]])])  # type: ignore[index]


def _concatenate(b: _Builder, out: Tensor) -> str:
    return b.emit("Concat", b.operands(out), axis=out.attrs["axis"])  # type: ignore[index]


def _stack(b: _Builder, out: Tensor) -> str:
    """A new axis on every part, then one Concat along it."""
    axis = out.attrs["axis"] % out.ndim  # type: ignore[index]
    parts = [b.emit("Unsqueeze", [part, b.ints([axis])]) for part in b.operands(out)]
    return b.emit("Concat", parts, axis=axis)


def _getitem(b: _Builder, out: Tensor) -> str:
    """x[index], item by item: a slice is a Slice, an int or an integer array a Gather along
    its axis, None an Unsqueeze. Bool masks and NumPy's rules for several index arrays (or
    arrays apart from ints) have no translation."""
    index = out.attrs["index"]  # type: ignore[index]
    twin_index = b.twin(out).attrs["index"]  # type: ignore[index]
    items = index if isinstance(index, tuple) else (index,)
    twin_items = twin_index if isinstance(twin_index, tuple) else (twin_index,)
    advanced = [
        position
        for position, item in enumerate(items)
        if item is not None and item is not Ellipsis and not isinstance(item, slice)
    ]
    arrays = [p for p in advanced if np.ndim(items[p]) > 0]
    if any(np.asarray(items[p]).dtype == bool for p in advanced) or (
        arrays and (len(arrays) > 1 or advanced != list(range(advanced[0], advanced[-1] + 1)))
    ):
        raise NotImplementedError(
            f"export_onnx: no ONNX translation for 'getitem' with index {index!r}: bool masks, "
            "several index arrays and index arrays apart from int indices are not translated"
        )
    (result,) = b.operands(out)
    x = out.parents[0]
    varying = b.varies(x)
    consumed = sum(1 for item in items if item is not None and item is not Ellipsis)
    axis = source = 0  # the axis in the result so far, and the axis of x the item reads
    for item, twin_item in zip(items, twin_items):
        if item is None:
            result = b.emit("Unsqueeze", [result, b.ints([axis])])
            axis += 1
        elif item is Ellipsis:
            axis += x.ndim - consumed
            source += x.ndim - consumed
        elif isinstance(item, slice):
            bounds = _slice_bounds(item, None if varying[source] else x.shape[source])
            if bounds is not None:
                starts, ends, steps = map(b.ints, bounds)
                result = b.emit("Slice", [result, starts, ends, b.ints([axis]), steps])
            axis += 1
            source += 1
        else:
            result = b.emit("Gather", [result, b.indices(item, twin_item)], axis=axis)
            axis += np.ndim(item)
            source += 1
    return result


def _slice_bounds(item: slice, length: int | None) -> tuple[list[int], ...] | None:
    """ONNX Slice's starts, ends and steps for a Python slice of an axis of ``length``
    (None for the batch axis); None when it takes the whole axis.

    NOTE: ONNX clamps a backwards slice's start to the first element where Python gives an
    empty slice; on an axis of known length the bounds are resolved here, so this never
    matters, and on the batch axis only for starts before the first example.
    """
    step = 1 if item.step is None else item.step
    if length is None:
        if item == slice(None):
            return None
        start = item.start if item.start is not None else (_INT64_MAX if step < 0 else 0)
        stop = item.stop if item.stop is not None else (_INT64_MIN if step < 0 else _INT64_MAX)
        return [start], [stop], [step]
    chosen = range(*item.indices(length))
    if chosen == range(length):
        return None
    if not chosen:
        return [0], [0], [1]
    stop = chosen[-1] + (1 if step > 0 else -1)
    return [chosen[0]], [stop if stop >= 0 else _INT64_MIN], [step]


def _conv2d(b: _Builder, out: Tensor) -> str:
    """Conv with ``stride`` and symmetric ``padding``; see the module docstring for float64."""
    x, weight, *bias = b.operands(out)
    stride, (ph, pw) = out.attrs["stride"], out.attrs["padding"]  # type: ignore[index]
    if out.dtype == np.float32:
        return b.emit("Conv", [x, weight, *bias], strides=list(stride), pads=[ph, pw, ph, pw])
    if ph or pw:
        x = b.emit("Pad", [x, b.ints([0, 0, ph, pw, 0, 0, ph, pw])])
    out_channels, channels, kh, kw = out.parents[1].shape
    # im2col: the kh * kw shifted views side by side on the channel axis, position-major, so
    # the channel index is (i * kw + j) * channels + c; the weights are laid out the same way.
    columns = b.emit("Concat", _windows(b, x, (kh, kw), stride, out.shape[2:]), axis=1)
    rows = b.emit("Transpose", [columns], perm=[0, 2, 3, 1])
    kernel = b.emit("Transpose", [weight], perm=[2, 3, 1, 0])
    kernel = b.emit("Reshape", [kernel, b.ints([kh * kw * channels, out_channels])])
    result = b.emit("MatMul", [rows, kernel])
    if bias:
        result = b.emit("Add", [result, bias[0]])
    return b.emit("Transpose", [result], perm=[0, 3, 1, 2])


def _windows(
    b: _Builder, x: str, kernel: tuple[int, int], stride: tuple[int, int], out_size: tuple
) -> list[str]:
    """One strided Slice per kernel offset (i, j): element [r, q] of slice (i, j) is pixel
    (r * sh + i, q * sw + j), as in the engine's window view."""
    (kh, kw), (sh, sw), (out_h, out_w) = kernel, stride, out_size
    return [
        b.emit("Slice", [x, b.ints([i, j]), b.ints([i + sh * (out_h - 1) + 1,
                                                    j + sw * (out_w - 1) + 1]),
                         b.ints([2, 3]), b.ints([sh, sw])])
        for i in range(kh)
        for j in range(kw)
    ]


def _max_pool2d(b: _Builder, out: Tensor) -> str:
    kernel, stride = out.attrs["kernel_size"], out.attrs["stride"]  # type: ignore[index]
    return b.emit("MaxPool", b.operands(out), kernel_shape=list(kernel), strides=list(stride))


def _avg_pool2d(b: _Builder, out: Tensor) -> str:
    """AveragePool in float32; in float64 the sum of the kh * kw window slices over kh * kw."""
    kernel, stride = out.attrs["kernel_size"], out.attrs["stride"]  # type: ignore[index]
    (x,) = b.operands(out)
    if out.dtype == np.float32:
        return b.emit("AveragePool", [x], kernel_shape=list(kernel), strides=list(stride))
    total = b.emit("Sum", _windows(b, x, kernel, stride, out.shape[2:]))
    return b.emit("Div", [total, b.constant(math.prod(kernel), out.dtype)])


TRANSLATIONS: dict[str, Translation] = {
    "add": _same_op("Add"),
    "sub": _same_op("Sub"),
    "neg": _same_op("Neg"),
    "mul": _same_op("Mul"),
    "div": _same_op("Div"),
    "pow": _pow,
    "matmul": _same_op("MatMul"),
    "dot": _same_op("MatMul"),  # NumPy's dot and matmul agree on 1-D and 2-D operands
    "exp": _same_op("Exp"),
    "log": _same_op("Log"),
    "tanh": _same_op("Tanh"),
    "sigmoid": _same_op("Sigmoid"),
    "relu": _same_op("Relu"),
    "step": _step,
    "gelu": _gelu,
    "abs": _same_op("Abs"),
    "sqrt": _same_op("Sqrt"),
    "clip": _clip,
    "maximum": _same_op("Max"),
    "minimum": _same_op("Min"),
    "where": _where_op,
    "sum": _reduction("ReduceSum"),
    "mean": _reduction("ReduceMean"),
    "max": _reduction("ReduceMax"),
    "min": _reduction("ReduceMin"),
    "var": _variance,
    "std": _std,
    "softmax": _softmax("Softmax"),
    "log_softmax": _softmax("LogSoftmax"),
    "reshape": _reshape,
    "flatten": _flatten,
    "transpose": _transpose,
    "squeeze": _squeeze,
    "unsqueeze": _unsqueeze,
    "getitem": _getitem,
    "concatenate": _concatenate,
    "astype": _convert,
    "clone": _convert,
    "stack": _stack,
    "conv2d": _conv2d,
    "max_pool2d": _max_pool2d,
    "avg_pool2d": _avg_pool2d,
}
"""Each recorded operation's translation into ONNX nodes."""
