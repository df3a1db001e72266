"""Settings: the process-wide backend, scoped selections in a ContextVar, precedence."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar, Token
from functools import wraps
from typing import Any, TypeVar

from turnout._discovery import Discovery
from turnout._names import CPU

_F = TypeVar("_F", bound=Callable[..., Any])
_CO_COROUTINE = 0x80  # inspect.CO_COROUTINE, without importing inspect


class Selection:
    """A backend selection: the process-wide default, or one `use_backend` scope.

    The dispatch hot path reads ``selection_var.get().name``: one ContextVar
    read and one attribute, whichever of the two is in effect.
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class SelectionState:
    """The state `Settings` manages and `backend_dispatch` reads on every call."""

    __slots__ = ("default", "var")

    def __init__(self, host_name: str) -> None:
        # The default is one mutable object shared by every thread: a ContextVar's
        # default is seen by threads started later, a value set in it is not.
        self.default = Selection(CPU)
        self.var: ContextVar[Selection] = ContextVar(
            f"turnout:{host_name}:backend", default=self.default
        )


class BackendScope:
    """Select a backend within a ``with`` block, or for each call of a function.

    Returned by `Settings.use_backend`. The label is resolved when the scope is
    entered, so decorating a function imports no backend.
    """

    __slots__ = ("_label", "_settings", "_tokens")

    def __init__(self, settings: Settings, label: str) -> None:
        self._settings = settings
        self._label = label
        self._tokens: list[Token[Selection]] = []

    def __enter__(self) -> str:
        canonical = self._settings.resolve(self._label)
        self._tokens.append(self._settings.state.var.set(Selection(canonical)))
        return canonical

    def __exit__(self, *exc_info: object) -> None:
        self._settings.state.var.reset(self._tokens.pop())

    def __call__(self, func: _F) -> _F:
        """Run every call of `func` (sync or async) inside this scope."""
        settings, label = self._settings, self._label
        if func.__code__.co_flags & _CO_COROUTINE:

            @wraps(func)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with BackendScope(settings, label):
                    return await func(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with BackendScope(settings, label):
                return func(*args, **kwargs)

        return run  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"use_backend({self._label!r})"


class Settings:
    """Which backend runs a host's dispatched functions.

    One per `BackendDispatcher`, re-exported by the host as ``settings``.
    A call's ``backend=`` keyword wins over the innermost `use_backend` scope,
    which wins over `backend`, which defaults to ``"cpu"`` (the host's code).

    .. versionadded:: 0.1
    """

    def __init__(self, discovery: Discovery, state: SelectionState) -> None:
        self._discovery = discovery
        self.state = state

    @property
    def backend(self) -> str:
        """The backend in effect here.

        Reading gives the innermost `use_backend` scope of this thread or
        asyncio task, else the process-wide default. Assigning sets the
        process-wide default, seen by every thread (also threads started later)
        that is not inside a scope; an alias is stored as its canonical name.

        Raises
        ------
        UnknownBackendError
            No installed backend answers to the label (did-you-mean included).
        ReservedBackendError
            The host reserved the label.
        BackendNotInstalledError
            The host trusts the backend, but its package is not installed.
        BackendLoadError
            The backend's package raised when it was imported.
        """
        return self.state.var.get().name

    @backend.setter
    def backend(self, label: str) -> None:
        self.state.default.name = self.resolve(label)

    def use_backend(self, backend: str) -> BackendScope:
        """Select `backend` within a ``with`` block, or as a decorator.

        Scopes nest, are isolated per thread and per asyncio task, and restore
        the previous selection on exit, also when the body raises.

        Parameters
        ----------
        backend
            Canonical name or alias; ``"cpu"`` selects the host's own code.

        Returns
        -------
        BackendScope
            A context manager (entering it gives the canonical name) that also
            decorates sync and async functions.

        Examples
        --------
        >>> with settings.use_backend("cpu") as name:  # doctest: +SKIP
        ...     name
        'cpu'
        """
        return BackendScope(self, backend)

    def resolve(self, label: object) -> str:
        """Return the canonical name for `label`, importing its backend if needed.

        Raises the errors listed under `backend`.
        """
        if label == CPU:
            return CPU
        return self._discovery.require(label).name

    def available_backends(self) -> list[str]:
        """Return the canonical names of the installed backends, sorted (no ``"cpu"``).

        Loads every backend, as `BackendDispatcher.discover` does.
        """
        return self._discovery.canonical_names()

    def get_backend(self, name: str) -> Any | None:
        """Return the backend object for a name or alias.

        Parameters
        ----------
        name
            Canonical name or alias.

        Returns
        -------
        object or None
            The backend; None for ``"cpu"`` and for a label no installed backend
            answers to (as scverse-backends does).

        Raises
        ------
        BackendLoadError
            The backend is installed but raised when it was imported.
        """
        return self._discovery.get(name)

    def __repr__(self) -> str:
        return f"<turnout.Settings backend={self.backend!r}>"


Settings.__module__ = "turnout"
BackendScope.__module__ = "turnout"
