"""The tour runs as README's command runs it; moons and digits learn what they promise."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TOUR_SECONDS = 30  # the tour's promise, on 2 cores


def load(name: str) -> ModuleType:
    """``examples/<name>.py`` as a module, with examples/ on sys.path as when it runs."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tour_runs_end_to_end_and_names_its_folder(tmp_path):
    folder = tmp_path / "tour pictures"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "examples/tour.py", str(folder)],
        cwd=ROOT, capture_output=True, text=True, timeout=3 * TOUR_SECONDS,
    )
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    assert seconds < TOUR_SECONDS, f"the tour took {seconds:.1f} s"
    out = done.stdout
    for section in ("Logic gates", "sigmoid neuron", "Seven records", "Dense layers",
                    "Verdicts", "Two moons", "graph", "Pictures"):
        assert section in out
    verdict_rows = [line for line in out.splitlines()
                    if line.startswith(("  logic gates", "  sigmoid neuron", "  seven records",
                                        "  dense layers"))]
    assert len(verdict_rows) == 4 and all(row.endswith("  same") for row in verdict_rows)
    assert "4 of 4 agree" in out
    assert "training accuracy 100%" in out
    assert out.rstrip().splitlines()[-1].endswith(str(folder.resolve()))
    assert "fit" in done.stderr and "100/100" in done.stderr  # the progress bar
    for name in ("moons_boundary.png", "moons_loss.png"):
        assert is_png(folder / name)
    graph = folder / "neuron_graph.svg"
    if not graph.exists():  # no Graphviz here: the graph is DOT text
        graph = folder / "neuron_graph.dot"
        assert graph.read_text().startswith("digraph")
    assert graph.name in out


def test_tour_graph_falls_back_to_dot_text_without_graphviz(tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    tour = load("tour")
    empty = tmp_path / "no-programs"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # Graphviz's `dot` cannot be found
    written = tour.neuron_graph(tmp_path)
    assert [path.name for path in written] == ["neuron_graph.dot"]
    text = written[0].read_text()
    assert text.startswith("digraph") and "sigmoid" in text and "grad" in text
    printed = capsys.readouterr().out
    assert "not installed" in printed and "apt-get install graphviz" in printed
    assert "Step 4 of 6 · o = sigmoid(z)" in printed


def test_moons_reaches_full_training_accuracy(tmp_path):
    moons = load("moons")
    result = moons.main(tmp_path, progress=False)
    assert result["accuracy"] == 1.0
    assert result["validation_accuracy"] >= 0.95
    history = result["history"]
    assert history["loss"][-1] < 0.01 * history["loss"][0]
    assert [path.name for path in result["pictures"]] == ["moons_boundary.png", "moons_loss.png"]
    assert all(is_png(path) for path in result["pictures"])


def test_make_moons():
    moons = load("moons")
    x, y = moons.make_moons(50, noise=0.0, rng=0)
    assert x.shape == (50, 2) and y.shape == (50,)
    assert (y == 0).sum() == 25 and (y == 1).sum() == 25
    # without noise, class 0 lies on the unit circle's upper half, class 1 on the shifted lower
    np.testing.assert_allclose(np.hypot(x[y == 0, 0], x[y == 0, 1]), 1.0)
    assert (x[y == 0, 1] >= -1e-12).all()
    np.testing.assert_allclose(np.hypot(x[y == 1, 0] - 1, x[y == 1, 1] - 0.5), 1.0)
    again, _ = moons.make_moons(50, noise=0.1, rng=3)
    np.testing.assert_array_equal(again, moons.make_moons(50, noise=0.1, rng=3)[0])


def test_digits_quick_run_learns(tmp_path):
    digits = load("digits")
    result = digits.main(tmp_path, epochs=6, progress=False)
    assert result["test_size"] == 360
    assert result["test_accuracy"] >= 0.9
    assert result["correct"] == round(result["test_accuracy"] * 360)
    assert result["history"].epochs == 6
    assert [path.name for path in result["pictures"]] == [
        "digits_learning_curves.png", "digits_confusion.png"
    ]
    assert all(is_png(path) for path in result["pictures"])
