"""Carrying a host's backend choices to other threads, processes and machines.

A `Snapshot` is a small picklable record of what one host's settings select
where it was taken (scopes included). `Settings.applied` re-applies it for a
block in any thread or process; `apply_snapshot` applies it process-wide (a
process pool's initializer, a Dask worker plugin); `Bound` runs a function
under snapshots wherever it is unpickled; `submit` picks the right one for an
executor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from turnout import _lazytyping as t
from turnout._errors import ConfigurationError, HostNotFoundError
from turnout._hosts import find_host, live
from turnout._log import debug


class Snapshot:
    """One host's effective backend choices, as a picklable record.

    Taken with `Settings.snapshot`; applied with `Settings.applied` (a scope) or
    `turnout.apply_snapshot` (process-wide). Holds names and policies only: no
    backend object, nothing that imports a backend when unpickled.

    Attributes
    ----------
    entrypoint_group, module, host_name
        Which host: its dispatcher's entry-point group, the module that created
        the dispatcher (imported where the snapshot is applied, if needed), and
        the host's name.
    backend
        ``None`` (nothing chosen: automatic selection, where on, else the host's
        code), ``"cpu"``, a canonical backend name, or a priority list (a tuple).
    scoped
        Whether `backend` came from a ``use_backend`` scope (which wins over
        per-function priorities) rather than the process-wide setting (which
        they replace); applied the same way.
    fallback
        The fallback policy in effect.
    untrusted
        The host's policy for backends it does not trust (applying a snapshot
        may tighten a process's policy, never loosen it).
    automatic
        Whether automatic selection by argument type is on.
    priority
        Per-function priority lists, as ``((function, (backend, ...)), ...)``.
    opted_in
        Backends opted into automatic selection.
    config
        Backend options set where it was taken (process-wide, then by
        ``configured`` scopes), as ``((backend, ((key, value), ...)), ...)``:
        the values set, not the defaults. Pickling a snapshot pickles them, and
        raises `ConfigurationError` naming the backend and key of a value that
        cannot be pickled.
    """

    __slots__ = (
        "automatic",
        "backend",
        "config",
        "entrypoint_group",
        "fallback",
        "host_name",
        "module",
        "opted_in",
        "priority",
        "scoped",
        "untrusted",
    )

    def __init__(
        self,
        *,
        entrypoint_group: str,
        module: str,
        host_name: str,
        backend: str | tuple[str, ...] | None,
        fallback: str = "silent",
        untrusted: str = "warn",
        automatic: bool = False,
        priority: tuple[tuple[str, tuple[str, ...]], ...] = (),
        opted_in: tuple[str, ...] = (),
        scoped: bool = False,
        config: tuple[tuple[str, tuple[tuple[str, t.Any], ...]], ...] = (),
    ) -> None:
        self.entrypoint_group = entrypoint_group
        self.module = module
        self.host_name = host_name
        self.backend = backend
        self.fallback = fallback
        self.untrusted = untrusted
        self.automatic = automatic
        self.priority = priority
        self.opted_in = opted_in
        self.scoped = scoped
        self.config = config

    def as_dict(self) -> dict[str, t.Any]:
        """Return the fields as a dictionary (for logs and JSON)."""
        return {name: getattr(self, name) for name in sorted(self.__slots__)}

    def __reduce__(self) -> tuple[t.Any, ...]:
        fields = self.as_dict()
        if not fields["config"]:
            return (_rebuild, (fields,))
        # Pickled here, on its own, to say which value cannot cross to another process.
        fields["config"] = ()
        return (_rebuild, (fields, _pickled_config(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Snapshot):
            return NotImplemented
        return self.as_dict() == other.as_dict()

    def __hash__(self) -> int:
        # Not the options: their values may be unhashable (equal snapshots still hash equal).
        return hash(tuple(sorted((k, v) for k, v in self.as_dict().items() if k != "config")))

    def __repr__(self) -> str:
        backend = list(self.backend) if isinstance(self.backend, tuple) else self.backend
        config = {name: dict(values) for name, values in self.config}
        extra = "".join(
            f", {name}={value!r}"
            for name, value in (
                ("priority", dict(self.priority)),
                ("opted_in", self.opted_in),
                ("config", config),
            )
            if value
        )
        return (
            f"<turnout.Snapshot {self.host_name}: backend={backend!r}, "
            f"fallback={self.fallback!r}, untrusted={self.untrusted!r}, "
            f"automatic={self.automatic!r}{extra}>"
        )


def _rebuild(fields: dict[str, t.Any], config: bytes | None = None) -> Snapshot:
    if config is not None:
        import pickle  # noqa: PLC0415 - only where a snapshot carries options

        fields = {**fields, "config": pickle.loads(config)}  # noqa: S301 - our own bytes
    return Snapshot(**fields)


def _pickled_config(snapshot: Snapshot) -> bytes:
    """Return the snapshot's backend options pickled; name each value that cannot be."""
    import pickle  # noqa: PLC0415 - only where a snapshot carries options

    try:
        return pickle.dumps(snapshot.config, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as error:
        problems = [
            f"backend {name!r}, option {key!r}: its value, a {type(value).__qualname__}, "
            f"cannot be pickled ({reason}), so it cannot go to another process. Set a "
            "picklable value (a device number rather than a device object), or set it "
            f"there: settings.config[{name!r}][{key!r}] = ... in the task or the pool's "
            "initializer"
            for name, values in snapshot.config
            for key, value in values
            if (reason := _pickle_problem(value, pickle.dumps)) is not None
        ]
        raise ConfigurationError(
            problems=problems or [f"{type(error).__name__}: {error}"],
            host_name=snapshot.host_name,
            subject="backend configuration in a snapshot",
        ) from error


def _pickle_problem(value: object, dumps: Callable[[object], bytes]) -> str | None:
    """Return why `value` cannot be pickled, or None."""
    try:
        dumps(value)
    except Exception as reason:  # noqa: BLE001 - any failure of pickle counts
        return f"{type(reason).__name__}: {reason}"
    return None


def apply_snapshot(*snapshots: Snapshot, strict: bool = True) -> None:
    """Apply snapshots process-wide: each host's settings as they were where taken.

    Made to be a process pool's initializer
    (``ProcessPoolExecutor(initializer=turnout.apply_snapshot, initargs=(snap,))``)
    or to run on each Dask worker (`turnout.dask.TurnoutPlugin`). The host is
    imported if it is not yet. Sets ``settings.backend`` (or forgets it),
    ``fallback``, ``automatic``, per-function priorities, opt-ins and backend
    options (``settings.config``: those set here are replaced); tightens the
    untrusted policy if the snapshot's is stricter (never loosens it).

    Parameters
    ----------
    *snapshots
        Taken with `Settings.snapshot` (or `BackendDispatcher.bind`'s).
    strict
        Whether a snapshot whose host cannot be found here is an error;
        otherwise it is skipped, and said so at ``DEBUG``.

    Raises
    ------
    HostNotFoundError
        With `strict`: a snapshot's host cannot be imported here, or creates no
        dispatcher.
    """
    for snapshot in snapshots:
        try:
            dispatcher = find_host(snapshot.module, group=snapshot.entrypoint_group)
        except HostNotFoundError as error:
            if strict:
                raise
            debug("skipping the snapshot of %s here: %s", snapshot.host_name, error)
            continue
        dispatcher.settings.apply(snapshot)


class Bound:
    """A function that runs under snapshots of backend choices, wherever it is called.

    Made by `BackendDispatcher.bind` (one host) or `turnout.submit` (every
    host); pickles as the function (by reference, as pickle does) and the
    snapshots, so it can be sent to a process pool or a Dask worker. Calling it
    runs the function inside `Settings.applied` of each snapshot.

    Parameters
    ----------
    function
        What to run.
    snapshots
        The choices to run it under.
    strict
        Whether a snapshot whose host cannot be found where it runs is an error
        (`HostNotFoundError`); otherwise it is skipped (a host the worker cannot
        import is one the function cannot call either), and said so at ``DEBUG``.
    """

    __slots__ = ("__wrapped__", "snapshots", "strict")

    def __init__(
        self, function: object, snapshots: Iterable[Snapshot], *, strict: bool = True
    ) -> None:
        if not callable(function):
            msg = f"bind() needs a callable, not {type(function).__name__}"
            raise TypeError(msg)
        self.__wrapped__: Callable[..., t.Any] = function
        self.snapshots = tuple(snapshots)
        self.strict = strict

    def __call__(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        from contextlib import ExitStack  # noqa: PLC0415 - where a bound function runs

        with ExitStack() as stack:
            for snapshot in self.snapshots:
                try:
                    dispatcher = find_host(snapshot.module, group=snapshot.entrypoint_group)
                except HostNotFoundError as error:
                    if self.strict:
                        raise
                    debug("skipping the snapshot of %s here: %s", snapshot.host_name, error)
                    continue
                stack.enter_context(dispatcher.settings.applied(snapshot))
            return self.__wrapped__(*args, **kwargs)

    def __reduce__(self) -> tuple[t.Any, ...]:
        return (_rebuild_bound, (self.__wrapped__, self.snapshots, self.strict))

    def __repr__(self) -> str:
        name = getattr(self.__wrapped__, "__qualname__", repr(self.__wrapped__))
        hosts = ", ".join(s.host_name for s in self.snapshots)
        return f"<turnout.Bound {name} under {hosts or 'no host'}'s choices>"


def _rebuild_bound(function: object, taken: tuple[Snapshot, ...], strict: bool) -> Bound:
    return Bound(function, taken, strict=strict)


def snapshots() -> tuple[Snapshot, ...]:
    """Return a snapshot of every host's settings here (this thread or task)."""
    return tuple(d.settings.snapshot() for d in sorted(live, key=lambda d: d._serial))  # noqa: SLF001


def submit(
    executor: t.Any, function: Callable[..., t.Any], /, *args: t.Any, **kwargs: t.Any
) -> t.Any:
    """Submit `function` to `executor` so it runs under the caller's backend choices.

    A `concurrent.futures.ThreadPoolExecutor` runs it in a copy of the caller's
    context (every `use_backend` scope of every host comes along). Any other
    executor (a `ProcessPoolExecutor`, a Dask client) gets a picklable `Bound`
    carrying a snapshot of each host's settings.

    Returns
    -------
    concurrent.futures.Future
        What ``executor.submit`` returns.

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> import turnout
    >>> with ThreadPoolExecutor() as pool:  # doctest: +SKIP
    ...     with settings.use_backend("gpu"):
    ...         future = turnout.submit(pool, mean, values)  # runs on "gpu"
    """
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    if isinstance(executor, ThreadPoolExecutor):
        from contextvars import copy_context  # noqa: PLC0415

        return executor.submit(copy_context().run, function, *args, **kwargs)
    return executor.submit(Bound(function, snapshots(), strict=False), *args, **kwargs)
