"""From the runs of ``--turnout-backend=all`` (one per test and backend) to a `Matrix`.

A *run* is plain data (it crosses from pytest-xdist workers to the
controller): the test's own id, the backend selected (``"cpu"``: none), the
outcome, and what dispatch did meanwhile, by function: calls the backend ran,
declined and fell back, and the function whose absence ended the test
(``--turnout-xfail-missing``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from turnout._compatibility import CPU, Backend, Cell, Matrix

Run = dict[str, Any]


def new_run(test: str, backend: str) -> Run:
    """Return the record of one test on one backend, before it ran."""
    return {
        "test": test,
        "backend": backend,
        "outcome": None,
        "ran": {},
        "declined": {},
        "fell_back": {},
        "missing": None,
    }


def note_outcome(run: Run, *, when: str, failed: bool, skipped: bool, xfail: bool) -> None:
    """Take one phase's report into the run's outcome (a failure in any phase sticks)."""
    if run["outcome"] == "failed":
        return
    if failed:
        run["outcome"] = "failed"
    elif skipped:
        run["outcome"] = "xfailed" if xfail else "skipped"
    elif when == "call":
        run["outcome"] = "xpassed" if xfail else "passed"


def called(run: Run) -> set[str]:
    """Return the functions the run called with its backend selected."""
    return {*run["ran"], *run["declined"], *run["fell_back"]}


def build(
    runs: Iterable[Run],
    backends: list[Backend],
    support: Mapping[str, Mapping[str, bool]],
    *,
    hosts: list[str],
    version: str | None,
) -> Matrix:
    """Return the matrix of `runs`.

    Parameters
    ----------
    runs
        Every run, in order.
    backends
        The columns, ``"cpu"`` first.
    support
        ``{function: {backend: implements}}``, in row order.
    hosts, version
        The hosts the tests imported, and turnout's version.
    """
    runs = list(runs)
    by_test: dict[str, set[str]] = {}  # the functions each test called, on any backend
    tests: dict[str, dict[str, str]] = {}
    for run in runs:
        by_test.setdefault(run["test"], set()).update(called(run))
        tests.setdefault(run["test"], {})[run["backend"]] = run["outcome"] or "skipped"
    cells: dict[tuple[str, str], Cell] = {}
    for run in runs:
        _count(run, by_test[run["test"]], cells)
    functions: dict[str, dict[str, Cell]] = {}
    for function in [*support, *sorted({f for f, _ in cells} - set(support))]:
        row = support.get(function, {})
        functions[function] = {}
        for backend in backends:
            cpu = backend.name == CPU
            cell = cells.get((function, backend.name)) or Cell(
                implements=False, ran=None if cpu else 0
            )
            cell.implements = cpu or bool(row.get(backend.name))
            functions[function][backend.name] = cell
    return Matrix(hosts, backends, functions, tests, turnout_version=version)


def _count(run: Run, elsewhere: set[str], cells: dict[tuple[str, str], Cell]) -> None:
    """Add one run to the cells of its backend.

    The host's code (``"cpu"``) is not observed call by call: a run on it
    counts for each function its test called on any backend.
    """
    backend, test, outcome = run["backend"], run["test"], run["outcome"]
    if backend == CPU:
        for function in elsewhere:
            cell = cells.setdefault((function, CPU), Cell(implements=True, ran=None))
            cell.tests += 1
            if outcome in ("failed", "xfailed"):
                getattr(cell, outcome).append(test)
        return
    for function in called(run):
        cell = cells.setdefault((function, backend), Cell(implements=False))
        ran = run["ran"].get(function, 0)
        cell.tests += 1
        cell.ran = (cell.ran or 0) + ran
        for mine, theirs in ((cell.declined, run["declined"]), (cell.fell_back, run["fell_back"])):
            for reason, count in theirs.get(function, {}).items():
                mine[reason] = mine.get(reason, 0) + count
        ended = run["missing"] == function  # its absence ended the test
        if (ran or ended) and outcome in ("failed", "xfailed"):
            getattr(cell, outcome).append(test)
