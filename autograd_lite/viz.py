"""Pictures of the graph: :func:`to_dot` gives Graphviz DOT text, :func:`draw` a Digraph.

Every tensor is a box showing its name (or the operation that made it), shape, dtype, value and
gradient; every operation is an ellipse of its own, labelled with its attributes. Colours tell
parameters (leaves that require a gradient), inputs and constants, intermediates and the output
apart, and a legend says which is which. The graph reads left to right, like the math.

The text is deterministic: nodes are numbered in the order an iterative walk from the output
meets them (inputs first), never by ``id()``, so the same graph always gives the same DOT text.
The walk never recurses, so a 100,000-node graph gives text too; ``max_nodes`` keeps pictures
readable by drawing the tensors nearest the output and noting what was left out. Tensors made
inside :func:`autograd_lite.name_scope` are grouped in one labelled cluster per scope (``nn``
modules use this), nested scopes giving nested clusters.

Only :meth:`Drawing.render`, :meth:`Drawing.pipe` and Jupyter's inline display need Graphviz's
``dot`` program; without it they raise :class:`GraphvizNotFoundError`, which says how to install it.

>>> import autograd_lite as ag
>>> w = ag.Tensor([0.5, -0.5], requires_grad=True, name="w")
>>> out = ag.sigmoid(ag.dot(w, [1.0, 2.0]))
>>> text = to_dot(out)
>>> text.startswith("digraph autograd {")
True
>>> text.count("shape=ellipse")  # two operations: dot and sigmoid
2
"""

from __future__ import annotations

import html
import shutil
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

import graphviz
import numpy as np

from autograd_lite.tensor import Tensor

INSTALL_HINT = (
    "Install Graphviz, which provides `dot`: `apt-get install graphviz` (Debian/Ubuntu), "
    "`brew install graphviz` (macOS), `conda install -c conda-forge graphviz` (conda), "
    "or see https://graphviz.org/download/ (Windows: add its bin folder to PATH). "
    "to_dot() and explain() work without it."
)

# What each kind of node looks like: (DOT shape, style, fill colour, border colour).
STYLES: dict[str, tuple[str, str, str, str]] = {
    "parameter": ("box", "rounded,filled", "#dbeafe", "#1d4ed8"),
    "input": ("box", "filled", "#eef0f2", "#6c757d"),
    "intermediate": ("box", "rounded,filled", "#ffffff", "#495057"),
    "output": ("box", "rounded,filled", "#dcfce7", "#15803d"),
    "operation": ("ellipse", "filled", "#fff1d6", "#b45309"),
}
LEGEND: dict[str, str] = {
    "parameter": "parameter (leaf, requires_grad)",
    "input": "input or constant",
    "intermediate": "intermediate result",
    "output": "output",
    "operation": "operation",
}
HIGHLIGHT_COLOR = "#dc2626"
GRAD_COLOR = "#b42318"
MUTED_COLOR = "#6c757d"
SCOPE_FILLS = ("#f8fafc", "#eef2f7")


class GraphvizNotFoundError(graphviz.ExecutableNotFound):
    """Rendering needs Graphviz's ``dot`` program and it is not on PATH.

    A subclass of ``graphviz.ExecutableNotFound`` (and so of ``RuntimeError``), so code that
    already catches that keeps working; the message says how to install Graphviz.
    """

    def __init__(self, message: str) -> None:
        RuntimeError.__init__(self, message)


class Drawing(graphviz.Digraph):
    """A ``graphviz.Digraph`` whose rendering explains how to install Graphviz if it is missing.

    Everything else is ``graphviz.Digraph``: ``.source``, ``.render(path, format="svg")``,
    ``.pipe(format="png")``, and inline display in Jupyter.
    """

    def render(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound as error:
            raise _not_found("render", error) from error

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound as error:
            raise _not_found("pipe", error) from error


def require_dot(action: str) -> None:
    """Raise :class:`GraphvizNotFoundError` now, before any work, if ``dot`` is not on PATH."""
    if shutil.which("dot") is None:
        raise _not_found(action, FileNotFoundError("no `dot` on PATH"))


def _not_found(action: str, error: Exception) -> GraphvizNotFoundError:
    return GraphvizNotFoundError(
        f"draw: {action} needs Graphviz's `dot` program, which was not found ({error}). "
        + INSTALL_HINT
    )


def format_number(value: float, precision: int = 4) -> str:
    """``value`` with ``precision`` significant digits, without trailing zeros.

    >>> format_number(0.268941421), format_number(1.0), format_number(-2.5e-7)
    ('0.2689', '1', '-2.5e-07')
    """
    return f"{value:.{precision}g}"


def format_array(values: Any, max_elements: int = 16, precision: int = 4) -> str:
    """The numbers in full for a small array, else ``min … mean … max …``.

    >>> format_array(np.array([[0.5], [1.0]]))
    '[[0.5],\\n [1]]'
    >>> format_array(np.arange(100.0))
    'min 0  mean 49.5  max 99'
    """
    array = np.asarray(values)
    if array.size == 0:
        return "(empty)"
    if array.ndim == 0:
        return format_number(array.item(), precision)
    if array.size <= max_elements:

        def number(value: Any) -> str:
            return format_number(value, precision)

        return np.array2string(
            array,
            separator=", ",
            max_line_width=60,
            threshold=max_elements + 1,
            formatter={"float_kind": number, "int_kind": number},
        )
    low, mean, high = (
        format_number(float(reduce(array)), precision) for reduce in (np.min, np.mean, np.max)
    )
    return f"min {low}  mean {mean}  max {high}"


def graph_tensors(root: Tensor) -> list[Tensor]:
    """Every tensor ``root`` was computed from, and ``root``, inputs first (iterative post-order).

    Parents are visited in their recorded order, so the numbering reads like the math and is
    the same for the same graph every time. Unlike
    :func:`autograd_lite.engine.topological_order`, tensors that need no gradient (inputs,
    constants) are included, because a picture shows them.

    >>> import autograd_lite as ag
    >>> w, x = ag.Tensor(1.0, requires_grad=True, name="w"), ag.Tensor(2.0, name="x")
    >>> [t.name or t.op for t in graph_tensors(ag.sigmoid(w * x))]
    ['w', 'x', 'mul', 'sigmoid']
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"graph_tensors: expected a Tensor, got {type(root).__name__}")
    order: list[Tensor] = []
    seen = {id(root)}
    stack: list[tuple[Tensor, int]] = [(root, 0)]
    while stack:
        node, next_parent = stack[-1]
        if next_parent < len(node.parents):
            stack[-1] = (node, next_parent + 1)
            parent = node.parents[next_parent]
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append((parent, 0))
        else:
            stack.pop()
            order.append(node)
    return order


def node_label(node: Tensor, number: int) -> str:
    """How pictures and explanations refer to a tensor: its name, else ``op#number``.

    >>> import autograd_lite as ag
    >>> node_label(ag.Tensor(1.0, name="w"), 0), node_label(ag.Tensor(1.0), 3)
    ('w', 'const#3')
    """
    return node.name if node.name else f"{node.op or 'const'}#{number}"


def kind_of(node: Tensor, root: Tensor) -> str:
    """``"output"``, ``"parameter"``, ``"input"`` or ``"intermediate"``: what the colour shows."""
    if node is root:
        return "output"
    if node.op is None:
        return "parameter" if node.requires_grad else "input"
    return "intermediate"


def format_attrs(attrs: Mapping[str, Any] | None, limit: int = 40) -> str:
    """Small attributes as ``key=value, ...``, each value cut to ``limit`` characters.

    >>> format_attrs({"axis": 1, "keepdims": True})
    'axis=1, keepdims=True'
    """
    parts = []
    for key, value in (attrs or {}).items():
        text = repr(value.tolist()) if isinstance(value, np.ndarray) else repr(value)
        parts.append(f"{key}={text if len(text) <= limit else text[: limit - 1] + '…'}")
    return ", ".join(parts)


def to_dot(tensor: Tensor, show_data: bool = True, show_grad: bool = True, **options: Any) -> str:
    """Graphviz DOT source of the graph that produced ``tensor``; needs no Graphviz installed.

    - ``show_data`` / ``show_grad``: print each tensor's value / gradient (in full up to
      ``max_elements=16`` elements, else min, mean and max; ``precision=4`` significant digits).
    - ``max_nodes=300``: draw at most this many tensors, those nearest ``tensor``; a note says
      how many were left out (``None`` draws them all).
    - ``legend=True``: add the key to the colours; ``highlight``: tensors to outline in red;
      ``title``: a caption above the graph.

    The options and their defaults are those of :func:`dot_lines`.

    >>> import autograd_lite as ag
    >>> x = ag.Tensor([1.0, 2.0], requires_grad=True, name="x")
    >>> print(to_dot(x.sum(), legend=False, show_data=False).splitlines()[-3:])
    ['\\tt0 -> op1 [arrowhead=none]', '\\top1 -> t1', '}']
    """
    body = dot_lines(tensor, show_data=show_data, show_grad=show_grad, **options)
    return "".join(["digraph autograd {\n", *body, "}\n"])


def draw(
    tensor: Tensor, show_data: bool = True, show_grad: bool = True, **options: Any
) -> graphviz.Digraph:
    """The graph of :func:`to_dot` as a ``graphviz.Digraph``; takes the same keyword options.

    It displays inline in Jupyter; ``.render("graph", format="svg")`` writes ``graph.svg``.
    Both need Graphviz's ``dot`` program; without it they raise :class:`GraphvizNotFoundError`
    with the install command.

    >>> import autograd_lite as ag
    >>> x = ag.Tensor([1.0, 2.0], requires_grad=True)
    >>> drawing = draw(x.sum(), max_nodes=10)
    >>> drawing.source == to_dot(x.sum(), max_nodes=10)
    True
    """
    body = dot_lines(tensor, show_data=show_data, show_grad=show_grad, **options)
    return Drawing(name="autograd", body=body)


def dot_lines(
    root: Tensor,
    *,
    show_data: bool = True,
    show_grad: bool = True,
    max_nodes: int | None = 300,
    max_elements: int = 16,
    precision: int = 4,
    legend: bool = True,
    highlight: Tensor | Iterable[Tensor] | None = None,
    title: str | None = None,
    grads: Mapping[int, np.ndarray] | None = None,
) -> list[str]:
    """The body lines of :func:`to_dot` and :func:`draw`, each ``"\\t...\\n"``; the options are
    described at :func:`to_dot`.

    ``grads``, keyed by ``id(tensor)``, replaces ``.grad`` for every tensor (missing keys show
    no gradient yet): the step-by-step frames of :mod:`autograd_lite.explain` use it.
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"to_dot: expected a Tensor, got {type(root).__name__}")
    if max_nodes is not None and (
        isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1
    ):
        raise ValueError(f"to_dot: max_nodes must be a positive int or None, got {max_nodes!r}")
    if isinstance(max_elements, bool) or not isinstance(max_elements, int) or max_elements < 0:
        raise ValueError(f"to_dot: max_elements must be an int >= 0, got {max_elements!r}")
    order = graph_tensors(root)
    number = {id(node): index for index, node in enumerate(order)}
    kept = _nearest(root, max_nodes) if max_nodes is not None else set(number)
    drawn = [node for node in order if id(node) in kept]
    marked = _highlighted(highlight)

    def gradient(node: Tensor) -> np.ndarray | None:
        return grads.get(id(node)) if grads is not None else node.grad

    lines = [
        '\tgraph [rankdir=LR fontname="Helvetica" fontsize=11 nodesep=0.3 ranksep=0.4 '
        'newrank=true]\n',
        '\tnode [fontname="Helvetica" fontsize=10 margin="0.12,0.06"]\n',
        '\tedge [color="#6b7280" arrowsize=0.7]\n',
    ]
    notes = [title] if title else []
    omitted = len(order) - len(drawn)
    if omitted:
        omitted_ops = sum(1 for node in order if node.op is not None and id(node) not in kept)
        notes.append(
            f"{omitted:,} more tensors ({omitted_ops:,} operations) not drawn: "
            f"max_nodes={max_nodes} of {len(order):,}"
        )
    if notes:
        text = "<BR/>".join(_escape(note) for note in notes)
        lines.append(f"\tlabel=<{text}> labelloc=t labeljust=l fontsize=12\n")

    # Which cluster each node goes in: its own scope, except that a parameter made outside any
    # scope joins the scope its consumers share (so `layers.0.weights` sits in its layer).
    consumer_scopes: dict[int, tuple[str, ...] | None] = {}
    for node in drawn:
        for parent in node.parents:
            if id(parent) in kept:
                shared = consumer_scopes.get(id(parent), node.scope)
                consumer_scopes[id(parent)] = _common_prefix(shared or (), node.scope)
    members: dict[tuple[str, ...], list[str]] = {}
    for node in drawn:
        index = number[id(node)]
        kind = kind_of(node, root)
        scope = node.scope
        if kind == "parameter" and not scope:
            scope = consumer_scopes.get(id(node)) or ()
        label = _tensor_label(
            node, index, show_data, show_grad and node.requires_grad, gradient(node),
            max_elements, precision,
        )
        members.setdefault(scope, []).append(
            f"t{index} {_attributes(kind, label, id(node) in marked)}\n"
        )
        if node.op is not None:
            op_label = _op_label(node)
            members[scope].append(
                f"op{index} {_attributes('operation', op_label, id(node) in marked)}\n"
            )
    lines.extend(_clusters(members))

    if omitted:
        lines.append(
            f'\tomitted [shape=note style=filled fillcolor="#fff7d6" color="#a16207" '
            f"label=<{omitted:,} more tensors<BR/>not drawn>]\n"
        )
    for node in drawn:
        if node.op is None:
            continue
        index = number[id(node)]
        names = _operand_names(node)
        cut = False
        for position, parent in enumerate(node.parents):
            if id(parent) not in kept:
                cut = True
                continue
            edge = [] if len(node.parents) == 1 else [
                f'headlabel="{names[position]}" labelfontsize=8 '
                f'labelfontcolor="{MUTED_COLOR}" labeldistance=1.4'
            ]
            if id(node) in marked and parent.requires_grad:
                edge.append(f'color="{HIGHLIGHT_COLOR}" penwidth=2')
            edge.append("arrowhead=none")
            lines.append(f"\tt{number[id(parent)]} -> op{index} [{' '.join(edge)}]\n")
        if cut:
            lines.append(f"\tomitted -> op{index} [style=dashed]\n")
        lines.append(f"\top{index} -> t{index}\n")
    if legend:
        lines.extend(_legend())
    return lines


def _nearest(root: Tensor, max_nodes: int) -> set[int]:
    """The ids of the ``max_nodes`` tensors nearest ``root`` (breadth first, parents in order)."""
    kept = {id(root)}
    queue = deque([root])
    while queue and len(kept) < max_nodes:
        node = queue.popleft()
        for parent in node.parents:
            if id(parent) not in kept:
                kept.add(id(parent))
                queue.append(parent)
                if len(kept) == max_nodes:
                    break
    return kept


def _highlighted(highlight: Tensor | Iterable[Tensor] | None) -> set[int]:
    if highlight is None:
        return set()
    items = [highlight] if isinstance(highlight, Tensor) else list(highlight)
    for item in items:
        if not isinstance(item, Tensor):
            raise TypeError(f"to_dot: highlight takes Tensors, got {type(item).__name__}")
    return {id(item) for item in items}


def _common_prefix(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    length = 0
    while length < min(len(a), len(b)) and a[length] == b[length]:
        length += 1
    return a[:length]


def _escape(text: str) -> str:
    """``text`` safe inside a Graphviz HTML label: markup escaped, control characters dropped."""
    cleaned = "".join(c if c >= " " or c == "\n" else "\ufffd" for c in str(text))
    return html.escape(cleaned, quote=True).replace("\n", '<BR ALIGN="LEFT"/>')


def _value_row(caption: str, text: str, color: str) -> str:
    """``caption`` and the numbers in monospace, continuation lines aligned under the first."""
    lines = text.split("\n")
    indent = " " * (len(caption) + 1)
    aligned = "\n".join([f"{caption} {lines[0]}"] + [indent + line for line in lines[1:]])
    return (
        f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"><FONT COLOR="{color}" FACE="monospace" '
        f'POINT-SIZE="9">{_escape(aligned)}</FONT></TD></TR>'
    )


def _tensor_label(
    node: Tensor,
    index: int,
    show_data: bool,
    show_grad: bool,
    grad: np.ndarray | None,
    max_elements: int,
    precision: int,
) -> str:
    title = _escape(node.name if node.name else (node.op or "const"))
    shape = "scalar" if node.data.ndim == 0 else f"shape {node.data.shape}"
    rows = [
        f'<TR><TD ALIGN="LEFT"><B>{title}</B> '
        f'<FONT COLOR="{MUTED_COLOR}" POINT-SIZE="8">#{index}</FONT></TD></TR>',
        f'<TR><TD ALIGN="LEFT"><FONT COLOR="{MUTED_COLOR}" POINT-SIZE="9">'
        f"{_escape(shape)} · {_escape(str(node.data.dtype))}</FONT></TD></TR>",
    ]
    if show_data:
        text = format_array(node.data, max_elements, precision)
        rows.append(_value_row("data", text, "#111827"))
    if show_grad:
        text = "—" if grad is None else format_array(grad, max_elements, precision)
        rows.append(_value_row("grad", text, GRAD_COLOR))
    table = '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
    return table + "".join(rows) + "</TABLE>"


def _op_label(node: Tensor) -> str:
    attrs = format_attrs(node.attrs)
    label = f"<B>{_escape(node.op or '')}</B>"
    if attrs:
        label += f'<BR/><FONT POINT-SIZE="8">{_escape(attrs)}</FONT>'
    return label


def _operand_names(node: Tensor) -> tuple[str, ...]:
    """The names explain mode gives the inputs of ``node`` (``a``, ``b``; ``x``, ``n``; ``x1``,
    ``x2``, ...), so the edges of a picture and the text of a step agree."""
    # NOTE: imported here because autograd_lite.explain imports this module.
    from autograd_lite.explain import operand_names

    return operand_names(node.op or "", len(node.parents))


def _attributes(kind: str, label: str, marked: bool) -> str:
    shape, style, fill, border = STYLES[kind]
    extra = ""
    if kind == "output":
        extra = " penwidth=2"
    if marked:
        border, extra = HIGHLIGHT_COLOR, " penwidth=3.5"
    if kind == "operation":
        extra += " fontsize=10 margin=0.04 height=0.3"
    return (
        f'[shape={shape} style="{style}" fillcolor="{fill}" color="{border}"{extra} '
        f"label=<{label}>]"
    )


def _clusters(members: dict[tuple[str, ...], list[str]]) -> list[str]:
    """Node lines nested in one ``subgraph cluster_N`` per scope, without recursion."""
    children: dict[tuple[str, ...], list[tuple[str, ...]]] = {(): []}
    for scope in members:  # insertion order: the order nodes were first met
        for depth in range(1, len(scope) + 1):
            prefix = scope[:depth]
            if prefix not in children:
                children[prefix] = []
                children[scope[: depth - 1]].append(prefix)
    lines: list[str] = []
    numbers = {scope: number for number, scope in enumerate(children)}
    stack: list[tuple[tuple[str, ...], bool]] = [((), False)]
    while stack:
        scope, closing = stack.pop()
        indent = "\t" * (len(scope) + 1)
        if closing:
            lines.append(indent[:-1] + "}\n")
            continue
        if scope:
            fill = SCOPE_FILLS[(len(scope) - 1) % len(SCOPE_FILLS)]
            lines.append(f"{indent[:-1]}subgraph cluster_{numbers[scope]} {{\n")
            lines.append(
                f'{indent}graph [label=<<B>{_escape(scope[-1])}</B>> style="rounded,filled" '
                f'fillcolor="{fill}" color="#94a3b8" fontsize=11 labeljust=l]\n'
            )
            stack.append((scope, True))
        lines.extend(indent + line for line in members.get(scope, []))
        stack.extend((child, False) for child in reversed(children[scope]))
    return lines


def _legend() -> list[str]:
    """One small table node: a swatch of each kind of node with what it means."""
    rows = []
    for kind, text in LEGEND.items():
        _, _, fill, border = STYLES[kind]
        rows.append(
            f'<TR><TD BGCOLOR="{fill}" COLOR="{border}" BORDER="1" WIDTH="18"> </TD>'
            f'<TD ALIGN="LEFT">{_escape(text)}</TD></TR>'
        )
    table = (
        '<TABLE BORDER="1" COLOR="#cbd5e1" CELLBORDER="0" CELLSPACING="3" CELLPADDING="2">'
        '<TR><TD COLSPAN="2" ALIGN="LEFT"><B>legend</B></TD></TR>' + "".join(rows) + "</TABLE>"
    )
    return [f"\tlegend [shape=plain fontsize=9 label=<{table}>]\n"]
