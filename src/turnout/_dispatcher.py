"""BackendDispatcher: checks a host's configuration and wires the parts together."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from itertools import count

import turnout  # `turnout.BackendInfo` in annotations: resolved lazily, on first use
from turnout import _lazytyping as t
from turnout._arguments import check_configuration
from turnout._chain import Observer, Observers
from turnout._class import DispatchedClass, check_class, install
from turnout._decision import KEYWORD, choose, requested
from turnout._discovery import Discovery
from turnout._docstrings import selector_entry
from turnout._environment import read_environment
from turnout._errors import DispatchDefinitionError
from turnout._function import DispatchedFunction, check_function, check_key, check_options
from turnout._hosts import creator_module, find_dispatcher
from turnout._hosts import live as _live
from turnout._inprocess import Backend, Registrar, Registration, import_package, make_base
from turnout._lazytyping import TYPE_CHECKING
from turnout._registry import Registry
from turnout._scopes import SelectionState, select_for_session
from turnout._settings import Settings
from turnout._trace import Switch, Tracer
from turnout._view import BackendsView

if TYPE_CHECKING:
    from typing import Protocol, overload

    class DispatchDecorator(Protocol):
        """`BackendDispatcher.backend_dispatch`: bare or with options, it keeps the type."""

        @overload
        def __call__(self, host: Callable[t.P, t.R], /) -> Callable[t.P, t.R]: ...
        @overload
        def __call__(
            self,
            host: None = None,
            /,
            *,
            dispatch_args: Sequence[str] | None = None,
            convert: Sequence[str] = (),
            name: str | None = None,
        ) -> Callable[[Callable[t.P, t.R]], Callable[t.P, t.R]]: ...

else:

    class DispatchDecorator:
        """``@backend_dispatch``, or ``@backend_dispatch(dispatch_args=..., convert=...)``.

        Either way the function keeps its own type. For type checkers this is a
        protocol with one overload per form; at runtime it only gives
        `typing.get_type_hints` something to resolve (`typing` stays unimported).
        """

        __slots__ = ()


DEFAULT_KEYWORD = "backend"
_serials = count()  # creation order: the newest dispatcher of a host wins a lookup


class _EveryHost:
    """A setup run on every dispatcher alive and on each created later, with its undos."""

    def __init__(self, setup: Callable[[BackendDispatcher], Callable[[], None]]) -> None:
        self.setup = setup
        self.undos: list[Callable[[], None]] = []

    def apply(self, dispatcher: BackendDispatcher) -> None:
        self.undos.append(self.setup(dispatcher))


_every_host: list[_EveryHost] = []  # setups a test session wants in every host, later ones too


def every_host(setup: Callable[[BackendDispatcher], Callable[[], None]]) -> Callable[[], None]:
    """Run `setup` on every dispatcher, now and created later; return what undoes it all.

    `setup` returns its own undo. ``pytest --turnout-backend`` selects its backend
    and observes each host this way.
    """
    held = _EveryHost(setup)
    _every_host.append(held)
    for dispatcher in sorted(_alive(), key=lambda d: d._serial):  # noqa: SLF001 - this module's
        held.apply(dispatcher)

    def undo() -> None:
        if held in _every_host:
            _every_host.remove(held)
        while held.undos:
            held.undos.pop()()

    return undo


def _alive() -> list[BackendDispatcher]:
    """Return the dispatchers alive now."""
    return [dispatcher for dispatcher in list(_live) if isinstance(dispatcher, BackendDispatcher)]


def _after_fork_in_child() -> None:
    for dispatcher in _alive():
        dispatcher._after_fork()  # noqa: SLF001 - the module's own hook


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


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
    discover_package
        A package of in-tree backend modules (``"example_host.backends"``):
        discovery imports its modules, recursively, so their ``Backend``
        subclasses register without the host importing each one.
    backend_key
        Derives a name for a ``Backend`` subclass that sets none, such as
        `key_from_class_name` (``NumbaBackend`` -> ``"numba"``).
    untrusted
        What backends the host does not trust do: ``"warn"`` (work, with an
        `UntrustedBackendWarning` once each), ``"allow"`` (work silently) or
        ``"error"`` (never imported; asking for one raises `UntrustedBackendError`).
    automatic
        Whether a call with nothing chosen goes to a trusted backend that owns
        the type of its dispatch arguments (users switch it with
        `Settings.automatic`, `Settings.use_automatic` and ``<HOST>_AUTOMATIC``).
    deprecated_backends
        ``{old label: new label}``: the old label still selects the new one,
        with a `DeprecatedBackendWarning`.
    host_version
        The version backends' declared ``host_versions`` are checked against;
        default: the ``__version__`` of the top-level package of the module that
        creates the dispatcher (``hostlib`` for ``hostlib._backends``), else the
        installed version of the distribution of that name (never `host_name`,
        which is only shown to users).
    backend_only
        What the host's own code does with a keyword only a backend takes:
        ``"error"`` (the host's usual `TypeError`, naming the backends that take
        it) or ``"warn"`` (it is dropped, with an `IgnoredArgumentWarning`).

    Notes
    -----
    Users choose process-wide defaults with environment variables named after
    the host, such as ``EXAMPLE_HOST_BACKEND`` for ``example_host``, read when
    the dispatcher is created; the documentation's configuration page lists
    them (:ref:`environment-variables`).

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
    """

    def __init__(
        self,
        entrypoint_group: str,
        host_name: str,
        *,
        trusted_backends: Mapping[str, turnout.TrustedBackend] | None = None,
        reserved_backends: Mapping[str, str] | None = None,
        backend_keyword: str = DEFAULT_KEYWORD,
        fallback: str = "silent",
        discover_package: str | None = None,
        backend_key: Callable[[type], str | None] | None = None,
        untrusted: str = "warn",
        automatic: bool = False,
        deprecated_backends: Mapping[str, str] | None = None,
        host_version: str | None = None,
        backend_only: str = "error",
    ) -> None:
        config = check_configuration(
            group=entrypoint_group,
            host_name=host_name,
            trusted_backends=trusted_backends,
            reserved_backends=reserved_backends,
            keyword=backend_keyword,
            fallback=fallback,
            package=discover_package,
            backend_key=backend_key,
            untrusted=untrusted,
            automatic=automatic,
            deprecated=deprecated_backends,
            host_version=host_version,
            backend_only=backend_only,
        )
        environment = read_environment(host_name, untrusted, fallback)
        self.entrypoint_group = entrypoint_group
        self.host_name = host_name
        self._module = creator_module(2)  # how another process finds this dispatcher again
        self._serial = next(_serials)  # creation order: the newest of a host wins a lookup
        self.backend_keyword = backend_keyword
        self.trusted_backends: Mapping[str, turnout.TrustedBackend] = config.trusted_backends
        self.reserved_backends: Mapping[str, str] = config.reserved
        self._registry = Registry(environment.block)
        self._package = discover_package
        self._backend_only = backend_only
        self._discovery = Discovery(
            entrypoint_group,
            host_name,
            rules=config.rules,
            reserved=config.reserved,
            registry=self._registry,
            prepare=None if discover_package is None else self._import_package,
            untrusted=environment.untrusted,
            deprecated=config.deprecated,
            host_version=host_version,
            host_package=self._module.partition(".")[0],
        )
        self._discovery.on_ready = self._merge_all
        self._discovery.on_reset = self._invalidate
        self._registrar = Registrar(self._discovery, self._registry, host_name, self._invalidate)
        self._state = SelectionState(
            host_name,
            environment.fallback,
            environment.backend,
            automatic=automatic if environment.automatic is None else environment.automatic,
            forced=environment.forced,
        )
        self._state.on_change = self._invalidate
        # tracing: while a trace scope is open or the logger is at DEBUG, every
        # wrapper runs its traced code and a Tracer observes; otherwise none pays
        self._tracing = Switch(self._tracing_changed)
        self._untrace: Callable[[], None] | None = None
        self._settings = Settings(
            self._discovery, self._state, self._module, self._names, tracing=self._tracing
        )
        self._dispatched: list[DispatchedFunction | DispatchedClass] = []
        self._records: dict[object, DispatchedFunction | DispatchedClass] = {}
        self._by_key: dict[str, DispatchedFunction | DispatchedClass] = {}
        self._observers = Observers()  # told what ran where; empty unless someone observes
        # Merges run under the discovery lock (one lock: no lock-order deadlock);
        # each has a number, so a record never takes an older merge over a newer one.
        self._merge_version = 0
        self._show_unloaded = False  # discover(import_backends=False): files stand for backends
        self._batch = 0  # discover() loads everything, then merges once
        self._selector = selector_entry(backend_keyword, host_name)  # shared by every docstring
        self.Backend: type[Backend] = make_base(self._registrar, host_name, backend_key)
        """Base class of in-tree backends: a subclass that sets ``name`` registers itself."""
        _live.add(self)
        for held in _every_host:
            held.apply(self)

    def __reduce__(self) -> tuple[t.Any, ...]:
        """Pickle by reference: the same host's dispatcher wherever it is unpickled."""
        return (find_dispatcher, (self._module, self.entrypoint_group))

    def _import_package(self) -> None:
        """Import the host's package of in-tree backends (``discover_package``)."""
        package = self._package
        if package is not None:
            import_package(package, self.host_name, self._discovery.module_failed)

    def _after_fork(self) -> None:
        """In a child process: fresh locks (a parent thread may have held one at the fork)."""
        self._discovery.after_fork()
        for record in list(self._dispatched):
            record.after_fork()

    @property
    def backend_dispatch(self) -> DispatchDecorator:
        """Decorator that lets backends replace a host function.

        The decorated function accepts one more keyword, ``backend=`` (see
        `backend_keyword`), to select a backend for that call. Without it, the
        innermost `Settings.use_backend` scope, then `Settings.backend`, decide.
        A backend without a same-named function falls back to the host's code.

        Use it bare, ``@backend_dispatch``, or with options,
        ``@backend_dispatch(dispatch_args=("data",), convert=("data",))``; either
        way type checkers see the function's own signature (``backend=`` comes
        from the host's stubs, see ``python -m turnout stubs``).

        Raises
        ------
        DispatchDefinitionError
            When decorating something that is not a plain function, or a
            function that already has a parameter named like the keyword.
        """
        return self._dispatch_function

    @property
    def backend_class(self) -> Callable[[t.T], t.T]:
        """Decorator that lets backends replace a host class.

        Constructing the class with a backend selected builds the backend's
        same-named class instead (all arguments but ``backend=`` forwarded);
        without one, the host class. `isinstance(obj, HostClass)` is true only
        for the host's own instances, unless the backend's class subclasses it.
        """
        return self._dispatch_class

    @property
    def settings(self) -> Settings:
        """The host's `Settings`, such as ``backend`` and ``use_backend()``."""
        return self._settings

    def bind(self, function: Callable[t.P, t.R], /) -> Callable[t.P, t.R]:
        """Return `function` bound to this host's backend choices as they are here and now.

        The result takes the same arguments and, wherever it is called (another
        thread, a process pool, a Dask worker), runs `function` inside
        ``settings.applied(snapshot)`` of a `Snapshot` taken now. It pickles by
        reference to `function` (which must be importable, as for any task sent
        to a process) plus the snapshot; no backend object is pickled.

        Examples
        --------
        >>> with settings.use_backend("gpu"):  # doctest: +SKIP
        ...     task = dispatcher.bind(pipeline)
        >>> pool.submit(task, data)  # doctest: +SKIP
        """
        from turnout._snapshot import Bound  # noqa: PLC0415

        return Bound(function, (self._settings.snapshot(),))

    def get_backend(self, name: str) -> t.Any | None:
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

    def discover(self, *, import_backends: bool = True) -> None:
        """Load every installed backend now (idempotent).

        Discovery is otherwise lazy: the first query that needs a backend reads
        the entry-point metadata and imports only the backend it selected. Call
        this where everything should be known up front: a Sphinx ``conf.py``,
        a test, a report.

        Parameters
        ----------
        import_backends
            False imports nothing: the docstrings show, for every backend not
            imported yet, what its ``turnout-backend.json`` says of each function
            (its note and the parameters it adds), from now on and until it is
            imported. For documentation built where importing backends fails or
            costs too much.
        """
        # One merge at the end rather than one per backend loaded.
        with self._discovery.lock:
            if not import_backends:
                self._show_unloaded = True
                self._discovery.pending()  # scan: the files are read by the merge
                self._merge_all()
                return
            self._batch += 1
            try:
                self._discovery.load_all()
            finally:
                self._batch -= 1
            self._merge_all()

    def dispatched(self) -> list[Callable[..., t.Any]]:
        """Return the host's dispatched functions and classes, in decoration order."""
        return [record.wrapper for record in self._dispatched]

    def support(
        self, *, load: bool = True, keys: bool = False
    ) -> dict[str, dict[str, tuple[str, ...] | None]]:
        """Return which backend implements what.

        Parameters
        ----------
        load
            Load every backend first (exact). False imports nothing: a backend not
            loaded yet is described by the ``functions`` its distribution declares
            in static metadata (its backend-only parameters are then unknown: ``()``),
            and left out if it declares nothing.
        keys
            Key the rows by dispatch key (the attribute a backend implements, see
            ``backend_dispatch(name=...)``) instead of by public name.

        Returns
        -------
        dict
            ``{public name (or dispatch key) of a dispatched function or class:
            {backend name: the backend-only parameters it adds, or None if it lacks
            it}}``, in decoration order and backend-name order. The public name is
            the shortest path the host's packages expose it by (``pkg.mean``).
        """
        from turnout._introspect import support  # noqa: PLC0415 - dataclasses, on demand

        if load:
            self.discover()
        return support(self._dispatched, self._discovery, load=load, keys=keys)

    def _support_notes(self, *, load: bool = True) -> dict[str, dict[str, str]]:
        """Return each function's backend notes for the support matrix (`support_notes`)."""
        from turnout._introspect import support_notes  # noqa: PLC0415 - on demand, as support

        return support_notes(self._dispatched, self._discovery, load=load)

    @property
    def backends(self) -> BackendsView:
        """A read-only mapping of the installed backends (see `BackendsView`)."""
        return BackendsView(self._discovery)

    def register_backend(
        self,
        backend: t.Any = None,
        *,
        name: str | None = None,
        aliases: Sequence[str] = (),
        replace: bool = False,
    ) -> t.Any:
        """Register a backend object, module or class (instantiated on first use).

        Usable as a decorator, bare or with arguments. The host process chose to
        run it, so it is trusted and never warned about; it may not take
        ``"cpu"`` or a reserved name. An entry point that claims its name later
        is hidden (`ShadowedBackendWarning`). Registering reads no entry point.

        Parameters
        ----------
        backend
            The backend; omit it to get a decorator.
        name
            Its canonical name; default: its ``name`` attribute.
        aliases
            More labels, besides its own ``aliases``.
        replace
            Replace whichever backend holds one of its labels.

        Returns
        -------
        object
            `backend` itself (or a decorator returning it).

        Raises
        ------
        BackendExistsError
            A label is taken and `replace` is false.
        ReservedBackendError
            A label is ``"cpu"`` or reserved by the host.
        ConfigurationError
            It has no valid name, or an alias is invalid.
        """
        if backend is None:
            return lambda target: self.register_backend(
                target, name=name, aliases=aliases, replace=replace
            )
        self._registrar.register(backend, name=name, aliases=aliases, replace=replace)
        return backend

    def unregister_backend(self, name: str) -> None:
        """Remove the backend that answers to `name` (a name or alias), whatever its origin.

        Raises `UnknownBackendError` if none does.
        """
        self._registrar.unregister(name)

    def registered(
        self,
        backend: t.Any,
        *,
        name: str | None = None,
        aliases: Sequence[str] = (),
        replace: bool = False,
    ) -> Registration:
        """Register `backend` for the duration of a ``with`` block (entering gives its name).

        On exit, also when the block raises, it is removed and whatever it
        replaced comes back. Handy in tests.
        """
        options = {"name": name, "aliases": aliases, "replace": replace}
        return Registration(self._registrar, backend, options)

    def _tracing_changed(self, on: bool) -> None:
        """Send every function through its traced code while tracing is on; back when off."""
        if on and self._untrace is None:
            self._untrace = self.observe(Tracer())
        elif not on and self._untrace is not None:
            undo, self._untrace = self._untrace, None
            undo()
        for record in list(self._dispatched):
            if isinstance(record, DispatchedFunction):
                record.retrace()

    def observe(self, observer: Observer) -> Callable[[], None]:
        """Tell `observer` what each call does: which backend ran, declined, or fell back.

        Returns the function that stops it. Routes made before are remade, so
        an observed call costs the counting, and an unobserved one nothing.

        Parameters
        ----------
        observer
            A `turnout.testing.Observer` (its ``ran``, ``declined`` and
            ``fell_back`` methods are called with the function's public name).
        """
        undo = self._observers.add(observer)
        self._invalidate()

        def stop() -> None:
            undo()
            self._invalidate()

        return stop

    def _select_quietly(self, label: str) -> Callable[[], None]:
        """Select `label` process-wide, resolved on first use, quietly the host's code if absent.

        What ``pytest --turnout-backend`` asks of every host; returns the undo.
        """
        state = self._state
        before = (state.pending, state.base, state.quiet)
        select_for_session(state, label)

        def undo() -> None:
            state.pending, state.base, state.quiet = before
            state.recompute()

        return undo

    def refresh(self) -> None:
        """Forget what discovery found; the next query reads the entry points again.

        Use it after ``pip install`` in a running session, or to retry a backend
        that failed. In-tree and explicit registrations are kept; backend objects
        already handed out stay valid.
        """
        self._discovery.refresh()  # which invalidates every plan (on_reset)

    def report(self, *, load: bool = True) -> list[turnout.BackendInfo]:
        """Describe each backend, and each refused entry point.

        Parameters
        ----------
        load
            Load every backend first. False imports nothing: backends not loaded
            yet are reported from their metadata, with status ``NOT_LOADED`` and
            the functions their static metadata declares.

        Returns
        -------
        list of BackendInfo
            Ready (and, without `load`, not loaded) backends first, by name; then
            failed, rejected and shadowed ones in the order they were met.
        """
        from turnout._introspect import report  # noqa: PLC0415 - dataclasses, on demand

        if load:
            self.discover()
        else:  # scan first: the refusals (blocked, rejected) the scan records are listed
            self._discovery.pending()
        return report(self._dispatched, self._discovery, self._registry.refused(), load)

    def explain(
        self, function: Callable[..., t.Any], /, *args: t.Any, **kwargs: t.Any
    ) -> turnout.Explanation:
        """Say what a call would do, without running it.

        Parameters
        ----------
        function
            A dispatched function or class of this host.
        *args
            The call's positional arguments.
        **kwargs
            The call's keyword arguments, the selector (``backend=``) included.

        Returns
        -------
        Explanation
            Which backend would run and why, what would run, and which arguments
            would be forwarded, dropped or added. ``str()`` gives a summary.
        """
        record = self._records.get(function)
        if record is None:
            raise DispatchDefinitionError(
                target=repr(function),
                problem=f"it is not a dispatched function or class of {self.host_name}",
                action="pass a function decorated with this dispatcher's backend_dispatch",
            )
        keyword = kwargs.pop(self.backend_keyword, None)
        if self._state.pending is not None:
            self._settings._settle()  # noqa: SLF001 - its own settings
        value, why = requested(keyword, self._state.var.get(), self._state.forced)
        from turnout._introspect import explain_call, explain_construction  # noqa: PLC0415

        selected = choose(value, self._explained_label, self.host_name) if why == KEYWORD else value
        if isinstance(record, DispatchedClass):
            return explain_construction(record, selected, why)
        return explain_call(record, selected, why, args, kwargs)

    def _explained_label(self, label: str) -> str:
        """Resolve a label as a call would, without its warnings (explain runs nothing)."""
        return self._discovery.require(self._discovery.deprecated.get(label, label)).name

    def _names(self) -> dict[str, str]:
        """Return every name a dispatched function or class goes by, and its dispatch key."""
        names: dict[str, str] = {}
        for record in self._dispatched:
            for name in (record.qualified_name, record.public_name, record.key):
                names[name] = record.key
        return names

    def _add(self, record: DispatchedFunction | DispatchedClass) -> None:
        """Record a dispatched function or class under its dispatch key (unique per host).

        The same function decorated again (a module reloaded) replaces its record.
        """
        with self._discovery.lock:  # threads may decorate at once
            held = self._by_key.get(record.key)
            if held is not None and held.qualified_name != record.qualified_name:
                raise DispatchDefinitionError(
                    target=record.qualified_name,
                    problem=(
                        f"its dispatch key {record.key!r} is already {held.qualified_name}'s, "
                        "so a backend's same-named attribute would serve both"
                    ),
                    action=(
                        "give one of them a key of its own: "
                        "backend_dispatch(name='<module>_<function>')"
                    ),
                )
            self._by_key[record.key] = record
            # a new list, so readers iterating the old one (merges, reports) never see it change
            kept = (
                self._dispatched if held is None else [r for r in self._dispatched if r is not held]
            )
            self._dispatched = [*kept, record]  # copied in C: decorating stays linear in practice
            self._records[record.wrapper] = record

    def _invalidate(self) -> None:
        """Forget every plan after backends were replaced, removed or rediscovered."""
        for record in self._dispatched:
            record.invalidate()
        if any(record.merged for record in self._dispatched):
            self._merge_all()

    def _merge_all(self) -> None:
        """Merge every loaded backend into every dispatched function's API."""
        with self._discovery.lock:
            if self._batch:
                return
            self._merge_version += 1
            entries = self._discovery.loaded_entries()
            declared = self._discovery.described(unloaded=self._show_unloaded)
            for record in list(self._dispatched):
                record.merge(entries, self._merge_version, declared)

    def _dispatch_function(
        self,
        host: t.Any = None,
        /,
        *,
        dispatch_args: Sequence[str] | None = None,
        convert: Sequence[str] = (),
        name: str | None = None,
    ) -> t.Any:
        if host is None:  # used with options: @backend_dispatch(dispatch_args=("data",))
            return lambda function: self._dispatch_function(
                function, dispatch_args=dispatch_args, convert=convert, name=name
            )
        check_function(host, self.backend_keyword)
        options = check_options(host, dispatch_args, convert)
        key = check_key(host, name)
        record = DispatchedFunction(
            host,
            discovery=self._discovery,
            state=self._state,
            keyword=self.backend_keyword,
            host_name=self.host_name,
            settle=self._settings._settle,  # noqa: SLF001 - its own settings
            selector=self._selector,
            dispatch_args=options[0],
            convert=options[1],
            key=key,
            observers=self._observers,
            backend_only=self._backend_only,
            tracing=self._tracing,
        )
        self._add(record)
        if self._discovery.has_loaded():  # show them now; without the lock (see merge)
            version = self._merge_version
            declared = self._discovery.described(unloaded=self._show_unloaded)
            record.merge(self._discovery.loaded_entries(), version, declared)
        return record.wrapper

    def _dispatch_class(self, host: t.T) -> t.T:
        check_class(host, self.backend_keyword)
        record = DispatchedClass(
            host,
            self._discovery,
            keyword=self.backend_keyword,
            state=self._state,
            settle=self._settings._settle,  # noqa: SLF001 - its own settings
            host_name=self.host_name,
            observers=self._observers,
        )
        self._add(record)
        install(record, self._state, self.backend_keyword)
        return host

    def __repr__(self) -> str:
        return (
            f"<turnout.BackendDispatcher host_name={self.host_name!r} "
            f"entrypoint_group={self.entrypoint_group!r}>"
        )


BackendDispatcher.__module__ = "turnout"
