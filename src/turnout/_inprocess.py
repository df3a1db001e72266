"""In-process backends: explicit registrations, in-tree classes (the Backend base), packages.

The host process chose to run these, so they are trusted and never warned
about; an entry point claiming one of their names is hidden (shadowed).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType

from turnout import _lazytyping as t
from turnout._discovery import Discovery
from turnout._errors import (
    BackendExistsError,
    ConfigurationError,
    ReservedBackendError,
    UnknownBackendError,
)
from turnout._lazytyping import TYPE_CHECKING
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
            entry = Entry(
                labels[0],
                labels=tuple(labels),
                obj=None if isinstance(target, type) else target,
                factory=target if isinstance(target, type) else None,
                origin=origin,
                trusted=True,
            )
            self._registry.add_ready(entry, replacing=holders)  # one swap: no gap
            for holder in displaced:
                if not holder.in_process and not replace:
                    self._shadowed(holder, entry)
        if holders:
            self._on_change()
        elif self._discovery.on_ready is not None:  # its keywords join the merged API
            self._discovery.on_ready()
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


# Each dispatcher's base class -> how its subclasses register. Base classes live
# as long as their dispatchers (module globals of the host), so a plain dict.
_registrars: dict[type, tuple[Registrar, Callable[[type], str | None] | None]] = {}


class BackendMeta(abc.ABCMeta):
    """Registers each concrete subclass of a dispatcher's ``Backend`` when it is defined.

    A subclass registers when it sets ``name`` in its own body, or when the
    dispatcher's ``backend_key`` rule derives a name from it. Abstract
    subclasses (any abstract method left) and subclasses without a name are
    skipped. It derives from `abc.ABCMeta`, so backends may declare abstract
    methods.
    """

    def __init__(cls, name: str, bases: tuple[type, ...], namespace: dict[str, t.Any]) -> None:
        super().__init__(name, bases, namespace)
        if cls in _registrars:
            return  # a dispatcher's base class itself
        owner = next((_registrars[base] for base in cls.__mro__[1:] if base in _registrars), None)
        if owner is None or getattr(cls, "__abstractmethods__", None):
            return
        registrar, key_rule = owner
        key = namespace.get("name")
        if key is None and key_rule is not None:
            key = key_rule(cls)
        if key is None:
            return
        registrar.register(cls, name=key, origin=Origin.IN_TREE)


class Backend(metaclass=BackendMeta):
    """Base class of in-tree backends (each dispatcher has its own subclass of it).

    Subclass ``dispatcher.Backend``, set ``name`` (and optionally ``aliases``),
    and define methods named like the host's dispatched functions. The class
    registers itself when defined; its instance is created on first use.
    """

    # Declared for type checkers only: runtime annotations here would be
    # evaluated in the `turnout` namespace (this class's __module__).
    if TYPE_CHECKING:
        name: t.ClassVar[str]
        aliases: t.ClassVar[Sequence[str]]
    aliases = ()


Backend.__module__ = "turnout"
BackendMeta.__module__ = "turnout"


def make_base(
    registrar: Registrar, host_name: str, key_rule: Callable[[type], str | None] | None
) -> type[Backend]:
    """Create the ``Backend`` base class for one dispatcher."""
    base = BackendMeta(
        "Backend",
        (Backend,),
        {"__doc__": f"Base class of {host_name}'s in-tree backends.", "__module__": "turnout"},
    )
    _registrars[base] = (registrar, key_rule)
    return base  # type: ignore[return-value]  # BackendMeta's instances are Backend classes


def import_package(
    package: str, host_name: str, failed: Callable[[str, BaseException], None]
) -> None:
    """Import every module of the host's in-tree backend package (recursively).

    A module that fails to import goes to `failed` (it is reported with a
    `BackendLoadWarning`); the package itself missing is the host's mistake
    (`ConfigurationError`, raised on every query until it is fixed).
    """
    import importlib  # noqa: PLC0415 - only for hosts with in-tree backend packages
    import pkgutil  # noqa: PLC0415 - idem

    try:
        root = importlib.import_module(package)
    except ModuleNotFoundError as error:
        if error.name is not None and (package + ".").startswith(error.name + "."):
            raise ConfigurationError(
                problems=[
                    (
                        f"discover_package={package!r} cannot be imported ({error}); "
                        "give the dotted name of the host's package of in-tree backends"
                    )
                ],
                host_name=host_name,
            ) from error
        failed(package, error)
        return
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # noqa: BLE001 - reported, the host keeps working
        failed(package, error)
        return
    for module in pkgutil.walk_packages(getattr(root, "__path__", []), f"{package}."):
        _import_module(module.name, failed)


def _import_module(name: str, failed: Callable[[str, BaseException], None]) -> None:
    import importlib  # noqa: PLC0415 - see import_package

    try:
        importlib.import_module(name)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # noqa: BLE001 - reported, the host keeps working
        failed(name, error)
