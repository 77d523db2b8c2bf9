"""examples/higher_order.py: derivatives by differentiating again, a recorded backward pass,
and Newton's method converging."""

from __future__ import annotations

import numpy as np
import pytest
from test_tour_examples import is_png, load


def test_the_example_differentiates_tanh_six_times_and_newton_converges(tmp_path):
    example = load("higher_order")
    result = example.main(tmp_path)
    assert result["derivative_error"] < 1e-12
    t = np.tanh(0.5)
    assert result["curvature"] == pytest.approx(2 * (1 - t * t) - 2 * 0.5 * t * (1 - t * t))
    (x, y), value = result["newton"][-1]
    # At the minimum both partial derivatives vanish: e^(x-1) + 2(x-y) = 0, -e^(1-y) - 2(x-y) = 0.
    assert np.exp(x - 1) + 2 * (x - y) == pytest.approx(0, abs=1e-12)
    assert -np.exp(1 - y) - 2 * (x - y) == pytest.approx(0, abs=1e-12)
    assert is_png(tmp_path / "tanh_derivatives.png")
    assert (tmp_path / "second_derivative.svg").read_text().lstrip().startswith("<?xml")


def test_the_sixth_derivative_matches_finite_differences_of_the_fifth():
    example = load("higher_order")
    points = np.linspace(-2, 2, 9)
    eps = 1e-5
    fifth_plus = example.tanh_derivatives(points + eps, count=5)[5]
    fifth_minus = example.tanh_derivatives(points - eps, count=5)[5]
    sixth = example.tanh_derivatives(points)[6]
    np.testing.assert_allclose(sixth, (fifth_plus - fifth_minus) / (2 * eps), rtol=1e-5, atol=1e-4)


def test_readme_higher_order_snippet_runs_and_gives_its_numbers():
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Higher-order gradients", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(compile("import autograd_lite as ag\n" + code, "README higher-order", "exec"), namespace)
    assert namespace["curvature"].item() == pytest.approx(1.209464, abs=1e-6)
