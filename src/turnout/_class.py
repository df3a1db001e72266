"""DispatchedClass: construct the selected backend's same-named class instead of the host's."""

from __future__ import annotations

import copyreg
import threading
from collections.abc import Callable, Iterable

from turnout import _lazytyping as t
from turnout._chain import Observers, apply_fallback
from turnout._decision import Choice, Decision, choose, decide
from turnout._discovery import Discovery
from turnout._docstrings import DocMerge, selector_entry
from turnout._errors import DispatchDefinitionError, MissingImplementationError
from turnout._function import keyword_taken
from turnout._lazytyping import TYPE_CHECKING
from turnout._merged_api import class_signature
from turnout._names import CPU, attribute, public_name, qualified_name
from turnout._registry import Entry
from turnout._scopes import PENDING, SelectionState
from turnout._shape import documented_names

if TYPE_CHECKING:
    import inspect


_NEWOBJ = getattr(copyreg, "__newobj__", None)  # how object.__reduce_ex__ recreates instances
_NEWOBJ_EX = getattr(copyreg, "__newobj_ex__", None)
_MARK = "__turnout_dispatched__"  # set on a decorated class: decorating it twice is refused
SCVERSE_CPU_CLASS = "__scverse_backends_cpu_class__"


class DispatchedClass:
    """turnout's record of one host class and the class to build per label."""

    __slots__ = (
        "_discovery",
        "_doc",
        "_host_name",
        "_keyword",
        "_settle",
        "_signature",
        "_state",
        "_warned",
        "backend_of",
        "fallbacks",
        "host",
        "implementations",
        "key",
        "keys",
        "merged",
        "name",
        "observers",
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
        host_name: str = "",
        observers: Observers | None = None,
    ) -> None:
        self.host = host
        self.observers = observers if observers is not None else Observers()
        self._state = state
        self._settle = settle
        self._host_name = host_name
        self.name = host.__name__
        self.key = self.name  # what a backend implements
        self.keys: tuple[str, ...] = (self.key,)
        self.qualified_name = qualified_name(host)
        self._discovery = discovery
        self._keyword = keyword
        self.implementations: dict[object, type] = {CPU: host}
        self.fallbacks: dict[object, str] = {}  # label -> backend that lacks the class
        self.backend_of: dict[type, str] = {}  # a backend's class -> that backend's name
        self._warned: set[str] = set()
        self._signature: inspect.Signature | None = None
        self._doc = DocMerge()
        constructors: t.Any = host  # t.Any: read before install() replaces them
        self.original_init: t.Any = constructors.__init__
        self.original_new: t.Any = constructors.__new__
        self.merged = False

    @property
    def state(self) -> SelectionState:
        """The selection state the class reads when it is constructed."""
        return self._state

    @property
    def wrapper(self) -> type:
        """The decorated class itself (changed in place)."""
        return self.host

    @property
    def public_name(self) -> str:
        """The host's public name for the class (``pkg.Model``), for messages."""
        return public_name(self.host, self.qualified_name)

    def implementation(self, label: object) -> type:
        """Return the class to construct for `label`: a keyword's value or a selection.

        The first candidate of the decision that provides the class builds it;
        automatic selection does not apply to classes (there are no dispatch
        arguments to look at).
        """
        if self._state.forced:
            return self.host
        key = tuple(label) if isinstance(label, list) else label
        if key is PENDING:  # <HOST>_BACKEND, resolved on this first use
            self._settle()
            key = self._state.var.get().name
        selected = key if isinstance(key, Choice) else choose(key, self.resolve, self._host_name)
        decision = decide(selected, "", keys=self.keys, overrides=self._state.overrides)
        found, backend = self.first(decision)
        if found is None:
            found = self.host
            if not decision.closed:
                shown = ", ".join(decision.backends)
                if self._cacheable(key):
                    self.fallbacks[key] = shown
                self.check_fallback(shown)
        else:
            self.backend_of[found] = str(backend)
            if issubclass(found, self.host):
                guard_init(found)  # it inherits the host's __new__: see already_built
        if self._cacheable(key):
            self.implementations[key] = found
        return found

    def resolve(self, label: str) -> str:
        """Return the canonical name of a label a caller chose (importing its backend)."""
        return self._discovery.select(label).name

    @staticmethod
    def _cacheable(key: object) -> bool:
        return isinstance(key, (str, Choice)) or (
            isinstance(key, tuple) and all(isinstance(k, str) for k in key)
        )

    def first(self, decision: Decision) -> tuple[type | None, str | None]:
        """Return the first candidate's class and its backend (None, None: none has one)."""
        for label in decision.backends:
            entry = self._discovery.select(label)
            found = attribute(entry.obj, self.key)
            if found is None or found is self.host or found is self.cpu_class():
                continue  # it lacks the class, or re-exports the host's own
            if not isinstance(found, type):
                raise DispatchDefinitionError(
                    target=self.public_name,
                    problem=(
                        f"backend {entry.name!r} ({entry.describe_source()}) has an attribute "
                        f"{self.key!r} of type {type(found).__name__}, which is not a class"
                    ),
                    action="the backend must expose a class under that name, or none at all",
                )
            return found, entry.name
        return None, None

    def cpu_class(self) -> object:
        """Return the host class's undispatched alias (``__scverse_backends_cpu_class__``)."""
        return self.host.__dict__.get(SCVERSE_CPU_CLASS)

    def check_fallback(self, backend: str) -> None:
        """Apply the fallback policy in effect for a backend that lacks the class."""
        apply_fallback(
            self._state,
            self._warned,
            backend,
            lambda: MissingImplementationError(
                label=backend,
                host_name=self._host_name,
                function=self.public_name,
                implemented_by=[
                    entry.name
                    for entry in self._discovery.loaded_entries()
                    if isinstance(attribute(entry.obj, self.key), type)
                ],
            ),
            lambda: (
                f"Backend {backend!r} did not build {self.public_name} (it does not "
                f"implement it); {self._host_name}'s own class was built instead."
            ),
        )

    def signature(self) -> inspect.Signature:
        """Return the constructor's signature plus the selector keyword (computed once)."""
        if self._signature is None:
            self._signature = class_signature(self.original_init, self.original_new, self._keyword)
        return self._signature

    def merge(self, entries: Iterable[Entry], version: int = 0) -> None:  # noqa: ARG002 - as functions
        """Keep the class docstring's selector entry (backends add no constructor parameters)."""
        self.apply_doc()
        self.merged = True

    def apply_doc(self) -> None:
        """Document the selector in the class docstring's ``Parameters`` section."""
        cls: t.Any = self.host
        cls.__doc__ = self._doc.apply(cls.__doc__, [selector_entry(self._keyword, self._host_name)])

    def after_fork(self) -> None:
        """In a child process: nothing to do (no lock of its own)."""

    def invalidate(self) -> None:
        """Forget which class each label builds (a backend was replaced or removed)."""
        self.implementations.clear()
        self.implementations[CPU] = self.host
        self.fallbacks.clear()
        self.backend_of.clear()

    def support(self, entries: Iterable[Entry]) -> dict[str, tuple[str, ...] | None]:
        """Return, per backend, ``()`` if it provides this class, else None."""
        return {
            entry.name: () if isinstance(attribute(entry.obj, self.key), type) else None
            for entry in entries
        }


def check_class(host: object, keyword: str) -> None:
    """Raise `DispatchDefinitionError` when `host` cannot be dispatched as a class."""
    if not isinstance(host, type):
        raise DispatchDefinitionError(
            target=qualified_name(host),
            problem=f"@backend_class decorates classes, not {type(host).__name__}",
            action="decorate functions with @backend_dispatch",
        )
    if _MARK in host.__dict__:
        raise DispatchDefinitionError(
            target=qualified_name(host),
            problem="it is already decorated with @backend_class",
            action="decorate it once",
        )
    constructors: t.Any = host
    for constructor in (constructors.__init__, constructors.__new__):
        if keyword in documented_names(getattr(constructor, "__func__", constructor)):
            raise keyword_taken(f"{qualified_name(host)}()", keyword)


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


class CpuClass:
    """The host's own class, constructed without dispatch (``Model.cpu_class``).

    Calling it builds the host class with ``backend="cpu"``; ``isinstance`` and
    ``issubclass`` against it mean the host class; subclassing it subclasses the
    host class; other attributes are the host class's.
    """

    __slots__ = ("__wrapped__", "_keyword")

    def __init__(self, host: type, keyword: str) -> None:
        self.__wrapped__ = host
        self._keyword = keyword

    def __call__(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        kwargs[self._keyword] = CPU
        return self.__wrapped__(*args, **kwargs)

    def __instancecheck__(self, instance: object) -> bool:
        return isinstance(instance, self.__wrapped__)

    def __subclasscheck__(self, subclass: type) -> bool:
        return issubclass(subclass, self.__wrapped__)

    def __mro_entries__(self, bases: tuple[object, ...]) -> tuple[type, ...]:
        return (self.__wrapped__,)

    def __getattr__(self, name: str) -> t.Any:
        return getattr(self.__wrapped__, name)

    def __repr__(self) -> str:
        return f"<cpu_class of {qualified_name(self.__wrapped__)}>"


class _Signature:
    """The host class's ``__signature__``: the merged one, computed when first read."""

    __slots__ = ("_record",)

    def __init__(self, record: DispatchedClass) -> None:
        self._record = record

    def __get__(self, instance: object, owner: type | None = None) -> inspect.Signature:
        if instance is not None or owner is not self._record.host:
            raise AttributeError("__signature__")  # subclasses and instances: the usual way
        return self._record.signature()


def install(record: DispatchedClass, state: SelectionState, keyword: str) -> None:
    """Make constructing ``record.host`` build the selected backend's class.

    The host class is changed in place (its identity and metaclass stay as they
    are): ``__new__`` picks the class, ``__init__`` drops the selector keyword,
    and ``__reduce_ex__`` makes copies and unpickled instances the host's own.
    Subclasses of the host class construct normally, and a backend class that
    subclasses it is initialised once.
    """
    cls: t.Any = record.host  # t.Any: its __new__ and __init__ are replaced below
    host_new, host_init = record.original_new, record.original_init
    new = _make_new(cls, host_new, _chooser(record, state), keyword, record)
    init = _make_init(host_init, keyword)
    new.__qualname__ = f"{cls.__qualname__}.__new__"
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = host_init.__doc__
    # `inspect.signature` of a subclass reads the host's constructor through these.
    init.__wrapped__ = host_init  # type: ignore[attr-defined]
    new.__wrapped__ = host_init if host_new is object.__new__ else host_new  # type: ignore[attr-defined]
    cls.__new__ = staticmethod(new)
    cls.__init__ = init
    new.turnout_host_new = host_new  # type: ignore[attr-defined]  # read by new_host_instance
    cls.__reduce_ex__ = _make_reduce(cls, cls.__reduce_ex__)
    cls.__signature__ = _Signature(record)
    setattr(cls, _MARK, True)
    cpu = CpuClass(cls, keyword)
    setattr(cls, SCVERSE_CPU_CLASS, cpu)
    cls.__turnout_cpu_class__ = cpu  # what a rename of scverse_backends to turnout looks for
    if not hasattr(cls, "cpu_class"):
        cls.cpu_class = cpu
    record.apply_doc()


def _chooser(record: DispatchedClass, state: SelectionState) -> Callable[[object], type]:
    implementations, fallbacks, slow, var = (
        record.implementations,
        record.fallbacks,
        record.implementation,
        state.var,
    )

    def choose(label: object) -> type:
        if label is None:
            label = var.get().name
        try:
            found = implementations[label]
        except (KeyError, TypeError):
            return slow(label)
        if state.forced:
            return record.host
        if label in fallbacks and state.fallback_var.get().name != "silent":
            record.check_fallback(fallbacks[label])
        return found

    return choose


def _make_new(
    cls: t.Any,
    host_new: t.Any,
    choose: Callable[[object], type],
    keyword: str,
    record: DispatchedClass,
) -> Callable[..., t.Any]:
    def __new__(klass: type, *args: t.Any, **kwargs: t.Any) -> t.Any:  # noqa: N807
        label = kwargs.pop(keyword, None)
        if klass is cls:
            chosen = choose(label)
            if chosen is not cls:
                built = chosen(*args, **kwargs)
                if record.observers:  # someone counts what ran where (a test session)
                    record.observers.ran(record.public_name, record.backend_of.get(chosen, "?"))
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


def new_host_instance(cls: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
    """Create an instance of a dispatched host class without dispatch (copy and pickle).

    `copy` and `pickle` call ``cls.__new__(cls)`` to recreate an instance; for a
    dispatched class that would build the selected backend's class instead.
    """
    original = cls.__new__.turnout_host_new
    if original is object.__new__:
        return object.__new__(cls)
    return original(cls, *args, **kwargs)


def _new_host_instance_ex(cls: t.Any, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]) -> t.Any:
    return new_host_instance(cls, *args, **kwargs)


def construct_host(cls: t.Any, args: tuple[t.Any, ...]) -> t.Any:
    """Construct a dispatched host class with the host's own code (``__reduce__`` to a call)."""
    return getattr(cls, SCVERSE_CPU_CLASS)(*args)


def _make_reduce(cls: t.Any, inherited: t.Any) -> Callable[..., t.Any]:
    """Wrap ``__reduce_ex__`` so copies and unpickled instances are built without dispatch."""

    def __reduce_ex__(self: t.Any, protocol: int) -> t.Any:  # noqa: N807
        reduced = inherited(self, protocol)
        if not isinstance(reduced, tuple) or len(reduced) < 2:  # noqa: PLR2004 - (func, args)
            return reduced
        func, args, *rest = reduced
        if func is cls:  # a __reduce__ that calls the class again
            return (construct_host, (cls, args), *rest)
        if not args or args[0] is not cls:
            return reduced
        if func is _NEWOBJ:
            return (new_host_instance, args, *rest)
        if func is _NEWOBJ_EX:
            return (_new_host_instance_ex, args, *rest)
        return reduced

    __reduce_ex__.__qualname__ = f"{cls.__qualname__}.__reduce_ex__"
    return __reduce_ex__
