"""What the numbers were measured on: the machine, the versions, the thread counts, the peers.

The peers (PyTorch and micrograd) are optional: :func:`load_peers` imports what is installed,
pins PyTorch to NumPy's BLAS thread count so both do the same parallel work, and says what is
missing so the report can skip those columns.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

# Set on some machines to steer OpenBLAS's kernel choice; they can slow NumPy down a lot.
OPENBLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


@dataclass
class Peers:
    """The optional frameworks measured beside autograd_lite (None when not installed)."""

    torch: ModuleType | None = None
    micrograd_engine: ModuleType | None = None
    micrograd_nn: ModuleType | None = None
    missing: list[str] = field(default_factory=list)


@dataclass
class Threads:
    """NumPy's BLAS thread count, how it was found, and what PyTorch was set to."""

    blas: int
    source: str
    blas_library: str
    torch: int | None = None


def blas_threads() -> Threads:
    """NumPy's BLAS thread count: from threadpoolctl when installed, else a stated guess."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            if os.environ.get(variable, "").isdigit():
                return Threads(int(os.environ[variable]), f"${variable}", "unknown")
        return Threads(
            os.cpu_count() or 1,
            "assumed = cores (threadpoolctl not installed; OpenBLAS's default)",
            "unknown",
        )
    pools = [pool for pool in threadpool_info() if pool.get("user_api") == "blas"]
    numpy_pools = [pool for pool in pools if "numpy" in pool.get("filepath", "")] or pools
    if not numpy_pools:
        return Threads(1, "threadpoolctl found no BLAS library (assumed 1)", "none found")
    pool = numpy_pools[0]
    library = f"{pool.get('internal_api')} {pool.get('version')} ({pool.get('architecture')})"
    return Threads(int(pool["num_threads"]), "threadpoolctl", library)


def limit_threads(count: int) -> Any:
    """Limit NumPy's BLAS to ``count`` threads for the rest of the run (needs threadpoolctl).

    Returns the limiter, which must be kept alive; raises ``RuntimeError`` without threadpoolctl
    (then set ``OPENBLAS_NUM_THREADS`` before starting Python instead).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise RuntimeError(
            "--threads needs threadpoolctl to limit NumPy's BLAS at run time; install it, or "
            "set OPENBLAS_NUM_THREADS before starting Python"
        ) from None
    return threadpool_limits(limits=count, user_api="blas")


def busy(cores: int | None = None) -> bool:
    """True when the 1-minute load average is at least the number of cores."""
    try:
        return os.getloadavg()[0] >= (cores or os.cpu_count() or 1)
    except OSError:
        return False


def load_peers(threads: Threads) -> Peers:
    """Import PyTorch and micrograd if installed; PyTorch uses ``threads.blas`` threads."""
    peers = Peers()
    try:
        import torch
    except ImportError:
        peers.missing.append("torch")
    else:
        torch.set_num_threads(threads.blas)
        threads.torch = torch.get_num_threads()
        peers.torch = torch
    try:
        import micrograd.engine
        import micrograd.nn
    except ImportError:
        peers.missing.append("micrograd")
    else:
        peers.micrograd_engine = micrograd.engine
        peers.micrograd_nn = micrograd.nn
    return peers


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (or what ``platform`` knows)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    """The 1/5/15-minute load averages: how busy the shared machine was."""
    try:
        return " / ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def engine_revision() -> str:
    """The commit measured, and whether autograd_lite/ or nn/ had uncommitted changes."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def git(*arguments: str) -> str:
        return subprocess.run(["git", "-C", root, *arguments], capture_output=True, text=True,
                              check=True, timeout=10).stdout.strip()

    try:
        commit = git("log", "-1", "--format=%h %s")
        changed = git("status", "--porcelain", "--", "autograd_lite", "nn")
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return commit + (" (+ uncommitted changes in autograd_lite/ or nn/)" if changed else "")


def describe(threads: Threads, peers: Peers, command: str) -> dict[str, str]:
    """Everything the report states about the run, in display order."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    versions = [f"Python {platform.python_version()}", f"NumPy {np.__version__}"]
    if peers.torch is not None:
        versions.append(f"torch {peers.torch.__version__}")
    if peers.micrograd_engine is not None:
        versions.append(f"micrograd {_distribution_version('micrograd')}")
    openblas = [
        f"{name}={os.environ[name]!r}" for name in OPENBLAS_VARIABLES if name in os.environ
    ]
    torch_threads = "not installed" if threads.torch is None else str(threads.torch)
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command,
        "code measured": engine_revision(),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores ({usable} usable), {platform.system()}",
        "load average at start": load_average(),
        "versions": ", ".join(versions),
        "BLAS": threads.blas_library,
        "threads": f"NumPy BLAS {threads.blas} ({threads.source}); torch {torch_threads}",
        "OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE": (
            "set: " + ", ".join(openblas) + " (they can slow NumPy)" if openblas else "not set"
        ),
        "peers not installed": ", ".join(peers.missing) or "none",
    }


def _distribution_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"

