"""The course in examples/course: its notebooks are what build.py writes from their sources,
every solution runs top to bottom, every check cell rejects a planted wrong answer with an
AssertionError that says why, and every student notebook stops at its first exercise with a
message that says what to do."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import nbclient
import nbformat
import pytest

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
    """A client that runs ``notebook`` in a python3 kernel started in ``folder``, as Jupyter
    starts a notebook's kernel in the notebook's own folder."""
    return nbclient.NotebookClient(
        notebook, timeout=CELL_SECONDS, kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
    )


def read_without_outputs(path: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(path, as_version=4)
    assert not any(cell.get("outputs") for cell in notebook.cells), f"{path} has outputs"
    return notebook


def test_the_course_readme_lists_every_notebook():
    contents = (COURSE / "README.md").read_text(encoding="utf-8")
    missing = [name for name in NAMES if f"`{name}.ipynb`" not in contents]
    assert not missing, f"examples/course/README.md does not list {missing}"


def test_every_exercise_has_a_todo_a_check_and_a_wrong_answer():
    assert len(NOTEBOOKS) >= 7
    for notebook in NOTEBOOKS:
        assert notebook.exercises, f"{notebook.name} has no exercise"
        for index in notebook.exercises:
            where = f"{notebook.name}, exercise cell {index}"
            assert "TODO" in notebook.cells[index].student, f"{where}: no TODO"
            assert notebook.cells[index].wrong is not None, f"{where}: no wrong answer"
            assert notebook.cells[index + 1].kind == "check", f"{where}: no check cell after it"


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
    """Run the solution cell by cell; before each check cell, run the planted wrong answer and
    that check (errors allowed), then the right answer again and the check for real."""
    path = build.SOLUTIONS / f"{notebook.name}.ipynb"
    executed = read_without_outputs(path)
    client = client_for(executed, path.parent)
    cells = list(executed.cells)  # executing a cell at an index puts it in the notebook there
    with client.setup_kernel():
        for index, cell in enumerate(cells):
            if index - 1 in notebook.exercises:
                wrong = nbformat.v4.new_code_cell(notebook.cells[index - 1].wrong)
                check = nbformat.v4.new_code_cell(cell.source)
                check.metadata["tags"] = ["raises-exception"]
                client.execute_cell(wrong, index - 1)
                client.execute_cell(check, index)
                error = next((out for out in check.outputs if out.output_type == "error"), None)
                assert error is not None, (
                    f"{notebook.name}: the check in cell {index} accepted a wrong answer:\n"
                    f"{wrong.source}"
                )
                assert error.ename == "AssertionError" and error.evalue.strip(), (
                    f"{notebook.name}: the check in cell {index} rejected the wrong answer with "
                    f"{error.ename}: {error.evalue!r}, not an AssertionError that says why"
                )
                client.execute_cell(cells[index - 1], index - 1)
            client.execute_cell(cell, index)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=NAMES)
def test_student_notebook_stops_at_its_first_exercise_saying_what_to_do(notebook):
    path = COURSE / f"{notebook.name}.ipynb"
    executed = read_without_outputs(path)
    first = notebook.exercises[0]
    client = client_for(executed, path.parent)
    with client.setup_kernel():
        for index, cell in enumerate(list(executed.cells)[: first + 2]):
            try:
                client.execute_cell(cell, index)
            except nbclient.exceptions.CellExecutionError as error:
                assert index in (first, first + 1), (
                    f"{notebook.name}: cell {index} failed before the first exercise "
                    f"(cell {first}): {error.ename}: {error.evalue}"
                )
                assert error.ename in ("NotImplementedError", "AssertionError"), error.ename
                assert "TODO" in error.evalue, f"no TODO in the message: {error.evalue}"
                return
    pytest.fail(f"{notebook.name}: the first exercise (cell {first}) passed without being done")
