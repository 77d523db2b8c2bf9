"""``export_onnx``: a model as an ONNX file, translated from the graph the engine records.

The model runs once in eval mode on the example input, which requires a gradient so that every
operation that reads it is recorded. The recorded graph is then walked from the input to the
output and each operation is translated into ONNX nodes by its function in
:data:`nn.onnx_ops.TRANSLATIONS`: parameters become initializers named by their ``state_dict``
keys, the example input becomes the graph input ``"input"``, every other leaf a ``Constant``.

The batch axis stays free. To learn which sizes are the batch size in disguise, the model also
runs on the example with one more row (its first row repeated) and the two graphs are compared
operation by operation: a size that changes with the batch is written as -1 in a reshape, and a
constant that changes with the input (computed from it outside the graph, through ``.data`` or a
comparison) is refused instead of being frozen into the file.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import numpy as np

from autograd_lite import Tensor, is_grad_enabled
from nn.module import Module
from nn.onnx_ops import TRANSLATIONS

OPSET = 18
"""The ONNX operator set written (18: every reduction takes its axes as an input)."""

IR_VERSION = 8
"""The file format version that goes with opset 18, so older runtimes can read the file."""

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
    builder = GraphBuilder(onnx, model, x, twin_x, out, twin_out)
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


class GraphBuilder:
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
        what = "the output" if consumer is None else f"a constant read by {self.describe(consumer)}"
        return self.constant(self.fixed(leaf.data, self.twins[leaf].data, what))

    # --- what translations call -------------------------------------------------------------
    @staticmethod
    def describe(tensor: Tensor) -> str:
        """Where a tensor was made, for messages: its op and module scope."""
        scope = f" in {tensor.scope[-1]}" if tensor.scope else ""
        return f"{tensor.op!r}{scope}"

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
                f"export_onnx: {self.describe(tensor)} gives shape {tensor.shape} for the example "
                f"but {twin_shape} for a batch one larger; its rank must not depend on the batch "
                "size"
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
