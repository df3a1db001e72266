"""``pytest --turnout-backend=NAME``: one backend for the whole session, a tally and a verdict."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from turnout._dispatcher import BackendDispatcher, every_host
from turnout.testing._column import Column, HostObserver, alive
from turnout.testing._known import KnownFailures


class BackendSession:
    """Selects one backend in every host for the session, tallies the calls, and judges the run.

    Exit status: a backend that no host the suite imported can select, or
    that failed to load in one of them, is a usage error (4), raised after
    collection, before any test runs (or at the end, for hosts the tests
    imported themselves). A backend that ran no call fails the session (1)
    unless ``--turnout-allow-unused`` says that is expected.
    """

    def __init__(self, config: pytest.Config, name: str) -> None:
        self.config = config
        self.name = name
        self.allow_unused = bool(config.getoption("turnout_allow_unused"))
        self.column = Column(
            config,
            name,
            xfail_missing=bool(config.getoption("turnout_xfail_missing")),
            compare=bool(config.getoption("turnout_compare")),
        )
        self._known = KnownFailures()
        self._verdict: tuple[pytest.ExitCode, str] | None = None
        self._refused = False
        self._workers = 0  # pytest-xdist workers that reported (on the controller)
        self._worker_problem: str | None = None
        self._merged_known: list[str] = []
        self._stop = every_host(self._join)

    def _join(self, host: BackendDispatcher) -> Callable[[], None]:
        """Select the session's backend in one host and observe it; return the undo."""
        unselect = host._select_quietly(self.name)  # noqa: SLF001 - turnout's own plugin
        column = self.column
        unobserve = host.observe(HostObserver(lambda: column, host, compare=column.compare))

        def undo() -> None:
            unobserve()
            unselect()

        return undo

    # -- pytest hooks --------------------------------------------------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Refuse a backend the suite's hosts cannot select; let it mark its known failures.

        By now the suite's modules have imported their hosts. A label no host
        resolves, or one that failed to load, is a usage error (did-you-mean
        included), not a suite that quietly runs the hosts' own code.
        """
        problem = self.column.problem(finished=False)
        if problem is not None and hasattr(self.config, "workerinput"):
            # A pytest-xdist worker: a usage error here would crash it without a word,
            # so skip every test and let the controller fail the run with the reason.
            skip = pytest.mark.skip(reason=f"--turnout-backend={self.name}: {problem}")
            for item in items:
                item.add_marker(skip)
            return
        if problem is not None:
            self._refused = True
            raise pytest.UsageError(f"--turnout-backend={self.name}: {problem}")
        for name, backend in self.column.backends():
            self._known.apply(name, backend, items)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[None]:
        """Know which test runs, and in which thread; settle hosts earlier tests imported."""
        for host in alive():
            self.column.settle(host)
        self.column.start(item)
        try:
            yield
        finally:
            self.column.stop()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self) -> Iterator[None]:
        """Fail the test phase that made a call whose results disagreed (``--turnout-compare``)."""
        outcome = yield
        fail_disagreement(outcome.get_result(), self.column.take_mismatches())  # type: ignore[attr-defined]

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Fail a session whose backend never ran, or failed to load in a host imported late."""
        if self._refused or self.config.option.collectonly:
            return
        output = getattr(self.config, "workeroutput", None)
        if output is not None:  # a pytest-xdist worker: the controller judges the run
            output["turnout"] = {**self.column.export(), "known": self._known.summary()}
            return
        if self.config.pluginmanager.hasplugin("dsession"):  # the xdist controller
            if not self._workers:
                return  # no worker finished: xdist says why
            problem = self._worker_problem
        else:
            problem = self.column.problem(finished=True)
        self._verdict = verdict(self.column, problem, allow_unused=self.allow_unused)
        if self._verdict is not None and session.exitstatus in (0, 1):
            session.exitstatus = pytest.ExitCode(max(session.exitstatus, self._verdict[0]))

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any) -> None:
        """Merge what a pytest-xdist worker tallied (the controller imports no host)."""
        data = getattr(node, "workeroutput", {}).get("turnout")
        if not data:
            return
        self._workers += 1
        problem = self.column.merge(data)
        self._merged_known.extend(data["known"])
        self._worker_problem = self._worker_problem or problem

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """Print where each function ran, what selecting the backend warned, and the verdict."""
        if self._refused:
            return
        terminalreporter.ensure_newline()
        terminalreporter.section(f"turnout: backend {self.name!r}")
        for line in self.column.summary():
            terminalreporter.write_line(line)
        for line in dict.fromkeys([*self._known.summary(), *self._merged_known]):
            terminalreporter.write_line(line)
        for line in self.column.warned():
            terminalreporter.write_line(line)
        if self._verdict is not None:
            code, message = self._verdict
            line = f"FAILED (exit {int(code)}): backend {self.name!r}: {message}"
            terminalreporter.write_line(line, red=True)

    def pytest_unconfigure(self) -> None:
        """Stop selecting and observing (a pytester run in the same process)."""
        self._stop()


def verdict(
    column: Column, problem: str | None, *, allow_unused: bool
) -> tuple[pytest.ExitCode, str] | None:
    """Return how a backend's run fails the session, and why; None: it does not."""
    if problem is not None:
        return (pytest.ExitCode.USAGE_ERROR, problem)
    if not column.calls.ran and not allow_unused:
        return (
            pytest.ExitCode.TESTS_FAILED,
            (
                "it ran no call: every dispatched call ran the host's code "
                "(pass --turnout-allow-unused if that is expected)"
            ),
        )
    if column.stray:
        return (
            pytest.ExitCode.TESTS_FAILED,
            "results made outside any test disagreed with the host's code:\n"
            + "\n".join(column.stray),
        )
    return None


def fail_disagreement(report: pytest.TestReport, mismatches: list[str]) -> None:
    """Fail a test phase whose backend results disagreed with the host's (``--turnout-compare``)."""
    if not mismatches:
        return
    text = "\n".join(mismatches)
    header = "--turnout-compare: results disagree with the host's code:"
    if report.failed:
        report.sections.append(("turnout --turnout-compare", text))
    elif not report.skipped:  # an expected failure stays one
        report.outcome = "failed"
        report.longrepr = f"{header}\n{text}"
        if hasattr(report, "wasxfail"):
            del report.wasxfail
