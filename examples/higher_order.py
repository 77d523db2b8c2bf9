"""The backward pass is a computation too: differentiate it again, draw it, and take Newton steps.

    python examples/higher_order.py [output_dir]      (default: examples/out/)

1. tanh and its first six derivatives, each computed by differentiating the one before with
   ``func.grad`` (no formula written by hand), plotted on one picture.
2. The graph of a second derivative: ``grad(..., create_graph=True)`` records the backward
   pass of x * tanh(x) as operations, and ``draw`` shows them.
3. Newton's method on f(x, y) = exp(x - 1) + exp(1 - y) + (x - y)**2, each step
   x ← x - H⁻¹ ∇f with the gradient from ``func.grad`` and the Hessian from ``func.hessian``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
from command_line import OUT_DIR  # examples/ is on sys.path when run

import autograd_lite as ag
from autograd_lite import func
from autograd_lite.viz import GraphvizNotFoundError

DERIVATIVES = 6


def tanh_derivatives(points: np.ndarray, count: int = DERIVATIVES) -> list[np.ndarray]:
    """[tanh, tanh', ..., tanh^(count)] at ``points``: each is ``func.grad`` of the one before.

    ``func.grad`` wants a one-element output, so each level differentiates the sum over the
    points, whose gradient at every point is that point's own derivative.
    """
    levels: list[Any] = [ag.tanh]
    for _ in range(count):
        previous = levels[-1]
        levels.append(func.grad(lambda x, f=previous: f(x).sum()))
    return [level(points).numpy() for level in levels]


def second_derivative_graph() -> tuple[ag.Tensor, ag.Tensor]:
    """d/dx (x * tanh(x)) recorded as a graph at x = 0.5, and the second derivative's value."""
    x = ag.Tensor(0.5, requires_grad=True, name="x")
    y = x * ag.tanh(x)
    y.name = "y"
    (slope,) = ag.grad(y, x, create_graph=True)
    slope.name = "dy/dx"
    (curvature,) = ag.grad(slope, x)
    return slope, curvature


def newton_objective(v: ag.Tensor) -> ag.Tensor:
    x, y = v[0], v[1]
    return ag.exp(x - 1) + ag.exp(1 - y) + (x - y) ** 2


def newton(start: tuple[float, float], steps: int = 8) -> list[tuple[np.ndarray, float]]:
    """Newton's method: v ← v - H(v)⁻¹ ∇f(v). Returns every point and its value."""
    gradient, hessian = func.grad(newton_objective), func.hessian(newton_objective)
    point = np.array(start)
    history = [(point, newton_objective(ag.Tensor(point)).item())]
    for _ in range(steps):
        point = point - np.linalg.solve(hessian(point).numpy(), gradient(point).numpy())
        history.append((point, newton_objective(ag.Tensor(point)).item()))
    return history


def plot_derivatives(points: np.ndarray, curves: list[np.ndarray], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for order, curve in enumerate(curves):
        label = "tanh" if order == 0 else f"tanh{chr(0x2032) * order}" if order < 4 else (
            f"tanh^({order})"
        )
        axes.plot(points, curve, label=label, linewidth=1.6)
    axes.set_xlabel("x")
    axes.set_title("tanh and its first six derivatives, each by differentiating the last")
    axes.legend(ncol=4, fontsize=8, loc="lower left")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def main(output_dir: Path = OUT_DIR) -> dict[str, Any]:
    output_dir.mkdir(parents=True, exist_ok=True)
    points = np.linspace(-4, 4, 200)
    curves = tanh_derivatives(points)
    t = np.tanh(points)
    closed_forms = [t, 1 - t**2, -2 * t * (1 - t**2), (1 - t**2) * (6 * t**2 - 2)]
    error = max(float(np.abs(curves[k] - closed_forms[k]).max()) for k in range(4))
    print(f"tanh and {DERIVATIVES} derivatives at {len(points)} points; the first three "
          f"against their closed forms: largest difference {error:.1e}")
    written = [plot_derivatives(points, curves, output_dir / "tanh_derivatives.png")]

    slope, curvature = second_derivative_graph()
    print(f"d/dx (x tanh x) at x = 0.5 is {slope.item():.6f}; the backward pass, recorded, "
          f"has {len(ag.engine.topological_order(slope))} nodes")
    print(f"d2/dx2 (x tanh x) at x = 0.5 is {curvature.item():.6f}, by differentiating it again")
    try:
        drawing = ag.draw(slope, title="d/dx (x * tanh(x)): the backward pass as a graph")
        written.append(Path(drawing.render(outfile=output_dir / "second_derivative.svg",
                                           cleanup=True)))
    except GraphvizNotFoundError as error:
        print(error)

    print("Newton's method on exp(x - 1) + exp(1 - y) + (x - y)^2:")
    history = newton((3.0, -1.0), steps=7)
    for step, (point, value) in enumerate(history):
        print(f"  step {step}: x = {point[0]: .12f}, y = {point[1]: .12f}, f = {value:.12f}")
    for path in written:
        print(f"wrote {path}")
    return {
        "derivative_error": error,
        "curvature": curvature.item(),
        "newton": history,
        "pictures": written,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir", nargs="?", type=Path, default=OUT_DIR,
                        help=f"folder for the pictures (default: {OUT_DIR})")
    main(parser.parse_args().output_dir)
