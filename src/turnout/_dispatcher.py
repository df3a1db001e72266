"""BackendDispatcher: checks a host's configuration and wires the parts together."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

from turnout._classes import DispatchedClass, check_class, install
from turnout._discovery import Discovery
from turnout._dispatch import DispatchedFunction, check_function
from turnout._errors import ConfigurationError
from turnout._registry import Registry
from turnout._settings import FALLBACK_POLICIES, SelectionState, Settings
from turnout._trust import TrustedBackend, parse_reserved, parse_trusted

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T", bound=type)

DEFAULT_KEYWORD = "backend"


class BackendDispatcher:
    """One host library's dispatch: its backends, settings and decorators.

    A host creates one at import time and re-exports its attributes. Creating
    it is cheap: no entry point is read and no backend imported until a query
    needs one.

    Parameters
    ----------
    entrypoint_group
        The entry-point group backend packages declare, such as
        ``"example_host.backends"``. An entry point may name a module, a class
        (instantiated once) or an object.
    host_name
        The host library's name, used in messages and environment variables.
    trusted_backends
        Backends the host vouches for, by canonical name (see `TrustedBackend`):
        their aliases and the distribution that must provide them. Others
        still work, with an `UntrustedBackendWarning` the first time they load.
    reserved_backends
        Labels no backend may claim, each with the reason shown to users who
        ask for it.
    backend_keyword
        The keyword that selects a backend per call (``"backend"``); change it
        when the host's functions already use ``backend=`` for something else.
    fallback
        What runs when the selected backend lacks a function: ``"silent"`` (the
        host's code), ``"warn"`` (the same, with a `FallbackWarning`) or
        ``"error"`` (`MissingImplementationError`). Users may change it through
        `Settings.fallback` and `Settings.use_fallback`.

    Raises
    ------
    ConfigurationError
        Listing every problem with the arguments.

    Examples
    --------
    >>> from turnout import BackendDispatcher
    >>> _dispatcher = BackendDispatcher(
    ...     entrypoint_group="example_host.backends",
    ...     host_name="example_host",
    ...     trusted_backends={
    ...         "example_accel": {
    ...             "aliases": ["example", "accelerated"],
    ...             "package": "example-host-accel",
    ...         },
    ...     },
    ...     reserved_backends={"cuda": "reserved for the official CUDA backend"},
    ... )
    >>> backend_dispatch = _dispatcher.backend_dispatch
    >>> settings = _dispatcher.settings
    >>> settings.backend
    'cpu'

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        entrypoint_group: str,
        host_name: str,
        *,
        trusted_backends: Mapping[str, TrustedBackend] | None = None,
        reserved_backends: Mapping[str, str] | None = None,
        backend_keyword: str = DEFAULT_KEYWORD,
        fallback: str = "silent",
    ) -> None:
        problems: list[str] = []  # every problem is collected, then reported at once
        for argument, value in (
            ("entrypoint_group", entrypoint_group),
            ("host_name", host_name),
        ):
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{argument} must be a non-empty string, not {value!r}")
        if isinstance(entrypoint_group, str) and entrypoint_group != entrypoint_group.strip():
            problems.append(
                f"entrypoint_group {entrypoint_group!r} must not start or end with spaces"
            )
        if not isinstance(backend_keyword, str) or not backend_keyword.isidentifier():
            problems.append(f"backend_keyword must be a Python identifier, not {backend_keyword!r}")
        if fallback not in FALLBACK_POLICIES:
            allowed = ", ".join(map(repr, FALLBACK_POLICIES))
            problems.append(f"fallback must be one of {allowed}, not {fallback!r}")
        shown_host = host_name if isinstance(host_name, str) else ""
        reserved = parse_reserved(reserved_backends, problems, shown_host)
        rules = parse_trusted(trusted_backends, reserved, problems, shown_host)
        if problems:
            raise ConfigurationError(problems=problems, host_name=shown_host)
        self.entrypoint_group = entrypoint_group
        self.host_name = host_name
        self.backend_keyword = backend_keyword
        self.trusted_backends: Mapping[str, TrustedBackend] = dict(trusted_backends or {})
        self.reserved_backends: Mapping[str, str] = reserved
        self._registry = Registry()
        self._discovery = Discovery(entrypoint_group, host_name, rules, reserved, self._registry)
        self._discovery.on_ready = self._merge_all
        self._state = SelectionState(host_name, fallback)
        self._settings = Settings(self._discovery, self._state)
        self._dispatched: list[DispatchedFunction | DispatchedClass] = []
        self._merge_lock = threading.RLock()
        self._merging = True

    @property
    def backend_dispatch(self) -> Callable[[Callable[P, R]], Callable[P, R]]:
        """Decorator that lets backends replace a host function.

        The decorated function accepts one more keyword, ``backend=`` (see
        `backend_keyword`), to select a backend for that call. Without it, the
        innermost `Settings.use_backend` scope, then `Settings.backend`, decide.
        A backend without a same-named function falls back to the host's code.

        Raises
        ------
        DispatchDefinitionError
            When decorating something that is not a plain function, or a
            function that already has a parameter named like the keyword.
        """
        return self._dispatch_function

    @property
    def backend_class(self) -> Callable[[T], T]:
        """Decorator that lets backends replace a host class.

        Constructing the class with a backend selected builds the backend's
        same-named class instead (all arguments but ``backend=`` forwarded);
        without one, the host class. `isinstance(obj, HostClass)` is true only
        for the host's own instances, unless the backend's class subclasses it.
        """
        return self._dispatch_class

    @property
    def settings(self) -> Settings:
        """The host's `Settings`: ``backend`` and ``use_backend()``."""
        return self._settings

    def get_backend(self, name: str) -> Any | None:
        """Return the backend registered under a name or alias.

        Parameters
        ----------
        name
            Canonical name or alias; ``"cpu"`` means the host's own code.

        Returns
        -------
        object or None
            The backend object; None for ``"cpu"`` or for a label no installed
            backend answers to.

        Raises
        ------
        BackendLoadError
            The backend is installed but raised when it was imported.
        """
        return self._discovery.get(name)

    def available_backend_names(self) -> list[str]:
        """Return every name and alias an installed backend answers to, sorted.

        Loads every backend, as `discover` does; ``"cpu"`` is not listed.
        """
        return self._discovery.labels()

    def discover(self) -> None:
        """Load every installed backend now (idempotent).

        Discovery is otherwise lazy: the first query that needs a backend reads
        the entry-point metadata and imports only the backend it selected. Call
        this where everything should be known up front: a Sphinx ``conf.py``,
        a test, a report.
        """
        # One merge at the end rather than one per backend loaded. The merge lock
        # is not held while loading: a loading backend may merge from another thread.
        self._merging = False
        try:
            self._discovery.load_all()
        finally:
            self._merging = True
        self._merge_all()

    def dispatched(self) -> list[Callable[..., Any]]:
        """Return the host's dispatched functions and classes, in decoration order.

        .. versionadded:: 0.1
        """
        return [record.wrapper for record in self._dispatched]

    def support(self) -> dict[str, dict[str, tuple[str, ...] | None]]:
        """Return which backend implements what (loads every backend).

        Returns
        -------
        dict
            ``{qualified name of a dispatched function or class: {backend name:
            the backend-only parameters it adds, or None if it lacks it}}``,
            in decoration order and backend-name order.

        .. versionadded:: 0.1
        """
        self.discover()
        entries = [self._discovery.require(name) for name in self._discovery.canonical_names()]
        return {record.qualified_name: record.support(entries) for record in self._dispatched}

    def _merge_all(self) -> None:
        """Merge every loaded backend into every dispatched function's API."""
        with self._merge_lock:
            if not self._merging:
                return
            entries = [self._discovery.require(n) for n in self._discovery.loaded_names()]
            for record in self._dispatched:
                record.merge(entries)

    def _dispatch_function(self, host: Callable[P, R]) -> Callable[P, R]:
        check_function(host, self.backend_keyword)
        record = DispatchedFunction(
            host,
            discovery=self._discovery,
            state=self._state,
            keyword=self.backend_keyword,
            host_name=self.host_name,
        )
        self._dispatched.append(record)
        if self._discovery.loaded_names():  # backends already here: show them now
            with self._merge_lock:
                record.merge([self._discovery.require(n) for n in self._discovery.loaded_names()])
        return record.wrapper

    def _dispatch_class(self, host: T) -> T:
        check_class(host)
        record = DispatchedClass(host, self._discovery, keyword=self.backend_keyword)
        self._dispatched.append(record)
        install(record, self._state, self.backend_keyword)
        return host

    def __repr__(self) -> str:
        return (
            f"<turnout.BackendDispatcher host_name={self.host_name!r} "
            f"entrypoint_group={self.entrypoint_group!r}>"
        )


BackendDispatcher.__module__ = "turnout"
