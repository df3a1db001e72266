"""backend_class: construct the selected backend's same-named class instead of the host's."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from turnout import _lazytyping as t
from turnout._discovery import Discovery
from turnout._dispatch import qualified_name
from turnout._errors import DispatchDefinitionError
from turnout._lazytyping import TYPE_CHECKING
from turnout._names import CPU
from turnout._registry import Entry
from turnout._settings import SelectionState, environment_label

if TYPE_CHECKING:
    from turnout._report import Explanation


class DispatchedClass:
    """turnout's record of one host class and the class to build per label."""

    __slots__ = (
        "_discovery",
        "_keyword",
        "_settle",
        "_state",
        "host",
        "implementations",
        "merged",
        "name",
        "original_init",
        "original_new",
        "qualified_name",
    )

    def __init__(
        self,
        host: type,
        discovery: Discovery,
        *,
        keyword: str,
        state: SelectionState,
        settle: Callable[[], None],
    ) -> None:
        self.host = host
        self._state = state
        self._settle = settle
        self.name = host.__name__
        self.qualified_name = qualified_name(host)
        self._discovery = discovery
        self._keyword = keyword
        self.implementations: dict[object, type] = {CPU: host}
        constructors: t.Any = host  # t.Any: read before install() replaces them
        self.original_init: t.Any = constructors.__init__
        self.original_new: t.Any = constructors.__new__
        self.merged = False

    @property
    def wrapper(self) -> type:
        """The decorated class itself (changed in place)."""
        return self.host

    def implementation(self, label: object) -> type:
        """Return the class to construct for `label` (the backend's or the host's)."""
        label = environment_label(self._state, self._settle, label)
        if label == CPU:
            return self.host
        entry = self._discovery.require(label)
        found = getattr(entry.obj, self.name, None)
        if found is None:
            found = self.host
        elif not isinstance(found, type):
            raise DispatchDefinitionError(
                target=self.qualified_name,
                problem=(
                    f"backend {entry.name!r} ({entry.describe_source()}) has an "
                    f"attribute {self.name!r} of type {type(found).__name__}, not a class"
                ),
                action="the backend must expose a class under that name, or none at all",
            )
        if found is not self.host and issubclass(found, self.host):
            guard_init(found)  # it inherits the host's __new__: see already_built
        if isinstance(label, str):
            self.implementations[label] = found
        return found

    def merge(self, entries: Iterable[Entry], version: int = 0) -> None:  # noqa: ARG002 - same call as functions
        """Show the host constructor's signature plus the selector keyword."""
        import inspect  # noqa: PLC0415

        from turnout._signature import merged_signature  # noqa: PLC0415

        constructor = self.original_init
        if constructor is object.__init__:
            constructor = self.original_new if self.original_new is not object.__new__ else None
        signature = inspect.Signature()
        if constructor is not None:
            try:
                full = inspect.signature(constructor)
            except (TypeError, ValueError):
                full = inspect.Signature()
            signature = full.replace(
                parameters=list(full.parameters.values())[1:], return_annotation=full.empty
            )
        cls: t.Any = self.host
        cls.__signature__ = merged_signature(signature, self._keyword)
        self.merged = True

    def invalidate(self) -> None:
        """Forget which class each label builds (a backend was replaced or removed)."""
        self.implementations.clear()
        self.implementations[CPU] = self.host

    def explain(
        self, label: str, why: str, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]
    ) -> Explanation:
        """Return an `Explanation` of constructing the class with `label`."""
        del args, kwargs  # construction arguments do not change which class is built
        from turnout._report import Explanation  # noqa: PLC0415

        chosen = self.host if label == CPU else self.implementation(label)
        backend = label if label == CPU else self._discovery.require(label).name
        return Explanation(
            self.qualified_name,
            backend,
            why,
            f"{chosen.__module__}.{chosen.__qualname__}()",
            fallback=label != CPU and chosen is self.host,
        )

    def support(self, entries: Iterable[Entry]) -> dict[str, tuple[str, ...] | None]:
        """Return, per backend, ``()`` if it provides this class, else None."""
        return {
            entry.name: () if isinstance(getattr(entry.obj, self.name, None), type) else None
            for entry in entries
        }


def check_class(host: object) -> None:
    """Raise `DispatchDefinitionError` when `host` cannot be dispatched as a class."""
    if not isinstance(host, type):
        raise DispatchDefinitionError(
            target=qualified_name(host),
            problem=f"@backend_class decorates classes, not {type(host).__name__}",
            action="decorate functions with @backend_dispatch",
        )


_built = threading.local()  # the backend instance whose second __init__ to skip


def already_built(instance: object) -> bool:
    """Whether `instance` was fully built by a backend class and Python re-inits it now."""
    if getattr(_built, "instance", None) is instance:
        _built.instance = None
        return True
    return False


_guarded: set[type] = set()  # backend classes whose __init__ guard_init wrapped


def guard_init(backend_class: t.Any) -> None:
    """Make a backend class that subclasses the host's skip its repeated __init__."""
    if backend_class in _guarded:
        return
    _guarded.add(backend_class)
    init = backend_class.__init__

    def __init__(self: t.Any, *args: t.Any, **kwargs: t.Any) -> None:  # noqa: N807
        if not already_built(self):
            init(self, *args, **kwargs)

    __init__.__wrapped__ = init  # type: ignore[attr-defined]
    backend_class.__init__ = __init__


def install(record: DispatchedClass, state: SelectionState, keyword: str) -> None:
    """Make constructing ``record.host`` build the selected backend's class.

    The host class is changed in place (its identity, metaclass and pickling
    stay as they are): ``__new__`` picks the class and ``__init__`` drops the
    selector keyword. Subclasses of the host class construct normally, and a
    backend class that subclasses it is initialised once.
    """
    cls: t.Any = record.host  # t.Any: its __new__ and __init__ are replaced below
    host_new, host_init = record.original_new, record.original_init
    new = _make_new(cls, host_new, _chooser(record, state), keyword)
    init = _make_init(host_init, keyword)
    new.__qualname__ = f"{cls.__qualname__}.__new__"
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = host_init.__doc__
    # `inspect.signature(cls)` reads the host's constructor through these until
    # the first merge sets the class's own __signature__ (with the selector).
    init.__wrapped__ = host_init  # type: ignore[attr-defined]
    new.__wrapped__ = host_init if host_new is object.__new__ else host_new  # type: ignore[attr-defined]
    cls.__new__ = staticmethod(new)
    cls.__init__ = init


def _chooser(record: DispatchedClass, state: SelectionState) -> Callable[[object], type]:
    implementations, slow, var = record.implementations, record.implementation, state.var

    def choose(label: object) -> type:
        if label is None:
            label = var.get().name
        try:
            return implementations[label]
        except (KeyError, TypeError):
            return slow(label)

    return choose


def _make_new(
    cls: t.Any, host_new: t.Any, choose: Callable[[object], type], keyword: str
) -> Callable[..., t.Any]:
    def __new__(klass: type, *args: t.Any, **kwargs: t.Any) -> t.Any:  # noqa: N807
        label = kwargs.pop(keyword, None)
        if klass is cls:
            chosen = choose(label)
            if chosen is not cls:
                built = chosen(*args, **kwargs)
                if isinstance(built, cls):  # a backend class that subclasses the host's:
                    _built.instance = built  # Python will call __init__ again; skip that
                return built
        if host_new is object.__new__:
            return object.__new__(klass)
        return host_new(klass, *args, **kwargs)

    return __new__


def _make_init(host_init: t.Any, keyword: str) -> Callable[..., None]:
    def __init__(self: t.Any, *args: t.Any, **kwargs: t.Any) -> None:  # noqa: N807
        if already_built(self):
            return
        kwargs.pop(keyword, None)
        if host_init is object.__init__:
            host_init(self)
        else:
            host_init(self, *args, **kwargs)

    return __init__
