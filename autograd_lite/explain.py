"""Explain mode: the backward pass told one rule at a time, in words, symbols and numbers.

:func:`explain` runs ``backward`` (gradients land in ``.grad`` as usual) and, for every
operation in the order backward applies them, reports the local rule
(``sigmoid: dL/dx = dL/dy * y * (1 - y)``), the numbers that went in, the gradient that came
out, and where gradients arriving along several paths were summed. :func:`explain_html` shows
the same pass as pictures: one frame per step with the current node outlined in red, in a single
HTML page with a slider (it needs Graphviz's ``dot``; :func:`explain` does not).

Notation: ``L`` is the tensor backward starts from, ``y`` the output of the step being
explained, ``x`` (or ``a``, ``b``, ...) its inputs, and ``dL/dy`` the gradient that has reached
``y`` from the steps after it.

>>> import autograd_lite as ag
>>> w = ag.Tensor(0.5, requires_grad=True, name="w")
>>> o = ag.sigmoid(w * 2.0)
>>> o.name = "o"
>>> print(explain(o).steps[0].text)
Step 1 of 2 · o = sigmoid(mul#2)
  rule  sigmoid: dL/dx = dL/dy * y * (1 - y)
        the slope of the sigmoid, written with its own output y
  in    dL/dy = 1  (the seed)
        x (mul#2) = 1
        y (o) = 0.7311
  out   dL/dx = 0.1966  → mul#2
"""

from __future__ import annotations

import html
import os
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograd_lite import engine
from autograd_lite.tensor import Tensor
from autograd_lite.viz import (
    Drawing,
    dot_lines,
    format_array,
    format_attrs,
    graph_tensors,
    require_dot,
)
from autograd_lite.viz import node_label as _node_label


@dataclass(frozen=True)
class Rule:
    """How one operation sends the gradient back: ``symbols`` (the formula), ``words`` (why),
    and the names its inputs have in the formula."""

    symbols: str
    words: str
    inputs: tuple[str, ...] = ("x",)


_BINARY = ("a", "b")
_RESHAPE = Rule("dL/dx = dL/dy reshaped to x's shape", "the elements do not change, only the shape")

# Every operation's local rule, keyed by its op name. One table, so each rule is stated once.
RULES: dict[str, Rule] = {
    "add": Rule("dL/da = dL/dy;  dL/db = dL/dy",
                "a sum passes the gradient unchanged to both terms", _BINARY),
    "sub": Rule("dL/da = dL/dy;  dL/db = -dL/dy", "a difference passes the gradient to a, negated "
                "to b", _BINARY),
    "neg": Rule("dL/dx = -dL/dy", "negation flips the sign of the gradient"),
    "mul": Rule("dL/da = dL/dy * b;  dL/db = dL/dy * a",
                "each factor gets the gradient times the other factor", _BINARY),
    "div": Rule("dL/da = dL/dy / b;  dL/db = -dL/dy * a / b**2",
                "the quotient rule, one operand at a time", _BINARY),
    "pow": Rule("dL/dx = dL/dy * n * x**(n - 1);  dL/dn = dL/dy * y * ln(x)",
                "the power rule for the base (and, for a tensor exponent, the exponential rule)",
                ("x", "n")),
    "matmul": Rule("dL/da = dL/dy @ b.T;  dL/db = a.T @ dL/dy",
                   "each entry of y is a row of a times a column of b, so each operand gets the "
                   "gradient multiplied by the other, transposed", _BINARY),
    "dot": Rule("dL/da = dL/dy @ b.T;  dL/db = a.T @ dL/dy",
                "as matmul (a vector acts as a row on the left, a column on the right)", _BINARY),
    "exp": Rule("dL/dx = dL/dy * y", "e**x is its own derivative"),
    "log": Rule("dL/dx = dL/dy / x", "the derivative of ln(x) is 1/x"),
    "tanh": Rule("dL/dx = dL/dy * (1 - y**2)", "the slope of tanh, written with its own output y"),
    "sigmoid": Rule("dL/dx = dL/dy * y * (1 - y)",
                    "the slope of the sigmoid, written with its own output y"),
    "relu": Rule("dL/dx = dL/dy * (x > 0)",
                 "the gradient passes where x > 0 and stops at and below 0 (relu'(0) = 0)"),
    "step": Rule("dL/dx = dL/dy  (straight through)",
                 "the true slope is 0 almost everywhere and would stop learning; passing the "
                 "gradient through unchanged makes gradient descent reproduce the perceptron rule"),
    "sum": Rule("dL/dx_i = dL/dy", "every summed element gets a copy of the gradient"),
    "mean": Rule("dL/dx_i = dL/dy / n", "every averaged element gets an n-th of the gradient"),
    "max": Rule("dL/dx_i = dL/dy where x_i is the maximum, else 0",
                "only the maximum moved y; tied maxima share the gradient equally"),
    "min": Rule("dL/dx_i = dL/dy where x_i is the minimum, else 0",
                "only the minimum moved y; tied minima share the gradient equally"),
    "var": Rule("dL/dx_i = dL/dy * 2 * (x_i - mean(x)) / (n - ddof)",
                "each element pulls the variance by its distance from the mean"),
    "std": Rule("dL/dx_i = dL/dy * (x_i - mean(x)) / ((n - ddof) * y)",
                "the variance rule, through the square root y = sqrt(var)"),
    "softmax": Rule("dL/dx = y * (dL/dy - sum(dL/dy * y))",
                    "the softmax Jacobian diag(y) - y y.T applied to the gradient"),
    "log_softmax": Rule("dL/dx = dL/dy - exp(y) * sum(dL/dy)",
                        "the identity minus the softmax, applied to the gradient"),
    "reshape": _RESHAPE,
    "flatten": _RESHAPE,
    "squeeze": _RESHAPE,
    "unsqueeze": _RESHAPE,
    "transpose": Rule("dL/dx = transpose(dL/dy, inverse axes)",
                      "each element goes back to where it came from"),
    "getitem": Rule("dL/dx = zeros like x, with dL/dy added at the indexed places",
                    "only the picked elements moved y; an index picked twice gets both shares"),
    "concatenate": Rule("dL/dx_i = the slice of dL/dy that x_i filled",
                        "the gradient is cut back into the pieces that were joined", ()),
    "stack": Rule("dL/dx_i = dL/dy[i] along the stacking axis",
                  "each stacked tensor gets its own layer of the gradient", ()),
    "abs": Rule("dL/dx = dL/dy * sign(x)", "|x| slopes -1 left of 0 and +1 right of it (0 at 0)"),
    "sqrt": Rule("dL/dx = dL/dy / (2 * y)", "the derivative of sqrt(x) is 1 / (2 sqrt(x))"),
    "clip": Rule("dL/dx = dL/dy where min <= x <= max, else 0",
                 "clipped elements did not move y, so they get no gradient"),
    "maximum": Rule("dL/da = dL/dy where a > b;  dL/db = dL/dy where b > a",
                    "the larger operand gets the gradient; ties split it equally", _BINARY),
    "minimum": Rule("dL/da = dL/dy where a < b;  dL/db = dL/dy where b < a",
                    "the smaller operand gets the gradient; ties split it equally", _BINARY),
    "where": Rule("dL/da = dL/dy where condition, else 0;  dL/db = dL/dy where not condition",
                  "each element's gradient goes to the operand it was taken from; the condition "
                  "gets none", _BINARY),
    "conv2d": Rule("dL/dx = dL/dy convolved back through w (a transposed convolution);  "
                   "dL/dw = x correlated with dL/dy;  dL/db = dL/dy summed over batch, height "
                   "and width", "each output pixel is a window of x dotted with a filter, so the "
                   "matmul rule applies window by window", ("x", "w", "b")),
    "max_pool2d": Rule("dL/dx = dL/dy at each window's first maximum, else 0",
                       "only the winning element of each window moved y"),
    "avg_pool2d": Rule("dL/dx = dL/dy / (kh * kw) spread over each window",
                       "every element of a window counts equally in its average"),
    "gelu": Rule("dL/dx = dL/dy * (0.5 * (1 + t) + 0.5 * x * (1 - t**2) * sqrt(2/pi) * "
                 "(1 + 3 * 0.044715 * x**2)) with t = tanh(sqrt(2/pi) * (x + 0.044715 * x**3))",
                 "the product rule on x/2 * (1 + t), with tanh's slope 1 - t**2 inside"),
    "cross_entropy": Rule("dL/dz = (softmax(z) - onehot(labels)) * scale  (scale = 1/batch "
                          "for the mean)", "raising the right class's score lowers the loss by "
                          "what the softmax was missing; every other score pays its share",
                          ("z",)),
    "binary_cross_entropy": Rule("dL/dp = dL/dy * (p - t) / (p * (1 - p));  dL/dt = dL/dy * "
                                 "(log(1 - p) - log(p))", "the slope of -(t log p + (1 - t) "
                                 "log(1 - p)), with p * (1 - p) kept above 1e-12", ("p", "t")),
    "binary_cross_entropy_with_logits": Rule(
        "dL/dz = dL/dy * (sigmoid(z) - t);  dL/dt = -dL/dy * z",
        "through the sigmoid the slope simplifies to prediction minus target", ("z", "t")),
    "astype": Rule("dL/dx = dL/dy cast to x's dtype", "a cast does not change values' slopes"),
    "clone": Rule("dL/dx = dL/dy", "a copy passes the gradient unchanged"),
    "broadcast_to": Rule("dL/dx = dL/dy summed over the repeated axes",
                         "every repeated copy of an element sends its gradient back to it"),
    "scatter_add": Rule("dL/dx = dL/dy at the indexed places",
                        "the adjoint of indexing: each value was added at one place"),
    "windows": Rule("dL/dx = every window's gradient added back onto its pixels (col2im)",
                    "overlapping windows share pixels, so their gradients add up"),
    "col2im": Rule("dL/dcols = the window view of dL/dy",
                   "each window element was added onto one pixel, so it gets that pixel's "
                   "gradient", ("cols",)),
    "layer_norm": Rule("dL/dx = (g - mean(g) - xhat * mean(g * xhat)) / sigma with "
                       "g = dL/dy * w;  dL/dw = sum(dL/dy * xhat);  dL/db = sum(dL/dy)",
                       "xhat = (x - mean) / sigma shares its mean and sigma across the "
                       "normalised axes, so every element's gradient loses the parts that "
                       "would only shift or stretch the whole row", ("x", "w", "b")),
}

GENERIC_RULE = Rule("dL/dx = backward rule of this operation applied to dL/dy",
                    "this operation's rule is not described here; the numbers are what it "
                    "returned", ())


def rule_for(op: str) -> Rule:
    """The rule for ``op``, or :data:`GENERIC_RULE` for an operation the table does not know.

    >>> rule_for("sigmoid").symbols
    'dL/dx = dL/dy * y * (1 - y)'
    """
    return RULES.get(op, GENERIC_RULE)


def operand_names(op: str, count: int) -> tuple[str, ...]:
    """The names ``count`` inputs of ``op`` have in its rule (``x1, x2, ...`` if unnamed).

    >>> operand_names("mul", 2), operand_names("stack", 3)
    (('a', 'b'), ('x1', 'x2', 'x3'))
    """
    names = rule_for(op).inputs
    if count > len(names):
        return tuple(f"x{i + 1}" for i in range(count)) if count > 1 else ("x",)
    return names[:count]


@dataclass
class Arrival:
    """A gradient that reached a tensor from one consumer, as the ``role`` input of ``source``."""

    source: str
    role: str
    grad: np.ndarray


@dataclass
class Step:
    """One rule applied by the backward pass."""

    number: int
    node: Tensor
    rule: Rule
    grad_out: np.ndarray
    arrivals: list[Arrival]
    parent_grads: list[np.ndarray | None]
    text: str = ""


@dataclass
class LeafGradient:
    """The gradient this pass left for a leaf that requires one."""

    node: Tensor
    label: str
    grad: np.ndarray
    arrivals: list[Arrival]


@dataclass
class Explanation:
    """What :func:`explain` found; ``str()`` gives the whole account as text."""

    root: Tensor
    header: str
    steps: list[Step]
    leaves: list[LeafGradient]
    footer: str
    labels: dict[int, str] = field(repr=False, default_factory=dict)

    def __str__(self) -> str:
        return "\n\n".join([self.header, *(step.text for step in self.steps), self.footer]) + "\n"

    def gradient(self, tensor: Tensor) -> np.ndarray | None:
        """dL/d``tensor`` as computed by this pass (``None`` if the pass did not reach it)."""
        for step in self.steps:
            if step.node is tensor:
                return step.grad_out
        for leaf in self.leaves:
            if leaf.node is tensor:
                return leaf.grad
        return None


def _field(prefix: str, text: str) -> str:
    """``prefix + text`` with the continuation lines of ``text`` aligned under its first."""
    first, *rest = text.split("\n")
    return "\n".join([prefix + first, *(" " * len(prefix) + line for line in rest)])


class _Narrator:
    """Formats what the engine's observer reports, step by step."""

    def __init__(self, root: Tensor, max_elements: int, precision: int) -> None:
        self.root = root
        self.order = graph_tensors(root)
        self.labels = {id(node): _node_label(node, i) for i, node in enumerate(self.order)}
        self.total = sum(1 for node in engine.topological_order(root) if node.op is not None)
        self.max_elements, self.precision = max_elements, precision
        self.arrivals: dict[int, list[Arrival]] = {}
        self.steps: list[Step] = []

    def value(self, array: np.ndarray) -> str:
        text = format_array(array, self.max_elements, self.precision)
        return text if array.size <= self.max_elements else f"shape {array.shape}: {text}"

    def observe(self, node: Tensor, grad_out: np.ndarray, parent_grads: tuple) -> None:
        names = operand_names(node.op or "", len(node.parents))
        reduced: list[np.ndarray | None] = []
        notes: list[str] = []
        for parent, role, grad in zip(node.parents, names, parent_grads):
            if grad is None or not parent.requires_grad:
                reduced.append(None)
                notes.append("")
                continue
            grad = np.asarray(grad)
            summed = engine.unbroadcast(grad, parent.shape) if grad.shape != parent.shape else grad
            summed = summed.astype(parent.data.dtype, copy=False)
            reduced.append(summed)
            notes.append(
                f"  (summed over the broadcast axes: {grad.shape} to {parent.shape})"
                if grad.shape != parent.shape else ""
            )
            self.arrivals.setdefault(id(parent), []).append(
                Arrival(self.labels[id(node)], role, summed)
            )
        step = Step(len(self.steps) + 1, node, rule_for(node.op or ""), grad_out,
                    self.arrivals.get(id(node), []), reduced)
        step.text = self.step_text(step, names, notes)
        self.steps.append(step)

    def step_text(self, step: Step, names: tuple[str, ...], notes: list[str]) -> str:
        node, label = step.node, self.labels[id(step.node)]
        arguments = [self.labels[id(parent)] for parent in node.parents]
        attrs = format_attrs(node.attrs)
        call = f"{node.op}({', '.join(arguments + ([attrs] if attrs else []))})"
        lines = [
            f"Step {step.number} of {self.total} · {label} = {call}",
            f"  rule  {node.op}: {step.rule.symbols}",
            textwrap.fill(step.rule.words, 96, initial_indent=" " * 8, subsequent_indent=" " * 8),
        ]
        lines += self.arrival_lines("  in    ", "dL/dy", step.grad_out, step.arrivals,
                                    seed=node is self.root)
        for role, parent in zip(names, node.parents):
            name = self.labels[id(parent)]
            shown = role if name == role else f"{role} ({name})"
            lines.append(_field(f"        {shown} = ", self.value(parent.data)))
        lines.append(_field(f"        y ({label}) = ", self.value(node.data)))
        prefix = "  out   "
        for role, parent, grad, note in zip(names, node.parents, step.parent_grads, notes):
            name = self.labels[id(parent)]
            if grad is None:
                lines.append(f"{prefix}dL/d{role}: none ({name} needs no gradient)")
            else:
                lines.append(_field(f"{prefix}dL/d{role} = ", self.value(grad)) + f"  → {name}"
                             + note)
            prefix = "        "
        return "\n".join(lines)

    def arrival_lines(self, prefix: str, symbol: str, total: np.ndarray,
                      arrivals: list[Arrival], seed: bool = False) -> list[str]:
        if seed:
            return [_field(f"{prefix}{symbol} = ", self.value(total)) + "  (the seed)"]
        if len(arrivals) < 2:
            return [_field(f"{prefix}{symbol} = ", self.value(total))]
        lines = [_field(f"{prefix}{symbol} = ", self.value(total))
                 + f"  the sum over {len(arrivals)} paths:"]
        for arrival in arrivals:
            lines.append(_field(f"{' ' * len(prefix)}    + from {arrival.source} as "
                                f"{arrival.role}: ", self.value(arrival.grad)))
        return lines

    def leaves(self) -> list[LeafGradient]:
        found = []
        for node in self.order:
            if node.op is None and id(node) in self.arrivals:
                arrivals = self.arrivals[id(node)]
                total = arrivals[0].grad
                for arrival in arrivals[1:]:
                    total = total + arrival.grad
                found.append(LeafGradient(node, self.labels[id(node)], total, arrivals))
        return found

    def header(self, seed_grad: np.ndarray) -> str:
        label = self.labels[id(self.root)]
        return "\n".join([
            f"Explain mode: the backward pass from {label}, one rule at a time "
            f"({self.total} steps)",
            f"Notation: L = {label}, where backward starts; at each step y is the operation's "
            "output,",
            "x (or a, b, ...) its inputs, and dL/dy the gradient that has reached y from later "
            "steps.",
            _field(f"Seed: dL/d{label} = ", self.value(seed_grad)),
        ])

    def footer(self, leaves: list[LeafGradient]) -> str:
        lines = ["Gradients reaching the leaves (added to their .grad):"]
        for leaf in leaves:
            symbol = f"dL/d{leaf.label}"
            lines += self.arrival_lines("  ", symbol, leaf.grad, leaf.arrivals)
            descent = -leaf.grad + 0.0  # + 0.0 turns -0.0 into 0.0
            lines.append(_field(f"  -{symbol} = ", self.value(descent))
                         + f"  (the direction gradient descent moves {leaf.label})")
        if not leaves:
            lines.append("  (none)")
        idle = [self.labels[id(node)] for node in self.order
                if node.op is None and not node.requires_grad]
        if idle:
            lines.append(f"No gradient for {', '.join(idle)}: they do not require one.")
        return "\n".join(lines)


def explain(
    tensor: Tensor, grad: Any = None, *, max_elements: int = 16, precision: int = 4
) -> Explanation:
    """Run ``tensor.backward(grad)`` and account for every rule it applies, in order.

    The gradients land in ``.grad`` exactly as with ``backward`` (and add up across calls).
    Numbers are printed in full up to ``max_elements`` elements, else as min, mean and max,
    with ``precision`` significant digits. Needs no Graphviz.

    >>> import autograd_lite as ag
    >>> x = ag.Tensor(3.0, requires_grad=True, name="x")
    >>> result = explain(x * x)
    >>> print(result.footer)
    Gradients reaching the leaves (added to their .grad):
      dL/dx = 6  the sum over 2 paths:
          + from mul#1 as a: 3
          + from mul#1 as b: 3
      -dL/dx = -6  (the direction gradient descent moves x)
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"explain: expected a Tensor, got {type(tensor).__name__}")
    narrator = _Narrator(tensor, max_elements, precision)
    engine.backward(tensor, grad, observer=narrator.observe)
    seed = narrator.steps[0].grad_out if narrator.steps else np.asarray(tensor.grad)
    leaves = narrator.leaves()
    return Explanation(tensor, narrator.header(seed), narrator.steps, leaves,
                       narrator.footer(leaves), narrator.labels)


def explain_html(
    tensor: Tensor,
    path: str | Path,
    grad: Any = None,
    *,
    max_nodes: int | None = 300,
    max_elements: int = 16,
    precision: int = 4,
) -> Path:
    """Explain the backward pass as pictures: write one self-contained HTML page to ``path``.

    Frame 0 is the forward pass; frame k outlines in red the node whose rule step k applies,
    with the gradients known so far; the last frame shows them all. A slider (or the arrow
    keys) moves between frames; each shows that step's text below the picture. The SVGs are
    inlined, so the page needs nothing else. Runs ``backward`` like :func:`explain`; rendering
    needs Graphviz's ``dot`` (:class:`autograd_lite.viz.GraphvizNotFoundError` says how to get
    it). Returns the path written. The tensor, the path's folder (it must exist and be
    writable) and Graphviz are checked before the backward pass, so a refusal changes no
    gradient.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"explain_html: expected a Tensor, got {type(tensor).__name__}")
    target = _writable_target(path)
    require_dot("explain_html")
    explanation = explain(tensor, grad, max_elements=max_elements, precision=precision)
    position = {id(node): i for i, node in enumerate(engine.topological_order(tensor))}
    known = {id(step.node): step.grad_out for step in explanation.steps}
    known.update({id(leaf.node): leaf.grad for leaf in explanation.leaves})
    options: dict[str, Any] = dict(max_nodes=max_nodes, max_elements=max_elements,
                                   precision=precision)
    frames = [("Forward pass: the values, before any gradient",
               dot_lines(tensor, grads={}, **options), explanation.header)]
    for step in explanation.steps:
        done = position[id(step.node)]
        grads = {key: value for key, value in known.items() if position.get(key, -1) <= done}
        title = step.text.split("\n", 1)[0]
        frames.append((title, dot_lines(tensor, grads=grads, highlight=step.node, **options),
                       step.text))
    frames.append(("All gradients", dot_lines(tensor, grads=known, **options),
                   explanation.footer))
    sections = []
    for number, (title, lines, text) in enumerate(frames):
        svg = Drawing(name="autograd", body=lines).pipe(format="svg", encoding="utf-8")
        sections.append(
            f'<section class="frame" id="frame-{number}"{"" if number == 0 else " hidden"}>'
            f"<h2>{html.escape(title)}</h2>\n{svg[svg.index('<svg'):]}\n"
            f"<pre>{html.escape(text)}</pre></section>"
        )
    label = html.escape(explanation.labels[id(tensor)])
    page = _PAGE.format(title=f"Backward pass from {label}", last=len(frames) - 1,
                        frames="\n".join(sections))
    target.write_text(page, encoding="utf-8")
    return target


def _writable_target(path: Any) -> Path:
    """``path`` as a Path to a file that can be written: its folder exists and is writable."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"explain_html: path must be a str or a Path, got {type(path).__name__}")
    target = Path(path)
    folder = target.parent
    if target.is_dir():
        raise IsADirectoryError(f"explain_html: {target} is a folder; give a file name in it")
    if not folder.is_dir():
        raise FileNotFoundError(f"explain_html: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise PermissionError(f"explain_html: the folder {folder} is not writable")
    return target


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; color: #1f2933; }}
.controls {{ display: flex; gap: 0.75rem; align-items: center; margin: 0.75rem 0; }}
.controls input {{ flex: 1; }}
.frame svg {{ max-width: 100%; height: auto; }}
h2 {{ font-size: 1.05rem; }}
pre {{ background: #f6f8fa; padding: 0.75rem; border-radius: 6px; overflow-x: auto; }}
</style>
</head>
<body>
<h1>{title}</h1>
<div class="controls">
<button id="previous" type="button">&larr; previous</button>
<input id="slider" type="range" min="0" max="{last}" value="0" aria-label="step">
<button id="next" type="button">next &rarr;</button>
<span id="counter">0 / {last}</span>
</div>
{frames}
<script>
const frames = document.querySelectorAll(".frame");
const slider = document.getElementById("slider");
function show(index) {{
  index = Math.max(0, Math.min(frames.length - 1, index));
  frames.forEach((frame, k) => {{ frame.hidden = k !== index; }});
  slider.value = index;
  document.getElementById("counter").textContent = index + " / " + (frames.length - 1);
}}
slider.addEventListener("input", () => show(Number(slider.value)));
document.getElementById("previous").addEventListener("click", () => show(Number(slider.value) - 1));
document.getElementById("next").addEventListener("click", () => show(Number(slider.value) + 1));
document.addEventListener("keydown", (event) => {{
  if (event.key === "ArrowLeft") show(Number(slider.value) - 1);
  if (event.key === "ArrowRight") show(Number(slider.value) + 1);
}});
</script>
</body>
</html>
"""
