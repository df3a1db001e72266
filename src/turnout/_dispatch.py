"""backend_dispatch: the wrapper, its per-backend plans, the fallback, the merged API."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from types import CellType, FunctionType

from turnout import _lazytyping as t
from turnout._codegen import (
    FIRST_CALL,
    free_names,
    generated_namespace,
    generic_code,
    is_coroutine_function,
)
from turnout._discovery import Discovery
from turnout._errors import DispatchDefinitionError, MissingImplementationError
from turnout._lazytyping import TYPE_CHECKING
from turnout._names import CPU
from turnout._registry import Entry
from turnout._settings import SelectionState, environment_label
from turnout._warnings import (
    BackendSignatureWarning,
    FallbackWarning,
    IgnoredArgumentWarning,
    warn,
)

if TYPE_CHECKING:
    import inspect

    from turnout._report import Explanation
    from turnout._routing import CallPlan


def qualified_name(obj: t.Any) -> str:
    """Return ``module.qualname`` of a function or class, for messages."""
    module = getattr(obj, "__module__", None) or "<unknown module>"
    return f"{module}.{getattr(obj, '__qualname__', repr(obj))}"


def parameter_names(func: Callable[..., t.Any]) -> tuple[str, ...]:
    """Return the named parameters of a plain function, without `inspect`."""
    code = getattr(func, "__code__", None)
    if code is None:
        return ()
    count = code.co_argcount + code.co_kwonlyargcount
    return tuple(code.co_varnames[:count])


def check_function(host: object, keyword: str) -> None:
    """Raise `DispatchDefinitionError` when `host` cannot be dispatched."""
    if not callable(host) or not hasattr(host, "__code__"):
        raise DispatchDefinitionError(
            target=qualified_name(host),
            problem=f"@backend_dispatch decorates functions, not {type(host).__name__}",
            action="decorate classes with @backend_class",
        )
    owner, _, _ = getattr(host, "__qualname__", "").rpartition(".")
    if owner and not owner.endswith("<locals>"):
        raise DispatchDefinitionError(
            target=f"{qualified_name(host)}()",
            problem="it is a method; backends replace module-level functions",
            action="decorate the class with @backend_class to let backends replace it whole",
        )
    if keyword in parameter_names(host):
        raise DispatchDefinitionError(
            target=f"{qualified_name(host)}()",
            problem=f"parameter {keyword!r} is reserved by turnout to select a backend",
            action=(
                "rename it, or choose another selector with BackendDispatcher(backend_keyword=...)"
            ),
        )


_NAMESPACE = generated_namespace()  # shared by every unspecialised wrapper


def _debug(message: str, *args: object) -> None:
    """Log a dispatch decision on the ``turnout`` logger, if the program uses logging.

    A program that never imported `logging` has configured no handler, so its
    import (milliseconds, on the first backend call) is skipped.
    """
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.getLogger("turnout").debug(message, *args)


class DispatchedFunction:
    """turnout's record of one host function: its wrapper, plans and merged API."""

    def __init__(
        self,
        host: Callable[..., t.Any],
        *,
        discovery: Discovery,
        state: SelectionState,
        keyword: str,
        host_name: str,
        settle: Callable[[], None],
    ) -> None:
        self.host = host
        self._settle = settle
        self.name: str = host.__name__
        self.qualified_name = qualified_name(host)
        self._discovery = discovery
        self._state = state
        self._keyword = keyword
        self._host_name = host_name
        self._lock = threading.Lock()
        self._specialised = False
        self._signature: inspect.Signature | None = None
        self._doc = host.__doc__
        self._warned: set[tuple[str, str]] = set()
        # label -> what the wrapper calls; filled on first use, read without a lock
        self.plans: dict[object, Callable[..., t.Any]] = {}
        self.call_plans: dict[str, CallPlan | None] = {}  # canonical name -> plan (None: fallback)
        self.known_extras: frozenset[str] = frozenset()
        self.merged = False
        self.is_async = is_coroutine_function(host)
        self.wrapper = self._make_wrapper()

    # -- the wrapper -----------------------------------------------------------------

    def _make_wrapper(self) -> Callable[..., t.Any]:
        # Cheap on purpose (decorating runs at host import): no compile, no inspect.
        names = free_names(parameter_names(self.host))
        cells = (  # the order of FREE: extras, get, host, miss, plans
            CellType(self.call_with_extras),
            CellType(self._state.var.get),
            CellType(self.host),
            CellType(self.miss),
            CellType(self.plans),
        )
        code = generic_code(names, self.is_async)
        wrapper: t.Any = FunctionType(code, _NAMESPACE, self.name, None, cells)
        # functools.update_wrapper, inlined: it is a third of the cost of decorating.
        host: t.Any = self.host
        wrapper.__module__ = host.__module__
        wrapper.__qualname__ = host.__qualname__
        wrapper.__doc__ = host.__doc__
        wrapper.__annotations__ = host.__annotations__
        if host.__dict__:
            wrapper.__dict__.update(host.__dict__)
        type_params = getattr(host, "__type_params__", None)
        if type_params:
            wrapper.__type_params__ = type_params
        wrapper.__wrapped__ = host
        return wrapper  # type: ignore[no-any-return]

    def host_signature(self) -> inspect.Signature:
        """Return the host function's own signature (computed once)."""
        if self._signature is None:
            import inspect  # noqa: PLC0415 - first dispatch or discover() only

            self._signature = inspect.signature(self.host)
            if self._keyword in self._signature.parameters:
                check_function(self.host, self._keyword)
        return self._signature

    def _specialise(self) -> Callable[..., t.Any]:
        """Give the wrapper the host's exact signature (once), and return it."""
        with self._lock:
            if not self._specialised:
                from turnout._codegen import specialised_code  # noqa: PLC0415 - imports inspect

                signature = self.host_signature()
                names = free_names(signature.parameters)
                wrapper: t.Any = self.wrapper
                code, defaults, kwdefaults = specialised_code(
                    self.name, signature, self._keyword, names, self.is_async
                )
                wrapper.__code__ = code
                wrapper.__defaults__ = defaults
                wrapper.__kwdefaults__ = kwdefaults
                self._specialised = True
        return self.wrapper

    # -- slow paths the wrapper calls ---------------------------------------------------

    def miss(self, label: object) -> Callable[..., t.Any]:
        """Return what to call for `label`, computing its plan on first use."""
        if label == FIRST_CALL and not self._specialised:
            return self._specialise()
        label = environment_label(self._state, self._settle, label)
        if label == CPU:
            return self.host
        entry = self._discovery.require(label)
        if entry.name not in self.call_plans:
            self.call_plans[entry.name] = self._plan(entry)
        plan = self.call_plans[entry.name]
        fast = self._fallback(entry.name) if plan is None else plan.fast
        if isinstance(label, str):
            self.plans[label] = fast
        return fast

    def call_with_extras(
        self, label: object, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]
    ) -> t.Any:
        """Run a call that passed keywords the host does not take (backend-only ones)."""
        if label is None:
            label = self._state.var.get().name
        if label != CPU:
            self.miss(label)
            plan = self.call_plans[self._discovery.require(label).name]
            if plan is not None:
                return plan.call(*args, **kwargs)
            self._check_fallback(self._discovery.require(label).name)
        for key in [key for key in kwargs if key not in self.host_signature().parameters]:
            if key not in self.known_extras:
                msg = f"{self.qualified_name}() got an unexpected keyword argument {key!r}"
                raise TypeError(msg)
            del kwargs[key]
            warn(
                f"{self.qualified_name}(): argument {key!r} only applies to backends that "
                f"take it; {self._host_name}'s own code ignores it.",
                IgnoredArgumentWarning,
            )
        return self.host(*args, **kwargs)

    def _plan(self, entry: Entry) -> CallPlan | None:
        """Compute the call plan for one backend (None: it lacks the function)."""
        import inspect  # noqa: PLC0415

        from turnout._routing import CallPlan  # noqa: PLC0415

        self._specialise()
        implementation = getattr(entry.obj, self.name, None)
        if implementation is None:
            _debug("%s: backend %r lacks it; the host's code runs", self.qualified_name, entry.name)
            return None
        if not callable(implementation):
            raise DispatchDefinitionError(
                target=f"{self.qualified_name}()",
                problem=(
                    f"backend {entry.name!r} ({entry.describe_source()}) has an attribute "
                    f"{self.name!r} of type {type(implementation).__name__}, not a function"
                ),
                action="the backend must expose a callable under that name, or none at all",
            )
        if self.is_async and not inspect.iscoroutinefunction(implementation):
            raise DispatchDefinitionError(
                target=f"{self.qualified_name}()",
                problem=(
                    f"it is async, but backend {entry.name!r} implements it with "
                    f"{implementation!r}, which is not"
                ),
                action="define the backend function with async def",
            )
        try:
            backend_signature = inspect.signature(implementation)
        except (TypeError, ValueError):
            backend_signature = self.host_signature()  # uninspectable: pass calls through
        plan = CallPlan(
            host=self.host_signature(),
            backend=backend_signature,
            implementation=implementation,
            function=self.qualified_name,
            backend_name=entry.name,
            keyword=self._keyword,
            known=self.known_extras,
        )
        _debug(
            "%s: backend %r runs %r (%s)",
            self.qualified_name,
            entry.name,
            implementation,
            plan.describe(),
        )
        return plan

    def _fallback(self, backend: str) -> Callable[..., t.Any]:
        host, var, check = self.host, self._state.fallback_var, self._check_fallback

        def fallback(*args: t.Any, **kwargs: t.Any) -> t.Any:
            if var.get().name != "silent":
                check(backend)
            return host(*args, **kwargs)

        return fallback

    def _check_fallback(self, backend: str) -> None:
        policy = self._state.fallback_var.get().name
        if policy == "error":
            raise MissingImplementationError(
                label=backend,
                host_name=self._host_name,
                function=self.qualified_name,
                implemented_by=self.implemented_by(),
            )
        if policy == "warn" and (backend, "fallback") not in self._warned:
            self._warned.add((backend, "fallback"))
            warn(
                f"Backend {backend!r} does not implement {self.qualified_name}(); "
                f"{self._host_name}'s own code ran instead.",
                FallbackWarning,
            )

    def implemented_by(self) -> list[str]:
        """Return the installed backends that provide this function (loads all)."""
        self._discovery.load_all()
        return [
            name
            for name in self._discovery.canonical_names()
            if callable(getattr(self._discovery.require(name).obj, self.name, None))
        ]

    def invalidate(self) -> None:
        """Forget every plan (a backend was replaced or removed); re-merge if merged before."""
        self.plans.clear()
        self.call_plans.clear()

    def explain(
        self, label: str, why: str, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]
    ) -> Explanation:
        """Return an `Explanation` of a call to `label`, without running it."""
        from turnout._report import Explanation  # noqa: PLC0415

        if label == CPU:
            self.host_signature().bind(*args, **kwargs)
            return Explanation(self.qualified_name, CPU, why, f"{self.qualified_name}()")
        entry = self._discovery.require(label)
        self.miss(entry.name)
        plan = self.call_plans[entry.name]
        if plan is None:
            policy = self._state.fallback_var.get().name
            self.host_signature().bind(*args, **kwargs)
            return Explanation(
                self.qualified_name,
                entry.name,
                why,
                f"{self.qualified_name}()",
                fallback=True,
                notes=(f"fallback policy {policy!r}",),
            )
        host = self.host_signature()
        extra = {key: kwargs.pop(key) for key in list(kwargs) if key not in host.parameters}
        bound = host.bind(*args, **kwargs).arguments
        defaults = {name: p.default for name, p in host.parameters.items()}
        dropped = tuple(
            name
            for name in plan.host_only
            if name in bound and bound[name] is not defaults.get(name)
        )
        unknown = sorted(set(extra) - set(plan.backend_only))
        return Explanation(
            self.qualified_name,
            entry.name,
            why,
            f"{plan.implementation!r}",
            forwarded=tuple(name for name in plan.shared if name in bound),
            dropped=dropped,
            added=tuple(name for name in extra if name in plan.backend_only),
            notes=tuple(f"{name!r} is not a parameter of this backend" for name in unknown),
        )

    # -- the merged API -------------------------------------------------------------------

    def merge(self, entries: Iterable[Entry]) -> None:
        """Show the selector and the backend-only parameters of `entries` in signature and doc."""
        import inspect  # noqa: PLC0415

        from turnout._docstrings import merge_parameters  # noqa: PLC0415
        from turnout._signature import (  # noqa: PLC0415
            backend_only_parameters,
            collect_additions,
            merged_signature,
            selector_entry,
        )

        host = self.host_signature()
        implementations = []
        for entry in entries:
            implementation = getattr(entry.obj, self.name, None)
            if not callable(implementation):
                continue
            try:
                signature = inspect.signature(implementation)
            except (TypeError, ValueError):
                continue
            for param in backend_only_parameters(host, self._keyword, signature)[1]:
                self._warn_required(entry.name, param.name)
            implementations.append(
                (entry.name, signature, getattr(implementation, "__doc__", None))
            )
        additions = collect_additions(host, self._keyword, implementations)
        wrapper: t.Any = self.wrapper
        wrapper.__signature__ = merged_signature(host, self._keyword, additions)
        doc_entries = [selector_entry(self._keyword, self._host_name)]
        doc_entries.extend(addition.doc_entry() for addition in additions.values())
        wrapper.__doc__ = merge_parameters(self._doc, doc_entries)
        self.known_extras = frozenset(additions)
        self.merged = True

    def support(self, entries: Iterable[Entry]) -> dict[str, tuple[str, ...] | None]:
        """Return, per backend, the backend-only parameters it adds (None: it lacks this)."""
        import inspect  # noqa: PLC0415

        from turnout._signature import backend_only_parameters  # noqa: PLC0415

        found: dict[str, tuple[str, ...] | None] = {}
        for entry in entries:
            implementation = getattr(entry.obj, self.name, None)
            if not callable(implementation):
                found[entry.name] = None
                continue
            try:
                signature = inspect.signature(implementation)
            except (TypeError, ValueError):
                found[entry.name] = ()
                continue
            mergeable, _ = backend_only_parameters(self.host_signature(), self._keyword, signature)
            found[entry.name] = tuple(sorted(param.name for param in mergeable))
        return found

    def _warn_required(self, backend: str, param: str) -> None:
        if (backend, param) in self._warned:
            return
        self._warned.add((backend, param))
        warn(
            f"Backend {backend!r}: parameter {param!r} of its {self.name}() is required, but "
            f"{self.qualified_name}() has no such parameter, so callers cannot pass it; it is "
            "left out of the merged signature. The backend should give it a default.",
            BackendSignatureWarning,
        )
