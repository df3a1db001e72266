"""Settings: the process-wide backend, scoped selections in a ContextVar, precedence."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence

import turnout  # `turnout.Snapshot` in annotations: resolved lazily
from turnout import _lazytyping as t
from turnout._config import ConfigMap, ConfigScope, ConfigState, UnknownConfigKeyError
from turnout._decision import GLOBAL, SCOPE, Choice, choose, labels_in
from turnout._discovery import Discovery
from turnout._errors import ConfigurationError, UnknownBackendError, UnknownFunctionError
from turnout._hosts import settings_for
from turnout._log import debug
from turnout._names import CPU, env_prefix, label_problem, suggest
from turnout._policy import Fallback, parse
from turnout._scopes import (
    BackendScope,
    SelectionState,
    run_within,
    settle_environment,
)
from turnout._trace import Switch, TraceScope


def check_fallback(policy: object, host_name: str = "") -> Fallback:
    """Return `policy` as a fallback policy, else raise `ConfigurationError`."""
    return Fallback(parse(Fallback, policy, "Fallback policy", host_name))


def check_label(label: object, host_name: str) -> None:
    """Raise `UnknownBackendError` for a label that cannot be valid (imports nothing)."""
    if not isinstance(label, str) or not label:
        raise UnknownBackendError(label=label, host_name=host_name, installed=(CPU,))
    problem = label_problem(label)
    if problem is not None:
        raise UnknownBackendError(label=label, host_name=host_name, problem=problem)


class _Applied:
    """The scope `Settings.applied` returns: four scopes entered and left together.

    `prepare` applies the snapshot's process-wide parts first (they only fill
    what this process has not set); `choose` reads its backend as a user's value;
    `configure` makes the scope of its backend configuration.
    """

    __slots__ = ("_choose", "_configure", "_prepare", "_snapshot", "_stack", "_state")

    def __init__(
        self,
        state: SelectionState,
        snapshot: turnout.Snapshot,
        prepare: Callable[[turnout.Snapshot], None],
        choose: Callable[[object], str | Choice],
        configure: Callable[[turnout.Snapshot], ConfigScope],
    ) -> None:
        self._state = state
        self._snapshot = snapshot
        self._prepare = prepare
        self._choose = choose
        self._configure = configure
        self._stack: list[list[t.Any]] = []

    def __enter__(self) -> turnout.Snapshot:
        state, snapshot = self._state, self._snapshot
        self._prepare(snapshot)
        scopes: list[t.Any] = [
            self._configure(snapshot),
            BackendScope(state, snapshot.fallback, kind="fallback"),
            BackendScope(state, snapshot.automatic, kind="automatic"),
        ]
        if snapshot.backend is not None:
            backend = snapshot.backend
            value = list(backend) if isinstance(backend, tuple) else backend
            kind = "backend" if snapshot.scoped else "process-wide"
            scopes.append(BackendScope(state, value, kind=kind, choose=self._choose))
        else:
            scopes.append(BackendScope(state, None, kind="unchosen"))
        entered: list[t.Any] = []
        try:
            for scope in scopes:
                scope.__enter__()
                entered.append(scope)
        except BaseException:
            for scope in reversed(entered):
                scope.__exit__(None, None, None)
            raise
        self._stack.append(entered)
        return snapshot

    def __exit__(self, *exc_info: object) -> None:
        for scope in reversed(self._stack.pop()):
            scope.__exit__(*exc_info)

    def __call__(self, func: t.F) -> t.F:
        """Run every call of `func` (sync or async) inside this scope."""
        state, snapshot, prepare = self._state, self._snapshot, self._prepare
        chooser, configure = self._choose, self._configure
        return run_within(func, lambda: _Applied(state, snapshot, prepare, chooser, configure))

    def __repr__(self) -> str:
        return f"applied({self._snapshot!r})"


class PriorityMap(MutableMapping[str, list[str]]):
    """Per-function priority lists: ``settings.priority["mean"] = ["rapids", "numba"]``.

    Keyed by a dispatched function's or class's dispatch key (``"mean"``; see
    ``backend_dispatch(name=...)``), or by its public or qualified name
    (``"example_host.mean"``); it is stored, and read back, under its dispatch
    key. A function's list replaces ``settings.backend`` for it; a call's
    ``backend=`` and a `Settings.use_backend` scope still win. ``"cpu"`` in a
    list means the host's code at that position.
    """

    def __init__(
        self,
        state: SelectionState,
        key_of: Callable[[object], str],
        choose: Callable[[object], str | Choice],
    ) -> None:
        self._state = state
        self._key_of = key_of  # a name of a dispatched function -> its dispatch key
        self._choose = choose

    def __getitem__(self, name: str) -> list[str]:
        return list(self._state.overrides[self._key_of(name)])

    def __setitem__(self, name: str, backends: Sequence[str]) -> None:
        key = self._key_of(name)
        selected = self._choose(backends)
        labels = selected.labels if isinstance(selected, Choice) else (selected,)
        self._state.overrides[key] = labels
        self._state.changed()

    def __delitem__(self, name: str) -> None:
        del self._state.overrides[self._key_of(name)]
        self._state.changed()

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._state.overrides))

    def __len__(self) -> int:
        return len(self._state.overrides)

    def __repr__(self) -> str:
        return f"<priorities {dict(self._state.overrides)!r}>"


class Settings:
    """Which backend runs a host's dispatched functions.

    One per `BackendDispatcher`, re-exported by the host as ``settings``.
    A call's ``backend=`` keyword wins over the innermost `use_backend` scope,
    which wins over a per-function `priority`, which wins over `backend`; with
    nothing chosen, `automatic` selection (if the host turned it on) picks a
    backend by the types of the call's arguments, else ``"cpu"`` (the host's
    code) runs.
    """

    def __init__(
        self,
        discovery: Discovery,
        state: SelectionState,
        module: str = "",
        functions: Callable[[], Mapping[str, str]] = dict,
        *,
        tracing: Switch | None = None,
    ) -> None:
        self._discovery = discovery
        self._tracing = tracing if tracing is not None else Switch(lambda _on: None)
        self._state = state
        self._priority = PriorityMap(state, self._function_key, self._choose)
        self._module = module  # the module that created the dispatcher (for snapshots)
        self._functions = functions  # every name a dispatched object goes by -> its key
        self._config_state = ConfigState(discovery.host_name)
        self._config = ConfigMap(self._config_state, discovery)

    @property
    def host_name(self) -> str:
        """The host library these settings belong to."""
        return self._discovery.host_name

    @property
    def backend(self) -> str | list[str]:
        """The backend in effect here, as a canonical name or a priority list.

        Reading gives the innermost `use_backend` scope of this thread or
        asyncio task, else the process-wide setting. Assigning sets the
        process-wide setting, seen by every thread (also threads started later)
        that is not inside a scope: a label (an alias is stored as its canonical
        name), or a priority list such as ``["rapids", "numba"]`` (or
        ``"rapids,numba"``): for each call, the first of them that implements the
        function and can run the call runs it, else the fallback policy decides.
        Assigning ``"cpu"`` runs the host's code everywhere, also where
        automatic selection would pick a backend by argument type;
        ``del settings.backend`` forgets the choice (the host's code, or
        automatic selection where it is on), as if nothing had been assigned.

        Raises
        ------
        UnknownBackendError
            No installed backend answers to a label (did-you-mean included).
        ReservedBackendError
            The host reserved the label.
        BackendNotInstalledError
            The host trusts the backend, but its package is not installed.
        BackendRefusedError
            An installed backend answers to it, but the host's checks refused it.
        BackendLoadError
            The backend's package raised when it was imported.
        """
        if self._state.pending is not None:
            self._settle()
        if self._state.forced:
            return CPU
        name = self._state.var.get().name
        if isinstance(name, Choice):
            return name.shown()
        return str(name)

    @backend.setter
    def backend(self, value: str | Sequence[str]) -> None:
        if self._state.forced:
            debug(
                "%s: settings.backend = %r ignored: the host's code is forced",
                self.host_name,
                value,
            )
            return
        selected = choose(value, self._resolve, self.host_name)
        self._state.base = selected.labels if isinstance(selected, Choice) else selected
        self._state.pending = None
        self._state.recompute()

    @backend.deleter
    def backend(self) -> None:
        self._state.base = None
        self._state.pending = None
        self._state.recompute()

    def trace(self) -> TraceScope:
        """Record the dispatched calls this thread or asyncio task makes in a ``with`` block.

        Entering gives a list that fills with one `turnout.TracedCall` per
        call of the host's dispatched functions: the function, what was
        selected and why, the backend that ran (``"cpu"`` for the host's
        code), each candidate that declined and why, and why the host's code
        ran instead of a backend. Calls in other threads are not recorded.
        While a trace is open (or the ``turnout`` logger is at ``DEBUG``, which
        logs each call's line), calls take a slower path; when none is, they
        are back on their fast path.

        Returns
        -------
        TraceScope
            The context manager; entering it gives the `turnout.Trace` list.

        Examples
        --------
        >>> import example_host
        >>> with example_host.settings.trace() as calls:
        ...     _ = example_host.mean([1.0, 2.0])
        >>> print(calls[0].line())  # doctest: +SKIP
        example_host.mean: cpu ran (default: cpu)
        """
        return TraceScope(self._tracing)

    def use_backend(self, backend: str | Sequence[str]) -> BackendScope[str | list[str]]:
        """Select `backend`, or a priority list, within a ``with`` block, or as a decorator.

        Scopes nest, are isolated per thread and per asyncio task, and restore
        the previous selection on exit, also when the body raises.

        Parameters
        ----------
        backend
            Canonical name or alias (``"cpu"`` selects the host's own code), or a
            priority list such as ``["rapids", "numba"]``.

        Returns
        -------
        BackendScope
            A context manager (entering it gives the canonical name, or list) that
            also decorates sync and async functions.

        Examples
        --------
        >>> with settings.use_backend("cpu") as name:  # doctest: +SKIP
        ...     name
        'cpu'
        """
        for label in labels_in(backend, self.host_name)[0]:
            check_label(label, self.host_name)
        return BackendScope(self._state, backend, choose=self._choose)

    def _choose(self, value: object) -> str | Choice:
        """Return the selection a user's value makes (see `turnout._decision.choose`)."""
        return choose(value, self._resolve, self.host_name)

    @property
    def priority(self) -> PriorityMap:
        """Per-function priority lists (see `PriorityMap`); a mutable mapping."""
        return self._priority

    @property
    def config(self) -> ConfigMap:
        """Each backend's configuration, read as ``settings.config["gpu"]["device"]``.

        ``settings.config["gpu"]`` (a canonical name or an alias) is a live
        mapping of that backend's options, the same object each time. Reading a
        key gives the value in effect here: the innermost `configured` scope of
        this thread or asyncio task that sets it, else the value set
        process-wide, else the default the backend declares (``default_config``
        in its ``turnout-backend.json``, read without importing it, else its
        ``default_config`` attribute). Assigning a key (or ``update``) sets it
        process-wide, for every thread; ``del`` or ``reset()`` goes back to the
        default.

        A backend reads its options inside the function a call runs, so that
        it sees the scopes of that call: ``settings.config["gpu"]["device"]``
        is a ContextVar read and a few dictionary lookups, and calls of
        backends that read nothing pay nothing.

        Raises
        ------
        UnknownConfigKeyError
            Reading, setting or deleting a key the backend does not declare
            (when it declares defaults); did-you-mean included. A `KeyError`.
        UnknownBackendError, BackendNotInstalledError, BackendRefusedError, BackendLoadError
            No usable backend answers to the label (as for `backend`).

        Examples
        --------
        >>> settings.config["gpu"]["device"] = 1  # doctest: +SKIP
        >>> settings.config["gpu"].update(device=1, precision="single")  # doctest: +SKIP
        >>> with settings.configured("gpu", device=2):  # doctest: +SKIP
        ...     settings.config["gpu"]["device"]
        2
        """
        return self._config

    def configured(
        self, backend: str, values: Mapping[str, t.Any] | None = None, /, **options: t.Any
    ) -> ConfigScope:
        """Set options of `backend` within a ``with`` block, or as a decorator.

        Scoped like `use_backend`: this thread or asyncio task only, restored
        on exit (also when the body raises); nested scopes merge, the inner
        one's values winning. A `snapshot` taken inside carries them to other
        threads and processes. It configures only: which backend runs is
        still chosen as before.

        Parameters
        ----------
        backend
            Canonical name or alias of the backend to configure.
        values
            Options as a mapping (for keys that are no Python names).
        **options
            Options as keywords; they win over `values`.

        Returns
        -------
        ConfigScope
            A context manager (entering it gives the backend's `BackendConfig`)
            that also decorates sync and async functions. The backend is
            resolved and the keys checked when it is entered.

        Raises
        ------
        UnknownConfigKeyError
            On entering: the backend declares defaults and not one of the keys.
        UnknownBackendError
            `backend` cannot be a label (here), or no installed backend answers
            to it (on entering).
        BackendLoadError, BackendRefusedError, BackendNotInstalledError
            On entering: the backend failed to load, was refused (or blocked),
            or is trusted by the host but not installed.

        Examples
        --------
        >>> with settings.configured("gpu", device=1) as config:  # doctest: +SKIP
        ...     config["device"]
        1
        """
        check_label(backend, self.host_name)
        given = {**(values or {}), **options}
        for key in given:
            if not isinstance(key, str):
                raise UnknownConfigKeyError(key=key, backend=backend, host_name=self.host_name)
        return ConfigScope.merging(self._config_state, self._config, backend, given)

    @property
    def automatic(self) -> bool:
        """Whether a call with nothing chosen goes to a backend that owns its arguments' types.

        The host decides the initial value (``BackendDispatcher(automatic=...)``,
        ``<HOST>_AUTOMATIC``); assigning sets it process-wide. With it on, the
        types of a call's dispatch arguments (the host declares which; the first
        parameter by default) are matched against the types backends declare,
        without importing either; a trusted or opted-in owner runs the call.
        """
        return self._state.automatic_var.get().value

    @automatic.setter
    def automatic(self, value: bool) -> None:
        self._state.automatic.value = bool(value)
        self._state.recompute()

    def use_automatic(self, value: bool = True) -> BackendScope[bool]:
        """Turn automatic selection on or off within a ``with`` block, or as a decorator."""
        return BackendScope(self._state, bool(value), kind="automatic")

    def opt_in(self, *labels: str) -> None:
        """Let backends the host does not trust (or that ask for it) be chosen automatically.

        Raises the errors listed under `backend` for a label no usable backend
        answers to.
        """
        self._state.opted_in.update(self._resolve(label) for label in labels)
        self._state.changed()

    @property
    def opted_in(self) -> frozenset[str]:
        """The backends `opt_in` allowed into automatic selection."""
        return frozenset(self._state.opted_in)

    @property
    def forced(self) -> bool:
        """Whether ``<HOST>_BACKEND=cpu`` with ``<HOST>_STRICT=1`` forces the host's code."""
        return self._state.forced

    def conversion_cache(self) -> t.Any:
        """Return a context manager that reuses conversions of the same object in its block.

        Backends that convert the host's arguments to their own types (see the
        backend guide) convert each object once while the block runs; the cache
        holds the objects weakly and is dropped on exit.
        """
        from turnout._conversion import conversion_cache  # noqa: PLC0415

        return conversion_cache()

    @property
    def fallback(self) -> str:
        """What runs when the selected backend lacks a function, or declines a call.

        ``"silent"`` (the host's code), ``"warn"`` (the host's code, with a
        `FallbackWarning` once per function and backend) or ``"error"``
        (`MissingImplementationError`: exactly this backend, or fail).
        Reading gives the innermost `use_fallback` scope, else the process-wide
        value; assigning sets the process-wide value. The host chooses the initial one.
        """
        return str(self._state.fallback_var.get().name)  # the word, not the enum member

    @fallback.setter
    def fallback(self, policy: str) -> None:
        self._state.fallback_default.name = check_fallback(policy, self.host_name)

    def use_fallback(self, policy: str) -> BackendScope[str]:
        """Set the fallback policy within a ``with`` block, or as a decorator.

        Scoped like `use_backend`: per thread and asyncio task, restored on exit.

        Raises
        ------
        ConfigurationError
            `policy` is not one of the policies (raised here, not on entering).
        """
        return BackendScope(self._state, check_fallback(policy, self.host_name), kind="fallback")

    def __reduce__(self) -> tuple[t.Any, ...]:
        """Pickle by reference: the same host's settings wherever it is unpickled."""
        return (settings_for, (self._module, self._discovery.group))

    def snapshot(self) -> turnout.Snapshot:
        """Return what these settings select here (this thread or task), as a picklable record.

        The innermost `use_backend`, `use_fallback`, `use_automatic` and
        `configured` scopes count, as for a call made here; so do the backend
        options set process-wide (`config`): the values set, not the defaults,
        which the other side reads from the backend itself. Send the record to another thread or
        process and apply it there with `applied` (a block) or
        `turnout.apply_snapshot` (the whole process); or let
        `BackendDispatcher.bind` and `turnout.submit` do it.
        """
        from turnout._snapshot import Snapshot  # noqa: PLC0415

        state = self._state
        if state.pending is not None:
            self._settle()
        selection = state.var.get()
        name = selection.name
        backend: str | tuple[str, ...] | None
        if state.forced:
            backend = CPU
        elif isinstance(name, Choice):
            if not name.labels:
                backend = None
            else:
                backend = tuple(name.labels) if name.listed else name.labels[0]
        else:
            backend = None if name == CPU and selection.why not in (GLOBAL, SCOPE) else name
        return Snapshot(
            entrypoint_group=self._discovery.group,
            module=self._module,
            host_name=self.host_name,
            backend=backend,
            fallback=self.fallback,
            untrusted=self._discovery.untrusted,
            automatic=self.automatic,
            # where it came from matters only when per-function priorities could replace it
            scoped=selection.why == SCOPE and bool(state.overrides) and not state.forced,
            priority=tuple(sorted(state.overrides.items())),
            opted_in=tuple(sorted(state.opted_in)),
            config=self._config_state.taken(),
        )

    def applied(self, snapshot: turnout.Snapshot) -> t.Any:
        """Apply a `snapshot` of these settings within a ``with`` block, or as a decorator.

        The backend (or priority list), fallback policy, automatic switch and
        backend options are scoped like `use_backend`: this thread or task only,
        restored on exit. The snapshot's options replace what `configured`
        scopes around set (values set process-wide here still apply to keys
        it does not set); a backend not usable here is not configured.
        Per-function priorities and opt-ins are process-wide settings: they are
        applied when this process has none of its own (a fresh worker), and kept
        otherwise. The untrusted policy is tightened if the snapshot's is
        stricter, never loosened.

        Raises
        ------
        ConfigurationError
            The snapshot was taken from another host.
        UnknownBackendError, BackendNotInstalledError, BackendLoadError
            A backend it names cannot be used here (when the block is entered).
        """
        self._check_snapshot(snapshot)
        return _Applied(self._state, snapshot, self._fill, self._choose, self._configure)

    def _configure(self, snapshot: turnout.Snapshot) -> ConfigScope:
        """Return the scope of a snapshot's backend configuration."""
        return ConfigScope.replacing(self._config_state, self._config, snapshot.config)

    def _fill(self, snapshot: turnout.Snapshot) -> None:
        """Apply a snapshot's process-wide parts where this process has none of its own."""
        self._discovery.tighten_untrusted(snapshot.untrusted)
        if snapshot.priority and not self._state.overrides:
            self._restore_priorities(snapshot.priority)
        if snapshot.opted_in and not self._state.opted_in:
            self.opt_in(*snapshot.opted_in)

    def apply(self, snapshot: turnout.Snapshot) -> None:
        """Apply a `snapshot` of these settings process-wide (see `turnout.apply_snapshot`)."""
        self._check_snapshot(snapshot)
        self._discovery.tighten_untrusted(snapshot.untrusted)
        if snapshot.backend is None:
            del self.backend
        else:
            self.backend = (
                list(snapshot.backend) if isinstance(snapshot.backend, tuple) else snapshot.backend
            )
        self.fallback = snapshot.fallback
        self.automatic = snapshot.automatic
        if not snapshot.scoped:  # under a scope, per-function priorities did not apply there
            self._restore_priorities(snapshot.priority)
        if snapshot.opted_in:
            self.opt_in(*snapshot.opted_in)
        self._config.apply(snapshot.config)

    def _check_snapshot(self, snapshot: object) -> None:
        from turnout._snapshot import Snapshot  # noqa: PLC0415

        if not isinstance(snapshot, Snapshot) or snapshot.entrypoint_group != self._discovery.group:
            got = (
                f"a snapshot of {snapshot.host_name} ({snapshot.entrypoint_group})"
                if isinstance(snapshot, Snapshot)
                else repr(snapshot)
            )
            raise ConfigurationError(
                problems=[
                    (
                        f"expected a turnout.Snapshot taken from {self.host_name}'s settings "
                        f"(entry-point group {self._discovery.group!r}), got {got}"
                    )
                ],
                host_name=self.host_name,
                subject="snapshot",
            )

    def _settle(self) -> None:
        """Resolve the backend ``<HOST>_BACKEND`` chose, reporting it once if unusable."""
        variable = f"{env_prefix(self.host_name)}_BACKEND"
        settle_environment(self._state, self._resolve, variable)

    def _resolve(self, label: object) -> str:
        """Return the canonical name for `label`, importing its backend if needed.

        Raises the errors listed under `backend`.
        """
        if label == CPU:
            return CPU
        return self._discovery.select(label).name

    def _restore_priorities(self, priorities: Iterable[tuple[str, Sequence[str]]]) -> None:
        """Set per-function priorities taken elsewhere (a snapshot): keys as they were there.

        A key this process does not know yet (a module of the host not imported
        here) is kept as it is, rather than refused.
        """
        known = self._functions()
        for key, backends in priorities:
            selected = choose(list(backends), self._resolve, self.host_name)
            labels = selected.labels if isinstance(selected, Choice) else (selected,)
            self._state.overrides[known.get(key, key)] = labels
        self._state.changed()

    def _function_key(self, name: object) -> str:
        """Return the dispatch key of the dispatched function or class `name` names.

        Raises
        ------
        UnknownFunctionError
            No dispatched function or class of the host goes by `name`.
        """
        known = self._functions()
        if isinstance(name, str) and name in known:
            return known[name]
        keys = sorted(set(known.values()))
        shown = name if isinstance(name, str) else ""
        raise UnknownFunctionError(
            function=name,
            host_name=self.host_name,
            suggestions=suggest(shown, known) if shown else (),
            known=keys,
        )

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
            The backend; None for ``"cpu"`` and for a label no usable backend
            answers to (as scverse-backends does).
        """
        return self._discovery.get(name)

    def __repr__(self) -> str:
        return f"<turnout.Settings backend={self.backend!r}>"


Settings.__module__ = "turnout"
PriorityMap.__module__ = "turnout"
