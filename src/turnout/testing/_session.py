"""``pytest --turnout-backend=NAME``: one backend for the whole session, a tally and a verdict."""

from __future__ import annotations

import threading
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from turnout._chain import Observer
from turnout._dispatcher import BackendDispatcher, every_host
from turnout._errors import BackendLoadError, TurnoutError, UnknownBackendError
from turnout._hosts import live
from turnout._names import suggest
from turnout.testing._compare import compare_results, shorten
from turnout.testing._known import KnownFailures

Settled = str | TurnoutError  # a host's canonical name for the backend, or why none


def _alive() -> list[BackendDispatcher]:
    hosts = [d for d in list(live) if isinstance(d, BackendDispatcher)]
    return sorted(hosts, key=lambda d: d._serial)  # noqa: SLF001 - creation order


class _HostObserver(Observer):
    """Tells the session what one host's calls did, and which host it was."""

    def __init__(self, session: BackendSession, host: BackendDispatcher) -> None:
        self._session = session
        self._host = host
        self.compare = session.compare

    def ran(self, function: str, backend: str) -> None:
        """Count a call `backend` ran."""
        self._session.ran(self._host, function, backend)

    def declined(self, function: str, backend: str, reason: str) -> None:  # noqa: ARG002 - in the reason
        """Count a call a candidate declined."""
        self._session.declined(function, reason)

    def fell_back(self, function: str, backends: str, reason: str) -> None:
        """Count a call the host's code ran instead; maybe end its test as an expected failure."""
        self._session.fell_back(self._host, function, backends, reason)

    def compared(self, function: str, backend: str, result: object, expected: object) -> None:
        """Judge a backend's result against the host's."""
        self._session.compared(self._host, function, backend, result, expected)


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
        self.xfail_missing = bool(config.getoption("turnout_xfail_missing"))
        self.compare = bool(config.getoption("turnout_compare"))
        self._hosts: dict[BackendDispatcher, Settled] = {}
        self._heard: list[str] = []  # warnings selecting it gave: what users see
        self._ran: Counter[str] = Counter()
        self._declined: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._fell_back: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._missing: Counter[str] = Counter()  # tests ended as expected failures, by function
        self._lacks: dict[tuple[BackendDispatcher, str], bool] = {}
        self._compared: Counter[str] = Counter()
        self._mismatches: list[str] = []  # of the test running now
        self._stray: list[str] = []  # made outside any test
        self._known = KnownFailures()
        self._item: pytest.Item | None = None
        self._thread: int | None = None
        self._verdict: tuple[pytest.ExitCode, str] | None = None
        self._refused = False
        self._workers = 0  # pytest-xdist workers that reported (on the controller)
        self._worker_problem: str | None = None
        self._merged_known: list[str] = []
        self._stop = every_host(self._join)

    # -- hosts -------------------------------------------------------------------------

    def _join(self, host: BackendDispatcher) -> Callable[[], None]:
        """Select the session's backend in one host and observe it; return the undo."""
        unselect = host._select_quietly(self.name)  # noqa: SLF001 - turnout's own plugin
        unobserve = host.observe(_HostObserver(self, host))

        def undo() -> None:
            unobserve()
            unselect()

        return undo

    def _settle(self, host: BackendDispatcher) -> Settled:
        """Resolve the backend in `host` once (importing it), keeping what selecting it warned.

        The warnings (`UntrustedBackendWarning`: what users will see) go to the
        summary instead of into the first test that calls the host, where a
        suite's ``filterwarnings = error`` would make them a failure.
        """
        found = self._hosts.get(host)
        if found is None:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    found = host.settings._resolve(self.name)  # noqa: SLF001 - turnout's own plugin
                except TurnoutError as error:
                    found = error
            self._hosts[host] = found
            self._heard.extend(f"{w.category.__name__}: {w.message}" for w in caught)
        return found

    def _problem(self, *, finished: bool) -> str | None:
        """Return why the backend cannot be tested with the hosts imported so far, if so."""
        settled = [self._settle(host) for host in _alive()]
        broken = [error for error in settled if isinstance(error, BackendLoadError)]
        if broken:
            return "; ".join(map(str, broken))
        if any(isinstance(found, str) for found in settled):
            return None
        if not settled:
            return "the suite imported no host that dispatches with turnout" if finished else None
        errors = [found for found in settled if isinstance(found, TurnoutError)]
        if all(isinstance(error, UnknownBackendError) for error in errors):
            hosts = [host for host in _alive() if host in self._hosts]
            labels = sorted({label for host in hosts for label in host.available_backend_names()})
            close = suggest(self.name, labels)
            hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
            names = ", ".join(host.host_name for host in hosts)
            return (
                f"no host imported by this suite ({names}) has a backend {self.name!r}.{hint} "
                f"Installed: {', '.join(labels) or 'none'}"
            )
        return "; ".join(str(e) for e in errors if not isinstance(e, UnknownBackendError))

    # -- what the observers report -----------------------------------------------------

    def ran(self, host: BackendDispatcher, function: str, backend: str) -> None:
        """Count a call that ran on the session's backend."""
        if backend == self._settle(host):
            self._ran[function] += 1

    def declined(self, function: str, reason: str) -> None:
        """Count a call a candidate declined."""
        self._declined[function][reason] += 1

    def fell_back(self, host: BackendDispatcher, function: str, backends: str, reason: str) -> None:
        """Count a fallback; with ``--turnout-xfail-missing``, end a test of a function it lacks.

        Only a call made in the test's own thread ends it (`pytest.xfail` raises
        from the call, as NetworkX's test mode does); the host's code runs for
        the others.
        """
        self._fell_back[function][reason] += 1
        if not self.xfail_missing or self._item is None or threading.get_ident() != self._thread:
            return
        name = self._settle(host)
        if not isinstance(name, str) or name not in backends.split(", "):
            return
        if not self._lacks_function(host, name, function):
            return  # it declined this call (can_run, NotImplementedError): its own decision
        self._missing[function] += 1
        pytest.xfail(f"backend {name!r} does not implement {function} (--turnout-xfail-missing)")

    def _lacks_function(self, host: BackendDispatcher, name: str, function: str) -> bool:
        key = (host, function)
        if key not in self._lacks:
            row = host.support(load=False).get(function, {})
            self._lacks[key] = row.get(name) is None
        return self._lacks[key]

    def compared(
        self, host: BackendDispatcher, function: str, backend: str, result: object, expected: object
    ) -> None:
        """Judge one result of the session's backend against the host's (``--turnout-compare``)."""
        if backend != self._settle(host):
            return
        self._compared[function] += 1
        verdict = self._judge(host, function, backend, result, expected)
        if verdict is not None:
            message = (
                f"{function}: backend {backend!r} returned {shorten(result)}, "
                f"the host's code {shorten(expected)}: {verdict}"
            )
            (self._stray if self._item is None else self._mismatches).append(message)

    def _judge(
        self, host: BackendDispatcher, function: str, backend: str, result: object, expected: object
    ) -> str | None:
        """Return where the results differ (None: they agree).

        Asked in turn: the suite's ``pytest_turnout_compare``, the backend's
        ``turnout_compare``, then `compare_results`; the first answer that is
        not None decides.
        """
        hook = (
            self._item.ihook if self._item is not None else self.config.hook
        ).pytest_turnout_compare
        try:
            verdict = hook(function=function, backend=backend, result=result, expected=expected)
            if verdict is None:
                own = getattr(host.get_backend(backend), "turnout_compare", None)
                verdict = own(function, result, expected) if callable(own) else None
            if verdict is None:
                verdict = compare_results(result, expected)
        except Exception as error:  # noqa: BLE001 - a judge that raises fails the test, saying so
            return f"comparing them raised {type(error).__name__}: {error}"
        if isinstance(verdict, str):
            return verdict or "they differ"
        return None if verdict else "they differ"

    # -- pytest hooks --------------------------------------------------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Refuse a backend the suite's hosts cannot select; let it mark its known failures.

        By now the suite's modules have imported their hosts. A label no host
        resolves, or one that failed to load, is a usage error (did-you-mean
        included), not a suite that quietly runs the hosts' own code.
        """
        problem = self._problem(finished=False)
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
        seen: set[int] = set()
        for host, found in self._hosts.items():
            backend = host.get_backend(found) if isinstance(found, str) else None
            if backend is not None and id(backend) not in seen:
                seen.add(id(backend))
                self._known.apply(str(found), backend, items)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[None]:
        """Know which test runs, and in which thread; settle hosts earlier tests imported."""
        for host in _alive():
            self._settle(host)
        self._item, self._thread = item, threading.get_ident()
        try:
            yield
        finally:
            self._item = None

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self) -> Iterator[None]:
        """Fail the test phase that made a call whose results disagreed (``--turnout-compare``)."""
        outcome = yield
        if not self._mismatches:
            return
        text = "\n".join(self._mismatches)
        self._mismatches = []
        report = outcome.get_result()  # type: ignore[attr-defined]
        header = "--turnout-compare: results disagree with the host's code:"
        if report.failed:
            report.sections.append(("turnout --turnout-compare", text))
        elif not report.skipped:  # an expected failure stays one
            report.outcome = "failed"
            report.longrepr = f"{header}\n{text}"
            if hasattr(report, "wasxfail"):
                del report.wasxfail

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Fail a session whose backend never ran, or failed to load in a host imported late."""
        if self._refused or self.config.option.collectonly:
            return
        output = getattr(self.config, "workeroutput", None)
        if output is not None:  # a pytest-xdist worker: the controller judges the run
            output["turnout"] = self._export()
            return
        if self.config.pluginmanager.hasplugin("dsession"):  # the xdist controller
            if not self._workers:
                return  # no worker finished: xdist says why
            problem = self._worker_problem
        else:
            problem = self._problem(finished=True)
        if problem is not None:
            self._verdict = (pytest.ExitCode.USAGE_ERROR, problem)
        elif not self._ran and not self.allow_unused:
            self._verdict = (
                pytest.ExitCode.TESTS_FAILED,
                (
                    "it ran no call: every dispatched call ran the host's code "
                    "(pass --turnout-allow-unused if that is expected)"
                ),
            )
        elif self._stray:
            self._verdict = (
                pytest.ExitCode.TESTS_FAILED,
                "results made outside any test disagreed with the host's code:\n"
                + "\n".join(self._stray),
            )
        if self._verdict is not None and session.exitstatus in (0, 1):
            session.exitstatus = pytest.ExitCode(max(session.exitstatus, self._verdict[0]))

    # -- pytest-xdist: the workers run the tests and tally, the controller judges ---------

    def _export(self) -> dict[str, Any]:
        """Return this worker's tally as plain data, for the controller to merge."""
        return {
            "ran": dict(self._ran),
            "declined": {function: dict(c) for function, c in self._declined.items()},
            "fell_back": {function: dict(c) for function, c in self._fell_back.items()},
            "missing": dict(self._missing),
            "compared": dict(self._compared),
            "heard": self._heard,
            "known": self._known.summary(),
            "stray": self._stray,
            "problem": self._problem(finished=True),
        }

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any) -> None:
        """Merge what a pytest-xdist worker tallied (the controller imports no host)."""
        data = getattr(node, "workeroutput", {}).get("turnout")
        if not data:
            return
        self._workers += 1
        self._ran.update(data["ran"])
        for mine, theirs in (
            (self._declined, data["declined"]),
            (self._fell_back, data["fell_back"]),
        ):
            for function, reasons in theirs.items():
                mine[function].update(reasons)
        self._missing.update(data["missing"])
        self._compared.update(data["compared"])
        self._heard.extend(data["heard"])
        self._stray.extend(data["stray"])
        self._merged_known.extend(data["known"])
        self._worker_problem = self._worker_problem or data["problem"]

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """Print where each function ran, what selecting the backend warned, and the verdict."""
        if self._refused:
            return
        terminalreporter.ensure_newline()
        terminalreporter.section(f"turnout: backend {self.name!r}")
        for line in self._summary():
            terminalreporter.write_line(line)
        if self._verdict is not None:
            code, message = self._verdict
            line = f"FAILED (exit {int(code)}): backend {self.name!r}: {message}"
            terminalreporter.write_line(line, red=True)

    def _summary(self) -> Iterator[str]:
        functions = sorted({*self._ran, *self._declined, *self._fell_back})
        if not functions:
            yield "no dispatched function was called with it"
        for function in functions:
            yield f"{function}: ran on {self.name} {self._ran[function]} time(s)"
            for shown, table in (("declined", self._declined), ("fell back", self._fell_back)):
                for reason, count in sorted(table[function].items()):
                    yield f"    {shown} {count} time(s): {reason}"
        if self.compare:
            yield f"compared with the host's code: {sum(self._compared.values())} call(s)"
        for function, count in sorted(self._missing.items()):
            yield f"expected failures, {function} not implemented: {count} test(s)"
        yield from dict.fromkeys([*self._known.summary(), *self._merged_known])
        for heard in dict.fromkeys(self._heard):
            yield f"selecting it warned (users see this too): {heard}"

    def pytest_unconfigure(self) -> None:
        """Stop selecting and observing (a pytester run in the same process)."""
        self._stop()
