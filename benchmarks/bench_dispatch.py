"""Per-call cost of turnout's dispatch, in ns/call and as a ratio to a plain call.

Run from the repository root with the test environment:
``.venv/test-py3.11/bin/python benchmarks/bench_dispatch.py``. Each figure is
the minimum over repeats of a warmed-up loop, so it is the cost of the path,
not of the machine's noise.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import timeit
import warnings
from collections.abc import Callable

import turnout
from turnout.testing import DistributionSite

REPEATS = 7
NUMBER = 200_000

BACKEND = """
class Backend:
    name = "bench"

    def add(self, a, b):
        return a + b
"""


def measure(stmt: Callable[[], object]) -> float:
    """Return the best ns/call of `stmt` over REPEATS loops of NUMBER calls."""
    timer = timeit.Timer(stmt)
    timer.timeit(NUMBER // 10)  # warm up: caches, specialisation
    return min(timer.repeat(REPEATS, NUMBER)) / NUMBER * 1e9


def main() -> None:
    print(
        f"Python {platform.python_version()} ({sys.implementation.name}), "
        f"{platform.machine()}, {os.cpu_count()} CPUs, turnout {turnout.__version__}"
    )
    with tempfile.TemporaryDirectory() as tmp, DistributionSite(tmp) as site:
        site.add(
            "bench-backend",
            entry_points={"bench.backends": {"bench": "bench_backend:Backend"}},
            modules={"bench_backend.py": BACKEND},
        )
        dispatcher = turnout.BackendDispatcher(
            "bench.backends", "bench", trusted_backends={"bench": {"package": "bench-backend"}}
        )

        def add(a: int, b: int) -> int:
            return a + b

        def subtract(a: int, b: int) -> int:
            return a - b

        dispatched = dispatcher.backend_dispatch(add)
        fallback = dispatcher.backend_dispatch(subtract)
        settings = dispatcher.settings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", turnout.TurnoutWarning)
            dispatched(1, 2, backend="bench")

        rows: list[tuple[str, float]] = [
            ("plain call", measure(lambda: add(1, 2))),
            ("turnout: default path (cpu)", measure(lambda: dispatched(1, 2))),
            ("turnout: backend= keyword", measure(lambda: dispatched(1, 2, backend="bench"))),
        ]
        with settings.use_backend("bench"):
            rows.append(("turnout: use_backend scope", measure(lambda: dispatched(1, 2))))
            rows.append(("turnout: fallback to host code", measure(lambda: fallback(1, 2))))
        settings.backend = "bench"
        rows.append(("turnout: settings.backend", measure(lambda: dispatched(1, 2))))
        settings.backend = "cpu"

    base = rows[0][1]
    print(f"{'path':<34}{'ns/call':>10}{'x plain':>10}")
    for name, ns in rows:
        print(f"{name:<34}{ns:>10.1f}{ns / base:>10.2f}")


if __name__ == "__main__":
    main()
