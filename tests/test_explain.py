"""Explain mode: the narrated backward pass, its numbers, and the stepping HTML page."""

import re
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite import engine
from autograd_lite.explain import GENERIC_RULE, RULES, explain, explain_html, rule_for
from autograd_lite.viz import HIGHLIGHT_COLOR

SVG = "{http://www.w3.org/2000/svg}"
NUMBER = re.compile(r"-?\d+(?:\.\d*)?(?:e[-+]?\d+)?")

# Every op name API.md lists ("Conventions in detail" and "Beyond the MLP").
API_OPS = [
    "add", "sub", "neg", "mul", "div", "pow", "matmul", "dot", "exp", "log", "tanh", "sigmoid",
    "relu", "step", "sum", "mean", "max", "reshape", "transpose", "getitem", "softmax",
    "log_softmax", "conv2d", "max_pool2d", "avg_pool2d", "abs", "sqrt", "clip", "maximum",
    "minimum", "where", "min", "var", "std", "flatten", "squeeze", "unsqueeze", "concatenate",
    "stack",
]


def tutorial_neuron() -> tuple[ag.Tensor, ag.Tensor, np.ndarray, np.ndarray, np.ndarray]:
    """The tutorial's single sigmoid neuron: loss = 0.5 * sum((y - sigmoid(X @ w))**2)."""
    inputs = np.array([[0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1]], dtype=float)
    targets = np.array([[0, 1, 1, 0]], dtype=float).T
    np.random.seed(15)
    start = 2 * np.random.random((3, 1)) - 1
    w = ag.Tensor(start, requires_grad=True, name="w")
    prediction = ag.sigmoid(ag.Tensor(inputs, name="X") @ w)
    loss = 0.5 * ((ag.Tensor(targets, name="y") - prediction) ** 2).sum()
    return loss, w, inputs, targets, start


def numbers_after(text: str, marker: str) -> np.ndarray:
    """The numbers printed right after ``marker`` (up to the closing bracket or line end)."""
    start = text.index(marker) + len(marker)
    block = text[start:]
    end = block.index("]]") + 2 if block.startswith("[[") else block.index("\n")
    return np.array([float(n) for n in NUMBER.findall(block[:end])])


def test_tutorial_neuron_shows_the_delta_rule_numbers():
    loss, w, inputs, targets, start = tutorial_neuron()
    result = explain(loss)
    # The classic delta rule, by hand: w += lr * X.T @ ((y - o) * o * (1 - o)).
    o = 1 / (1 + np.exp(-inputs @ start))
    adjustment = inputs.T @ ((targets - o) * o * (1 - o))
    np.testing.assert_allclose(w.grad, -adjustment, rtol=1e-12)
    np.testing.assert_allclose(result.gradient(w), -adjustment, rtol=1e-12)
    text = str(result)
    shown = numbers_after(result.footer, "-dL/dw = ")
    np.testing.assert_allclose(shown, adjustment.ravel(), rtol=1e-3)
    matmul_step = next(step for step in result.steps if step.node.op == "matmul")
    shown_out = numbers_after(matmul_step.text, "\n        dL/db = ")
    np.testing.assert_allclose(shown_out, -adjustment.ravel(), rtol=1e-3)
    assert "(the direction gradient descent moves w)" in text
    assert "dL/da: none (X needs no gradient)" in matmul_step.text


def test_sigmoid_step_states_its_rule_and_the_numbers_that_went_in_and_out():
    loss, _, inputs, targets, start = tutorial_neuron()
    result = explain(loss)
    step = next(step for step in result.steps if step.node.op == "sigmoid")
    assert "sigmoid: dL/dx = dL/dy * y * (1 - y)" in step.text
    z = inputs @ start
    o = 1 / (1 + np.exp(-z))
    grad_in = o - targets  # dL/do for 0.5 * sum((y - o)**2)
    np.testing.assert_allclose(step.grad_out, grad_in, rtol=1e-12)
    np.testing.assert_allclose(step.parent_grads[0], grad_in * o * (1 - o), rtol=1e-12)
    shown_in = numbers_after(step.text, "in    dL/dy = ")
    np.testing.assert_allclose(shown_in, grad_in.ravel(), rtol=1e-3)
    np.testing.assert_allclose(numbers_after(step.text, "x (matmul#4) = "), z.ravel(), rtol=1e-3)
    np.testing.assert_allclose(numbers_after(step.text, "y (sigmoid#5) = "), o.ravel(),
                               rtol=1e-3)
    np.testing.assert_allclose(numbers_after(step.text, "out   dL/dx = "),
                               (grad_in * o * (1 - o)).ravel(), rtol=1e-3)


def test_steps_follow_the_engines_order_and_are_numbered():
    loss = tutorial_neuron()[0]
    expected = [node for node in engine.topological_order(loss) if node.op is not None]
    result = explain(loss)
    assert [step.node for step in result.steps] == expected
    for number, step in enumerate(result.steps, start=1):
        assert step.number == number
        assert step.text.startswith(f"Step {number} of {len(expected)} · ")
    assert "(the seed)" in result.steps[0].text
    assert str(result) == "\n\n".join(
        [result.header, *(step.text for step in result.steps), result.footer]
    ) + "\n"


def test_gradients_from_several_paths_are_shown_summed():
    x = ag.Tensor(3.0, requires_grad=True, name="x")
    a = x * 2
    a.name = "a"
    loss = a * a + a  # a reaches loss along three edges, x along one
    result = explain(loss)
    step = next(step for step in result.steps if step.node is a)
    assert "the sum over 3 paths:" in step.text
    assert [(arrival.role, float(arrival.grad)) for arrival in step.arrivals] == [
        ("b", 1.0), ("a", 6.0), ("b", 6.0)
    ]
    assert float(step.grad_out) == 13.0 == sum(float(arrival.grad) for arrival in step.arrivals)
    assert "+ from mul#3 as a: 6" in step.text and "+ from add#4 as b: 1" in step.text
    assert float(x.grad) == 26.0


def test_a_reused_leaf_lists_each_path_in_the_footer():
    x = ag.Tensor(3.0, requires_grad=True, name="x")
    result = explain(x * x + x)
    leaf = result.leaves[0]
    assert [float(arrival.grad) for arrival in leaf.arrivals] == [1.0, 3.0, 3.0]
    assert "dL/dx = 7  the sum over 3 paths:" in result.footer


def test_broadcasting_is_named_where_a_gradient_is_summed_back():
    bias = ag.Tensor(np.zeros(3), requires_grad=True, name="bias")
    result = explain((ag.Tensor(np.ones((4, 3))) + bias).sum())
    add_step = next(step for step in result.steps if step.node.op == "add")
    assert "summed over the broadcast axes: (4, 3) to (3,)" in add_step.text
    np.testing.assert_array_equal(add_step.parent_grads[1], [4.0, 4.0, 4.0])


def test_large_arrays_are_summarised():
    x = ag.Tensor(np.arange(100.0), requires_grad=True, name="x")
    text = str(explain((x * x).sum()))
    assert "shape (100,): min 0  mean 99  max 198" in text
    full = str(explain((x * 1.0).sum(), max_elements=100))
    assert "shape (100,)" not in full


def test_the_rule_table_covers_every_op_in_the_contract():
    missing = [op for op in API_OPS if op not in RULES]
    assert not missing, f"explain.RULES lacks {missing}"
    for op, rule in RULES.items():
        assert rule.symbols.startswith("dL/d") and rule.words, op
    assert rule_for("no_such_op") is GENERIC_RULE


def test_the_rule_table_covers_every_op_the_library_records():
    """Every ``record("name", ...)`` in autograd_lite and nn (the losses and layer_norm
    included), so that no explanation of a model falls back to the generic rule."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    recorded = {
        name
        for package in ("autograd_lite", "nn")
        for source in (root / package).rglob("*.py")
        for name in re.findall(r'record\(\s*"(\w+)"', source.read_text(encoding="utf-8"))
    }
    assert {"add", "cross_entropy", "layer_norm", "gelu"} <= recorded
    missing = sorted(recorded - set(RULES))
    assert not missing, f"explain.RULES lacks {missing}"


def test_an_op_the_table_does_not_know_gets_the_generic_rule_and_its_numbers():
    x = ag.Tensor([1.0, 2.0], requires_grad=True, name="x")
    mystery = engine.record("mystery", x.data * 3, (x,), lambda grad_out: (grad_out * 3,))
    result = explain(mystery.sum())
    step = next(step for step in result.steps if step.node.op == "mystery")
    assert f"mystery: {GENERIC_RULE.symbols}" in step.text
    assert "dL/dx = [3, 3]" in step.text


def test_explain_leaves_the_same_gradients_as_backward():
    def model() -> tuple[ag.Tensor, ag.Tensor, ag.Tensor]:
        rng = np.random.default_rng(0)
        w = ag.Tensor(rng.normal(size=(3, 4)), requires_grad=True, name="w")
        b = ag.Tensor(rng.normal(size=4), requires_grad=True, name="b")
        logits = ag.Tensor(rng.normal(size=(5, 3))) @ w + b
        return -(ag.log_softmax(logits, axis=1)[np.arange(5), [0, 1, 2, 3, 0]]).mean(), w, b

    loss, w, b = model()
    result = explain(loss)
    reference, w_ref, b_ref = model()
    reference.backward()
    np.testing.assert_allclose(w.grad, w_ref.grad, rtol=1e-12)
    np.testing.assert_allclose(result.gradient(b), b_ref.grad, rtol=1e-12)
    assert "log_softmax: dL/dx = dL/dy - exp(y) * sum(dL/dy)" in str(result)


def test_a_chain_deeper_than_the_recursion_limit_is_explained():
    x = ag.Tensor(1.0, requires_grad=True, name="x")
    y = x
    for _ in range(3000):
        y = -y
    result = explain(y)
    assert len(result.steps) == 3000 and result.steps[-1].text.startswith("Step 3000 of 3000")
    assert float(x.grad) == 1.0


def test_explain_needs_no_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert "Step 1 of" in str(explain(tutorial_neuron()[0]))


def test_bad_input_raises_clear_errors():
    with pytest.raises(TypeError, match="explain: expected a Tensor"):
        explain(1.0)
    with pytest.raises(RuntimeError, match="does not require grad"):
        explain(ag.Tensor(1.0) * 2)


def test_html_page_has_one_highlighted_frame_per_step(tmp_path):
    if shutil.which("dot") is None:
        pytest.fail("explain_html renders with Graphviz's `dot`: apt-get install graphviz")
    loss = tutorial_neuron()[0]
    steps = len([node for node in engine.topological_order(loss) if node.op is not None])
    path = explain_html(loss, tmp_path / "steps.html")
    page = path.read_text(encoding="utf-8")
    frames = re.findall(r'<section class="frame" id="frame-(\d+)"( hidden)?>(.*?)</section>',
                        page, re.DOTALL)
    assert [int(number) for number, _, _ in frames] == list(range(steps + 2))
    assert [hidden for _, hidden, _ in frames] == [""] + [" hidden"] * (steps + 1)
    assert f'max="{steps + 1}"' in page
    waiting = []
    for number, _, body in frames:
        svg = body[body.index("<svg"): body.index("</svg>") + len("</svg>")]
        texts = [text.text for text in ET.fromstring(svg).iter(f"{SVG}text")]
        waiting.append(sum(1 for text in texts if text and text.startswith("grad —")))
        assert (HIGHLIGHT_COLOR in svg) == (0 < int(number) <= steps)
    # Gradients appear as the pass reaches them: every node needing one waits at first, none
    # at the end, and the count never goes up.
    needing = len(engine.topological_order(loss))
    assert waiting[0] == needing and waiting[-1] == 0
    assert waiting == sorted(waiting, reverse=True) and len(set(waiting)) == len(waiting)
    assert "sigmoid: dL/dx = dL/dy * y * (1 - y)" in page
    assert not re.search(r'<(script|link|img)[^>]+(src|href)=', page)  # self-contained


def test_explain_html_without_graphviz_refuses_before_backward(tmp_path, monkeypatch):
    from autograd_lite.viz import GraphvizNotFoundError

    loss = tutorial_neuron()[0]
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GraphvizNotFoundError, match="install"):
        explain_html(loss, tmp_path / "steps.html")
    assert loss.grad is None and all(node.grad is None for node in engine.topological_order(loss))
