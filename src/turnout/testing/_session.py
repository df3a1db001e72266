"""``pytest --turnout-backend=NAME``: one backend for the whole session, and a tally."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable

import pytest

from turnout import _lazytyping as t
from turnout._chain import Observer


def _refusal(dispatcher: t.Any, label: str) -> Exception | None:
    """Return why `dispatcher` cannot select `label`, or None if it can (importing it)."""
    from turnout._errors import TurnoutError  # noqa: PLC0415

    try:
        dispatcher.settings._resolve(label)  # noqa: SLF001 - turnout's own plugin
    except TurnoutError as error:
        return error
    return None


class BackendSession(Observer):
    """Selects one backend for the session and tallies where each call ran."""

    def __init__(self, name: str) -> None:
        from turnout._dispatcher import every_host  # noqa: PLC0415 - only under the plugin

        self.name = name
        self._ran: Counter[str] = Counter()
        self._declined: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._fell_back: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._stop = every_host(self._join)

    def _join(self, dispatcher: t.Any) -> Callable[[], None]:
        """Select the session's backend in one host and observe it; return the undo."""
        unselect = dispatcher._select_quietly(self.name)  # noqa: SLF001 - turnout's own plugin
        unobserve = dispatcher.observe(self)

        def undo() -> None:
            unobserve()
            unselect()

        return undo

    # The Observer methods (see turnout._candidates.Observer).
    def ran(self, function: str, backend: str) -> None:
        """Count a call `backend` ran."""
        if backend == self.name:
            self._ran[function] += 1

    def declined(self, function: str, backend: str, reason: str) -> None:  # noqa: ARG002 - in the reason
        """Count a call a candidate declined."""
        self._declined[function][reason] += 1

    def fell_back(self, function: str, backends: str, reason: str) -> None:  # noqa: ARG002
        """Count a call the host's code ran instead."""
        self._fell_back[function][reason] += 1

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Refuse the session when no host the suite imported has the backend asked for.

        By now the suite's modules have imported their hosts. A label no host
        resolves is a usage error (did-you-mean included), not a suite that
        quietly runs the hosts' own code.
        """
        del session
        from turnout._dispatcher import BackendDispatcher  # noqa: PLC0415
        from turnout._errors import UnknownBackendError  # noqa: PLC0415
        from turnout._hosts import live  # noqa: PLC0415
        from turnout._names import suggest  # noqa: PLC0415

        hosts = [d for d in list(live) if isinstance(d, BackendDispatcher)]
        dispatchers = sorted(hosts, key=lambda dispatcher: dispatcher._serial)  # noqa: SLF001
        problems = [problem for d in dispatchers if (problem := _refusal(d, self.name))]
        if len(problems) < len(dispatchers):
            return  # a host resolves it
        if not dispatchers:
            message = "the suite imported no host that dispatches with turnout"
        elif all(isinstance(error, UnknownBackendError) for error in problems):
            labels = sorted({label for d in dispatchers for label in d.available_backend_names()})
            close = suggest(self.name, labels)
            hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
            names = ", ".join(d.host_name for d in dispatchers)
            message = (
                f"no host imported by this suite ({names}) has a backend {self.name!r}.{hint} "
                f"Installed: {', '.join(labels) or 'none'}"
            )
        else:
            message = "; ".join(
                str(error) for error in problems if not isinstance(error, UnknownBackendError)
            )
        raise pytest.UsageError(f"--turnout-backend={self.name}: {message}")

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """Print which functions ran on the backend, fell back, or were declined."""
        write = terminalreporter.write_line
        terminalreporter.section(f"turnout: backend {self.name!r}")
        functions = sorted({*self._ran, *self._declined, *self._fell_back})
        if not functions:
            write("no dispatched function was called with it")
            return
        for function in functions:
            write(f"{function}: ran on {self.name} {self._ran[function]} time(s)")
            for shown, table in (("declined", self._declined), ("fell back", self._fell_back)):
                for reason, count in sorted(table[function].items()):
                    write(f"    {shown} {count} time(s): {reason}")

    def pytest_unconfigure(self) -> None:
        """Stop selecting and observing (a pytester run in the same process)."""
        self._stop()
