"""Each backend's configuration: declared defaults, process-wide values, scopes in a ContextVar.

``settings.config["gpu"]`` is a `BackendConfig`: a live view a backend reads
inside the function a call runs (``config["device"]``: one ContextVar read and
at most three dictionary lookups). The dispatch path never looks at
configuration, so a call whose backend reads none pays nothing for it.

Values stack in three layers, innermost first: the ``settings.configured``
scopes of this thread or asyncio task (a ContextVar), the values set
process-wide, the defaults the backend declares (``default_config`` in its
``turnout-backend.json``, read without importing it, else its attribute).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar

from turnout import _lazytyping as t
from turnout._errors import TurnoutError, UnknownBackendError
from turnout._lazytyping import TYPE_CHECKING
from turnout._log import debug
from turnout._names import CPU, label_problem, suggest
from turnout._registry import BackendStatus
from turnout._scopes import run_within
from turnout._static import StaticInfo

if TYPE_CHECKING:
    from turnout._discovery import Discovery
    from turnout._static import Declared

    Layer = Mapping[str, Mapping[str, t.Any]]  # canonical name -> values a scope set
    Carried = tuple[tuple[str, tuple[tuple[str, t.Any], ...]], ...]  # what a snapshot holds

_MISSING: t.Any = object()
_OUTSIDE: dict[str, dict[str, t.Any]] = {}  # the layer outside every scope; never mutated


def _quoted(keys: Iterable[str]) -> str:
    return ", ".join(repr(key) for key in keys)


class UnknownConfigKeyError(TurnoutError, KeyError):
    """A configuration key the backend does not declare (or, declaring none, was never set).

    A `KeyError`, as a mapping raises.

    Attributes
    ----------
    key
        The key as given.
    backend
        The backend's canonical name.
    host_name
        The host library.
    suggestions
        Close matches among `known`.
    known
        The keys it has: those it declares, or (declaring none) those set.
    declared
        Whether the backend declares its keys (its defaults).
    """

    def __init__(
        self,
        *,
        key: object,
        backend: str,
        host_name: str,
        suggestions: tuple[str, ...] | list[str] = (),
        known: tuple[str, ...] | list[str] = (),
        declared: bool = True,
    ) -> None:
        self.key = key
        self.backend = backend
        self.host_name = host_name
        self.suggestions = tuple(suggestions)
        self.known = tuple(known)
        self.declared = declared
        whose = f"Backend {backend!r} of {host_name}"
        hint = f" Did you mean {_quoted(self.suggestions)}?" if self.suggestions else ""
        if not isinstance(key, str):
            message = f"{whose} takes configuration keys that are strings, not {key!r}."
        elif declared:
            message = (
                f"{whose} has no configuration key {key!r}.{hint} "
                f"Its keys: {_quoted(self.known) or 'none'}."
            )
        else:
            message = (
                f"{whose} has no configuration value {key!r}: it declares no defaults "
                f"and nothing set it.{hint} Set: {_quoted(self.known) or 'nothing yet'}. "
                f"Set it with settings.config[{backend!r}][{key!r}] = ..."
            )
        super().__init__(
            message,
            key=key,
            backend=backend,
            host_name=host_name,
            suggestions=self.suggestions,
            known=self.known,
            declared=declared,
        )


class BackendConfig(Mapping[str, object]):
    """One backend's configuration, as in effect where it is read: ``settings.config["gpu"]``.

    Reading gives the innermost `Settings.configured` scope of this thread or
    asyncio task that sets the key, else the value set process-wide, else the
    backend's default. Assigning (``config["device"] = 1``, ``update``) sets
    process-wide values, seen by every thread not inside a scope that sets
    them; ``del config["device"]`` and `reset` forget them (back to the default).

    Attributes
    ----------
    name
        The backend's canonical name.
    declared
        Whether the backend declares its keys: then a key it does not declare is
        refused (`UnknownConfigKeyError`, with a did-you-mean); otherwise any
        string key is accepted.
    """

    __slots__ = ("_defaults", "_set", "_var", "declared", "host_name", "name")

    def __init__(
        self,
        name: str,
        host_name: str,
        defaults: Mapping[str, t.Any] | None,
        var: ContextVar[Layer],
    ) -> None:
        self.name = name
        self.host_name = host_name
        self.declared = defaults is not None
        self._defaults = dict(defaults or {})
        # Changed in place only (each change one atomic dict operation), so readers in
        # other threads need no lock.
        self._set: dict[str, t.Any] = {}
        self._var = var

    def __getitem__(self, key: str) -> t.Any:
        # The read a backend makes per call: no merging, no copy.
        scoped = self._var.get().get(self.name)
        if scoped is not None:
            value = scoped.get(key, _MISSING)
            if value is not _MISSING:
                return value
        value = self._set.get(key, _MISSING)
        if value is _MISSING:
            value = self._defaults.get(key, _MISSING)
            if value is _MISSING:
                raise self._unknown(key)
        return value

    def get(self, key: str, default: t.Any = None) -> t.Any:
        """Return the value of `key` in effect here, or `default` when it has none."""
        scoped = self._var.get().get(self.name)
        if scoped is not None and key in scoped:
            return scoped[key]
        value = self._set.get(key, _MISSING)
        if value is _MISSING:
            return self._defaults.get(key, default)
        return value

    def __contains__(self, key: object) -> bool:
        scoped = self._var.get().get(self.name)
        return key in self._defaults or key in self._set or (scoped is not None and key in scoped)

    def _merged(self) -> dict[str, t.Any]:
        scoped = self._var.get().get(self.name)
        return {**self._defaults, **self._set.copy(), **(scoped or {})}

    def __iter__(self) -> Iterator[str]:
        return iter(self._merged())

    def __len__(self) -> int:
        return len(self._merged())

    def __setitem__(self, key: str, value: t.Any) -> None:
        self.check((key,))
        self._set[key] = value

    def update(self, values: Mapping[str, t.Any] | None = None, /, **options: t.Any) -> None:
        """Set several values process-wide; all of them, or (one key unknown) none."""
        given = {**(values or {}), **options}
        self.check(given)
        self._set.update(given)

    def __delitem__(self, key: str) -> None:
        if key not in self._defaults and key not in self._set:
            raise self._unknown(key)
        self._set.pop(key, None)

    def reset(self) -> None:
        """Forget every value set process-wide: the defaults apply again (scopes still count)."""
        self._set.clear()

    @property
    def defaults(self) -> dict[str, t.Any]:
        """The defaults the backend declares (a copy); empty if it declares none."""
        return dict(self._defaults)

    def check(self, keys: Mapping[str, t.Any] | tuple[object, ...]) -> None:
        """Raise `UnknownConfigKeyError` for the first key the backend does not take."""
        for key in keys:
            if not isinstance(key, str) or (self.declared and key not in self._defaults):
                raise self._unknown(key)

    def replace(self, values: Mapping[str, t.Any]) -> None:
        """Make `values` the process-wide ones (a snapshot's), keys as they are."""
        self._set.clear()
        self._set.update(values)

    def set_here(self) -> dict[str, t.Any]:
        """Return the values set for this backend here: process-wide, then by scopes."""
        scoped = self._var.get().get(self.name)
        return {**self._set.copy(), **(scoped or {})}

    def _unknown(self, key: object) -> UnknownConfigKeyError:
        known = sorted(self._defaults if self.declared else self._set.copy())
        shown = key if isinstance(key, str) else ""
        return UnknownConfigKeyError(
            key=key,
            backend=self.name,
            host_name=self.host_name,
            suggestions=suggest(shown, known) if shown else (),
            known=known,
            declared=self.declared,
        )

    def __repr__(self) -> str:
        return f"<turnout config of {self.name!r} for {self.host_name}: {self._merged()!r}>"


class ConfigState:
    """One host's configuration: a view per backend, and the ContextVar its scopes set."""

    __slots__ = ("host_name", "labels", "var", "views")

    def __init__(self, host_name: str) -> None:
        self.host_name = host_name
        self.var: ContextVar[Layer] = ContextVar(f"turnout:{host_name}:config", default=_OUTSIDE)
        self.views: dict[str, BackendConfig] = {}  # canonical name -> its view
        self.labels: dict[object, BackendConfig] = {}  # each label asked -> its view

    def taken(self) -> Carried:
        """Return what a snapshot carries: each backend's values set here, sorted."""
        found = []
        for name, view in sorted(self.views.copy().items()):  # a scope made its view first
            values = view.set_here()
            if values:
                found.append((name, tuple(sorted(values.items()))))
        return tuple(found)


class ConfigMap(Mapping[str, BackendConfig]):
    """Each installed backend's configuration, by label: ``settings.config``.

    ``settings.config["gpu"]`` (a canonical name or an alias) is that backend's
    `BackendConfig`, the same object each time. Iterating gives the canonical
    names of the installed backends; nothing is imported for either, except a
    backend whose defaults only its code declares (no ``default_config`` in its
    ``turnout-backend.json``): it is imported the first time its configuration
    is asked for.
    """

    __slots__ = ("_discovery", "_state")

    def __init__(self, state: ConfigState, discovery: Discovery) -> None:
        self._state = state
        self._discovery = discovery

    def __getitem__(self, label: str) -> BackendConfig:
        try:
            return self._state.labels[label]  # every read after the first
        except (KeyError, TypeError):
            return self._view(label)

    def __setitem__(self, label: str, values: Mapping[str, t.Any]) -> None:
        """Make `values` the backend's process-wide values (its defaults for the other keys)."""
        view = self[label]
        view.check(values)
        view.replace(values)

    def __delitem__(self, label: str) -> None:
        """Forget every value set process-wide for the backend (``reset``)."""
        self[label].reset()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __contains__(self, label: object) -> bool:
        return label in self._state.labels or self._declared(label) is not None

    def _names(self) -> list[str]:
        return sorted({declared.entry.name for declared in self._discovery.declared()})

    def _declared(self, label: object) -> Declared | None:
        if not isinstance(label, str) or label == CPU:
            return None
        label = self._discovery.deprecated.get(label, label)
        for declared in self._discovery.declared():
            if label in declared.entry.labels:
                return declared
        return None

    def _view(self, label: object) -> BackendConfig:
        """Find the backend `label` names and its defaults; make its view once."""
        declared = self._declared(label)
        if declared is None:
            raise self._missing(label)
        name = declared.entry.name
        view = self._state.views.get(name)
        if view is None:
            made = BackendConfig(
                name, self._state.host_name, self._defaults(declared), self._state.var
            )
            view = self._state.views.setdefault(name, made)  # one view, whichever thread wins
        self._state.labels[label] = view
        return view

    def _missing(self, label: object) -> TurnoutError:
        discovery = self._discovery
        if label == CPU:
            return UnknownBackendError(
                label=CPU,
                host_name=discovery.host_name,
                problem="'cpu' names the host's own code, which takes no backend configuration",
                installed=self._names(),
            )
        if isinstance(label, str) and label:
            problem = label_problem(label)
            if problem is not None:
                return UnknownBackendError(
                    label=label, host_name=discovery.host_name, problem=problem
                )
        return discovery.missing(label)

    def _defaults(self, declared: Declared) -> dict[str, t.Any] | None:
        """Return the defaults the backend declares: its file's first, else its attribute's."""
        entry = declared.entry
        if entry.status == BackendStatus.NOT_LOADED:
            if declared.info.default_config is not None:
                return declared.info.default_config
            # Only its code can say: import it (configuring a backend is about to use it).
            loaded = self._discovery.find(entry.name)
            if loaded is None:
                raise self._missing(entry.name)
            entry = loaded
        static = self._discovery.static_info(entry)  # read once, at the scan
        if static is not None and static.default_config is not None:
            return static.default_config
        target = entry.obj if entry.factory is None else entry.factory
        return StaticInfo.of(target).default_config

    def carried(self, config: Carried) -> dict[str, dict[str, t.Any]]:
        """Return a snapshot's configuration by this process's canonical names.

        A backend that is not usable here is left out (said at ``DEBUG``): no
        call here can run it, so its configuration cannot matter.
        """
        found: dict[str, dict[str, t.Any]] = {}
        for name, values in config:
            try:
                view = self[name]
            except (ValueError, ImportError) as error:
                debug("%s: not configuring backend %r here: %s", self._state.host_name, name, error)
                continue
            found[view.name] = dict(values)
        return found

    def apply(self, config: Carried) -> None:
        """Make a snapshot's configuration the process-wide one (forgetting values set here)."""
        carried = self.carried(config)  # makes the view of each backend it names
        for view in list(self._state.views.values()):
            view.replace(carried.get(view.name, {}))

    def __repr__(self) -> str:
        shown = {name: view.set_here() for name, view in sorted(self._state.views.items())}
        return f"<turnout configs of {self._state.host_name}, set: {shown!r}>"


class ConfigScope:
    """Configure backends within a ``with`` block, or as a decorator (sync and async).

    Returned by `Settings.configured`. Scopes are isolated per thread and per
    asyncio task, nest (an inner scope's values win, the outer's others stay),
    and restore the previous values on exit, also when the body raises. The
    backend is resolved and the keys checked when the scope is entered, so
    decorating a function imports nothing.
    """

    __slots__ = ("_make", "_shown", "_state", "_tokens")

    def __init__(
        self,
        state: ConfigState,
        make: Callable[[Layer], tuple[Layer, t.Any]],
        shown: str = "configured()",
    ) -> None:
        self._state = state
        self._make = make  # the current layer -> the new one, and what entering gives
        self._shown = shown
        self._tokens: list[t.Any] = []

    @classmethod
    def merging(
        cls, state: ConfigState, configs: ConfigMap, label: str, values: dict[str, t.Any]
    ) -> ConfigScope:
        """Set `values` for the backend `label` names, over what outer scopes set."""

        def make(layer: Layer) -> tuple[Layer, BackendConfig]:
            view = configs[label]
            view.check(values)
            return {**layer, view.name: {**layer.get(view.name, {}), **values}}, view

        return cls(state, make, f"configured({label!r}, {values!r})")

    @classmethod
    def replacing(cls, state: ConfigState, configs: ConfigMap, config: Carried) -> ConfigScope:
        """Set a snapshot's configuration, instead of what scopes around set."""

        def make(_layer: Layer) -> tuple[Layer, None]:
            return configs.carried(config), None

        return cls(state, make, f"configured({dict(config)!r})")

    def __enter__(self) -> t.Any:
        layer, gives = self._make(self._state.var.get())
        self._tokens.append(self._state.var.set(layer))
        return gives

    def __exit__(self, *exc_info: object) -> None:
        self._state.var.reset(self._tokens.pop())

    def __call__(self, func: t.F) -> t.F:
        """Run every call of `func` (sync or async) inside this scope."""
        state, make, shown = self._state, self._make, self._shown
        return run_within(func, lambda: ConfigScope(state, make, shown))

    def __repr__(self) -> str:
        return self._shown


for _public in (BackendConfig, ConfigMap, ConfigScope, UnknownConfigKeyError):
    _public.__module__ = "turnout"
del _public
