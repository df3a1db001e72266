"""Settings: the process-wide backend, scoped selections in a ContextVar, precedence."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar, Token
from functools import wraps

from turnout import _lazytyping as t
from turnout._discovery import Discovery
from turnout._errors import ConfigurationError, UnknownBackendError
from turnout._names import CPU, env_prefix, label_problem
from turnout._warnings import ConfigurationWarning, warn

_CO_COROUTINE = 0x80  # inspect.CO_COROUTINE, without importing inspect


class Selection:
    """A backend selection: the process-wide default, or one `use_backend` scope.

    The dispatch hot path reads ``selection_var.get().name``: one ContextVar
    read and one attribute, whichever of the two is in effect.
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


FALLBACK_POLICIES = ("silent", "warn", "error")


class SelectionState:
    """The state `Settings` manages and `backend_dispatch` reads on every call."""

    __slots__ = ("default", "env_backend", "fallback_default", "fallback_var", "var")

    def __init__(
        self, host_name: str, fallback: str = "silent", env_backend: str | None = None
    ) -> None:
        # The defaults are mutable objects shared by every thread: a ContextVar's
        # default is seen by threads started later, a value set in it is not.
        self.default = Selection(CPU)
        self.var: ContextVar[Selection] = ContextVar(
            f"turnout:{host_name}:backend", default=self.default
        )
        # <HOST>_BACKEND: the initial default, resolved (or reported) on first use
        self.env_backend = env_backend
        if env_backend is not None:
            self.default.name = env_backend
        self.fallback_default = Selection(fallback)
        self.fallback_var: ContextVar[Selection] = ContextVar(
            f"turnout:{host_name}:fallback", default=self.fallback_default
        )


def settle_environment(state: SelectionState, resolve: Callable[[str], str], variable: str) -> None:
    """Resolve the default a ``<HOST>_BACKEND`` variable set, once; fall back to cpu if bad."""
    label = state.env_backend
    if label is None:
        return
    state.env_backend = None
    if state.default.name != label:
        return  # the program assigned settings.backend since
    try:
        state.default.name = resolve(label)
    except (ValueError, ImportError) as error:
        state.default.name = CPU
        warn(
            f"Environment variable {variable}={label!r} is ignored: {error} "
            "Using 'cpu' (the host's own code).",
            ConfigurationWarning,
        )


def environment_label(state: SelectionState, settle: Callable[[], None], label: object) -> object:
    """Return `label`, or, when it is the ``<HOST>_BACKEND`` choice, what that resolves to."""
    if label != state.env_backend:
        return label
    settle()  # resolves once (or reports it and falls back to cpu)
    return state.default.name


def check_fallback(policy: object, host_name: str = "") -> str:
    """Return `policy` if it is a fallback policy, else raise `ConfigurationError`."""
    if not isinstance(policy, str) or policy not in FALLBACK_POLICIES:
        allowed = ", ".join(map(repr, FALLBACK_POLICIES))
        raise ConfigurationError(
            problems=[f"Fallback policy must be one of {allowed}, not {policy!r}"],
            host_name=host_name,
            subject="setting",
        )
    return policy


def check_label(label: object, host_name: str) -> None:
    """Raise `UnknownBackendError` for a label that cannot be valid (imports nothing)."""
    if not isinstance(label, str) or not label:
        raise UnknownBackendError(label=label, host_name=host_name, installed=(CPU,))
    problem = label_problem(label)
    if problem is not None:
        raise UnknownBackendError(label=label, host_name=host_name, problem=problem)


class BackendScope:
    """Select a backend (or a fallback policy) within a ``with`` block or per call.

    Returned by `Settings.use_backend` and `Settings.use_fallback`. The value is
    checked when the scope is entered, so decorating a function imports no
    backend. One scope object may be entered again, nested or in turn.
    """

    __slots__ = ("_fallback", "_settings", "_tokens", "_value")

    def __init__(self, settings: Settings, value: str, *, fallback: bool = False) -> None:
        self._settings = settings
        self._value = value
        self._fallback = fallback
        self._tokens: list[Token[Selection]] = []

    def __enter__(self) -> str:
        if self._fallback:
            value, var = self._value, self._settings.state.fallback_var
        else:
            value, var = self._settings.resolve(self._value), self._settings.state.var
        self._tokens.append(var.set(Selection(value)))
        return value

    def __exit__(self, *exc_info: object) -> None:
        state = self._settings.state
        (state.fallback_var if self._fallback else state.var).reset(self._tokens.pop())

    def __call__(self, func: t.F) -> t.F:
        """Run every call of `func` (sync or async) inside this scope."""
        settings, value, fallback = self._settings, self._value, self._fallback
        if func.__code__.co_flags & _CO_COROUTINE:

            @wraps(func)
            async def run_async(*args: t.Any, **kwargs: t.Any) -> t.Any:
                with BackendScope(settings, value, fallback=fallback):
                    return await func(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @wraps(func)
        def run(*args: t.Any, **kwargs: t.Any) -> t.Any:
            with BackendScope(settings, value, fallback=fallback):
                return func(*args, **kwargs)

        return run  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"use_{'fallback' if self._fallback else 'backend'}({self._value!r})"


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
        if self.state.env_backend is not None:
            self.settle()
        return self.state.var.get().name

    @backend.setter
    def backend(self, label: str) -> None:
        self.state.default.name = self.resolve(label)
        self.state.env_backend = None

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
        check_label(backend, self._discovery.host_name)
        return BackendScope(self, backend)

    @property
    def fallback(self) -> str:
        """What runs when the selected backend lacks a function.

        ``"silent"`` (the host's code), ``"warn"`` (the host's code, with a
        `FallbackWarning` once per function and backend) or ``"error"``
        (`MissingImplementationError`). Reading gives the innermost
        `use_fallback` scope, else the process-wide value; assigning sets the
        process-wide value. The host chooses the initial one.
        """
        return self.state.fallback_var.get().name

    @fallback.setter
    def fallback(self, policy: str) -> None:
        self.state.fallback_default.name = check_fallback(policy, self._discovery.host_name)

    def use_fallback(self, policy: str) -> BackendScope:
        """Set the fallback policy within a ``with`` block, or as a decorator.

        Scoped like `use_backend`: per thread and asyncio task, restored on exit.

        Raises
        ------
        ConfigurationError
            `policy` is not one of the policies (raised here, not on entering).
        """
        return BackendScope(self, check_fallback(policy, self._discovery.host_name), fallback=True)

    def settle(self) -> None:
        """Resolve the backend ``<HOST>_BACKEND`` chose, reporting it once if unusable."""
        variable = f"{env_prefix(self._discovery.host_name)}_BACKEND"
        settle_environment(self.state, self.resolve, variable)

    def resolve(self, label: object) -> str:
        """Return the canonical name for `label`, importing its backend if needed.

        Raises the errors listed under `backend`.
        """
        if label == CPU:
            return CPU
        return self._discovery.select(label).name

    def available_backends(self) -> list[str]:
        """Return the canonical names of the installed backends, sorted (no ``"cpu"``).

        Loads every backend, as `BackendDispatcher.discover` does.
        """
        return self._discovery.canonical_names()

    def get_backend(self, name: str) -> t.Any | None:
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
