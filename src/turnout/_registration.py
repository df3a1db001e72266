"""In-process backends: explicit registrations and in-tree classes; checks, replace, shadow."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import TracebackType

from turnout import _lazytyping as t
from turnout._discovery import Discovery
from turnout._errors import (
    BackendExistsError,
    ConfigurationError,
    ReservedBackendError,
    UnknownBackendError,
)
from turnout._names import CPU, label_problem
from turnout._registry import BackendStatus, Entry, Origin, Registry
from turnout._warnings import ShadowedBackendWarning, warn


class Registrar:
    """Adds and removes backends the host process chose to run (trusted, never warned)."""

    def __init__(
        self,
        discovery: Discovery,
        registry: Registry,
        host_name: str,
        on_change: Callable[[], None],
    ) -> None:
        self._discovery = discovery
        self._registry = registry
        self._host_name = host_name
        self._on_change = on_change

    def register(
        self,
        target: object,
        *,
        name: str | None = None,
        aliases: Iterable[str] = (),
        replace: bool = False,
        origin: Origin = Origin.EXPLICIT,
    ) -> tuple[Entry, list[Entry]]:
        """Register `target`; return its entry and the entries it displaced."""
        canonical = name if name is not None else getattr(target, "name", None)
        labels = self._labels(target, canonical, aliases)
        with self._discovery.lock:
            holders = list({id(h): h for h in map(self._registry.lookup, labels) if h}.values())
            displaced = [h for h in holders if not _same_class(h, target)]
            if displaced and not replace:
                in_process = [h for h in displaced if h.in_process]
                if in_process or origin is Origin.EXPLICIT:
                    holder = (in_process or displaced)[0]
                    taken = next(
                        label for label in labels if self._registry.lookup(label) is holder
                    )
                    raise BackendExistsError(
                        label=taken, host_name=self._host_name, holder=holder.describe_source()
                    )
            for holder in holders:
                self._registry.remove(holder)
            entry = Entry(
                labels[0],
                labels=tuple(labels),
                obj=None if isinstance(target, type) else target,
                factory=target if isinstance(target, type) else None,
                origin=origin,
                trusted=True,
            )
            self._registry.add_ready(entry)
            for holder in displaced:
                if not holder.in_process and not replace:
                    self._shadowed(holder, entry)
        if holders:
            self._on_change()
        return entry, displaced

    def unregister(self, label: str) -> Entry:
        """Remove the backend that answers to `label`, whatever its origin."""
        if not isinstance(label, str) or not label:
            raise UnknownBackendError(
                label=label, host_name=self._host_name, installed=self._registry.labels()
            )
        with self._discovery.lock:
            entry = self._registry.lookup(label)
            if entry is None:
                raise UnknownBackendError(
                    label=label, host_name=self._host_name, installed=self._registry.labels()
                )
            self._registry.remove(entry)
            if entry.in_process:
                self._discovery.unshadow(entry.labels)
        self._on_change()
        return entry

    def restore(self, entries: Iterable[Entry]) -> None:
        """Put back entries a temporary registration displaced."""
        with self._discovery.lock:
            for entry in entries:
                if all(self._registry.lookup(label) is None for label in entry.labels):
                    self._registry.add_ready(entry)
        self._on_change()

    def _labels(self, target: object, name: object, aliases: Iterable[str]) -> list[str]:
        problem = label_problem(name) if name is not None else "it has no name"
        if problem is not None or not isinstance(name, str):
            raise ConfigurationError(
                problems=[
                    (
                        f"cannot register {target!r} as a backend: {problem}; pass name=... "
                        "or give it a valid `name` attribute"
                    )
                ],
                host_name=self._host_name,
            )
        own = getattr(target, "aliases", ()) or ()
        for given, what in ((aliases, "aliases="), (own, f"{name!r}'s aliases attribute")):
            if isinstance(given, str) or not isinstance(given, (list, tuple, set, frozenset)):
                problem = (
                    f"cannot register backend {name!r}: {what} must be a list, tuple or "
                    f"set of labels, not {type(given).__name__} {given!r}"
                )
                raise ConfigurationError(
                    problems=[problem],
                    host_name=self._host_name,
                )
        rule = self._discovery.rule_for(name)
        wanted = [name, *aliases, *own, *(rule.aliases if rule and rule.canonical == name else ())]
        labels: list[str] = []
        for label in wanted:
            if label in labels:
                continue
            problem = label_problem(label)
            owner = self._discovery.rule_for(label) if problem is None else None
            if problem is None and owner is not None and owner.canonical != name:
                problem = f"{label!r} belongs to trusted backend {owner.canonical!r}"
            if problem is not None:
                raise ConfigurationError(
                    problems=[f"cannot register backend {name!r}: alias {problem}"],
                    host_name=self._host_name,
                )
            reason = self._discovery.reserved_reason(label)
            if label == CPU:
                reason = f"'cpu' always means {self._host_name}'s own code"
            if reason is not None:
                raise ReservedBackendError(label=label, host_name=self._host_name, reason=reason)
            labels.append(label)
        return labels

    def _shadowed(self, holder: Entry, entry: Entry) -> None:
        holder.status = BackendStatus.SHADOWED
        holder.reason = (
            f"{entry.name!r} is held by {entry.describe_source()}, which the host process "
            "registered; the in-process backend wins"
        )
        self._registry.add_refused(holder)
        warn(
            f"Backend {holder.name!r} from {holder.describe_source()} is hidden in "
            f"{self._host_name}: {holder.reason}.",
            ShadowedBackendWarning,
        )


def _same_class(entry: Entry, target: object) -> bool:
    """Whether `entry` is an earlier definition of the same in-tree class (a reload)."""
    previous = entry.factory if entry.factory is not None else type(entry.obj)
    return (
        entry.origin is Origin.IN_TREE
        and isinstance(target, type)
        and previous.__module__ == target.__module__
        and previous.__qualname__ == target.__qualname__
    )


class Registration:
    """A registration undone on exit (`BackendDispatcher.registered`)."""

    def __init__(self, registrar: Registrar, target: object, options: dict[str, t.Any]) -> None:
        self._registrar = registrar
        self._target = target
        self._options = options
        self._entry: Entry | None = None
        self._displaced: list[Entry] = []

    def __enter__(self) -> str:
        self._entry, self._displaced = self._registrar.register(self._target, **self._options)
        return self._entry.name

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._entry is not None:
            self._registrar.unregister(self._entry.name)
            self._registrar.restore(self._displaced)
