"""The machinery every suite shares: cases, contenders, gradient checks, timing and memory.

A suite (a ``bench_*.py`` module) describes *what* to run as :class:`Case` objects; this module
decides *how*: it checks every contender's gradients against the baseline's before anything is
timed, then times the survivors in interleaved rounds (so a burst of load on the shared machine
hits every framework alike) and keeps medians.
"""

from __future__ import annotations

import cProfile
import gc
import io
import math
import os
import pstats
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmarks.environment import Peers

Gradients = Mapping[str, Any]


class HandWrittenSGD:
    """A model written by hand in NumPy, trained by plain SGD: a subclass sets ``params`` and
    ``learning_rate`` and defines ``loss_and_gradients()``; the step and the gradient report
    are the same for every such baseline."""

    params: dict[str, Any]
    learning_rate: float

    def loss_and_gradients(self) -> tuple[float, dict[str, Any]]:
        raise NotImplementedError

    def step(self) -> None:
        _, grads = self.loss_and_gradients()
        for name, grad in grads.items():
            self.params[name] -= self.learning_rate * grad

    def gradients(self) -> Gradients:
        loss, grads = self.loss_and_gradients()
        return {"loss": loss, **grads}
"""Named results of one forward and backward pass: ``"loss"`` and one array per input."""

Phases = Mapping[str, float]
"""Seconds per phase, for steps that time their own parts (e.g. ``build`` and ``backward``)."""

BASELINE = "numpy"
"""The framework name of every case's first contender: the same math written by hand."""


@dataclass(frozen=True)
class Settings:
    """What a suite needs to build its cases: quick mode, and the peers that are installed."""

    quick: bool
    peers: Peers


def step_of(work: Callable[[], Any]) -> Callable[[], None]:
    """A step that runs ``work`` and drops its result, so the harness times the whole call."""

    def step() -> None:
        work()

    return step


@dataclass
class Contender:
    """One framework's version of a case.

    ``step`` does one repetition of the work. It returns None to be timed as a whole, or a
    mapping phase → seconds when it times its own phases. ``gradients`` runs forward and
    backward once from the case's fixed starting point and returns the loss and the gradients
    by name; the runner compares them with the baseline's before timing anything. ``info``
    holds facts a suite learns while running (e.g. ``{"nodes": 65_000}``) for the report.
    """

    framework: str
    step: Callable[[], Phases | None]
    gradients: Callable[[], Gradients]
    info: dict[str, float] = field(default_factory=dict)


@dataclass
class Case:
    """One benchmark: the same work done by several contenders, the first being the baseline.

    ``kind`` is ``"time"`` (median seconds per step, or per one of ``units`` items such as
    operations) or ``"memory"`` (RSS growth and cyclic garbage over ``memory_steps`` steps).
    ``rtol``/``atol`` are the gradient check's tolerances; ``budget`` is roughly how many
    seconds of timed rounds to spend, within ``min_repeats``..``max_repeats`` rounds, as
    estimated from the last of ``warmup`` untimed calls (the first one pays one-time costs).
    ``collect_between`` runs the cyclic garbage collector, untimed, before every sample: for
    cases where a contender leaves cyclic garbage behind (micrograd's closures), which the
    collector would otherwise free on the clock of whichever contender runs next.
    """

    name: str
    title: str
    contenders: list[Contender]
    kind: str = "time"
    units: int = 1
    unit: str = "step"
    rtol: float = 1e-6
    atol: float = 1e-9
    budget: float = 6.0
    min_repeats: int = 5
    max_repeats: int = 300
    warmup: int = 2
    memory_steps: int = 200
    collect_between: bool = False


@dataclass
class Figure:
    """One measured number of one contender: a cell of the results table."""

    case: str
    row: str
    framework: str
    quantity: str  # "time", "bytes" or "objects"
    phase: str = "step"
    samples: list[float] = field(default_factory=list)
    ratio: float | None = None
    error: str | None = None
    inner: int = 1
    info: dict[str, float] = field(default_factory=dict)

    @property
    def value(self) -> float | None:
        """The median of the samples (None when the contender failed)."""
        return statistics.median(self.samples) if self.samples and not self.error else None


class GradientMismatch(Exception):
    """A contender's loss or gradients disagree with the hand-written baseline's."""


def compare_gradients(
    expected: Gradients, actual: Gradients, rtol: float, atol: float
) -> None:
    """Raise :class:`GradientMismatch` naming the first entry where ``actual`` is wrong."""
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    if missing or extra:
        raise GradientMismatch(f"names differ: missing {missing}, unexpected {extra}")
    for name, want in expected.items():
        want = np.asarray(want, dtype=np.float64)
        got = np.asarray(actual[name], dtype=np.float64)
        if got.shape != want.shape:
            raise GradientMismatch(f"{name}: shape {got.shape}, expected {want.shape}")
        if not np.allclose(got, want, rtol=rtol, atol=atol):
            excess = np.abs(got - want) - rtol * np.abs(want)
            flat = int(np.nanargmax(np.where(np.isnan(excess), np.inf, excess)))
            worst = tuple(int(i) for i in np.unravel_index(flat, want.shape))
            where = f"{name}{list(worst)}" if worst else name
            raise GradientMismatch(
                f"{where}: got {float(got[worst]):.9g}, expected {float(want[worst]):.9g} "
                f"(rtol={rtol}, atol={atol})"
            )


def check_contenders(case: Case, log: Callable[[str], None]) -> dict[str, str]:
    """Check every contender's gradients against the baseline's; return failures by framework.

    A failure is reported loudly through ``log`` and takes that contender out of the case. If
    the baseline itself cannot run, every contender fails.
    """
    baseline = case.contenders[0]
    try:
        expected = baseline.gradients()
    except Exception as error:  # noqa: BLE001 - reported, and the whole case is aborted
        reason = f"baseline failed: {type(error).__name__}: {error}"
        log(f"!! {case.name}: {reason}")
        return {contender.framework: reason for contender in case.contenders}
    failures: dict[str, str] = {}
    for contender in case.contenders[1:]:
        try:
            compare_gradients(expected, contender.gradients(), case.rtol, case.atol)
        except GradientMismatch as error:
            failures[contender.framework] = f"gradient mismatch: {error}"
        except Exception as error:  # noqa: BLE001 - a crash fails the row, not the run
            failures[contender.framework] = f"{type(error).__name__}: {error}"
    for framework, reason in failures.items():
        log(f"!! GRADIENT CHECK FAILED in {case.name} for {framework}: {reason}")
        log(f"!! {case.name}/{framework} is not timed.")
    return failures


def _timed(step: Callable[[], Phases | None], inner: int) -> dict[str, float]:
    """Seconds per call of ``step`` (by phase if it times its own), over ``inner`` calls."""
    if inner == 1:
        start = time.perf_counter()
        phases = step()
        elapsed = time.perf_counter() - start
        return dict(phases) if phases is not None else {"step": elapsed}
    start = time.perf_counter()
    for _ in range(inner):
        step()
    return {"step": (time.perf_counter() - start) / inner}


def measure_time(
    case: Case, failures: Mapping[str, str], quick: bool, log: Callable[[str], None]
) -> list[Figure]:
    """Time every contender that passed its check, in interleaved rounds; medians per unit.

    Short steps are repeated ``inner`` times per sample so that one sample lasts at least a
    few milliseconds; the order of the contenders rotates from round to round.
    """
    running = [c for c in case.contenders if c.framework not in failures]
    samples: dict[str, dict[str, list[float]]] = {c.framework: {} for c in running}
    inner: dict[str, int] = {}
    round_seconds = 0.0
    for contender in running:
        # Probe calls: warm-ups, or with warmup=0 (steps too slow to waste) the first sample.
        for _ in range(max(case.warmup, 1)):
            probe = _timed(contender.step, 1)
        seconds = max(sum(probe.values()), 1e-7)
        if case.warmup == 0:
            for phase, value in probe.items():
                samples[contender.framework].setdefault(phase, []).append(value / case.units)
        target = 0.0 if quick else 0.002  # one sample should last at least 2 ms
        self_timed = set(probe) != {"step"}
        inner[contender.framework] = 1 if self_timed else max(1, math.ceil(target / seconds))
        round_seconds += seconds * inner[contender.framework]
    if quick:
        repeats = 2
    else:
        repeats = int(min(case.max_repeats, max(case.min_repeats, case.budget / round_seconds)))
        repeats -= 1 if case.warmup == 0 else 0
    log(f"   {case.name}: {repeats} rounds of about {_seconds_text(round_seconds)}")
    for round_index in range(repeats):
        shift = round_index % max(len(running), 1)
        for contender in running[shift:] + running[:shift]:
            if case.collect_between:
                gc.collect()
            for phase, seconds in _timed(contender.step, inner[contender.framework]).items():
                samples[contender.framework].setdefault(phase, []).append(seconds / case.units)
    return _figures(case, failures, samples, inner)


def paired_ratio(samples: Sequence[float], baseline: Sequence[float]) -> float | None:
    """The median over rounds of (this sample / the baseline's sample in the same round).

    Samples of one round were taken seconds apart, so the load other work puts on a shared
    machine mostly cancels out of each quotient; a ratio of two medians would not cancel it.
    """
    quotients = [mine / base for mine, base in zip(samples, baseline) if base > 0]
    return statistics.median(quotients) if quotients else None


def _figures(
    case: Case,
    failures: Mapping[str, str],
    samples: Mapping[str, Mapping[str, list[float]]],
    inner: Mapping[str, int],
) -> list[Figure]:
    phases = list(next((s for s in samples.values() if s), {"step": []}))
    figures = []
    for phase in phases:
        row = case.title if phase == "step" else f"{case.title}: {phase}"
        baseline = samples.get(BASELINE, {}).get(phase, [])
        for contender in case.contenders:
            name = contender.framework
            figure = Figure(case.name, row, name, "time", phase, info=dict(contender.info))
            if name in failures:
                figure.error = failures[name]
            else:
                figure.samples = list(samples[name].get(phase, []))
                figure.inner = inner[name]
                figure.ratio = paired_ratio(figure.samples, baseline)
            figures.append(figure)
    return figures


def _seconds_text(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.1f} s"


def resident_bytes() -> int:
    """The process's resident set size now, from /proc/self/statm (or peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure_memory(
    case: Case, failures: Mapping[str, str], quick: bool, log: Callable[[str], None]
) -> list[Figure]:
    """RSS growth over ``case.memory_steps`` steps, then cyclic garbage left per step.

    Growth is measured after a warm-up with the collector on, as a user runs; garbage is
    counted by disabling the collector for the same number of steps and asking
    ``gc.collect()`` how many unreachable objects it found.
    """
    steps = case.memory_steps
    growth_row = f"{case.title}: RSS growth over {steps} steps"
    garbage_row = f"{case.title}: cyclic garbage per step"
    figures = []
    for contender in case.contenders:
        name = contender.framework
        growth = Figure(case.name, growth_row, name, "bytes", "rss")
        garbage = Figure(case.name, garbage_row, name, "objects", "garbage")
        figures += [growth, garbage]
        if name in failures:
            growth.error = garbage.error = failures[name]
            continue
        for _ in range(max(3, steps // 10)):
            contender.step()
        gc.collect()
        before = resident_bytes()
        for _ in range(steps):
            contender.step()
        growth.samples = [float(resident_bytes() - before)]
        gc.collect()
        gc.disable()
        try:
            for _ in range(steps):
                contender.step()
        finally:
            found = gc.collect()
            gc.enable()
        garbage.samples = [found / steps]
        log(f"   {case.name}/{name}: RSS {growth.samples[0] / 1024:+.0f} KiB, "
            f"{garbage.samples[0]:g} cyclic objects per step")
    return figures


def run_case(case: Case, quick: bool, log: Callable[[str], None]) -> list[Figure]:
    """Check gradients, then measure: the figures of one case."""
    log(f"== {case.name}: {case.title}")
    gc.collect()
    failures = check_contenders(case, log)
    if case.kind == "memory":
        return measure_memory(case, failures, quick, log)
    return measure_time(case, failures, quick, log)


def profile_case(case: Case, framework: str, seconds: float = 3.0, top: int = 25) -> str:
    """cProfile ``framework``'s step of ``case`` for about ``seconds``; the top functions.

    Raises :class:`GradientMismatch` if the contender's gradients are wrong, and
    ``KeyError`` naming the choices if ``framework`` does not run this case.
    """
    by_name = {contender.framework: contender for contender in case.contenders}
    if framework not in by_name:
        raise KeyError(f"{case.name} has no {framework!r} contender; choose from {list(by_name)}")
    contender = by_name[framework]
    compare_gradients(case.contenders[0].gradients(), contender.gradients(), case.rtol, case.atol)
    start = time.perf_counter()
    contender.step()
    calls = max(1, min(1000, round(seconds / max(time.perf_counter() - start, 1e-6))))
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        contender.step()
    profiler.disable()
    out = io.StringIO()
    out.write(f"cProfile of {case.name} / {framework}: {calls} steps\n")
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    out.write("\n--- by own time (tottime) ---\n")
    stats.sort_stats("tottime").print_stats(top)
    out.write("\n--- by cumulative time ---\n")
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()
