"""Run the benchmarks: ``python -m benchmarks.run [--quick] [--only CASE ...] [--profile CASE]``.

Every ``benchmarks/bench_*.py`` module is a suite; its ``cases(settings)`` gives the cases to
run. A full run rewrites the generated part of ``benchmarks/RESULTS.md``; ``--quick`` runs every
case on tiny sizes for correctness only and writes a file only when ``--output`` says where.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import benchmarks
from benchmarks import environment, report
from benchmarks.harness import Case, Figure, Settings, profile_case, run_case

RESULTS = Path(__file__).with_name("RESULTS.md")
SUITE_ORDER = ("bench_mlp", "bench_elementwise", "bench_moons", "bench_chain", "bench_memory")


def suites() -> list[ModuleType]:
    """Every ``bench_*`` module of this package: the known ones first, then the rest by name."""
    names = sorted(
        info.name
        for info in pkgutil.iter_modules(benchmarks.__path__)
        if info.name.startswith("bench_")
    )
    ordered = [n for n in SUITE_ORDER if n in names] + [n for n in names if n not in SUITE_ORDER]
    return [importlib.import_module(f"benchmarks.{name}") for name in ordered]


def collect_cases(settings: Settings) -> list[Case]:
    """All cases of all suites, checking that their names are unique."""
    found: list[Case] = []
    for suite in suites():
        for case in suite.cases(settings):
            if any(case.name == other.name for other in found):
                raise ValueError(f"two cases are named {case.name!r} (the second in {suite})")
            found.append(case)
    return found


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Time autograd_lite against hand-written NumPy, PyTorch and micrograd.",
    )
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes and 2 repeats: checks that every case runs and agrees")
    parser.add_argument("--only", nargs="+", metavar="CASE", help="run only these cases")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--profile", metavar="CASE",
                        help="cProfile one case's step and print the top functions")
    parser.add_argument("--framework", default="autograd_lite",
                        help="the contender --profile profiles (default: autograd_lite)")
    parser.add_argument("--output", type=Path,
                        help="where to write the results (default: benchmarks/RESULTS.md for a "
                             "full run of every case, nowhere otherwise)")
    parser.add_argument("--threads", type=int,
                        help="limit NumPy's BLAS and PyTorch to this many threads (default: "
                             "PyTorch gets NumPy's BLAS thread count, which is left as it is)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the harness; 0 when every gradient check passed, 1 otherwise, 2 for a bad request."""
    argv = list(sys.argv[1:] if argv is None else argv)
    arguments = parse_arguments(argv)
    try:
        limiter = environment.limit_threads(arguments.threads) if arguments.threads else None
    except RuntimeError as error:
        print(error)
        return 2
    try:
        return _run(arguments, argv)
    finally:
        if limiter is not None:  # NumPy's BLAS threads go back to what they were
            limiter.restore_original_limits()


def _run(arguments: argparse.Namespace, argv: list[str]) -> int:
    threads = environment.blas_threads()
    peers = environment.load_peers(threads)
    for name in peers.missing:
        print(f"{name} is not installed: its column is skipped "
              f'(pip install -e ".[bench]" installs the peers)')
    settings = Settings(quick=arguments.quick, peers=peers)
    cases = collect_cases(settings)
    by_name = {case.name: case for case in cases}
    if arguments.list:
        for case in cases:
            frameworks = ", ".join(c.framework for c in case.contenders)
            print(f"{case.name:20} {case.title}  [{frameworks}]")
        return 0
    wanted = arguments.only or ([arguments.profile] if arguments.profile else [])
    unknown = [name for name in wanted if name not in by_name]
    if unknown:
        print(f"unknown case {', '.join(unknown)}; the cases are: {', '.join(by_name)}")
        return 2
    if arguments.profile:
        try:
            seconds = 0.3 if arguments.quick else 3.0
            print(profile_case(by_name[arguments.profile], arguments.framework, seconds))
        except KeyError as error:
            print(error.args[0])
            return 2
        return 0
    command = " ".join(["python -m benchmarks.run", *argv])
    described = environment.describe(threads, peers, command)
    busy_at_start = environment.busy()
    started = time.perf_counter()
    figures: list[Figure] = []
    for case in cases:
        if not arguments.only or case.name in arguments.only:
            figures += run_case(case, arguments.quick, lambda text: print(text, flush=True))
    elapsed = time.perf_counter() - started
    described["duration"] = f"{elapsed:.0f} s"
    described["load average at end"] = environment.load_average()
    notes = []
    if busy_at_start or environment.busy():
        notes.append("The machine was busy (load average at or above the core count): "
                     "multi-threaded BLAS and PyTorch suffer most, so treat the big-array "
                     "figures with care; rerun on a quiet machine, or compare with --threads 1.")
    if arguments.quick:
        notes.append("Quick mode: tiny sizes and 2 repeats, for correctness only; the timings "
                     "and targets mean nothing.")
    verdicts = report.evaluate_targets(figures)
    generated = report.generated_part(described, figures, verdicts, notes)
    print()
    print(generated)
    row = report.change_row("this run", verdicts)
    print("\nRow for \"What each change bought\" (name the change):\n" + row)
    output = arguments.output
    if output is None and not arguments.quick and not arguments.only:
        output = RESULTS
    if output is not None:
        report.write_results(output, generated, row.replace("this run", "baseline", 1))
        print(f"\nwrote {output}")
    failed = report.failures(figures)
    for text in failed:
        print(f"FAILED {text}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
