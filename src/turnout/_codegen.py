"""Generate the functions dispatch runs: wrappers, routes and host routes.

Every generated function that sees a host call takes the host's parameters with
each default replaced by `OMITTED` (the *route convention*): it can tell an
argument the caller gave from one the caller left out, and Python binds the
call once, in C. Generated source is compiled once per host function (wrapper)
or per (host function, backend) pair (route), never per call.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable
from types import CellType, CodeType, FunctionType

from turnout import _lazytyping as t
from turnout._names import CPU
from turnout._plan import CallPlan, Source, is_default
from turnout._shape import (
    KEYWORD_ONLY,
    OMITTED,
    POSITIONAL,
    POSITIONAL_ONLY,
    POSITIONAL_OR_KEYWORD,
    VAR_KEYWORD,
    VAR_POSITIONAL,
    Param,
    Shape,
)

# The wrapper's closure, by base name; a name that clashes with a host parameter
# gets underscores appended. The unspecialised and specialised code of one
# wrapper close over the same names, so the first call can swap its __code__.
WRAPPER_FREE = ("_t_D", "_t_O", "_t_extras", "_t_get", "_t_host", "_t_miss", "_t_plans")
FIRST_CALL = ()  # what the unspecialised wrapper passes to `miss`
CO_COROUTINE = 0x80  # inspect.CO_COROUTINE, without importing inspect
_code_cache: dict[tuple[object, ...], CodeType] = {}


def generated_namespace() -> dict[str, t.Any]:
    """Globals for generated code: named so warnings skip its frames, with builtins."""
    return {"__name__": "turnout._generated", "__builtins__": builtins}


_NAMESPACE = generated_namespace()


def is_coroutine_function(func: object) -> bool:
    """Whether `func` is an ``async def`` function (read from its code flags)."""
    code = getattr(func, "__code__", None)
    return code is not None and bool(code.co_flags & CO_COROUTINE)


def unique(base: str, taken: Iterable[str]) -> str:
    """Return `base`, with underscores appended until it is not in `taken`."""
    used = set(taken)
    while base in used:
        base += "_"
    return base


def compile_factory(source: str, filename: str) -> FunctionType:
    """Compile the source of a ``_t_make`` factory and return the factory."""
    namespace = generated_namespace()
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own source
    factory: FunctionType = namespace["_t_make"]
    return factory


class Emitter:
    """Names and parameter lists for one generated function with a host's parameters.

    Parameters
    ----------
    shape
        The host's parameters (names and kinds; defaults become `OMITTED`).
    taken
        More names to keep clear of (the selector keyword).
    is_async
        Generate ``async def`` and ``await`` the calls it makes.
    """

    def __init__(
        self,
        shape: Shape,
        *,
        taken: Iterable[str] = (),
        is_async: bool = False,
        preset: dict[str, str] | None = None,
    ) -> None:
        self.shape = shape
        self.is_async = is_async
        self.wait = "await " if is_async else ""
        self._taken = {p.name for p in shape.params} | set(taken)
        # preset: names chosen elsewhere (a wrapper's closure), given no value here
        self._names: dict[str, str] = dict(preset or {})
        self._taken.update(self._names.values())
        self.free: dict[str, t.Any] = {}  # generated name -> value it is bound to
        self.var_keyword = shape.var_keyword or self.local("_t_kw")
        self.omitted = self._names["_t_O"] if "_t_O" in self._names else self.bind("_t_O", OMITTED)

    def local(self, base: str) -> str:
        """Reserve a local name."""
        if base not in self._names:
            self._names[base] = unique(base, self._taken)
            self._taken.add(self._names[base])
        return self._names[base]

    def bind(self, base: str, value: object) -> str:
        """Return a free name bound to `value` in the factory."""
        name = self.local(base)
        self.free[name] = value
        return name

    def const(self, value: object) -> str:
        """Return a fresh free name bound to `value`."""
        return self.bind(f"_t_c{len(self.free)}", value)

    def parameters(self, selector: str | None = None) -> str:
        """Return the host's parameter list, defaults `OMITTED`, the selector and ``**``."""
        params = self.shape.params

        def each(kind: int) -> list[str]:
            return [
                f"{p.name}={self.omitted}" if p.has_default else p.name
                for p in params
                if p.kind == kind
            ]

        only, either = each(POSITIONAL_ONLY), each(POSITIONAL_OR_KEYWORD)
        keyword = each(KEYWORD_ONLY)
        parts = [*only, *(["/"] if only else []), *either]
        star = self.shape.var_positional
        if star:
            parts.append(f"*{star}")
        elif keyword or selector:
            parts.append("*")
        parts += keyword
        if selector:
            parts.append(f"{selector}=None")
        parts.append(f"**{self.var_keyword}")
        return ", ".join(parts)

    def route_parameters(self) -> str:
        """Return the route convention: every bound value, positionally, in order.

        Named parameters, then the ``*args`` tuple, keyword-only parameters and
        the ``**`` dict (always present): a call that copies nothing.
        """
        shape = self.shape
        parts = [p.name for p in shape.params if p.kind in (POSITIONAL_ONLY, POSITIONAL_OR_KEYWORD)]
        if shape.var_positional:
            parts.append(shape.var_positional)
        parts += [p.name for p in shape.params if p.kind == KEYWORD_ONLY]
        parts.append(self.var_keyword)
        return ", ".join(parts)

    def host_arguments(self, *, keywords: bool = True) -> str:
        """Return the arguments that call a function with the host's parameters as bound."""
        shape = self.shape
        parts = [p.name for p in shape.params if p.kind in (POSITIONAL_ONLY, POSITIONAL_OR_KEYWORD)]
        if shape.var_positional:
            parts.append(f"*{shape.var_positional}")
        parts += [f"{p.name}={p.name}" for p in shape.params if p.kind == KEYWORD_ONLY]
        if keywords:
            parts.append(f"**{self.var_keyword}")
        return ", ".join(parts)

    def call(self, target: str) -> list[str]:
        """Return ``return target(<host arguments>)``, spreading ``**`` only when needed."""
        kw, wait = self.var_keyword, self.wait
        return [
            f"if {kw}: return {wait}{target}({self.host_arguments()})",
            f"return {wait}{target}({self.host_arguments(keywords=False)})",
        ]

    def substitute(self, defaults_name: str) -> tuple[list[str], tuple[object, ...]]:
        """Lines replacing each omitted argument by the host's default, read from a tuple."""
        lines: list[str] = []
        defaults: list[object] = []
        for param in self.shape.params:
            if param.kind in (VAR_POSITIONAL, VAR_KEYWORD) or not param.has_default:
                continue
            lines.append(
                f"if {param.name} is {self.omitted}: "
                f"{param.name} = {defaults_name}[{len(defaults)}]"
            )
            defaults.append(param.default)
        return lines, tuple(defaults)

    def source(
        self, name: str, body: list[str], *, selector: str | None = None, route: bool = False
    ) -> str:
        """Return ``def _t_make(<free names>): def <name>(<params>): <body>``.

        The parameters are the host's (defaults `OMITTED`), or with `route` the
        route convention (`route_parameters`).
        """
        prefix = "async " if self.is_async else ""
        func = name if name.isidentifier() else "dispatched"
        params = self.route_parameters() if route else self.parameters(selector)
        lines = [
            f"def _t_make({', '.join(sorted(self.free))}):",
            f"    {prefix}def {func}({params}):",
            *(f"        {line}" for line in body),
            f"    return {func}",
        ]
        return "\n".join(lines) + "\n"

    def build(self, name: str, body: list[str], filename: str, *, route: bool = False) -> t.Any:
        """Compile `body` into a function bound to this emitter's free values."""
        factory = compile_factory(self.source(name, body, route=route), filename)
        return factory(**self.free)


# -- the wrapper ------------------------------------------------------------------------


_PLAIN_NAMES = {base: base for base in WRAPPER_FREE}


def wrapper_names(taken: Iterable[str]) -> dict[str, str]:
    """Return the wrapper's closure names, renamed away from `taken` (the host's parameters)."""
    for name in taken:
        if name.startswith("_t_"):
            break
    else:
        return _PLAIN_NAMES  # the usual case: nothing to rename (shared, never changed)
    used = set(taken)
    names = {}
    for base in WRAPPER_FREE:
        names[base] = unique(base, used)
        used.add(names[base])
    return names


def _inner_code(source: str, filename: str) -> CodeType:
    factory = compile_factory(source, filename)
    return next(const for const in factory.__code__.co_consts if isinstance(const, CodeType))


def _never(names: dict[str, str], indent: str) -> str:
    """Return a branch that never runs but names every closure variable (same layout)."""
    listed = ", ".join(names[base] for base in WRAPPER_FREE)
    never = f"{indent}if {names['_t_miss']} is None:  # never: keeps the closure layout\n"
    return f"{never}{indent}    return {listed}\n"


def first_call_code(names: dict[str, str], is_async: bool) -> CodeType:
    """Return the code a plain host's wrapper starts with: specialise, then run.

    Decorating stays cheap (no compile per function): the code is shared by every
    wrapper with the same closure names.
    """
    key = ("first", is_async) if names is _PLAIN_NAMES else ("first", *names.values(), is_async)
    if key not in _code_cache:
        prefix, wait = ("async ", "await ") if is_async else ("", "")
        _code_cache[key] = _inner_code(
            f"def _t_make({', '.join(sorted(names.values()))}):\n"
            f"    {prefix}def dispatched(*args, **kwargs):\n"
            f"{_never(names, '        ')}"
            f"        return {wait}{names['_t_miss']}({FIRST_CALL!r})(*args, **kwargs)\n"
            "    return dispatched\n",
            "<turnout wrapper>",
        )
    return _code_cache[key]


def passthrough_code(names: dict[str, str], keyword: str, is_async: bool) -> CodeType:
    """Return the code of a wrapper whose host is not a plain function (``singledispatch``).

    Its documented signature may be narrower than what it accepts, so the host's
    own code gets exactly the caller's arguments; backends get them through a route.
    """
    key = ("pass", tuple(names.values()), keyword, is_async)
    if key not in _code_cache:
        args, kwargs = unique("_t_a", {keyword}), unique("_t_k", {keyword})
        wait = "await " if is_async else ""
        prefix = "async " if is_async else ""
        plans, miss, host = names["_t_plans"], names["_t_miss"], names["_t_host"]
        route = unique("_t_r", {keyword, args, kwargs})
        _code_cache[key] = _inner_code(
            f"def _t_make({', '.join(sorted(names.values()))}):\n"
            f"    {prefix}def dispatched(*{args}, {keyword}=None, **{kwargs}):\n"
            f"{_never(names, '        ')}"
            f"        if {keyword} is None:\n"
            f"            {keyword} = {names['_t_get']}().name\n"
            f"        if {keyword} == {CPU!r}:\n"
            f"            return {wait}{host}(*{args}, **{kwargs})\n"
            "        try:\n"
            f"            {route} = {plans}[{keyword}]\n"
            "        except (KeyError, TypeError):\n"
            f"            {route} = {miss}({keyword})\n"
            f"        return {wait}{route}(*{args}, **{kwargs})\n"
            "    return dispatched\n",
            "<turnout wrapper>",
        )
    return _code_cache[key]


def make_function(code: CodeType, name: str, cells: dict[str, object]) -> t.Any:
    """Create a function from generated inner `code`, its closure given by name."""
    closure = tuple(map(CellType, map(cells.__getitem__, code.co_freevars)))
    return FunctionType(code, _NAMESPACE, name, None, closure)


def specialised_code(
    name: str, shape: Shape, keyword: str, names: dict[str, str], is_async: bool
) -> tuple[CodeType, tuple[object, ...] | None, dict[str, object], tuple[object, ...]]:
    """Return a plain host's wrapper code, its defaults, kwdefaults and the host's defaults.

    The code takes exactly the host's parameters (defaults `OMITTED`), the
    selector keyword, and ``**`` for backend-only keywords. On the host's path
    it fills in the host's defaults for omitted arguments and calls the host: a
    ContextVar read, a comparison, a few identity checks and the call.
    """
    emit = Emitter(shape, taken={keyword}, is_async=is_async, preset=names)
    route = emit.local("_t_r")
    fill, defaults = emit.substitute(names["_t_D"])
    kw = emit.var_keyword
    cpu = [*fill]
    if shape.var_keyword is None:  # keywords the host does not take: warn (backend-only) or raise
        cpu.append(f"if {kw}: return {emit.wait}{names['_t_extras']}({emit.host_arguments()})")
        cpu.append(f"return {emit.wait}{names['_t_host']}({emit.host_arguments(keywords=False)})")
    else:
        cpu += emit.call(names["_t_host"])
    body = [
        *_never(names, "").splitlines(),
        f"if {keyword} is None:",
        f"    {keyword} = {names['_t_get']}().name",
        f"if {keyword} == {CPU!r}:",
        *(f"    {line}" for line in cpu),
        "try:",
        f"    {route} = {names['_t_plans']}[{keyword}]",
        "except (KeyError, TypeError):",
        f"    {route} = {names['_t_miss']}({keyword})",
        f"return {emit.wait}{route}({emit.route_parameters()})",
    ]
    free = ", ".join(sorted(names.values()))
    prefix = "async " if is_async else ""
    func = name if name.isidentifier() else "dispatched"
    source = "\n".join(
        [
            f"def _t_make({free}):",
            f"    {prefix}def {func}({emit.parameters(keyword)}):",
            *(f"        {line}" for line in body),
            f"    return {func}",
        ]
    )
    code = _inner_code(source + "\n", f"<turnout wrapper of {name}>")
    positional = [p for p in shape.params if p.kind in (POSITIONAL_ONLY, POSITIONAL_OR_KEYWORD)]
    wrapper_defaults = tuple(OMITTED for p in positional if p.has_default)
    kwdefaults: dict[str, object] = {p.name: OMITTED for p in shape.keyword_only if p.has_default}
    kwdefaults[keyword] = None
    return code, wrapper_defaults or None, kwdefaults, defaults


def host_route(
    name: str, host: t.Any, shape: Shape, *, plain: bool, is_async: bool, extras: t.Any = None
) -> t.Any:
    """Return the host's code as a route (the route convention in, the host's call out).

    A plain host gets its defaults for omitted arguments and a fixed call;
    keywords it does not take go to `extras` (which warns or raises). Any other
    host gets the caller's arguments rebuilt: positional ones by position up to
    the first one left out, the rest by keyword.
    """
    emit = Emitter(shape, is_async=is_async)
    target = emit.bind("_t_host", host)
    if plain:
        defaults_name = emit.local("_t_D")
        fill, defaults = emit.substitute(defaults_name)
        emit.bind("_t_D", defaults)
        body = [*fill]
        if shape.var_keyword is None and extras is not None:
            handler = emit.bind("_t_extras", extras)
            body.append(
                f"if {emit.var_keyword}: return {emit.wait}{handler}({emit.host_arguments()})"
            )
            body.append(f"return {emit.wait}{target}({emit.host_arguments(keywords=False)})")
        else:
            body += emit.call(target)
    else:
        body = _rebuild(emit, target)
    return emit.build(name, body, f"<turnout host route of {name}>", route=True)


def binder_factory(name: str, shape: Shape, *, is_async: bool) -> t.Any:
    """Return ``make(route)``: a function with the host's parameters that calls `route`.

    A wrapper whose host is not a plain function hands its routes the caller's
    arguments as they came; the function `make` returns binds them to the host's
    documented parameters and calls the route by its convention. Compiled once.
    """
    emit = Emitter(shape, is_async=is_async)
    target = emit.bind("_t_route", None)
    body = [f"return {emit.wait}{target}({emit.route_parameters()})"]
    factory = compile_factory(emit.source(name, body), f"<turnout binder of {name}>")
    free = dict(emit.free)

    def make(route: t.Any) -> t.Any:
        return factory(**{**free, target: route})

    return make


def packer(name: str, shape: Shape) -> t.Any:
    """Return a function: the route convention in, ``(args, kwargs)`` as the caller gave them out.

    For hooks that look at a call (``can_run``, ``should_run``) and for the
    host's code when it is not a plain function.
    """
    emit = Emitter(shape)
    body = _rebuild(emit, "")
    body[-1] = f"return (tuple({emit.local('_t_args')}), {emit.local('_t_kws')})"
    return emit.build(name, body, f"<turnout packer of {name}>", route=True)


def _rebuild(emit: Emitter, target: str) -> list[str]:
    omitted = emit.omitted
    args, kws, gap = emit.local("_t_args"), emit.local("_t_kws"), emit.local("_t_gap")
    lines = [f"{args} = []", f"{kws} = {{}}", f"{gap} = False"]
    for param in emit.shape.params:
        name = param.name
        if param.kind == VAR_POSITIONAL:
            lines.append(f"{args}.extend({name})")
        elif param.kind == KEYWORD_ONLY:
            put = f"{kws}[{name!r}] = {name}"
            lines.append(f"if {name} is not {omitted}: {put}" if param.has_default else put)
        elif param.kind in (POSITIONAL_ONLY, POSITIONAL_OR_KEYWORD) and not param.has_default:
            lines.append(f"{args}.append({name})")  # a required one never follows a gap
        elif param.kind == POSITIONAL_ONLY:
            lines.append(f"if {name} is not {omitted}: {args}.append({name})")
        elif param.kind == POSITIONAL_OR_KEYWORD:
            lines += [
                f"if {name} is {omitted}: {gap} = True",
                f"elif {gap}: {kws}[{name!r}] = {name}",
                f"else: {args}.append({name})",
            ]
    lines.append(f"{kws}.update({emit.var_keyword})")
    lines.append(f"return {emit.wait}{target}(*{args}, **{kws})")
    return lines


# -- choosers ----------------------------------------------------------------------------


def chooser(
    name: str,
    shape: Shape,
    positions: list[int],
    cache: dict[t.Any, t.Any],
    resolve: Callable[[t.Any], t.Any],
    *,
    is_async: bool,
) -> t.Any:
    """Return a route that picks a route by the types of the arguments at `positions`.

    `cache` maps a type (or a tuple of types) to its route; a type met for the
    first time goes to `resolve`, which makes and caches its route.
    """
    emit = Emitter(shape, is_async=is_async)
    params = emit.route_parameters().split(", ")
    picked = [f"type({params[index]})" for index in positions]
    key = picked[0] if len(picked) == 1 else f"({', '.join(picked)},)"
    table, miss = emit.bind("_t_cache", cache), emit.bind("_t_resolve", resolve)
    found = emit.local("_t_r")
    body = [
        "try:",
        f"    {found} = {table}[{key}]",
        "except KeyError:",
        f"    {found} = {miss}({key})",
        f"return {emit.wait}{found}({emit.route_parameters()})",
    ]
    return emit.build(name, body, f"<turnout chooser of {name}>", route=True)


# -- routes to a backend ---------------------------------------------------------------


_DECLINE = object()  # placeholder for the decline handler each route is given
_MAX_BY_NAME = 4  # a backend with more backend-only keywords gets them through **


def route(
    plan: CallPlan, name: str, decline: Callable[..., t.Any], *, is_async: bool = False
) -> Callable[..., t.Any]:
    """Return a route for `plan`: the host's parameters in (defaults `OMITTED`), the call out.

    It checks host-only and extra arguments and calls the backend function.
    A `NotImplementedError` the backend raises goes to `decline` with the
    exception and the route's own arguments, so the caller decides what runs
    next. The source is compiled once per plan; each route is a new closure.
    """
    if plan.compiled is None:
        source, free = _Route(plan).source(name, is_async=is_async)
        plan.compiled = (compile_factory(source, f"<turnout route of {name}>"), free)
    factory, free = plan.compiled
    values = {key: decline if value is _DECLINE else value for key, value in free.items()}
    return factory(**values)  # type: ignore[no-any-return]


class _Route:
    """The source of one call plan's route (see `route`)."""

    def __init__(self, plan: CallPlan) -> None:
        self.plan = plan

    def source(self, name: str, *, is_async: bool) -> tuple[str, dict[str, t.Any]]:
        """Return the source of the route factory and the values of its free names."""
        emit = Emitter(self.plan.host, is_async=is_async)
        body = [*self._checks(emit), "try:"]
        body += [f"    {line}" for line in self._call(emit)]
        decline = emit.bind("_t_decline", _DECLINE)
        error = emit.local("_t_e")
        body += [
            f"except NotImplementedError as {error}:",
            f"    return {emit.wait}{decline}({error}, {emit.route_parameters()})",
        ]
        return emit.source(name, body, route=True), emit.free

    def _checks(self, emit: Emitter) -> list[str]:
        lines = []
        for name in self.plan.host_only:
            default = emit.const(self.plan.host.by_name[name].default)
            lines.append(
                f"if {name} is not {emit.omitted} and not {emit.bind('_t_is_default', is_default)}"
                f"({name}, {default}): {emit.bind('_t_ignored', self.plan.ignored)}"
                f"({name!r}, {name}, {default})"
            )
        return lines

    def _call(self, emit: Emitter) -> list[str]:
        """Return lines ending in ``return <the backend call>``.

        Keywords beyond the host's parameters (the ``**`` dict, usually empty)
        are taken by name when the backend names them, so the common call spreads
        no dict; anything else goes through `CallPlan.extra` and a spread call.
        """
        varargs = self.plan.host.var_positional if self.plan.backend.var_positional else None
        slots = self._slots(varargs=varargs is not None)
        positional = [self._value(emit, s, fill=True) for s in slots]
        in_slots = {s.backend.name for s in slots}
        keywords, conditional = self._keywords(emit, in_slots)
        lines: list[str] = []
        spread = []
        if conditional:
            bag = emit.local("_t_k")
            lines.append(f"{bag} = {{}}")
            for source in conditional:
                name = source.host.name  # type: ignore[union-attr]
                value = self._value(emit, source, fill=False)
                put = f"{bag}[{source.backend.name!r}] = {value}"
                lines.append(f"if {name} is not {emit.omitted}: {put}")
            spread.append(f"**{bag}")
        args = [*positional, *([f"*{varargs}"] if varargs else []), *keywords, *spread]
        target = emit.bind("_t_impl", self.plan.implementation)
        kw = emit.var_keyword
        call = f"{emit.wait}{target}"
        passed = emit.local("_t_fk")  # the route's own dict stays intact for a decline
        lines.append(f"if {kw}:")
        lines += [f"    {line}" for line in self._by_name(emit, call, args)]
        lines.append(f"    return {call}({', '.join([*args, f'**{passed}'])})")
        lines.append(f"return {call}({', '.join(args)})")
        return lines

    def _by_name(self, emit: Emitter, call: str, args: list[str]) -> list[str]:
        """Return lines that call with the backend-only keywords by name when that is all."""
        kw, passed = emit.var_keyword, emit.local("_t_fk")
        if self.plan.accepts_any_keyword:
            return [f"{passed} = {kw}"]
        accepted = emit.bind("_t_acc", self.plan.accepted)
        extra = emit.bind("_t_extra", self.plan.extra)
        check = f"{passed} = {kw} if {accepted}.issuperset({kw}) else {extra}({kw})"
        named = [
            p for p in self.plan.backend.named if p.name in self.plan.accepted and p.has_default
        ]
        if not self.plan.backend.exact or not named or len(named) > _MAX_BY_NAME:
            return [check]
        omitted = emit.omitted
        if len(named) == 1:  # the usual case: one keyword, read without a method call
            param = named[0]
            return [
                f"if len({kw}) == 1 and {param.name!r} in {kw}:",
                f"    return {call}({', '.join([*args, f'{param.name}={kw}[{param.name!r}]'])})",
                check,
            ]
        lines: list[str] = []
        given: list[str] = []
        by_name: list[str] = []
        for param in named:
            value = emit.local(f"_t_v_{param.name}")
            default = emit.const(param.default)
            lines.append(f"{value} = {kw}.get({param.name!r}, {omitted})")
            given.append(f"({value} is not {omitted})")
            by_name.append(f"{param.name}=({value} if {value} is not {omitted} else {default})")
        lines.append(f"if len({kw}) == {' + '.join(given)}:")
        lines.append(f"    return {call}({', '.join([*args, *by_name])})")
        lines.append(check)
        return lines

    def _slots(self, *, varargs: bool) -> list[Source]:
        """Return the backend parameters passed by position, in order."""
        by_position = POSITIONAL if varargs else (POSITIONAL_ONLY,)
        slots = [s for s in self.plan.sources if s.backend.kind in by_position]
        if varargs:
            return slots
        # positional-only slots up to the last one with a source ...
        last = max((i for i, s in enumerate(slots) if s.host is not None), default=-1)
        covered = last + 1 == len(slots)
        slots = slots[: last + 1]
        if covered:  # ... then leading shared parameters by position too: a faster call
            slots += self._leading(slots)
        return slots

    def _keywords(self, emit: Emitter, in_slots: set[str]) -> tuple[list[str], list[Source]]:
        """Return ``name=value`` arguments, and sources passed only when given."""
        keywords: list[str] = []
        conditional: list[Source] = []
        for source in self.plan.sources:
            if source.host is None or source.backend.name in in_slots:
                continue
            if (
                source.host.has_default
                and not self.plan.backend.exact
                and source.backend.has_default
            ):
                conditional.append(source)  # its default is documented, not known: leave it out
            else:
                keywords.append(f"{source.backend.name}={self._value(emit, source, fill=True)}")
        if self.plan.accepts_any_keyword:  # the backend's **kwargs takes unmatched host names
            matched = {s.host.name for s in self.plan.sources if s.host is not None}
            for param in self.plan.host.named:
                if param.name in matched or param.kind == POSITIONAL_ONLY:
                    continue
                if param.has_default:
                    conditional.append(Source(Param(param.name, KEYWORD_ONLY), param, None))
                else:
                    keywords.append(f"{param.name}={param.name}")
        return keywords, conditional

    def _leading(self, slots: list[Source]) -> list[Source]:
        """Positional-or-keyword backend parameters after `slots` that can go by position."""
        found = []
        rest = [s for s in self.plan.sources if s.backend.kind in POSITIONAL][len(slots) :]
        for source in rest:
            if source.host is None or source.backend.kind == POSITIONAL_ONLY:
                break
            if (
                source.host.has_default
                and not self.plan.backend.exact
                and source.backend.has_default
            ):
                break  # left out when omitted: only by keyword
            found.append(source)
        return found

    def _value(self, emit: Emitter, source: Source, *, fill: bool) -> str:
        """Return the expression for one backend argument (`fill`: default an omitted one)."""
        host, backend = source.host, source.backend
        if host is None:  # a positional slot no host parameter fills
            return emit.const(backend.default)
        expression = host.name
        if source.transform is not None:
            expression = f"{emit.const(source.transform)}({expression})"
        if not fill or not host.has_default:
            return expression
        default = emit.const(backend.default if backend.has_default else host.default)
        return f"({expression} if {host.name} is not {emit.omitted} else {default})"
