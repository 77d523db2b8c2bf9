"""The tour: what autograd_lite and nn do, in one command and well under a minute.

1. The four tutorials, run through ``nn`` (logic gates, one sigmoid neuron, seven records,
   dense layers), each checking autograd's gradients against the hand-written rule.
2. The verdicts: for every tutorial, how far autograd's updates are from the rule's.
3. Two moons: an MLP trained by ``nn.fit`` to 100% training accuracy.
4. A neuron's graph after backward (SVG with Graphviz's ``dot``; DOT text without it), and the
   backward rule at its sigmoid, explained with its numbers.
5. Higher-order gradients: tanh's derivatives by differentiating again, and Newton steps.
6. The pictures, and the folder they are in.

    python examples/tour.py [output_dir] [--no-progress]      (default: examples/out/)

Each part reuses the example it comes from; run that example for the whole story.
"""

from __future__ import annotations

import contextlib
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The examples folder is on sys.path when this file runs as a script.
import dense_layers
import draw_graph
import higher_order
import logic_gates
import moons
import seven_records
import sigmoid_neuron
from command_line import OUT_DIR, parse_arguments

import autograd_lite as ag
from autograd_lite.viz import INSTALL_HINT, GraphvizNotFoundError

WIDTH = 78
AGREES = 1e-9  # largest difference that still counts as the same update (float64 rounding)


def header(number: int | str, title: str, source: str = "") -> None:
    """Print a section title with a rule under it, and the example file it comes from."""
    print()
    print(f"{number} · {title}" if number != "" else title)
    label = f" {source} ──" if source else ""
    print("─" * (WIDTH - len(label)) + label)


def quietly(function: Callable[..., dict[str, Any]], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Run an example's ``main`` and return its numbers, keeping its own printout for itself."""
    with contextlib.redirect_stdout(io.StringIO()):
        return function(*args, **kwargs)


def bits(values: Any) -> str:
    return " ".join(str(int(value)) for value in values)


def numbers(values: Any, digits: int = 4) -> str:
    return "(" + ", ".join(f"{float(value):.{digits}f}" for value in values) + ")"


def tutorials() -> list[tuple[str, str, int | None, float]]:
    """Run the four tutorials, print what each shows, and return the verdict rows
    ``(tutorial, reference, updates, largest difference)``."""
    header(1, "Logic gates: McCulloch-Pitts AND, Rosenblatt's perceptron OR",
           "examples/logic_gates.py")
    gates = quietly(logic_gates.main)
    inputs = [bits(row) for row in logic_gates.INPUTS]
    print("  input          " + "   ".join(inputs))
    print("  AND (fixed)    " + "   ".join(f"{int(out):>3}" for out in gates["and_outputs"]))
    print("  OR  (learned)  " + "   ".join(f"{int(out):>3}" for out in gates["outputs"]))
    print(f"  OR's perceptron learned weights {numbers(gates['weights'], 1)} with its bias held at "
          f"{gates['bias']:.0f}")

    header(2, "One sigmoid neuron and the delta rule", "examples/sigmoid_neuron.py")
    neuron = quietly(sigmoid_neuron.main)
    print(f"  weights before  {numbers(neuron['starting_weights'])}")
    print(f"  weights after   {numbers(neuron['weights'])}   ({neuron['updates']:,} updates)")
    print(f"  input [1, 0, 0] -> {neuron['test_output']:.8f}   (the tutorial's 0.99993707)")

    header(3, "Seven records: a sigmoid neuron with a bias", "examples/seven_records.py")
    records = quietly(seven_records.main)
    right = int(((records["outputs"] > 0.5) == (seven_records.LABELS == 1)).sum())
    print(f"  {right} of {len(seven_records.LABELS)} records on the right side of 0.5 "
          f"after {records['updates']:,} epochs")
    print(f"  new point [1, 0, 0] -> {records['first_point']:.4f}   (class 0)")
    print(f"  new point [0, 1, 0] -> {records['second_point']:.4f}   (class 1)")

    header(4, "Dense layers and ReLU", "examples/dense_layers.py")
    dense = quietly(dense_layers.main)
    print(f"  one neuron      w·x + b = {dense['neuron']['output']:.2f}")
    print(f"  two layers      output of shape {dense['layers']['output'].shape}, first row "
          f"{numbers(dense['layers']['output'][0], 3)}")
    print(f"  ReLU            {numbers(dense['relu']['output'], 1)}")
    print(f"  a mismatched layer says: {dense['width_error']}")

    return [
        ("logic gates (OR)", "Rosenblatt's perceptron rule", gates["updates"],
         gates["largest_difference"]),
        ("sigmoid neuron", "delta rule", neuron["updates"], neuron["largest_difference"]),
        ("seven records", "delta rule with a bias column", records["updates"],
         records["largest_difference"]),
        ("dense layers", "gradients worked out by hand", None,
         dense["layers"]["largest_difference"]),
    ]


def verdicts(rows: list[tuple[str, str, int | None, float]]) -> list[str]:
    """Print the autograd-versus-rule table; return each row's verdict."""
    header("", "Verdicts: autograd versus the hand-written rules")
    print(f"  {'tutorial':<18}{'checked against':<31}{'updates':>8}{'largest diff':>14}  verdict")
    found = []
    for tutorial, reference, updates, difference in rows:
        verdict = "same" if difference <= AGREES else "DIFFERENT"
        count = f"{updates:,}" if updates is not None else "-"
        print(f"  {tutorial:<18}{reference:<31}{count:>8}{difference:>14.2g}  {verdict}")
        found.append(verdict)
    agreed = sum(verdict == "same" for verdict in found)
    print(f"  {agreed} of {len(found)} agree: autograd derives the classic rules' updates "
          f"(to within {AGREES:g}).")
    return found


def two_moons(folder: Path, progress: bool) -> dict[str, Any]:
    """Train the moons MLP with ``nn.fit`` and print its epochs."""
    header(5, "Two moons: an MLP trained by nn.fit", "examples/moons.py")
    sys.stdout.flush()  # what is printed so far comes before the progress bar (on stderr)
    result = quietly(moons.main, folder, progress=progress)
    history = result["history"]
    print(f"  100 noisy points, MLP 2→16→16→1 (ReLU), Adam, batches of 10, {history.epochs} "
          f"epochs in {result['seconds']:.1f} s")
    print(f"  {'epoch':>7}{'loss':>10}{'accuracy':>10}{'fresh loss':>13}{'fresh acc.':>12}")
    shown = sorted({1, 5, 10, 20, 50, history.epochs} & set(range(1, history.epochs + 1)))
    for epoch in shown:
        print(f"  {epoch:>7}{history['loss'][epoch - 1]:>10.4f}"
              f"{history['accuracy'][epoch - 1]:>10.1%}{history['val_loss'][epoch - 1]:>13.4f}"
              f"{history['val_accuracy'][epoch - 1]:>12.1%}")
    print(f"  training accuracy {result['accuracy']:.0%}; on 200 fresh points from the same moons "
          f"{result['validation_accuracy']:.1%}")
    return result


def neuron_graph(folder: Path) -> list[Path]:
    """Explain the backward pass of draw_graph's neuron and draw its graph (SVG, or DOT)."""
    header(6, "A neuron's graph after backward", "examples/draw_graph.py")
    loss = draw_graph.sigmoid_neuron()
    explanation = ag.explain(loss)  # runs the backward pass and narrates each rule
    print("  loss = 0.5 * (y - sigmoid(w·x + b))**2; explain mode at the sigmoid:")
    step = next(step for step in explanation.steps if step.node.op == "sigmoid")
    for line in step.text.splitlines():
        print("    " + line)
    title = "a sigmoid neuron after backward: values and gradients"
    try:
        written = draw_graph.render(loss, folder / "neuron_graph", title)
    except GraphvizNotFoundError:
        dot_path = folder / "neuron_graph.dot"
        dot_path.write_text(ag.to_dot(loss, title=title), encoding="utf-8")
        print(f"  Graphviz's `dot` is not installed, so the graph is DOT text: {dot_path.name}")
        print(f"  ({INSTALL_HINT})")
        return [dot_path]
    print(f"  drawn with Graphviz: {', '.join(path.name for path in written)}")
    return written


def derivatives_again(folder: Path) -> dict[str, Any]:
    """tanh's derivatives by differentiating the last, and Newton's method with the Hessian."""
    header(7, "Differentiating the backward pass: higher-order gradients",
           "examples/higher_order.py")
    result = quietly(higher_order.main, folder)
    print(f"  tanh's first {higher_order.DERIVATIVES} derivatives, each func.grad of the last; the "
          f"first three equal their formulas to {result['derivative_error']:.0e}")
    print(f"  d2/dx2 (x tanh x) at 0.5 = {result['curvature']:.6f}, "
          "from the recorded backward pass")
    point, value = result["newton"][-1]
    print(f"  Newton with func.grad and func.hessian: {len(result['newton']) - 1} steps to "
          f"({point[0]:.6f}, {point[1]:.6f}), f = {value:.9f}")
    return result


def main(output_dir: str | Path | None = None, progress: bool = True) -> dict[str, Any]:
    """Run the whole tour; return its verdicts, the moons accuracy and the files written."""
    started = time.perf_counter()
    folder = Path(output_dir) if output_dir is not None else OUT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    print("autograd_lite tour: a NumPy autograd engine (autograd_lite) and the neural-network")
    print("pieces built on it (nn), checked against the classic hand-written learning rules.")

    found = verdicts(tutorials())
    moons_result = two_moons(folder, progress)
    graph = neuron_graph(folder)
    higher = derivatives_again(folder)

    pictures = [*moons_result["pictures"], *graph, *higher["pictures"]]
    header(8, "Pictures")
    descriptions = {
        "moons_boundary.png": "the moons MLP's decision boundary",
        "moons_loss.png": "its loss and accuracy per epoch",
        "tanh_derivatives.png": "tanh and six derivatives, each of the last",
        "second_derivative.svg": "a derivative's graph: the backward pass recorded",
    }
    for path in pictures:
        described = descriptions.get(path.name, "the neuron's graph, values and gradients")
        print(f"  {path.name:<22}{described}")
    seconds = time.perf_counter() - started
    print()
    print("Next: python examples/digits.py (real handwritten digits, 97%+ on the test set).")
    print("Then: python examples/names.py (a small GPT learns to invent surnames; minutes).")
    print(f"Tour finished in {seconds:.1f} s. The pictures are in {folder.resolve()}")
    return {
        "verdicts": found,
        "moons_accuracy": moons_result["accuracy"],
        "pictures": pictures,
        "folder": folder.resolve(),
        "seconds": seconds,
    }


if __name__ == "__main__":
    arguments = parse_arguments(__doc__.splitlines()[0])
    main(arguments.output_dir, progress=arguments.progress)
