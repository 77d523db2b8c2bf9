"""Draw a sigmoid neuron's graph before and after backward, and explain the backward pass.

    python examples/draw_graph.py [output_dir]      (default: examples/out/)

Writes the graph as SVG and PNG before backward (values only) and after it (values and
gradients), the explain-mode text, and an HTML page that steps through the backward pass.
The pictures need Graphviz's `dot` program; without it the script says how to install it.
"""

import argparse
from pathlib import Path

from command_line import OUT_DIR  # examples/ is on sys.path when run

import autograd_lite as ag
from autograd_lite.explain import explain, explain_html
from autograd_lite.viz import GraphvizNotFoundError, draw


def sigmoid_neuron() -> ag.Tensor:
    """loss = 0.5 * (y - sigmoid(w·x + b))**2 for one example, with every tensor named."""
    w = ag.Tensor([0.5, -0.3, 0.8], requires_grad=True, name="w")
    x = ag.Tensor([1.0, 0.0, 1.0], name="x")
    b = ag.Tensor(0.1, requires_grad=True, name="b")
    y = ag.Tensor(1.0, name="y")
    z = ag.dot(w, x) + b
    z.name = "z"
    o = ag.sigmoid(z)
    o.name = "o"
    loss = 0.5 * (y - o) ** 2
    loss.name = "loss"
    return loss


def render(loss: ag.Tensor, stem: Path, title: str) -> list[Path]:
    """Write ``stem.svg`` and ``stem.png`` (at 150 dpi) of the graph as it is now."""
    drawing = draw(loss, title=title)
    written = [Path(drawing.render(outfile=stem.with_suffix(".svg"), cleanup=True))]
    drawing.attr(dpi="150")
    written.append(Path(drawing.render(outfile=stem.with_suffix(".png"), cleanup=True)))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir", nargs="?", type=Path, default=OUT_DIR,
                        help=f"folder for the pictures and texts (default: {OUT_DIR})")
    folder = parser.parse_args().output_dir
    folder.mkdir(parents=True, exist_ok=True)

    loss = sigmoid_neuron()
    try:
        written = render(loss, folder / "neuron_before", "before backward: values only")
        explanation = explain(loss)  # this runs the backward pass
        written += render(loss, folder / "neuron_after", "after backward: values and gradients")
    except GraphvizNotFoundError as error:
        raise SystemExit(str(error)) from None
    text_path = folder / "neuron_explain.txt"
    text_path.write_text(str(explanation), encoding="utf-8")
    written.append(text_path)
    # The page runs its own backward pass, on a fresh copy of the graph.
    written.append(explain_html(sigmoid_neuron(), folder / "neuron_explain.html"))

    sigmoid_step = next(step for step in explanation.steps if step.node.op == "sigmoid")
    print(sigmoid_step.text)
    print()
    print(explanation.footer)
    print()
    for path in written:
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
