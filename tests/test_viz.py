"""to_dot and draw: deterministic DOT text, labels, big graphs, clusters and real renders."""

import re
import shutil
import time
import xml.etree.ElementTree as ET

import graphviz
import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite.viz import (
    STYLES,
    GraphvizNotFoundError,
    draw,
    format_array,
    graph_tensors,
    to_dot,
)

SVG = "{http://www.w3.org/2000/svg}"
NODE_LINE = re.compile(r"^\s*(t\d+|op\d+) \[", re.MULTILINE)
EDGE_LINE = re.compile(r"^\s*(\w+) -> (\w+)", re.MULTILINE)


def neuron() -> ag.Tensor:
    """loss = 0.5 * (y - sigmoid(w·x + b))**2, built fresh each call."""
    w = ag.Tensor([0.5, -0.3, 0.8], requires_grad=True, name="w")
    x = ag.Tensor([1.0, 0.0, 1.0], name="x")
    b = ag.Tensor(0.1, requires_grad=True, name="b")
    out = ag.sigmoid(ag.dot(w, x) + b)
    return 0.5 * (ag.Tensor(1.0, name="y") - out) ** 2


def node_attributes(text: str, node: str) -> str:
    match = re.search(rf"^\s*{node} \[(.*)\]$", text, re.MULTILINE)
    assert match, f"no node {node} in the DOT text"
    return match.group(1)


def require_dot() -> None:
    if shutil.which("dot") is None:
        pytest.fail(
            "Graphviz's `dot` program is not installed, but these tests render for real: "
            "apt-get install graphviz (brew install graphviz, conda install graphviz)"
        )


def test_same_graph_gives_the_same_text_and_no_object_ids_leak_in():
    first, second = neuron(), neuron()
    text = to_dot(first)
    assert text == to_dot(first)
    assert text == to_dot(second)  # a separate but equal graph: ids differ, text does not
    first.backward()
    second.backward()
    assert to_dot(first) == to_dot(second) != text
    assert str(id(first)) not in text


def test_structure_nodes_edges_and_left_to_right():
    loss = neuron()
    text = to_dot(loss, legend=False)
    assert text.startswith("digraph autograd {\n") and text.endswith("}\n")
    assert "rankdir=LR" in text
    order = graph_tensors(loss)
    names = [node.name or node.op for node in order]
    assert names == [None, "y", "w", "x", "dot", "b", "add", "sigmoid", "sub", "pow", "mul"]
    nodes = NODE_LINE.findall(text)
    ops = [node for node in order if node.op is not None]
    assert len([n for n in nodes if n.startswith("t")]) == len(order) == 11
    assert len([n for n in nodes if n.startswith("op")]) == len(ops) == 6
    edges = EDGE_LINE.findall(text)
    # Each operation: one edge per operand into it, one edge out to its result.
    assert len(edges) == sum(len(node.parents) + 1 for node in ops)
    index = {id(node): i for i, node in enumerate(order)}
    for node in ops:
        i = index[id(node)]
        assert (f"op{i}", f"t{i}") in edges
        for parent in node.parents:
            assert (f"t{index[id(parent)]}", f"op{i}") in edges


def test_operand_order_is_labelled_for_two_operand_ops():
    a, b = ag.Tensor(1.0, name="a", requires_grad=True), ag.Tensor(2.0, name="b")
    text = to_dot(b - a, legend=False)
    assert "<B>b</B>" in node_attributes(text, "t0")  # the first operand is met first
    assert re.search(r"t0 -> op2 \[headlabel=\"a\"", text)
    assert re.search(r"t1 -> op2 \[headlabel=\"b\"", text)


def test_edges_name_operands_as_explain_mode_does():
    p, q = ag.Tensor([1.0], requires_grad=True), ag.Tensor([2.0], requires_grad=True)
    joined = ag.concatenate([p, q])
    text = to_dot(joined, legend=False)
    assert re.search(r"t0 -> op2 \[headlabel=\"x1\"", text)
    assert re.search(r"t1 -> op2 \[headlabel=\"x2\"", text)
    assert "dL/dx1 = [1]" in ag.explain(joined.sum()).steps[1].text
    power = to_dot(p ** ag.Tensor(2.0), legend=False)
    assert 'headlabel="x"' in power and 'headlabel="n"' in power


def test_labels_show_name_shape_dtype_value_and_gradient():
    loss = neuron()
    before = to_dot(loss)
    w_label = node_attributes(before, "t2")
    assert "<B>w</B>" in w_label and "shape (3,)" in w_label and "float64" in w_label
    assert "data [0.5, -0.3, 0.8]" in w_label
    assert "grad —" in w_label
    loss.backward()
    after = to_dot(loss)
    w = graph_tensors(loss)[2]
    assert f"grad {format_array(w.grad)}" in node_attributes(after, "t2")
    assert "grad" not in node_attributes(after, "t3")  # x needs no gradient: no grad line
    plain = to_dot(loss, show_data=False, show_grad=False)
    assert "monospace" not in plain and "data" in before


def test_large_tensors_show_min_mean_max_not_every_element():
    x = ag.Tensor(np.arange(1000.0).reshape(10, 100), requires_grad=True, name="big")
    text = to_dot(x.sum())
    assert "data min 0  mean 499.5  max 999" in text
    assert "shape (10, 100)" in text
    assert "998" not in text
    small = to_dot(x.sum(), max_elements=2000)
    assert "998" in small


def test_op_nodes_show_attributes():
    x = ag.Tensor(np.ones((2, 3)), requires_grad=True)
    text = to_dot((x.step(threshold=0.5) ** 3).sum(axis=1, keepdims=True))
    assert "threshold=0.5" in text and "exponent=3" in text and "axis=1, keepdims=True" in text


def test_kinds_are_told_apart_and_the_legend_names_them():
    loss = neuron()
    text = to_dot(loss)
    fills = {kind: f'fillcolor="{style[2]}"' for kind, style in STYLES.items()}
    assert len(set(fills.values())) == len(fills)
    assert fills["parameter"] in node_attributes(text, "t2")  # w
    assert fills["input"] in node_attributes(text, "t3")  # x
    assert fills["intermediate"] in node_attributes(text, "t4")  # dot
    assert fills["output"] in node_attributes(text, "t10")  # loss
    assert fills["operation"] in node_attributes(text, "op4")
    legend = node_attributes(text, "legend")
    for words in ("parameter", "input or constant", "intermediate", "output", "operation"):
        assert words in legend
    assert "legend" not in to_dot(loss, legend=False)


def test_highlight_outlines_the_node_and_the_edges_its_gradient_takes():
    loss = neuron()
    add = graph_tensors(loss)[6]
    text = to_dot(loss, highlight=add)
    assert "penwidth=3.5" in node_attributes(text, "t6")
    assert "penwidth=3.5" in node_attributes(text, "op6")
    assert "penwidth=3.5" not in node_attributes(text, "t4")
    assert text.count('color="#dc2626" penwidth=2 ') == 2  # dot -> add and b -> add
    with pytest.raises(TypeError, match="highlight"):
        to_dot(loss, highlight=[1.0])


def test_labels_are_escaped_for_html():
    x = ag.Tensor(1.0, requires_grad=True, name='<b>&"x"</b>\n2')
    text = to_dot(x * 2)
    assert "&lt;b&gt;&amp;&quot;x&quot;&lt;/b&gt;" in text
    assert "<b>" not in text


def test_bad_arguments_raise_errors_that_say_what_is_wrong():
    with pytest.raises(TypeError, match="to_dot: expected a Tensor, got list"):
        to_dot([1.0, 2.0])
    with pytest.raises(TypeError, match="graph_tensors: expected a Tensor, got list"):
        graph_tensors([1.0, 2.0])
    with pytest.raises(ValueError, match="max_nodes must be a positive int"):
        to_dot(neuron(), max_nodes=0)
    with pytest.raises(ValueError, match="max_nodes must be a positive int"):
        to_dot(neuron(), max_nodes=True)


def chain(length: int) -> ag.Tensor:
    x = ag.Tensor(0.5, requires_grad=True, name="x")
    for _ in range(length):
        x = -x
    return x


def test_a_100000_node_graph_gives_dot_text_without_recursion():
    root = chain(100_000)
    start = time.perf_counter()
    text = to_dot(root, max_nodes=None)
    assert time.perf_counter() - start < 20
    nodes = NODE_LINE.findall(text)
    assert len(nodes) == 100_001 + 100_000  # tensors and operations
    assert "t100000 [" in text and "not drawn" not in text


def test_max_nodes_draws_the_nearest_tensors_and_says_what_was_left_out():
    root = chain(1000)
    text = to_dot(root, max_nodes=50)
    tensors = [n for n in NODE_LINE.findall(text) if n.startswith("t")]
    assert tensors == [f"t{i}" for i in range(951, 1001)]  # nearest the output
    assert "951 more tensors (950 operations) not drawn: max_nodes=50 of 1,001" in text
    assert "omitted -> op951 [style=dashed]" in text
    assert "more tensors" in to_dot(root)  # the default cap applies too
    assert "not drawn" not in to_dot(chain(10))


def test_name_scopes_become_nested_clusters_and_parameters_join_their_layer():
    weights = ag.Tensor(np.ones((3, 4)), requires_grad=True, name="layers.0.weights")
    x = ag.Tensor(np.ones((2, 3)), name="x")
    with ag.name_scope("MLP"):
        with ag.name_scope("Dense(3→4)"):
            hidden = (x @ weights).relu()
        with ag.name_scope("Dense(4→1)"):
            out = hidden.sum(axis=1)
    loss = out.mean()
    text = to_dot(loss, legend=False)
    assert "<B>layers.0.weights</B>" in text
    mlp = text.index("subgraph cluster_1 {")
    first = text.index("subgraph cluster_2 {")
    second = text.index("subgraph cluster_3 {")
    assert mlp < first < second
    assert "<B>MLP</B>" in text[mlp:first] and "<B>Dense(3→4)</B>" in text[first:second]
    # The weights (made outside any scope) are drawn in the layer that uses them...
    assert "<B>layers.0.weights</B>" in text[first:second]
    # ...the input stays outside, and the loss's mean is outside every cluster.
    x_line = text.index("<B>x</B>")
    assert x_line < mlp
    nested = text[first:].split("\n")
    depth_of_weights = next(line for line in nested if "layers.0.weights" in line)
    assert depth_of_weights.startswith("\t\t\t") and not depth_of_weights.startswith("\t\t\t\t")


def test_draw_returns_a_digraph_with_the_same_source():
    loss = neuron()
    drawing = draw(loss, max_nodes=5, legend=False)
    assert isinstance(drawing, graphviz.Digraph)
    assert drawing.source == to_dot(loss, max_nodes=5, legend=False)


def test_a_real_dot_render_gives_svg_with_every_node(tmp_path):
    require_dot()
    loss = neuron()
    loss.backward()
    path = draw(loss).render(outfile=tmp_path / "neuron.svg", cleanup=True)
    root = ET.parse(path).getroot()
    titles = [g.find(f"{SVG}title").text for g in root.iter(f"{SVG}g") if g.get("class") == "node"]
    assert sorted(t for t in titles if t.startswith("t")) == sorted(f"t{i}" for i in range(11))
    assert len([t for t in titles if t.startswith("op")]) == 6
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "w" in texts and "sigmoid" in texts and "grad -0.03139" in texts
    # Jupyter shows the same picture inline.
    assert "<svg" in draw(loss)._repr_mimebundle_()["image/svg+xml"]


def test_escaped_labels_render(tmp_path):
    require_dot()
    x = ag.Tensor(1.0, requires_grad=True, name='<b>&"x"</b>\x01')
    svg = draw(x * 2).pipe(format="svg", encoding="utf-8")
    texts = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")]
    assert '<b>&"x"</b>\ufffd' in texts


def test_a_missing_dot_program_says_how_to_install_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` anywhere on PATH
    drawing = draw(neuron())
    for attempt in (
        lambda: drawing.render(outfile=tmp_path / "graph.svg"),
        lambda: drawing.pipe(format="svg"),
    ):
        with pytest.raises(GraphvizNotFoundError) as caught:
            attempt()
        message = str(caught.value)
        assert "apt-get install graphviz" in message
        assert "brew install graphviz" in message and "conda install" in message
        assert isinstance(caught.value, graphviz.ExecutableNotFound)
    assert to_dot(neuron()).startswith("digraph")  # DOT text needs no Graphviz
