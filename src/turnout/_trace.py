"""Tracing: a record of each dispatched call while ``settings.trace()`` is on, or a log line.

Off, it costs nothing: the wrappers run the code they always run. On (a trace
scope is open anywhere, or the ``turnout`` logger handles DEBUG), every wrapper
of the host goes back to its first-call code, which sends each call through
`DispatchedFunction.traced_call`: it notes what was selected and why, runs the
call, and learns from the observers what ran, what declined and what fell back.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from turnout import _lazytyping as t
from turnout._chain import Observer
from turnout._log import debug, is_debugging, watch_level
from turnout._names import CPU
from turnout._policy import Source


class TracedCall:
    """One dispatched call, as a trace records it.

    Attributes
    ----------
    function
        The host function's (or class's) public name.
    selected
        What was selected: a label, a list of labels, or ``"automatic"``.
    why
        What selected it: the call's keyword, a scope, ``settings.backend``, ...
    backend
        What ran: a backend's canonical name, or ``"cpu"`` for the host's code.
    declined
        ``(backend, reason)`` for each candidate that declined, in order.
    fell_back
        Why the host's code ran instead of a chosen backend, or None.
    error
        The name of the exception the call raised, or None.
    """

    __slots__ = ("backend", "declined", "error", "fell_back", "function", "selected", "why")

    def __init__(self, function: str, selected: object, why: str) -> None:
        self.function = function
        self.selected = selected
        self.why = why
        self.backend = CPU
        self.declined: list[tuple[str, str]] = []
        self.fell_back: str | None = None
        self.error: str | None = None

    def line(self) -> str:
        """Return the call in one line (what the ``turnout`` logger writes at DEBUG)."""
        automatic = self.why == Source.AUTOMATIC.value  # the types chose: no label to show
        why = self.why if automatic else f"{self.why}: {shown(self.selected)}"
        text = f"{self.function}: {self.backend} ran ({why})"
        if self.declined:
            text += "; declined: " + "; ".join(f"{b}: {r}" for b, r in self.declined)
        if self.fell_back is not None:
            text += f"; fell back: {self.fell_back}"
        if self.error is not None:
            text += f"; raised {self.error}"
        return text

    def __str__(self) -> str:
        return self.line()

    def __repr__(self) -> str:
        return f"<TracedCall {self.line()}>"


def shown(selected: object) -> str:
    """Return a selection as a user wrote it: a label, a list, ``automatic``."""
    if isinstance(selected, str):
        return selected
    shown_as = getattr(selected, "shown", None)
    if callable(shown_as):
        value = shown_as()
        return value if isinstance(value, str) else repr(value)
    return repr(selected)


class Trace(list[TracedCall]):
    """The calls recorded by one ``with settings.trace() as calls:`` block, in order."""

    def __repr__(self) -> str:
        return f"Trace({list.__repr__(self)})"


_current: ContextVar[TracedCall | None] = ContextVar("turnout:traced call", default=None)
_open: ContextVar[tuple[Trace, ...]] = ContextVar("turnout:traces", default=())


class Tracer(Observer):
    """The observer that fills the record of the call in progress (this thread or task)."""

    def ran(self, function: str, backend: str) -> None:  # noqa: ARG002 - the Observer's
        """Note the backend that ran."""
        call = _current.get()
        if call is not None:
            call.backend = backend

    def declined(self, function: str, backend: str, reason: str) -> None:  # noqa: ARG002
        """Note a candidate that declined."""
        call = _current.get()
        if call is not None:
            call.declined.append((backend, reason.removeprefix(f"{backend}: ")))

    def fell_back(self, function: str, backends: str, reason: str) -> None:  # noqa: ARG002
        """Note that the host's code ran instead."""
        call = _current.get()
        if call is not None:
            call.fell_back = f"{backends}: {reason.removeprefix(f'{backends}: ')}"


class Switch:
    """Whether one host's calls are traced, and what to tell when that changes.

    Parameters
    ----------
    changed
        Called with the new state when tracing starts or stops for the host.
    """

    def __init__(self, changed: Callable[[bool], None]) -> None:
        self._changed = changed
        self._scopes = 0  # trace scopes open now, in any thread
        self._logging = False  # the turnout logger handles DEBUG
        self._watching = False  # told of logging's level changes
        self.on = False

    def watch(self) -> None:
        """Follow the ``turnout`` logger's level from now on, once `logging` is imported."""
        if not self._watching:
            self._watching = watch_level(self.update)
            if self._watching:
                self.update()

    def update(self) -> None:
        """Read the logger's level again; tell the host's functions if tracing changed."""
        self._logging = is_debugging()
        self._apply()

    def _apply(self) -> None:
        on = self._scopes > 0 or self._logging
        if on != self.on:
            self.on = on
            self._changed(on)

    def opened(self) -> None:
        """Count a trace scope that opened."""
        self._scopes += 1
        self._apply()

    def closed(self) -> None:
        """Count a trace scope that closed."""
        self._scopes -= 1
        self._apply()


class TraceScope:
    """``with settings.trace() as calls:``: the calls this thread or task makes, recorded.

    Calls made in other threads are recorded by their own scopes only. Nested
    scopes both record a call made in the inner one.
    """

    def __init__(self, switch: Switch) -> None:
        self._switch = switch
        self._tokens: list[t.Any] = []

    def __enter__(self) -> Trace:
        calls = Trace()
        self._tokens.append(_open.set((*_open.get(), calls)))
        self._switch.opened()
        return calls

    def __exit__(self, *exc_info: object) -> None:
        _open.reset(self._tokens.pop())
        self._switch.closed()


def begin(call: TracedCall) -> t.Any:
    """Make `call` the call in progress in this thread or task; return what `finish` needs."""
    return _current.set(call)


def finish(call: TracedCall, token: t.Any) -> None:
    """End the call in progress: record it in the open traces and log its line."""
    _current.reset(token)
    for calls in _open.get():
        calls.append(call)
    debug("%s", call)  # formatted by logging only if a handler takes it (TracedCall.__str__)


def open_traces() -> tuple[Trace, ...]:
    """Return the traces open in this thread or task."""
    return _open.get()


for _public in (TracedCall, Trace, TraceScope):
    _public.__module__ = "turnout"
del _public
