"""DispatchedClass: construct the selected backend's same-named class instead of the host's."""

from __future__ import annotations

import copyreg
import threading
from _weakrefset import WeakSet
from collections.abc import Callable, Iterable, Sequence

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

    def merge(
        self,
        entries: Iterable[Entry],  # noqa: ARG002 - as functions take it
        version: int = 0,  # noqa: ARG002
        declared: Sequence[t.Any] = (),  # noqa: ARG002
    ) -> None:
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
    if host in _decorated:
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


def cpu_class_of(host: t.Any, keyword: str) -> type:
    """Return a real class that builds `host` with the host's own code, whatever is selected.

    It is ``HostClass.__scverse_backends_cpu_class__`` (the one attribute turnout
    sets on a host class, for scverse-backends' users): calling it builds the
    host class with ``backend="cpu"``; ``isinstance`` and ``issubclass`` against it
    mean the host class; a class that subclasses it subclasses the host class.
    """

    class CpuMeta(type(host)):  # type: ignore[misc]  # the host's metaclass, whatever it is
        def __instancecheck__(cls, instance: object) -> bool:
            if cls is cpu:
                return isinstance(instance, host)
            return bool(super().__instancecheck__(instance))

        def __subclasscheck__(cls, subclass: type) -> bool:
            if cls is cpu and not getattr(_checking, "cpu", False):
                # An ABC host's own check walks its subclasses, this one among them:
                # asked again from there, answer structurally (no endless loop).
                _checking.cpu = True
                try:
                    return issubclass(subclass, host)
                finally:
                    _checking.cpu = False
            if cls is cpu:
                return type.__subclasscheck__(cls, subclass)
            return bool(super().__subclasscheck__(subclass))

    def __new__(klass: type, *args: t.Any, **kwargs: t.Any) -> t.Any:  # noqa: N807
        if klass is cpu:  # a host instance: Python does not call __init__ on it again
            return host(*args, **{**kwargs, keyword: CPU})
        return host.__new__(klass, *args, **kwargs)  # a subclass of it: constructs normally

    namespace = {
        "__module__": host.__module__,
        "__qualname__": host.__qualname__,
        "__doc__": f"{host.__name__}, built with the host's own code whatever is selected.",
        "__new__": staticmethod(__new__),
    }
    cpu: type = CpuMeta(host.__name__, (host,), namespace)
    return cpu


class _SignatureSource:
    """What the host class's ``__new__`` wraps: the merged signature, computed when read.

    `inspect.signature` of the host class reads its ``__new__`` and unwraps it to
    an object with ``__signature__``: this one (the constructor's signature with
    the selector); so decorating imports nothing.
    """

    __slots__ = ("_record",)

    def __init__(self, record: DispatchedClass) -> None:
        self._record = record

    @property
    def __signature__(self) -> inspect.Signature:
        signature = self._record.signature()
        first = signature.replace(parameters=[])  # ``cls``, which inspect drops again
        import inspect  # noqa: PLC0415 - signature() imported it already

        cls = inspect.Parameter("cls", inspect.Parameter.POSITIONAL_ONLY)
        return first.replace(parameters=[cls, *signature.parameters.values()])


_checking = threading.local()  # a cpu class's subclass check in progress in this thread
_decorated: WeakSet[type] = WeakSet()  # host classes decorated with @backend_class


def install(record: DispatchedClass, state: SelectionState, keyword: str) -> None:
    """Make constructing ``record.host`` build the selected backend's class.

    The host class is changed in place (its identity and metaclass stay as they
    are): ``__new__`` picks the class and ``__init__`` drops the selector keyword;
    both show the host's own signature and text. Copies and unpickled instances
    stay the host's own (a reducer in `copyreg`, not a method of the class).
    Subclasses of the host class construct normally, and a backend class that
    subclasses it is initialised once.
    """
    cls: t.Any = record.host  # t.Any: its __new__ and __init__ are replaced below
    host_new, host_init = record.original_new, record.original_init
    new = _make_new(cls, host_new, _chooser(record, state), keyword, record)
    init = _make_init(host_init, keyword)
    for made, original, name in ((new, host_new, "__new__"), (init, host_init, "__init__")):
        made.__qualname__ = f"{cls.__qualname__}.{name}"
        made.__module__ = cls.__module__  # help() on 3.13 names another module's methods
        made.__doc__ = (
            original.__doc__
            if original not in (object.__new__, object.__init__)
            else (f"Build {cls.__name__}, or the selected backend's class of that name.")
        )
    init.__wrapped__ = host_init  # type: ignore[attr-defined]
    new.__wrapped__ = _SignatureSource(record)  # type: ignore[attr-defined]
    cls.__new__ = staticmethod(new)
    cls.__init__ = init
    copyreg.pickle(cls, _reducer(cls, host_new, keyword))
    setattr(cls, SCVERSE_CPU_CLASS, cpu_class_of(cls, keyword))
    _decorated.add(cls)
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


def _reducer(cls: t.Any, host_new: t.Any, keyword: str) -> Callable[[t.Any], t.Any]:
    """Return the `copyreg` reducer that recreates host instances without dispatch.

    `copy` and `pickle` call ``cls.__new__(cls)`` (or ``cls(*args)`` for a
    ``__reduce__`` that calls the class) to recreate an instance; for a
    dispatched class that would build the selected backend's class instead.
    Registered for the host class alone: its subclasses construct normally.
    """

    def new_host_instance(klass: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
        if host_new is object.__new__:
            return object.__new__(klass)
        return host_new(klass, *args, **kwargs)

    def reduce(instance: t.Any) -> t.Any:
        reduced = instance.__reduce_ex__(4)
        if not isinstance(reduced, tuple) or len(reduced) < 2:  # noqa: PLR2004 - (func, args)
            return reduced
        func, args, *rest = reduced
        if func is cls:  # a __reduce__ that calls the class again
            return (construct_host, (cls, keyword, args), *rest)
        if not args or args[0] is not cls:
            return reduced
        if func is _NEWOBJ:
            return (_new_host_instance, (cls, *args[1:]), *rest)
        if func is _NEWOBJ_EX:
            return (_new_host_instance_ex, args, *rest)
        return reduced

    _host_news[cls] = new_host_instance
    return reduce


_host_news: dict[type, Callable[..., t.Any]] = {}  # host class -> its own __new__, for copies


def _new_host_instance(cls: t.Any, *args: t.Any) -> t.Any:
    """Create an instance of a dispatched host class without dispatch (copy, unpickle)."""
    return _host_news[cls](cls, *args)


def _new_host_instance_ex(cls: t.Any, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]) -> t.Any:
    return _host_news[cls](cls, *args, **kwargs)


def construct_host(cls: t.Any, keyword: str, args: tuple[t.Any, ...]) -> t.Any:
    """Construct a dispatched host class with the host's own code (``__reduce__`` to a call)."""
    return cls(*args, **{keyword: CPU})
