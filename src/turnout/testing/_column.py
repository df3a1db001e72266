"""One backend selected in every host of a test session: what it settled to, did, and warned."""

from __future__ import annotations

import threading
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from turnout._chain import Observer
from turnout._dispatcher import BackendDispatcher
from turnout._errors import BackendLoadError, TurnoutError, UnknownBackendError
from turnout._hosts import live
from turnout._names import suggest
from turnout.testing._compare import compare_results, shorten

Settled = str | TurnoutError  # a host's canonical name for the backend, or why none


def alive() -> list[BackendDispatcher]:
    """Return the hosts alive now, in creation order."""
    hosts = [d for d in list(live) if isinstance(d, BackendDispatcher)]
    return sorted(hosts, key=lambda d: d._serial)  # noqa: SLF001 - creation order


class HostObserver(Observer):
    """Tells the column selected now what one host's calls did, and which host it was."""

    def __init__(
        self, column: Callable[[], Column | None], host: BackendDispatcher, *, compare: bool
    ) -> None:
        self._column = column
        self._host = host
        self.compare = compare

    def ran(self, function: str, backend: str) -> None:
        """Count a call `backend` ran."""
        column = self._column()
        if column is not None:
            column.ran(self._host, function, backend)

    def declined(self, function: str, backend: str, reason: str) -> None:
        """Count a call a candidate declined."""
        column = self._column()
        if column is not None:
            column.declined(self._host, function, backend, reason)

    def fell_back(self, function: str, backends: str, reason: str) -> None:
        """Count a call the host's code ran instead; maybe end its test as an expected failure."""
        column = self._column()
        if column is not None:
            column.fell_back(self._host, function, backends, reason)

    def compared(self, function: str, backend: str, result: object, expected: object) -> None:
        """Judge a backend's result against the host's."""
        column = self._column()
        if column is not None:
            column.compared(self._host, function, backend, result, expected)


class Calls:
    """What dispatch did with one backend selected: calls ran, declined, fell back, by function."""

    def __init__(self) -> None:
        self.ran: Counter[str] = Counter()
        self.declined: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.fell_back: defaultdict[str, Counter[str]] = defaultdict(Counter)

    def export(self) -> dict[str, Any]:
        """Return the counts as plain data (to a pytest-xdist controller, into a matrix)."""
        return {
            "ran": dict(self.ran),
            "declined": {function: dict(c) for function, c in self.declined.items() if c},
            "fell_back": {function: dict(c) for function, c in self.fell_back.items() if c},
        }

    def merge(self, data: dict[str, Any]) -> None:
        """Add counts `export` returned."""
        self.ran.update(data["ran"])
        for mine, theirs in (
            (self.declined, data["declined"]),
            (self.fell_back, data["fell_back"]),
        ):
            for function, reasons in theirs.items():
                mine[function].update(reasons)

    def functions(self) -> set[str]:
        """Return the functions called: ran, declined or fell back."""
        return {*self.ran, *self.declined, *self.fell_back}


class Column:
    """One backend label selected in every host that has it, for some or all tests.

    Counts what its calls did (`calls` for the whole session, `test` for the test
    running now), ends a test at a function the backend lacks
    (``--turnout-xfail-missing``), judges its results against the host's
    (``--turnout-compare``), and says why it cannot be tested, if so.
    """

    def __init__(
        self, config: pytest.Config, name: str, *, xfail_missing: bool, compare: bool
    ) -> None:
        self.config = config
        self.name = name
        self.xfail_missing = xfail_missing
        self.compare = compare
        self.hosts: dict[BackendDispatcher, Settled] = {}
        self.heard: list[str] = []  # warnings selecting it gave: what users see
        self.calls = Calls()
        self.test = Calls()  # of the test running now
        self.ended: str | None = None  # the function whose absence ended the test running now
        self.missing: Counter[str] = Counter()  # tests ended as expected failures, by function
        self.compared_calls: Counter[str] = Counter()
        self.mismatches: list[str] = []  # of the test running now
        self.stray: list[str] = []  # made outside any test
        self.item: pytest.Item | None = None
        self.thread: int | None = None
        self._lacks: dict[tuple[BackendDispatcher, str], bool] = {}

    # -- hosts -------------------------------------------------------------------------

    def settle(self, host: BackendDispatcher) -> Settled:
        """Resolve the backend in `host` once (importing it), keeping what selecting it warned.

        The warnings (`UntrustedBackendWarning`: what users will see) go to the
        summary instead of into the first test that calls the host, where a
        suite's ``filterwarnings = error`` would make them a failure.
        """
        found = self.hosts.get(host)
        if found is None:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    found = host.settings._resolve(self.name)  # noqa: SLF001 - turnout's own plugin
                except TurnoutError as error:
                    found = error
            self.hosts[host] = found
            self.heard.extend(f"{w.category.__name__}: {w.message}" for w in caught)
        return found

    def problem(self, *, finished: bool) -> str | None:
        """Return why the backend cannot be tested with the hosts imported so far, if so."""
        settled = [self.settle(host) for host in alive()]
        broken = [error for error in settled if isinstance(error, BackendLoadError)]
        if broken:
            return "; ".join(map(str, broken))
        if any(isinstance(found, str) for found in settled):
            return None
        if not settled:
            return "the suite imported no host that dispatches with turnout" if finished else None
        errors = [found for found in settled if isinstance(found, TurnoutError)]
        if all(isinstance(error, UnknownBackendError) for error in errors):
            hosts = [host for host in alive() if host in self.hosts]
            labels = sorted({label for host in hosts for label in host.available_backend_names()})
            close = suggest(self.name, labels)
            hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
            names = ", ".join(host.host_name for host in hosts)
            return (
                f"no host imported by this suite ({names}) has a backend {self.name!r}.{hint} "
                f"Installed: {', '.join(labels) or 'none'}"
            )
        return "; ".join(str(e) for e in errors if not isinstance(e, UnknownBackendError))

    def backends(self) -> Iterator[tuple[str, Any]]:
        """Yield ``(canonical name, backend object)`` once per distinct backend it selects."""
        seen: set[int] = set()
        for host, found in self.hosts.items():
            backend = host.get_backend(found) if isinstance(found, str) else None
            if backend is not None and id(backend) not in seen:
                seen.add(id(backend))
                yield str(found), backend

    # -- a test --------------------------------------------------------------------------

    def start(self, item: pytest.Item) -> None:
        """Start counting a test run with this backend selected (in this thread)."""
        self.item, self.thread = item, threading.get_ident()
        self.test, self.ended = Calls(), None

    def stop(self) -> None:
        """Stop: the test ended."""
        self.item = None

    # -- what the observers report -----------------------------------------------------

    def ran(self, host: BackendDispatcher, function: str, backend: str) -> None:
        """Count a call that ran on this backend."""
        if backend == self.settle(host):
            self.calls.ran[function] += 1
            self.test.ran[function] += 1

    def declined(self, host: BackendDispatcher, function: str, backend: str, reason: str) -> None:
        """Count a call a candidate declined."""
        if backend != self.settle(host):  # a test's own backend= or list: not this column's
            return
        self.calls.declined[function][reason] += 1
        self.test.declined[function][reason] += 1

    def fell_back(self, host: BackendDispatcher, function: str, backends: str, reason: str) -> None:
        """Count a fallback; with ``--turnout-xfail-missing``, end a test of a function it lacks.

        Only a call made in the test's own thread ends it (`pytest.xfail` raises
        from the call, as NetworkX's test mode does); the host's code runs for
        the others.
        """
        self.calls.fell_back[function][reason] += 1
        self.test.fell_back[function][reason] += 1
        if not self.xfail_missing or self.item is None or threading.get_ident() != self.thread:
            return
        name = self.settle(host)
        if not isinstance(name, str) or name not in backends.split(", "):
            return
        if not self._lacks_function(host, name, function):
            return  # it declined this call (can_run, NotImplementedError): its own decision
        self.missing[function] += 1
        self.ended = function
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
        """Judge one result of this backend against the host's (``--turnout-compare``)."""
        if backend != self.settle(host):
            return
        self.compared_calls[function] += 1
        verdict = self._judge(host, function, backend, result, expected)
        if verdict is not None:
            message = (
                f"{function}: backend {backend!r} returned {shorten(result)}, "
                f"the host's code {shorten(expected)}: {verdict}"
            )
            (self.stray if self.item is None else self.mismatches).append(message)

    def _judge(
        self, host: BackendDispatcher, function: str, backend: str, result: object, expected: object
    ) -> str | None:
        """Return where the results differ (None: they agree).

        Asked in turn: the suite's ``pytest_turnout_compare``, the backend's
        ``turnout_compare``, then `compare_results`; the first answer that is
        not None decides.
        """
        hook = (
            self.item.ihook if self.item is not None else self.config.hook
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

    def take_mismatches(self) -> list[str]:
        """Return the disagreements of the test phase that just ended, and forget them."""
        found, self.mismatches = self.mismatches, []
        return found

    # -- pytest-xdist: a worker's share ----------------------------------------------------

    def export(self) -> dict[str, Any]:
        """Return this process's tally as plain data, for the controller to merge."""
        return {
            **self.calls.export(),
            "missing": dict(self.missing),
            "compared": dict(self.compared_calls),
            "heard": self.heard,
            "stray": self.stray,
            "problem": self.problem(finished=True),
        }

    def merge(self, data: dict[str, Any]) -> str | None:
        """Add a worker's tally; return the problem it found, if any."""
        self.calls.merge(data)
        self.missing.update(data["missing"])
        self.compared_calls.update(data["compared"])
        self.heard.extend(data["heard"])
        self.stray.extend(data["stray"])
        problem: str | None = data["problem"]
        return problem

    # -- the summary ---------------------------------------------------------------------

    def summary(self) -> Iterator[str]:
        """Yield where each function ran, what was compared, missing, and warned."""
        calls = self.calls
        functions = sorted(calls.functions())
        if not functions:
            yield "no dispatched function was called with it"
        for function in functions:
            yield f"{function}: ran on {self.name} {calls.ran[function]} time(s)"
            for shown, table in (("declined", calls.declined), ("fell back", calls.fell_back)):
                for reason, count in sorted(table[function].items()):
                    yield f"    {shown} {count} time(s): {reason}"
        if self.compare:
            yield f"compared with the host's code: {sum(self.compared_calls.values())} call(s)"
        for function, count in sorted(self.missing.items()):
            yield f"expected failures, {function} not implemented: {count} test(s)"

    def warned(self) -> Iterator[str]:
        """Yield what selecting it warned, once each."""
        for heard in dict.fromkeys(self.heard):
            yield f"selecting it warned (users see this too): {heard}"
