"""README.md stays true: its commands are the ones CI runs, and its quickstart runs."""

from __future__ import annotations

import re
from pathlib import Path

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands() -> None:
    first_block = re.search(r"```bash\n(.*?)```", README, re.S)
    assert first_block is not None and README.index("```bash") < README.index("\n## ")
    commands = first_block.group(1).strip().splitlines()
    assert commands == [
        'pip install -e ".[examples]" && python examples/tour.py',
        'pip install -e ".[test]" && python -m pytest',
    ]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "grep -m 1 -E '^pip install .*python -m pytest' README.md" in ci


def test_quickstart_runs_and_prints_what_it_says(capsys) -> None:
    quickstart = README.split("## Quickstart", 1)[1]
    code = re.search(r"```python\n(.*?)```", quickstart, re.S).group(1)
    exec(compile(code, "README quickstart", "exec"), {})
    printed = capsys.readouterr().out
    assert printed.startswith("0.3775")
    assert "[0.2350" in printed or "[0.235" in printed
