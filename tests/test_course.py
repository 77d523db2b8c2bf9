"""The course in examples/course: its notebooks match their sources, every solution runs top to
bottom, every check cell rejects a planted wrong answer, and every student notebook stops at
its first exercise with a message that says what to do."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

nbclient = pytest.importorskip("nbclient", reason="the course tests need the test extra")
nbformat = pytest.importorskip("nbformat", reason="the course tests need the test extra")

COURSE = Path(__file__).resolve().parents[1] / "examples" / "course"
CELL_SECONDS = 120  # a cell that takes longer has hung: training in the course takes seconds


def load_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("course_build", COURSE / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while they are made
    spec.loader.exec_module(module)
    return module


build = load_build()
NOTEBOOKS = build.course()
NAMES = [notebook.name for notebook in NOTEBOOKS]


@pytest.fixture(autouse=True)
def one_blas_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kernels inherit the environment: one BLAS thread each, as the course advises."""
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(variable, "1")


def client_for(notebook: nbformat.NotebookNode, folder: Path) -> nbclient.NotebookClient:
    return nbclient.NotebookClient(
        notebook, timeout=CELL_SECONDS, kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
    )


def error_of(cell: nbformat.NotebookNode) -> dict | None:
    """The error a cell run with errors allowed left among its outputs, if any."""
    return next((output for output in cell.outputs if output.output_type == "error"), None)


def test_the_course_has_notebooks_with_exercises_checks_and_wrong_answers():
    assert len(NOTEBOOKS) >= 7
    for notebook in NOTEBOOKS:
        assert notebook.exercises, f"{notebook.name} has no exercise"
        for index in notebook.exercises:
            cell = notebook.cells[index]
            assert cell.wrong is not None, f"{notebook.name}: exercise cell {index} has no wrong answer"
            assert "TODO" in cell.student, f"{notebook.name}: exercise cell {index} has no TODO"
            following = notebook.cells[index + 1]
            assert following.kind == "check", f"{notebook.name}: exercise {index} is not checked"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=NAMES)
def test_committed_notebooks_are_what_build_writes(notebook):
    for path, text in build.targets(notebook).items():
        assert path.is_file(), f"{path} is missing: run python examples/course/build.py"
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.relative_to(COURSE)} differs from source/{notebook.name}.md: "
            "run python examples/course/build.py"
        )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=NAMES)
def test_solution_runs_and_each_check_rejects_its_wrong_answer(notebook):
    path = build.SOLUTIONS / f"{notebook.name}.ipynb"
    executed = nbformat.read(path, as_version=4)
    assert not any(cell.get("outputs") for cell in executed.cells), f"{path} has outputs"
    client = client_for(executed, path.parent)
    cells = list(executed.cells)  # executing a cell at an index puts it in the notebook there
    with client.setup_kernel():
        for index, cell in enumerate(cells):
            if index - 1 in notebook.exercises:  # a check cell: first against the wrong answer
                wrong = nbformat.v4.new_code_cell(notebook.cells[index - 1].wrong)
                check = nbformat.v4.new_code_cell(cell.source, metadata={"tags": ["raises-exception"]})
                client.execute_cell(wrong, index - 1)
                client.execute_cell(check, index)
                error = error_of(check)
                assert error is not None, (
                    f"{notebook.name}: the check in cell {index} accepted the wrong answer\n"
                    f"{wrong.source}"
                )
                assert error.ename == "AssertionError" and error.evalue.strip(), (
                    f"{notebook.name}: the check in cell {index} rejected the wrong answer with "
                    f"{error.ename}: {error.evalue!r}, not an AssertionError that says why"
                )
                client.execute_cell(cells[index - 1], index - 1)  # the right answer again
            client.execute_cell(cell, index)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=NAMES)
def test_student_notebook_stops_at_its_first_exercise_saying_what_to_do(notebook):
    path = COURSE / f"{notebook.name}.ipynb"
    executed = nbformat.read(path, as_version=4)
    assert not any(cell.get("outputs") for cell in executed.cells), f"{path} has outputs"
    first = notebook.exercises[0]
    client = client_for(executed, path.parent)
    with client.setup_kernel():
        for index, cell in enumerate(executed.cells[: first + 2]):
            try:
                client.execute_cell(cell, index)
            except nbclient.exceptions.CellExecutionError as error:
                assert index in (first, first + 1), (
                    f"{notebook.name}: cell {index} failed before the first exercise "
                    f"(cell {first}): {error.ename}: {error.evalue}"
                )
                assert error.ename in ("NotImplementedError", "AssertionError"), error.ename
                assert "TODO" in error.evalue, f"the message does not say what to do: {error.evalue}"
                return
    pytest.fail(f"{notebook.name}: the first exercise (cell {first}) passed without being done")
