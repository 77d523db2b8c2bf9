"""The benchmark harness, smoke-run in quick mode: every case runs and agrees with NumPy.

No timing is asserted (shared machines are noisy); what is checked is that every framework's
gradients pass the check against the hand-written ones, that the tables and RESULTS.md are
produced, and that a wrong gradient is caught loudly.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root

from benchmarks import environment, report, run  # noqa: E402
from benchmarks.harness import (  # noqa: E402
    Case,
    Contender,
    Figure,
    GradientMismatch,
    Settings,
    compare_gradients,
    run_case,
    step_of,
)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, str]:
    """One quick run of every case: (exit status, printed output, written results file)."""
    output = tmp_path_factory.mktemp("bench") / "RESULTS.md"
    from contextlib import redirect_stdout
    from io import StringIO

    printed = StringIO()
    with redirect_stdout(printed):
        status = run.main(["--quick", "--output", str(output)])
    return status, printed.getvalue(), output.read_text(encoding="utf-8")


def quick_cases() -> list[Case]:
    peers = environment.load_peers(environment.blas_threads())
    return run.collect_cases(Settings(quick=True, peers=peers))


def test_quick_run_passes_every_gradient_check(quick_run: tuple[int, str, str]) -> None:
    status, printed, _ = quick_run
    assert "FAILED" not in printed and "GRADIENT CHECK FAILED" not in printed
    assert status == 0


def test_quick_run_reports_every_case_and_framework(quick_run: tuple[int, str, str]) -> None:
    _, _, written = quick_run
    table = written.split("## Results", 1)[1].split("## Targets", 1)[0]
    for case in quick_cases():
        assert case.title in table, case.name
    header = next(line for line in table.splitlines() if line.startswith("| figure"))
    for framework in ("numpy (baseline)", "autograd_lite"):
        assert framework in header
    # Every autograd_lite cell of a timed row holds a time and a ratio to NumPy.
    # (split on "|" and strip: autograd_lite is the last column when no peer is installed)
    column = [cell.strip() for cell in header.split("|")].index("autograd_lite")
    rows = [line for line in table.splitlines() if line.startswith("| ") and "µs" in line]
    assert rows
    for line in rows:
        cell = line.split("|")[column].strip()
        assert cell.endswith("×)") and not cell.startswith("—"), line


def test_results_file_states_the_run(quick_run: tuple[int, str, str]) -> None:
    _, _, written = quick_run
    for key in ("date", "command", "machine", "versions", "threads",
                "OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE", "peers not installed"):
        assert f"- **{key}**:" in written, key
    assert "python -m benchmarks.run --quick" in written
    assert "## Targets" in written
    assert report.CHANGES_HEADING in written
    targets = written.split("## Targets", 1)[1].split("##", 1)[0]
    for target in report.TARGETS:
        assert target.goal in targets, target.goal


def test_a_wrong_gradient_is_caught_and_not_timed(capsys: pytest.CaptureFixture[str]) -> None:
    x = np.array([1.0, 2.0, 3.0])

    def right() -> dict[str, np.ndarray]:
        return {"loss": (x * x).sum(), "x": 2 * x}

    def wrong() -> dict[str, np.ndarray]:
        return {"loss": (x * x).sum(), "x": 2 * x + np.array([0.0, 0.0, 1e-3])}

    calls = []
    case = Case("toy", "toy case", [
        Contender("numpy", step_of(right), right),
        Contender("autograd_lite", lambda: calls.append(1), wrong),
    ])
    figures = run_case(case, quick=True, log=print)
    mine = [f for f in figures if f.framework == "autograd_lite"]
    assert mine and all(f.error and "gradient mismatch" in f.error for f in mine)
    assert all(not f.samples for f in mine) and not calls  # never timed
    assert "GRADIENT CHECK FAILED in toy for autograd_lite" in capsys.readouterr().out
    assert "toy/autograd_lite" in report.failures(figures)[0]


def test_compare_gradients_names_the_worst_element() -> None:
    compare_gradients({"w": np.ones(3)}, {"w": np.ones(3) + 1e-12}, rtol=1e-9, atol=0)
    with pytest.raises(GradientMismatch, match=r"w\[2\]"):
        compare_gradients({"w": np.ones(3)}, {"w": np.array([1.0, 1.0, 1.5])}, 1e-6, 0)
    with pytest.raises(GradientMismatch, match="missing"):
        compare_gradients({"w": np.ones(3), "b": 1.0}, {"w": np.ones(3)}, 1e-6, 0)
    with pytest.raises(GradientMismatch, match="shape"):
        compare_gradients({"w": np.ones(3)}, {"w": np.ones(4)}, 1e-6, 0)


def test_profile_prints_the_top_functions(capsys: pytest.CaptureFixture[str]) -> None:
    assert run.main(["--quick", "--profile", "elementwise_small"]) == 0
    printed = capsys.readouterr().out
    assert "cProfile of elementwise_small / autograd_lite" in printed
    assert "tottime" in printed and "cumulative" in printed
    assert run.main(["--quick", "--profile", "no_such_case"]) == 2


def test_missing_peers_are_said_and_skipped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        environment, "load_peers",
        lambda threads: environment.Peers(missing=["torch", "micrograd"]),
    )
    assert run.main(["--quick", "--only", "moons_nn"]) == 0
    printed = capsys.readouterr().out
    assert "torch is not installed" in printed and "micrograd is not installed" in printed
    header = next(line for line in printed.splitlines() if line.startswith("| figure"))
    assert "torch" not in header and "micrograd" not in header


def _figure(case: str, framework: str, value: float, ratio: float | None = None,
            phase: str = "step", **info: float) -> Figure:
    return Figure(case, case, framework, "time", phase, [value], ratio, info=dict(info))


def test_targets_are_judged_from_the_figures() -> None:
    figures = [
        _figure("mlp_big", "autograd_lite", 1e-3, ratio=1.05),
        _figure("mlp_small", "autograd_lite", 1e-3, ratio=2.4),
        _figure("chain_long", "autograd_lite", 3e-6, phase="backward", length=1_000_000),
        _figure("chain_long", "autograd_lite", 7e-6, phase="build", length=1_000_000),
        _figure("chain_medium", "autograd_lite", 2e-6, phase="backward", length=100_000),
        _figure("chain_medium", "autograd_lite", 6e-6, phase="build", length=100_000),
        _figure("moons_nn", "autograd_lite", 1e-3),
        _figure("moons_nn", "micrograd", 0.2),
        _figure("moons_scalar", "autograd_lite", 1.0, nodes=1000),
        _figure("moons_scalar", "micrograd", 1.0, nodes=250),
        _figure("cnn_step", "autograd_lite", 3e-2, ratio=0.9),
        _figure("cnn_step", "torch", 1.5e-2, ratio=0.45),
    ]
    verdicts = {v.goal.split(" ≤")[0].split(" ≥")[0]: v for v in report.evaluate_targets(figures)}
    assert verdicts["big MLP step (784-256-128-10, float32) vs NumPy"].met is True
    small = verdicts["small MLP step (64-32-10, float64) vs NumPy"]
    assert small.met is False and small.gap == "1.85× too high"
    assert verdicts["chain backward per op at 1e6"].met is False
    assert verdicts["chain build + backward growth 1e6 / 1e5"].measured == "12.50×"
    speedup = verdicts["micrograd demo with nn layers: times faster than micrograd"]
    assert speedup.met is True and speedup.measured == "200.0×"
    per_node = verdicts["micrograd demo as 0-d Tensors: time per node vs micrograd"]
    assert per_node.measured == "0.25×" and per_node.met is True
    assert verdicts["cyclic garbage per training step"].met is None  # not measured
    cnn = verdicts["CNN training step (2 convs, 64×1×28×28): time vs PyTorch"]
    assert cnn.measured == "2.00×" and cnn.met is False and cnn.gap == "1.82× too high"
    assert verdicts["conv2d fwd+bwd (64×1×28×28, 16 filters 3×3): time vs PyTorch"].met is None


def test_results_file_keeps_the_hand_kept_section(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    first = report.generated_part({"date": "first"}, [], [], [])
    report.write_results(path, first, "| baseline | 1 |")
    text = path.read_text(encoding="utf-8")
    assert "| baseline | 1 |" in text and "- **date**: first" in text
    path.write_text(text + "| faster sigmoid (abc123) | 2 |\n", encoding="utf-8")
    report.write_results(path, report.generated_part({"date": "second"}, [], [], []), "| x |")
    text = path.read_text(encoding="utf-8")
    assert "- **date**: second" in text and "- **date**: first" not in text
    assert "| faster sigmoid (abc123) | 2 |" in text and "| x |" not in text


def test_threads_option_limits_blas_and_torch_then_restores(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = environment.blas_threads().blas
    assert run.main(["--quick", "--threads", "1", "--only", "mlp_small"]) == 0
    printed = capsys.readouterr().out
    assert "NumPy BLAS 1 (" in printed
    assert environment.blas_threads().blas == before


def test_against_commit_imports_an_older_commit_beside_the_current_package(tmp_path) -> None:
    """The extracted copy is a separate package (nothing of it resolves to the current one)
    that runs the workloads, and HEAD's copy gives the current package's gradients."""
    import autograd_lite
    import nn
    from benchmarks import against_commit

    old_ag, old_nn = against_commit.import_commit("HEAD", tmp_path)
    try:
        assert old_ag.Tensor is not autograd_lite.Tensor and old_nn.MLP is not nn.MLP
        assert all(
            str(tmp_path) in (module.__file__ or "")
            for name, module in sys.modules.items()
            if name.startswith(("old_autograd_lite", "old_nn"))
        )
        grads = []
        for nn_module in (old_nn, nn):
            model = nn_module.MLP(3, [4], 2, rng=0)
            nn_module.cross_entropy(model(np.eye(3)), [0, 1, 1]).backward()
            grads.append([p.grad for p in model.parameters()])
        for old, new in zip(*grads):
            np.testing.assert_array_equal(old, new)
        for name, (make, _, _) in against_commit.WORKLOADS.items():
            if not name.startswith("chain_1e6"):  # (a million operations: seconds each)
                assert against_commit.sample(make(old_ag, old_nn), 1) > 0
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n.startswith(("old_autograd_lite", "old_nn"))]:
            del sys.modules[name]
