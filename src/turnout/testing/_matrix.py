"""``pytest --turnout-backend=all``: every test once per backend, and a compatibility matrix.

Each test function runs once with nothing selected (the ``cpu`` column: the
suite as it runs without the plugin) and once per backend installed for the
hosts imported when its module was collected, with that backend selected in
every host that has it. What dispatch did in each run, and its outcome, make
the matrix (`turnout._compatibility.Matrix`) that ``--turnout-matrix`` writes.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from turnout._compatibility import CPU, Backend, Matrix
from turnout._dispatcher import BackendDispatcher, every_host
from turnout._registry import BackendStatus
from turnout.testing._column import Column, HostObserver, alive
from turnout.testing._items import FIXTURE, TAG, column_of, own_id
from turnout.testing._known import KnownFailures
from turnout.testing._session import fail_disagreement, verdict
from turnout.testing._tally import Run, build, new_run, note_outcome

ALL = "all"
_COLUMNS = (BackendStatus.READY, BackendStatus.FAILED)  # a failed one is a column that did not run


class MatrixSession:
    """Runs each test on the host's code and on every installed backend; writes the matrix.

    Exit status: no backend installed for the hosts the suite imported at
    collection is a usage error (4), before any test runs. A backend that
    failed to load has its tests skipped, and fails the session (4) at the
    end; one that ran no call fails it (1) unless ``--turnout-allow-unused``.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.allow_unused = bool(config.getoption("turnout_allow_unused"))
        self.xfail_missing = bool(config.getoption("turnout_xfail_missing"))
        self.compare = bool(config.getoption("turnout_compare"))
        self.paths: list[str] = list(config.getoption("turnout_matrix") or [])
        self.columns: dict[str, Column] = {}
        self._backends: dict[str, Backend] = {}
        self._discovered: dict[BackendDispatcher, str] = {}  # hosts met at collection
        self._heard: list[str] = []  # what loading the backends warned
        self._current: Column | None = None
        self._selected: dict[BackendDispatcher, Callable[[], None]] = {}
        self._run: Run | None = None
        self._runs: list[Run] = []
        self._once = 0  # tests not run per backend
        self._known = KnownFailures()
        self._workers = 0  # pytest-xdist workers that reported (on the controller)
        self._worker_problems: dict[str | None, str] = {}  # by backend; None: the suite's
        self._merged_known: list[str] = []
        self._merged_late: list[str] = []
        self._support: dict[str, dict[str, bool]] = {}
        self._hosts: list[str] = []
        self._refused = False
        self._matrix: Matrix | None = None
        self._verdicts: list[tuple[pytest.ExitCode, str]] = []
        self._written: list[str] = []
        self._stop = every_host(self._join)

    # -- hosts and selection ------------------------------------------------------------

    def _join(self, host: BackendDispatcher) -> Callable[[], None]:
        """Observe one host, and select the backend of the test running now in it."""
        unobserve = host.observe(HostObserver(lambda: self._current, host, compare=self.compare))
        if self._current is not None:
            self._selected[host] = host._select_quietly(self._current.name)  # noqa: SLF001

        def undo() -> None:
            unobserve()
            unselect = self._selected.pop(host, None)
            if unselect is not None:
                unselect()

        return undo

    def _select(self, label: str | None) -> None:
        """Select `label` in every host (``"cpu"`` or None: nothing), after the last one."""
        while self._selected:
            self._selected.popitem()[1]()
        self._current = self.columns.get(label) if label is not None else None
        if self._current is not None:
            for host in alive():
                self._selected[host] = host._select_quietly(self._current.name)  # noqa: SLF001

    def _labels(self) -> list[str]:
        """Return the backends installed for the hosts alive now, loading those of new hosts."""
        for host in alive():
            if host in self._discovered:
                continue
            self._discovered[host] = host.host_name
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                host.discover()
            self._heard.extend(f"{w.category.__name__}: {w.message}" for w in caught)
            for info in host.report(load=False):
                if info.status in _COLUMNS and info.name not in self.columns:
                    self.columns[info.name] = Column(
                        self.config,
                        info.name,
                        xfail_missing=self.xfail_missing,
                        compare=self.compare,
                    )
                    self._backends[info.name] = Backend(info.name, info.distribution, info.version)
        return sorted(self.columns)

    # -- collection: each test once per backend ---------------------------------------------

    @pytest.fixture(autouse=True, name=FIXTURE)
    def backend_fixture(self, request: pytest.FixtureRequest) -> str | None:
        """Return the backend this test runs on: ``"cpu"`` or a backend's name (None: not repeated).

        ``pytest --turnout-backend=all`` selects it in every host before the
        test's fixtures are set up, and unselects it after their teardown.
        """
        label: str | None = getattr(request, "param", None)
        return label

    @pytest.hookimpl(trylast=True)
    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Run the test once on the host's code and once per backend installed now."""
        labels = self._labels()
        if labels:
            columns = [CPU, *labels]
            ids = [TAG + label for label in columns]
            metafunc.parametrize(FIXTURE, columns, ids=ids, indirect=True)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Refuse a suite with no backend; skip a broken backend's tests; mark known failures."""
        self._labels()  # hosts imported by the last module collected
        problem = self._no_backend()
        worker = hasattr(self.config, "workerinput")
        if problem is not None and not worker:
            self._refused = True
            raise pytest.UsageError(f"--turnout-backend={ALL}: {problem}")
        by_column: dict[str | None, list[pytest.Item]] = {}
        for item in items:
            by_column.setdefault(column_of(item), []).append(item)
        self._once = len(by_column.pop(None, []))
        for label, column in self.columns.items():
            mine = by_column.get(label, [])
            broken = problem or column.problem(finished=False)
            if broken is not None:  # its tests would run the host's code: skip them
                skip = pytest.mark.skip(reason=f"--turnout-backend={ALL}: {label}: {broken}")
                for item in mine:
                    item.add_marker(skip)
                continue
            for name, backend in column.backends():
                self._known.apply(name, backend, mine)

    def _no_backend(self) -> str | None:
        """Return why the suite has no backend to run on, if so."""
        if self.columns:
            return None
        if not self._discovered:
            return (
                "the suite imported no host that dispatches with turnout while it was "
                "collected (import the host in a test module or conftest.py)"
            )
        hosts = ", ".join(self._discovered.values())
        return f"no backend is installed for {hosts}: nothing to run the tests on"

    # -- running: select the test's backend around it ---------------------------------------

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[None]:
        """Select the test's backend in every host, from before its setup to after its teardown."""
        label = column_of(item)
        self._select(label)
        column = self._current
        if column is not None:
            for host in alive():
                column.settle(host)
            column.start(item)
        self._run = new_run(own_id(item), label) if label is not None else None
        try:
            yield
        finally:
            if column is not None:
                column.stop()
            run, self._run = self._run, None
            if run is not None:
                if column is not None:
                    run.update(column.test.export(), missing=column.ended)
                self._runs.append(run)
            self._select(None)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self) -> Iterator[None]:
        """Fail the test phase that made a call whose results disagreed (``--turnout-compare``)."""
        outcome = yield
        if self._current is not None:
            report = outcome.get_result()  # type: ignore[attr-defined]
            fail_disagreement(report, self._current.take_mismatches())

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Take each phase's outcome into the test's run."""
        if self._run is not None:
            note_outcome(
                self._run,
                when=str(report.when),
                failed=report.failed,
                skipped=report.skipped,
                xfail=hasattr(report, "wasxfail"),
            )

    # -- the end: the matrix and the verdict --------------------------------------------------

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Build and write the matrix; fail a session whose backends did not all run."""
        if self._refused or self.config.option.collectonly:
            return
        output = getattr(self.config, "workeroutput", None)
        if output is not None:  # a pytest-xdist worker: the controller writes and judges
            output["turnout"] = self._export()
            return
        controller = self.config.pluginmanager.hasplugin("dsession")
        if controller and not self._workers:
            return  # no worker finished: xdist says why
        if not controller:
            self._support, self._hosts = support_table(self.columns), host_names()
        problem = self._worker_problems.get(None) if controller else self._no_backend()
        if problem is not None:
            self._verdicts.append((pytest.ExitCode.USAGE_ERROR, problem))
        for label in sorted(self.columns):
            self._judge(label, controller=controller)
        self._matrix = self._build()
        self._write(self._matrix)
        if self._verdicts and session.exitstatus in (0, 1):
            worst = max(code for code, _ in self._verdicts)
            session.exitstatus = pytest.ExitCode(max(session.exitstatus, worst))

    def _judge(self, label: str, *, controller: bool) -> None:
        column = self.columns[label]
        problem = self._worker_problems.get(label) if controller else column.problem(finished=True)
        self._backends[label].problem = problem
        found = verdict(column, problem, allow_unused=self.allow_unused)
        if found is not None:
            self._verdicts.append((found[0], f"backend {label!r}: {found[1]}"))

    def _build(self) -> Matrix:
        import turnout  # noqa: PLC0415 - its version, read once at the end

        backends = [Backend(CPU), *(self._backends[label] for label in sorted(self.columns))]
        version = str(turnout.__version__)
        return build(self._runs, backends, self._support, hosts=self._hosts, version=version)

    def _write(self, matrix: Matrix) -> None:
        for path in self.paths:
            problem = write(matrix, path)
            if problem is None:
                self._written.append(path)
            else:
                self._verdicts.append((pytest.ExitCode.USAGE_ERROR, problem))

    # -- pytest-xdist: the workers run and tally, the controller builds and judges ------------

    def _export(self) -> dict[str, Any]:
        return {
            "runs": self._runs,
            "columns": {label: column.export() for label, column in self.columns.items()},
            "backends": {label: b.as_dict() for label, b in self._backends.items()},
            "support": support_table(self.columns),
            "hosts": host_names(),
            "heard": self._heard,
            "once": self._once,
            "late": list(self._late()),
            "known": self._known.summary(),
            "problem": self._no_backend(),
        }

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any) -> None:
        """Merge what a pytest-xdist worker tallied (the controller imports no host)."""
        data = getattr(node, "workeroutput", {}).get("turnout")
        if not data:
            return
        self._workers += 1
        if data["problem"] is not None:
            self._worker_problems.setdefault(None, data["problem"])
        self._runs.extend(data["runs"])
        for label, tally in data["columns"].items():
            column = self.columns.get(label)
            if column is None:
                column = self.columns[label] = Column(
                    self.config, label, xfail_missing=self.xfail_missing, compare=self.compare
                )
                self._backends[label] = Backend(**data["backends"][label])
            problem = column.merge(tally)
            if problem is not None:
                self._worker_problems.setdefault(label, problem)
        for function, row in data["support"].items():
            self._support.setdefault(function, {}).update(row)
        self._hosts.extend(h for h in data["hosts"] if h not in self._hosts)
        self._heard.extend(data["heard"])
        self._once = max(self._once, data["once"])
        self._merged_known.extend(data["known"])
        self._merged_late.extend(data["late"])

    # -- the summary ------------------------------------------------------------------------

    def _late(self) -> Iterator[str]:
        """Yield the hosts first imported while tests ran: their backends have no column."""
        for host in alive():
            if host not in self._discovered:
                yield host.host_name

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """Print the matrix, why the host's code ran, what was written, and the verdict."""
        if self._refused or self._matrix is None:
            return
        write = terminalreporter.write_line
        terminalreporter.ensure_newline()
        terminalreporter.section("turnout: every backend")
        for line in summary(self._matrix):
            write(line)
        for line in self._remarks():
            write(line)
        for code, message in self._verdicts:
            write(f"FAILED (exit {int(code)}): {message}", red=True)

    def _remarks(self) -> Iterator[str]:
        for label in sorted(self.columns):
            column = self.columns[label]
            if column.compare:
                count = sum(column.compared_calls.values())
                yield f"{label}: compared with the host's code: {count} call(s)"
            for function, count in sorted(column.missing.items()):
                yield f"{label}: expected failures, {function} not implemented: {count} test(s)"
        yield from dict.fromkeys([*self._known.summary(), *self._merged_known])
        heard = [*self._heard, *(h for c in self.columns.values() for h in c.heard)]
        for line in dict.fromkeys(heard):
            yield f"loading the backends warned (users see this too): {line}"
        if self._once:
            yield (
                f"{self._once} test(s) ran once, with no backend selected: not test functions "
                "(doctests, unittest), or collected before any host with backends was imported"
            )
        for host in dict.fromkeys([*self._late(), *self._merged_late]):
            yield (
                f"{host} was first imported while tests ran: its backends have no column "
                "(import it in a test module or conftest.py)"
            )
        if self._written:
            yield f"compatibility matrix written to {', '.join(self._written)}"

    def pytest_unconfigure(self) -> None:
        """Stop observing, and selecting (a pytester run in the same process)."""
        self._stop()


def support_table(columns: dict[str, Column]) -> dict[str, dict[str, bool]]:
    """Return ``{function: {backend: implements}}`` for every host alive, in decoration order."""
    table: dict[str, dict[str, bool]] = {}
    for host in alive():
        for function, row in host.support(load=False).items():
            cells = table.setdefault(function, {})
            for label, column in columns.items():
                name = column.settle(host)
                cells[label] = isinstance(name, str) and row.get(name) is not None
    return table


def write(matrix: Matrix, path: str) -> str | None:
    """Write `matrix` to `path`; return why not, if it failed."""
    try:
        matrix.write(path)
    except (OSError, ValueError) as error:
        return f"cannot write the matrix: {error}"
    return None


def host_names() -> list[str]:
    """Return the names of the hosts alive, in creation order."""
    return list(dict.fromkeys(host.host_name for host in alive()))


def summary(matrix: Matrix) -> Iterator[str]:
    """Yield the matrix for a terminal: its headline, an aligned table, and its notes."""
    yield matrix.headline()
    rows = [[", ".join(text for text, _ in cell) for cell in row] for row in matrix.cell_parts()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        yield "  ".join(text.ljust(width) for text, width in zip(row, widths, strict=True)).rstrip()
    for function, backend, text in matrix.notes():
        yield f"{function} on {backend}: {text}"
