"""Write the course's notebooks from their sources: a student version and a solution for each.

Each notebook is written once, as Markdown in ``source/NN_name.md``:

- prose becomes Markdown cells; a line ``+++`` alone starts a new Markdown cell;
- a fence ```` ```python ```` becomes a code cell;
- ```` ```python exercise ```` is an exercise cell. Inside it, the lines between
  ``# BEGIN SOLUTION`` and ``# STUDENT`` are the solution, and the lines between ``# STUDENT``
  and ``# END SOLUTION`` are what the student sees in their place (a ``TODO``);
- ```` ```python check ```` is the cell that checks the exercise above it with the engine and
  raises an ``AssertionError`` that says what is wrong;
- ```` ```python wrong ```` is not a cell: it is a plausible wrong answer to the exercise above
  it, which the tests put in place of the solution to see the check cell reject it.

``python examples/course/build.py`` writes ``NN_name.ipynb`` (the student version, with
``TODO`` cells) beside this file and ``solutions/NN_name.ipynb`` (the same notebook with the
exercises done), without outputs; ``--check`` only reports notebooks that differ from their
sources and exits 1 if any does.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

COURSE = Path(__file__).resolve().parent
SOURCES = COURSE / "source"
SOLUTIONS = COURSE / "solutions"
FENCE = "```"
CODE_KINDS = ("", "exercise", "check")
BEGIN, STUDENT, END = "# BEGIN SOLUTION", "# STUDENT", "# END SOLUTION"


@dataclass
class Cell:
    """One cell: ``kind`` is "markdown", "code", "exercise" or "check"; an exercise cell has
    ``student`` text besides its ``solution`` text, and may carry a planted ``wrong`` answer."""

    kind: str
    solution: str
    student: str
    wrong: str | None = None


@dataclass
class Notebook:
    name: str
    cells: list[Cell] = field(default_factory=list)

    @property
    def exercises(self) -> list[int]:
        """Positions of the exercise cells."""
        return [index for index, cell in enumerate(self.cells) if cell.kind == "exercise"]


def split_exercise(text: str, where: str) -> tuple[str, str]:
    """(solution, student) from an exercise cell's text with its marker lines."""
    solution: list[str] = []
    student: list[str] = []
    part = "both"
    for line in text.splitlines():
        marker = line.strip()
        if marker == BEGIN and part == "both":
            part = "solution"
        elif marker == STUDENT and part == "solution":
            part = "student"
        elif marker == END and part == "student":
            part = "both"
        elif marker in (BEGIN, STUDENT, END):
            raise ValueError(f"{where}: {marker!r} out of order")
        else:
            if part != "student":
                solution.append(line)
            if part != "solution":
                student.append(line)
    if part != "both":
        raise ValueError(f"{where}: an exercise ends inside its solution block")
    if solution == student:
        raise ValueError(f"{where}: an exercise cell without a {BEGIN} ... {END} block")
    return "\n".join(solution), "\n".join(student)


def parse(path: Path) -> Notebook:
    """The cells that ``path`` (a course source in Markdown) describes."""
    notebook = Notebook(path.stem)
    prose: list[str] = []

    def end_prose() -> None:
        text = "\n".join(prose).strip("\n")
        if text:
            notebook.cells.append(Cell("markdown", text, text))
        prose.clear()

    lines = iter(enumerate(path.read_text(encoding="utf-8").splitlines(), start=1))
    for number, line in lines:
        where = f"{path.name}:{number}"
        if line.startswith(FENCE + "python"):
            kind = line[len(FENCE + "python"):].strip()
            body = []
            for _, inner in lines:
                if inner == FENCE:
                    break
                body.append(inner)
            else:
                raise ValueError(f"{where}: a code fence that is never closed")
            text = "\n".join(body)
            end_prose()
            if kind == "wrong":
                if not notebook.cells or notebook.cells[-1].kind != "exercise":
                    raise ValueError(f"{where}: a wrong answer must follow its exercise")
                notebook.cells[-1].wrong = text
            elif kind == "exercise":
                notebook.cells.append(Cell("exercise", *split_exercise(text, where)))
            elif kind in CODE_KINDS:
                notebook.cells.append(Cell(kind or "code", text, text))
            else:
                raise ValueError(f"{where}: unknown cell kind {kind!r}")
        elif line == "+++":
            end_prose()
        else:
            prose.append(line)
    end_prose()
    return notebook


def to_ipynb(notebook: Notebook, solved: bool) -> nbformat.NotebookNode:
    """The notebook as nbformat 4.5, without outputs, with stable cell ids; exercise and
    check cells carry the tags "exercise" and "check"."""
    cells = []
    for index, cell in enumerate(notebook.cells):
        text = cell.solution if solved else cell.student
        if cell.kind == "markdown":
            made = nbformat.v4.new_markdown_cell(text)
        else:
            made = nbformat.v4.new_code_cell(text)
            if cell.kind != "code":
                made.metadata["tags"] = [cell.kind]
        made.id = f"{notebook.name[:50]}-{index:03d}"
        cells.append(made)
    made_notebook = nbformat.v4.new_notebook(cells=cells)
    made_notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return made_notebook


def course() -> list[Notebook]:
    """Every notebook of the course, in order."""
    return [parse(path) for path in sorted(SOURCES.glob("*.md"))]


def targets(notebook: Notebook) -> dict[Path, str]:
    """The two files a notebook is written to, with their text."""
    return {
        COURSE / f"{notebook.name}.ipynb": nbformat.writes(to_ipynb(notebook, solved=False)) + "\n",
        SOLUTIONS / f"{notebook.name}.ipynb": nbformat.writes(to_ipynb(notebook, solved=True))
        + "\n",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a notebook differs from its source")
    check = parser.parse_args().check
    stale = []
    for notebook in course():
        for path, text in targets(notebook).items():
            if path.is_file() and path.read_text(encoding="utf-8") == text:
                continue
            stale.append(path)
            if not check:
                path.parent.mkdir(exist_ok=True)
                path.write_text(text, encoding="utf-8")
    for path in stale:
        print(f"{'differs from its source' if check else 'wrote'}: {path.relative_to(COURSE)}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
