"""DispatchedFunction: a host function's wrapper, its routes per selection, their invalidation."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from types import CellType, FunctionType

from turnout import _lazytyping as t
from turnout._chain import (
    Observers,
    chain,
    choice_route,
    fallback_route,
    make_plan,
)
from turnout._codegen import (
    NOBODY,
    Emitter,
    binder_factory,
    first_call_code,
    host_route,
    is_coroutine_function,
    make_function,
    passthrough_code,
    specialised_code,
    wrapper_names,
)
from turnout._decision import AUTOMATIC, KEYWORD, PER_FUNCTION, Choice, choose, requested
from turnout._discovery import Discovery
from turnout._docstrings import DocEntry, selector_entry
from turnout._errors import DispatchDefinitionError
from turnout._lazytyping import TYPE_CHECKING
from turnout._merged_api import (
    MergedApi,
    View,
    declarations,
    private_warning,
    required_warning,
    views,
)
from turnout._names import CPU, SELECTOR, attribute, public_name, qualified_name
from turnout._registry import Entry
from turnout._scopes import PENDING, SelectionState
from turnout._shape import (
    OMITTED,
    Shape,
    code_parameter_names,
    code_shape,
    documented_names,
    is_plain_function,
    shape_of,
)
from turnout._trace import Switch, TracedCall, begin, finish
from turnout._warnings import (
    IgnoredArgumentWarning,
    warn,
)

MAX_EXTRAS = 16  # backend-only keywords taken by name; any more arrive in the ** dict

if TYPE_CHECKING:
    import inspect

    from turnout._plan import CallPlan
    from turnout._static import StaticInfo

# closure cells of constants every wrapper reads: shared, never rebound
_CPU_CELL, _OMITTED_CELL = CellType(CPU), CellType(OMITTED)


def check_function(host: object, keyword: str) -> None:
    """Raise `DispatchDefinitionError` when `host` cannot be dispatched."""
    if isinstance(host, type) or not callable(host) or not hasattr(host, "__code__"):
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
    names = code_parameter_names(host) if is_plain_function(host) else documented_names(host)
    if keyword in names:
        raise keyword_taken(f"{qualified_name(host)}()", keyword)


def check_options(
    host: object, dispatch_args: object, convert: object
) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
    """Check ``backend_dispatch``'s options against the host's parameter names."""
    if dispatch_args is None and convert == ():  # the usual case: nothing to check
        return None, ()
    names = set(documented_names(host))  # type: ignore[arg-type]
    checked: list[tuple[str, ...] | None] = []
    for option, value in (("dispatch_args", dispatch_args), ("convert", convert)):
        if value is None:
            checked.append(None)
            continue
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise DispatchDefinitionError(
                target=f"{qualified_name(host)}()",
                problem=f"{option} must be a list of its parameter names, not {value!r}",
                action=f"pass {option}=('name',)",
            )
        unknown = [name for name in value if name not in names]
        if unknown:
            raise DispatchDefinitionError(
                target=f"{qualified_name(host)}()",
                problem=f"{option} names {unknown}, which are not its parameters",
                action=f"name parameters of the function in {option}",
            )
        checked.append(tuple(value))
    return checked[0], checked[1] or ()


def check_key(host: object, name: object) -> str | None:
    """Return a dispatch key given with ``backend_dispatch(name=...)``, checked."""
    if name is None:
        return None
    parts = name.split(".") if isinstance(name, str) else [""]
    if not all(part.isidentifier() for part in parts):
        raise DispatchDefinitionError(
            target=f"{qualified_name(host)}()",
            problem=f"name= must be an identifier or a dotted path of them, not {name!r}",
            action="pass the attribute name backends implement it under, e.g. name='sub_mean'",
        )
    return str(name)


def with_selector(annotations: dict[str, t.Any], keyword: str) -> dict[str, t.Any]:
    """Return a copy of a host's annotations with the selector's type, before ``return``.

    `typing.get_type_hints` then includes the selector, and the host function's
    own annotations stay as they are.
    """
    merged = {name: value for name, value in annotations.items() if name != "return"}
    merged[keyword] = SELECTOR
    if "return" in annotations:
        merged["return"] = annotations["return"]
    return merged


def keyword_taken(target: str, keyword: str) -> DispatchDefinitionError:
    """Return the error for a host function or class that already takes the selector."""
    return DispatchDefinitionError(
        target=target,
        problem=f"parameter {keyword!r} is reserved by turnout to select a backend",
        action="rename it, or choose another selector with BackendDispatcher(backend_keyword=...)",
    )


class SignatureSource:
    """The wrapper's ``__wrapped__``: the host function, plus the merged signature, lazily.

    `inspect.signature` unwraps until an object has ``__signature__``; this one
    computes it on first access, so decorating imports nothing and computes
    nothing. `inspect.unwrap` goes on through its ``__wrapped__`` to the host
    function, and any other attribute is the host's.
    """

    __slots__ = ("__wrapped__", "_record")

    def __init__(self, record: DispatchedFunction) -> None:
        self.__wrapped__ = record.host
        self._record = record

    @property
    def __signature__(self) -> inspect.Signature:
        return self._record.signature()

    def __getattr__(self, name: str) -> t.Any:
        return getattr(self.__wrapped__, name)

    def __call__(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        return self.__wrapped__(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<turnout signature source of {self._record.qualified_name}>"


class DispatchedFunction:
    """turnout's record of one host function: its wrapper, routes and merged API."""

    def __init__(
        self,
        host: Callable[..., t.Any],
        *,
        discovery: Discovery,
        state: SelectionState,
        keyword: str,
        host_name: str,
        settle: Callable[[], None],
        selector: DocEntry | None = None,
        dispatch_args: tuple[str, ...] | None = None,
        convert: tuple[str, ...] = (),
        key: str | None = None,
        observers: Observers | None = None,
        backend_only: str = "error",
        tracing: Switch | None = None,
    ) -> None:
        self.host = host
        self._settle = settle
        self.name: str = host.__name__
        self.key = key if key is not None else self.name  # what a backend implements
        self.keys: tuple[str, ...] = (self.key,)
        self.qualified_name = qualified_name(host)
        self.discovery = self._discovery = discovery
        self.state = self._state = state
        self.dispatch_args = dispatch_args  # None: the first parameter
        self.convert = convert
        self._keyword = self.keyword = keyword
        self._host_name = self.host_name = host_name
        self.observers = observers if observers is not None else Observers()
        self.backend_only = backend_only  # a backend-only keyword on the host's path
        self._switch = tracing  # the host's tracing: on, calls go through `traced_call`
        self._inner: tuple[tuple[str, ...], t.Any] | None = None
        self._lock = threading.RLock()  # merge() forgets choices while holding it
        self.plain = is_plain_function(host)
        self.is_async = is_coroutine_function(host)
        self._shape: Shape | None = None
        # Backend-only keywords the wrapper and routes take as named parameters (no
        # ``**`` dict to pass one); only ever appended to, so a route made for fewer
        # still serves a call made with more (they default to OMITTED).
        self.extras: tuple[str, ...] = ()
        self._coded: tuple[str, ...] | None = None  # the extras of the wrapper's code
        # The process-wide automatic choice, and for it the types that run the host's
        # code and the routes of the others: the wrapper routes by type itself. Set
        # and reset in an order that never pairs a choice with another's tables.
        self._auto, self._hosted, self._typed = CellType(NOBODY), CellType(()), CellType({})
        self._host_route: Callable[..., t.Any] | None = None
        self._binder: Callable[[Callable[..., t.Any]], Callable[..., t.Any]] | None = None
        self.warned: set[tuple[str, str]] = set()
        # key (label or selection) -> what the wrapper calls; read without a lock
        self.plans: dict[object, Callable[..., t.Any]] = {}
        self._generation = 0  # counts forgets: what was made before one is not kept
        self.routes: dict[tuple[str, bool], Callable[..., t.Any]] = {}  # canonical name -> route
        self.call_plans: dict[str, CallPlan | None] = {}  # canonical name -> plan (None: lacks it)
        self._names = wrapper_names(
            (*code_parameter_names(host), keyword) if self.plain else (keyword,)
        )
        self.wrapper = self._make_wrapper()
        selector = selector if selector is not None else selector_entry(keyword, host_name)
        self.api = MergedApi(host, self.shape, keyword, selector)
        self.api.apply(self.wrapper)

    # -- the wrapper -----------------------------------------------------------------

    def _make_wrapper(self) -> Callable[..., t.Any]:
        # Cheap on purpose (decorating runs at host import): no compile, no inspect.
        names = self._names
        cells = {
            names["_t_A"]: self._auto,
            names["_t_H"]: self._hosted,
            names["_t_T"]: self._typed,
            names["_t_C"]: _CPU_CELL,
            names["_t_U"]: self._state.untouched,
            names["_t_D"]: (),
            names["_t_O"]: _OMITTED_CELL,
            names["_t_extras"]: self.cpu_with_extras,
            names["_t_get"]: self._state.var.get,
            names["_t_host"]: self.host,
            names["_t_miss"]: self.miss,
            names["_t_plans"]: self.plans,
        }
        if self.plain:
            code = first_call_code(names, self.is_async)
        else:
            code = passthrough_code(names, self._keyword, self.is_async)
        wrapper = make_function(code, self.name, cells)
        if not self.plain:
            wrapper.__kwdefaults__ = {self._keyword: None}
        # functools.update_wrapper, inlined: it is a third of the cost of decorating.
        host: t.Any = self.host
        wrapper.__module__ = host.__module__
        wrapper.__qualname__ = host.__qualname__
        wrapper.__doc__ = host.__doc__
        wrapper.__annotations__ = with_selector(getattr(host, "__annotations__", {}), self._keyword)
        if host.__dict__:
            wrapper.__dict__.update(host.__dict__)
        type_params = getattr(host, "__type_params__", None)
        if type_params:
            wrapper.__type_params__ = type_params
        wrapper.__wrapped__ = SignatureSource(self)
        return wrapper  # type: ignore[no-any-return]

    @property
    def public_name(self) -> str:
        """The host's public name for this function (``pkg.mean``), for messages."""
        return public_name(self.wrapper, self.qualified_name)

    def shape(self) -> Shape:
        """Return the host function's documented parameters (computed once)."""
        if self._shape is None:
            try:
                self._shape = shape_of(self.host)
            except (TypeError, ValueError) as error:
                raise DispatchDefinitionError(
                    target=f"{self.qualified_name}()",
                    problem=f"its signature cannot be inspected ({error})",
                    action="dispatch a function with an inspectable signature",
                ) from error
            if self._keyword in self._shape.by_name:
                raise keyword_taken(f"{self.qualified_name}()", self._keyword)
        return self._shape

    def _specialised(self) -> tuple[t.Any, ...]:
        """Return the wrapper's specialised code, defaults and kwdefaults (for the extras now).

        The host's defaults go into the shared ``_t_D`` cell.
        """
        shape = code_shape(self.host)
        assert shape is not None  # noqa: S101 - only plain hosts start unspecialised
        code, defaults, kwdefaults, host_defaults = specialised_code(
            self.name,
            shape,
            self._keyword,
            self._names,
            self.is_async,
            extras=self.extras,
            typed=self._typed_parameter(),
        )
        wrapper: t.Any = self.wrapper
        index = code.co_freevars.index(self._names["_t_D"])
        wrapper.__closure__[index].cell_contents = host_defaults
        return code, defaults, kwdefaults

    def _specialise(self) -> Callable[..., t.Any]:
        """Give a plain host's wrapper the host's exact signature (and extras), and return it.

        While the host's calls are traced, the wrapper keeps its first-call code
        and this returns `traced_call` instead, which runs the specialised code
        as a separate function.
        """
        if self._switch is not None and self._switch.on:
            return self._traced
        with self._lock:
            wrapper: t.Any = self.wrapper
            wanted = self.extras
            if self._coded != wanted:
                code, defaults, kwdefaults = self._specialised()
                # Defaults first: the old code ignores them, the new one needs them.
                wrapper.__defaults__ = defaults
                wrapper.__kwdefaults__ = kwdefaults
                wrapper.__code__ = code
                self._coded = wanted
        return self.wrapper

    # -- tracing ------------------------------------------------------------------------

    def retrace(self) -> None:
        """Tracing started or stopped for the host: the wrapper starts over at its first call."""
        with self._lock:
            self._inner = None
            if self.plain:
                self.wrapper.__code__ = first_call_code(self._names, self.is_async)
                self._coded = None

    def _inner_function(self) -> t.Any:
        """Return the specialised code as a function of its own (closure shared), made once."""
        inner = self._inner
        if inner is None or inner[0] != self.extras:
            with self._lock:
                code, defaults, kwdefaults = self._specialised()
                wrapper: t.Any = self.wrapper
                function = FunctionType(
                    code, wrapper.__globals__, self.name, defaults, wrapper.__closure__
                )
                function.__kwdefaults__ = kwdefaults
                inner = self._inner = (self.extras, function)
        return inner[1]

    def _trace_begin(self, kwargs: dict[str, t.Any]) -> tuple[TracedCall, t.Any]:
        state = self._state
        if state.var.get().name is PENDING:
            self._settle()
        selected, why = requested(kwargs.get(self._keyword), state.var.get(), state.forced)
        if isinstance(selected, Choice) and selected.automatic:
            why = AUTOMATIC
        elif why is not KEYWORD and self.key in state.overrides:
            why = PER_FUNCTION
        call = TracedCall(self.public_name, selected, str(getattr(why, "value", why)))
        return call, begin(call)

    def traced_call(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Run one call while tracing: note what was selected and why, then what ran."""
        call, token = self._trace_begin(kwargs)
        try:
            return self._inner_function()(*args, **kwargs)
        except BaseException as error:
            call.error = type(error).__name__
            raise
        finally:
            finish(call, token)

    async def traced_call_async(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """`traced_call` for an ``async def`` host: the call ends when it is awaited."""
        call, token = self._trace_begin(kwargs)
        try:
            return await self._inner_function()(*args, **kwargs)
        except BaseException as error:
            call.error = type(error).__name__
            raise
        finally:
            finish(call, token)

    @property
    def _traced(self) -> Callable[..., t.Any]:
        return self.traced_call_async if self.is_async else self.traced_call

    def _recheck(self) -> None:
        """Send a specialised wrapper back to its first-call code if its extras changed."""
        with self._lock:
            if self._coded is not None and self._coded != self.extras:
                self.wrapper.__code__ = first_call_code(self._names, self.is_async)
                self._coded = None

    def _typed_parameter(self) -> str | None:
        """Return the one parameter automatic selection looks at (None: none, or several)."""
        positions = self.dispatch_positions()
        if len(positions) != 1:
            return None
        name = self.route_parameter_names()[positions[0]]
        return None if name == self.shape().var_positional else name

    def _take_extras(self) -> None:
        """Take the loaded backends' new backend-only keywords as named parameters.

        The routes are made again with them, and a specialised wrapper goes back
        to its first-call code, which specialises it again on the next call.
        """
        if not self.plain or self.shape().var_keyword is not None:
            return  # a host with **kwargs passes them on in its own dict
        with self._lock:
            room = MAX_EXTRAS - len(self.extras)
            new = [
                name
                for name in sorted(self.known_extras)
                if name not in self.extras and name.isidentifier() and not name.startswith("_t_")
            ][: max(room, 0)]
            if not new:
                return
            self.extras = (*self.extras, *new)
            self._host_route = None
            self.invalidate()
            self._recheck()

    # -- slow paths the wrapper calls ---------------------------------------------------

    def miss(self, key: object) -> Callable[..., t.Any]:
        """Return what to call for `key` (a keyword's value or a selection), made on first use."""
        if key is self.plans:  # from the first-call code: specialise, then run the call
            if self._switch is not None:
                self._switch.watch()  # the logger at DEBUG traces too
            return self._specialise()
        if key is PENDING:  # <HOST>_BACKEND, resolved on this first use
            self._settle()
            key = self._state.var.get().name
        generation = self._generation  # a refresh while this route is made: do not keep it
        if isinstance(key, list):  # a priority list as the call's keyword: cached as a tuple
            key = tuple(key)
            found = self.plans.get(key) if all(isinstance(k, str) for k in key) else None
            if found is not None:
                return found
        route = self._route_for(key)
        if not self.plain:  # its wrapper passes the caller's arguments as they came
            route = self.bind(route)
        if isinstance(key, (str, Choice)) or (
            isinstance(key, tuple) and all(isinstance(k, str) for k in key)
        ):
            self._keep(self.plans, key, route, generation)
        hosted = getattr(route, "hosted", None)  # an automatic route's tables, by type
        if hosted is not None and key is self._state.default.name:  # the process-wide choice
            with self._lock:
                if generation == self._generation:
                    self._hosted.cell_contents = hosted
                    self._typed.cell_contents = getattr(route, "types", {})
                    self._auto.cell_contents = key
        return route

    def _route_for(self, key: object) -> Callable[..., t.Any]:
        if self._state.forced:  # the kill switch: whatever the code selects
            return self.host_route()
        selected = key if isinstance(key, Choice) else choose(key, self.resolve, self._host_name)
        return choice_route(self, selected)

    def resolve(self, label: str) -> str:
        """Return the canonical name of a label a caller chose (importing its backend)."""
        return self._discovery.select(label).name

    def bind(self, route: Callable[..., t.Any]) -> Callable[..., t.Any]:
        """Return `route` taking the caller's arguments as they came (non-plain hosts)."""
        if self._binder is None:
            self._binder = binder_factory(self.name, self.shape(), is_async=self.is_async)
        return self._binder(route)

    def host_route(self) -> Callable[..., t.Any]:
        """Return the host's own code as a route (it takes the route convention)."""
        if self._host_route is None:
            self._host_route = host_route(
                self.name,
                self.host,
                self.shape(),
                plain=self.plain,
                is_async=self.is_async,
                handler=self.cpu_with_extras,
                extras=self.extras,
            )
        return self._host_route

    def route(self, entry: Entry, *, strict: bool = False) -> Callable[..., t.Any]:
        """Return the route for one backend the user named (or its fallback), made once.

        Its ``can_run`` hooks are asked; a decline or a "no" runs the host's code
        under the fallback policy. With `strict` (the call's keyword named it), a
        backend function that cannot serve the call raises instead.
        """
        found = self.routes.get((entry.name, strict))
        if found is None:
            generation = self._generation
            reasons: list[str] = []
            final = fallback_route(self, entry.name, reasons)
            found, skipped = chain(self, [entry.name], final, explicit=True, strict=strict)
            reasons.extend(skipped)
            self._keep(self.routes, (entry.name, strict), found, generation)
        return found

    def route_parameter_names(self) -> list[str]:
        """Return the host's parameter names in route-convention order (its values first)."""
        return Emitter(self.shape()).host_names()

    def dispatch_positions(self) -> list[int]:
        """Return where the dispatch arguments sit in the route convention (none: empty)."""
        params = self.route_parameter_names()
        if self.dispatch_args is None:
            return [0] if params else []
        return [params.index(name) for name in self.dispatch_args if name in params]

    def plan(self, entry: Entry) -> CallPlan | None:
        """Return the call plan for one backend (None: it lacks the function), made once."""
        try:
            return self.call_plans[entry.name]
        except KeyError:
            generation = self._generation
            found = make_plan(self, entry)
            self._keep(self.call_plans, entry.name, found, generation)
            return found

    def cpu_with_extras(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Run the host's code for a call that passed keywords the host does not take.

        A keyword only backends take raises the host's usual `TypeError` (naming
        them), as the host's own code would; a host that chose
        ``backend_only="warn"`` drops it with an `IgnoredArgumentWarning` instead.
        """
        names = self.shape().by_name
        for key in [key for key in kwargs if key not in names]:
            if kwargs[key] is OMITTED:  # a backend-only keyword the caller left out
                del kwargs[key]
                continue
            msg = f"{self.public_name}() got an unexpected keyword argument {key!r}"
            if key not in self.known_extras:
                raise TypeError(msg)
            if self.backend_only != "warn":
                takers = ", ".join(repr(name) for name in self.api.extra_backends.get(key, ()))
                msg += f"; only backend {takers} takes it: select it with {self._keyword}=..."
                raise TypeError(msg)
            del kwargs[key]
            warn(
                f"{self.public_name}(): argument {key!r} only applies to backends that "
                f"take it; {self._host_name}'s own code ignores it.",
                IgnoredArgumentWarning,
            )
        return self.host(*args, **kwargs)

    def implementation(self, entry: Entry) -> Callable[..., t.Any] | None:
        """Return `entry`'s function for this host function, None if it has none."""
        implementation: Callable[..., t.Any] | None = attribute(entry.obj, self.key)
        if implementation is not None and not callable(implementation):
            raise DispatchDefinitionError(
                target=f"{self.public_name}()",
                problem=(
                    f"backend {entry.name!r} ({entry.describe_source()}) has an attribute "
                    f"{self.key!r} of type {type(implementation).__name__}, which is not callable"
                ),
                action="the backend must expose a callable under that name, or none at all",
            )
        return implementation

    def implemented_by(self) -> list[str]:
        """Return the installed backends that provide this function (loads all)."""
        self._discovery.load_all()
        return [entry.name for entry in self._discovery.loaded_entries() if self.views([entry])[0]]

    def after_fork(self) -> None:
        """In a child process: a fresh lock (a parent thread may have held this one)."""
        self._lock = threading.RLock()  # merge() forgets choices while holding it

    def invalidate(self) -> None:
        """Forget every route (a backend was replaced, removed or rediscovered)."""
        with self._lock:
            self._generation += 1
            self._auto.cell_contents = NOBODY
            self.plans.clear()
            self.routes.clear()
            self.call_plans.clear()

    def forget_choices(self) -> None:
        """Forget the routes of priority lists and automatic selection (a backend loaded)."""
        with self._lock:
            self._generation += 1
            self._auto.cell_contents = NOBODY
            for key in [key for key in list(self.plans) if not isinstance(key, str)]:
                self.plans.pop(key, None)

    def _keep(self, cache: dict[t.Any, t.Any], key: object, value: object, generation: int) -> None:
        """Store what was made for `key`, unless the caches were forgotten meanwhile.

        Calling threads store while another refreshes: a route made from the
        registry as it was before a refresh must not outlive the refresh.
        """
        with self._lock:
            if generation == self._generation:
                cache[key] = value

    # -- explain ---------------------------------------------------------------------------

    # -- the merged API -------------------------------------------------------------------

    def views(self, entries: Iterable[Entry]) -> tuple[list[View], list[str]]:
        """Return the loaded backends' views of this function, and those that lack it."""
        return views(entries, self.implementation)

    def signature(self) -> inspect.Signature:
        """Return the merged signature: the host's, the selector, backend-only parameters."""
        return self.api.signature(lambda: self.views(self._discovery.loaded_entries())[0])

    def merge(
        self,
        entries: Iterable[Entry],
        version: int = 0,
        declared: Sequence[tuple[Entry, StaticInfo]] = (),
    ) -> None:
        """Show the backend-only parameters of `entries` in the docstring (and signature).

        `version` orders merges made by different threads: an older one than the
        last applied is skipped. `declared` pairs backends (loaded, or
        ``NOT_LOADED`` ones the host asked to show) with their
        ``turnout-backend.json``: their notes and documented parameters join.
        """
        views = self.views(entries)[0]
        said = declarations(self.key, declared)
        if self.api.merge(views, version, self._warn_required, self._warn_private, said):
            self.forget_choices()  # a backend loaded: what it owns may change a choice
            self._take_extras()
            self.api.apply(self.wrapper)

    @property
    def known_extras(self) -> frozenset[str]:
        """The backend-only keywords of the backends loaded so far."""
        return self.api.known_extras

    @property
    def merged(self) -> bool:
        """Whether a merge has run (a reset must merge again)."""
        return self.api.merged

    def support(self, entries: Iterable[Entry]) -> dict[str, tuple[str, ...] | None]:
        """Return, per backend, the backend-only parameters it adds (None: it lacks this)."""
        return self.api.support(*self.views(entries))

    def _warn_required(self, backend: str, param: str) -> None:
        if (backend, param) not in self.warned:
            self.warned.add((backend, param))
            required_warning(self.name, self.public_name, backend, param)

    def _warn_private(self, backend: str, param: str) -> None:
        if (backend, param) not in self.warned:
            self.warned.add((backend, param))
            private_warning(self.name, self.public_name, backend, param)
