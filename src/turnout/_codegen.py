"""Generate the functions dispatch runs: wrappers, routes and host routes.

Every generated function that sees a host call takes the host's parameters with
each default replaced by `OMITTED` (the *route convention*): it can tell an
argument the caller gave from one the caller left out, and Python binds the
call once, in C. Generated source is compiled once per host function (wrapper)
or per (host function, backend) pair (route), never per call.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Sequence
from types import CellType, CodeType, FunctionType

from turnout import _lazytyping as t
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
WRAPPER_FREE = (
    "_t_A",  # the process-wide automatic choice that `_t_H` and `_t_T` answer for
    "_t_C",  # "cpu": compared by identity (an equal string that is not it goes by the plans)
    "_t_D",  # the host's defaults
    "_t_H",  # types for which that choice runs the host's code
    "_t_O",  # OMITTED
    "_t_U",  # the process-wide selection while no scope was ever entered, else OMITTED
    "_t_extras",  # the host's code for a call with keywords it does not take
    "_t_get",  # the selection ContextVar's get
    "_t_host",  # the host function
    "_t_miss",  # makes what `_t_plans` lacks
    "_t_plans",  # selection -> route
    "_t_T",  # type -> route, for that choice
)
NOBODY = object()  # `_t_A` while no automatic route answers by type
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
        extras: Sequence[str] = (),
    ) -> None:
        self.shape = shape
        self.is_async = is_async
        # Backend-only keywords of the loaded backends, taken as named parameters
        # (default OMITTED) after the ``**`` dict: no dict is built to pass one.
        self.extras = tuple(extras)
        self.wait = "await " if is_async else ""
        self._taken = {p.name for p in shape.params} | set(taken) | set(self.extras)
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
        elif keyword or selector or self.extras:
            parts.append("*")
        parts += keyword
        if selector:
            parts.append(f"{selector}=None")
        parts += [f"{extra}={self.omitted}" for extra in self.extras]
        parts.append(f"**{self.var_keyword}")
        return ", ".join(parts)

    def host_names(self) -> list[str]:
        """Return the host's values in route-convention order (without ``**`` and extras)."""
        shape = self.shape
        parts = [p.name for p in shape.params if p.kind in (POSITIONAL_ONLY, POSITIONAL_OR_KEYWORD)]
        if shape.var_positional:
            parts.append(shape.var_positional)
        parts += [p.name for p in shape.params if p.kind == KEYWORD_ONLY]
        return parts

    def route_parameters(self) -> str:
        """Return the route convention: every bound value, positionally, in order.

        Named parameters, then the ``*args`` tuple, keyword-only parameters, the
        ``**`` dict (always present) and the backend-only keywords: a call that
        copies nothing.
        """
        return ", ".join([*self.host_names(), self.var_keyword, *self.extras])

    def route_signature(self) -> str:
        """Return the route convention as parameters, the backend-only keywords last.

        Those default to `OMITTED`: a caller made before they were taken by name
        (one that passes them in the ``**`` dict) is served too.
        """
        extras = [f"{extra}={self.omitted}" for extra in self.extras]
        return ", ".join([*self.host_names(), self.var_keyword, *extras])

    def extras_given(self) -> str:
        """Return a test that is true when the caller gave a keyword beyond the host's."""
        return " or ".join([self.var_keyword, *(f"{e} is not {self.omitted}" for e in self.extras)])

    def extra_arguments(self) -> str:
        """Return ``, e1=e1, ...``: the backend-only keywords passed on by name."""
        return "".join(f", {extra}={extra}" for extra in self.extras)

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
        params = self.route_signature() if route else self.parameters(selector)
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
    """Return a branch the compiler drops that names every closure variable (same layout)."""
    listed = ", ".join(names[base] for base in WRAPPER_FREE)
    return f"{indent}if 0:  # compiled away: keeps the closure layout\n{indent}    {listed}\n"


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
            f"        return {wait}{names['_t_miss']}({names['_t_plans']})(*args, **kwargs)\n"
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
            f"            {keyword} = {names['_t_U']}\n"
            f"            if {keyword} is {names['_t_O']}:\n"
            f"                {keyword} = {names['_t_get']}().name\n"
            f"        if {keyword} is {names['_t_C']}:\n"
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
    """Create a function from generated inner `code`, its closure given by name.

    A value that is a cell is that closure cell itself (shared with others).
    """
    closure = tuple(
        [  # a list first: faster than a generator for a dozen cells
            value if type(value) is CellType else CellType(value)
            for value in map(cells.__getitem__, code.co_freevars)
        ]
    )
    return FunctionType(code, _NAMESPACE, name, None, closure)


def specialised_code(
    name: str,
    shape: Shape,
    keyword: str,
    names: dict[str, str],
    is_async: bool,
    *,
    extras: Sequence[str] = (),
    typed: str | None = None,
) -> tuple[CodeType, tuple[object, ...] | None, dict[str, object], tuple[object, ...]]:
    """Return a plain host's wrapper code, its defaults, kwdefaults and the host's defaults.

    The code takes exactly the host's parameters (defaults `OMITTED`), the
    selector keyword, and ``**`` for backend-only keywords. On the host's path
    it fills in the host's defaults for omitted arguments and calls the host: a
    ContextVar read, a comparison, a few identity checks and the call. While no
    scope was ever entered, ``_t_U`` holds the process-wide selection: no
    ContextVar read either.
    `extras` (the loaded backends' own keywords) are named parameters too.
    `typed` names the one parameter automatic selection looks at: for the
    process-wide automatic choice in ``_t_A`` the wrapper runs the host's code
    inline for a type in ``_t_H`` and finds any other type's route in ``_t_T``.
    """
    emit = Emitter(shape, taken={keyword}, is_async=is_async, preset=names, extras=extras)
    route = emit.local("_t_r")
    fill, defaults = emit.substitute(names["_t_D"])
    cpu = [*fill]
    if shape.var_keyword is None:  # keywords the host does not take: warn (backend-only) or raise
        extra = emit.host_arguments() + emit.extra_arguments()
        handler = names["_t_extras"]
        cpu.append(f"if {emit.extras_given()}: return {emit.wait}{handler}({extra})")
        cpu.append(f"return {emit.wait}{names['_t_host']}({emit.host_arguments(keywords=False)})")
    else:
        cpu += emit.call(names["_t_host"])
    body = [
        *_never(names, "").splitlines(),
        f"if {keyword} is None:",
        f"    {keyword} = {names['_t_U']}",
        f"    if {keyword} is {names['_t_O']}:",
        f"        {keyword} = {names['_t_get']}().name",
        f"if {keyword} is {names['_t_C']}:",
        *(f"    {line}" for line in cpu),
    ]
    if typed is not None:
        kind = emit.local("_t_ty")
        body += [
            f"if {keyword} is {names['_t_A']}:",
            f"    {kind} = type({typed})",
            f"    if {kind} in {names['_t_H']}:",
            *(f"        {line}" for line in cpu),
            "    try:",
            f"        {route} = {names['_t_T']}[{kind}]",
            "    except KeyError:",
            f"        {route} = {names['_t_miss']}({keyword})",
            f"    return {emit.wait}{route}({emit.route_parameters()})",
        ]
    body += [
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
    kwdefaults.update(dict.fromkeys(extras, OMITTED))
    return code, wrapper_defaults or None, kwdefaults, defaults


def host_route(
    name: str,
    host: t.Any,
    shape: Shape,
    *,
    plain: bool,
    is_async: bool,
    handler: t.Any = None,
    extras: Sequence[str] = (),
) -> t.Any:
    """Return the host's code as a route (the route convention in, the host's call out).

    A plain host gets its defaults for omitted arguments and a fixed call;
    keywords it does not take (given in the ``**`` dict or as one of `extras`)
    go to `handler` (which warns or raises). Any other host gets the caller's
    arguments rebuilt: positional ones by position up to the first one left
    out, the rest by keyword.
    """
    emit = Emitter(shape, is_async=is_async, extras=extras)
    target = emit.bind("_t_host", host)
    if plain:
        defaults_name = emit.local("_t_D")
        fill, defaults = emit.substitute(defaults_name)
        emit.bind("_t_D", defaults)
        body = [*fill]
        if shape.var_keyword is None and handler is not None:
            bound = emit.bind("_t_extras", handler)
            arguments = emit.host_arguments() + emit.extra_arguments()
            body.append(f"if {emit.extras_given()}: return {emit.wait}{bound}({arguments})")
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


def as_given(emit: Emitter) -> tuple[list[str], str, str]:
    """Lines rebuilding a call as hooks see it; the expressions of its args and kwargs.

    The hook rule: required parameters (and optional positional-only ones the
    caller gave) by position, ``*args`` after them; every other argument the
    caller gave by keyword under its host name, backend-only keywords too. An
    optional parameter before a non-empty ``*args`` tuple stays positional (the
    caller could only have given it so). Omitted arguments are left out.
    """
    shape, omitted = emit.shape, emit.omitted
    kws = emit.local("_t_kws")
    lines = [f"{kws} = {{}}"]
    positional = [p for p in shape.params if p.kind in (POSITIONAL_ONLY, POSITIONAL_OR_KEYWORD)]
    if shape.var_positional is None and not any(
        p.kind == POSITIONAL_ONLY and p.has_default for p in positional
    ):
        required = [p.name for p in positional if not p.has_default]
        args = f"({', '.join(required)},)" if required else "()"
        lines += [
            f"if {p.name} is not {omitted}: {kws}[{p.name!r}] = {p.name}"
            for p in positional
            if p.has_default
        ]
    else:
        args = _positional_as_given(emit, positional, kws, lines)
    for param in shape.keyword_only:
        put = f"{kws}[{param.name!r}] = {param.name}"
        lines.append(f"if {param.name} is not {omitted}: {put}" if param.has_default else put)
    lines += [f"if {e} is not {omitted}: {kws}[{e!r}] = {e}" for e in emit.extras]
    lines.append(f"if {emit.var_keyword}: {kws}.update({emit.var_keyword})")
    return lines, args, kws


def _positional_as_given(emit: Emitter, positional: list[Param], kws: str, lines: list[str]) -> str:
    """Append the lines that list the positional values (see `as_given`); return the tuple."""
    omitted, rest = emit.omitted, emit.shape.var_positional
    listed = emit.local("_t_args")
    lines.append(f"{listed} = []")
    for param in positional:
        name = param.name
        if not param.has_default:
            lines.append(f"{listed}.append({name})")
        elif param.kind == POSITIONAL_ONLY:  # never after a gap: a caller cannot skip one
            lines.append(f"if {name} is not {omitted}: {listed}.append({name})")
        elif rest is not None:
            lines += [
                f"if {rest}: {listed}.append({name})",
                f"elif {name} is not {omitted}: {kws}[{name!r}] = {name}",
            ]
        else:
            lines.append(f"if {name} is not {omitted}: {kws}[{name!r}] = {name}")
    if rest is not None:
        lines.append(f"{listed}.extend({rest})")
    return f"tuple({listed})"


def hook_gate(
    name: str,
    shape: Shape,
    hooks: Sequence[tuple[str, t.Any, bool]],
    *,
    key: str,
    route: t.Any,
    refuse: t.Any,
    failed: t.Any,
    judge: t.Any,
    extras: Sequence[str] = (),
) -> t.Any:
    """Return `route` behind its ``can_run``/``should_run`` hooks, as one generated function.

    Each ``(kind, hook, per_function)`` is asked in turn: a per-function hook
    as ``hook(*args, **kwargs)``, a per-backend one as ``hook(key, args,
    kwargs)``, with the call as `as_given` rebuilds it. ``True`` goes on at
    the cost of an identity check; anything else goes to `judge`, and a "no"
    to ``refuse(index, reason, <route arguments>)``. A hook that raises
    ``NotImplementedError`` says no with its message; any other exception
    goes to ``failed(error, index)`` (which notes the backend and hook on it)
    and propagates.
    """
    emit = Emitter(shape, extras=extras)
    lines, args, kws = as_given(emit)
    packed, verdict, error = emit.local("_t_a"), emit.local("_t_v"), emit.local("_t_err")
    params = emit.route_parameters()
    refused, noted, judged = (
        emit.bind("_t_refuse", refuse),
        emit.bind("_t_failed", failed),
        emit.bind("_t_judge", judge),
    )
    body = [*lines, f"{packed} = {args}"]
    for index, (_, hook, per_function) in enumerate(hooks):
        bound = emit.bind(f"_t_hook{index}", hook)
        call = (
            f"{bound}(*{packed}, **{kws})"
            if per_function
            else f"{bound}({emit.const(key)}, {packed}, {kws})"
        )
        body += [
            "try:",
            f"    {verdict} = {call}",
            f"except NotImplementedError as {error}:",
            f"    {verdict} = str({error}) or 'raised NotImplementedError'",
            f"except Exception as {error}:",
            f"    {noted}({error}, {index})",
            "    raise",
            f"if {verdict} is not True:",
            f"    {verdict} = {judged}({verdict})",
            f"    if {verdict} is not None: return {refused}({index}, {verdict}, {params})",
        ]
    body.append(f"return {emit.bind('_t_route', route)}({params})")
    return emit.build(name, body, f"<turnout hook gate of {name}>", route=True)


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
    extras: Sequence[str] = (),
) -> t.Any:
    """Return a route that picks a route by the types of the arguments at `positions`.

    `cache` maps a type (or a tuple of types) to its route; a type met for the
    first time goes to `resolve`, which makes and caches its route.
    """
    emit = Emitter(shape, is_async=is_async, extras=extras)
    params = emit.host_names()
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


def route(
    plan: CallPlan,
    name: str,
    decline: Callable[..., t.Any],
    *,
    is_async: bool = False,
    extras: Sequence[str] = (),
) -> Callable[..., t.Any]:
    """Return a route for `plan`: the host's parameters in (defaults `OMITTED`), the call out.

    It checks host-only and extra arguments and calls the backend function.
    A `NotImplementedError` the backend raises goes to `decline` with the
    exception and the route's own arguments, so the caller decides what runs
    next. `extras` are the backend-only keywords the route takes by name. The
    source is compiled once per plan (and extras); each route is a new closure.
    """
    extras = tuple(extras)
    if plan.compiled is None or plan.compiled[0] != extras:
        source, free = _Route(plan, extras).source(name, is_async=is_async)
        plan.compiled = (extras, compile_factory(source, f"<turnout route of {name}>"), free)
    _, factory, free = plan.compiled
    values = {key: decline if value is _DECLINE else value for key, value in free.items()}
    return factory(**values)  # type: ignore[no-any-return]


class _Route:
    """The source of one call plan's route (see `route`)."""

    def __init__(self, plan: CallPlan, extras: tuple[str, ...] = ()) -> None:
        self.plan = plan
        self.extras = extras

    def source(self, name: str, *, is_async: bool) -> tuple[str, dict[str, t.Any]]:
        """Return the source of the route factory and the values of its free names."""
        emit = Emitter(self.plan.host, is_async=is_async, extras=self.extras)
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

        Backend-only keywords arrive as named parameters (`extras`): the ones
        this backend takes are passed on by name, the others are checked by
        `CallPlan.extra` when given (an ignored-argument warning or the host's
        `TypeError`). Anything in the ``**`` dict (a keyword nobody declared)
        takes the slow path: one dict, checked, spread into the call.
        """
        plan, omitted = self.plan, emit.omitted
        varargs = plan.host.var_positional if plan.backend.var_positional else None
        slots = self._slots(varargs=varargs is not None)
        positional = [self._value(emit, s, fill=True) for s in slots]
        in_slots = {s.backend.name for s in slots}
        keywords, conditional = self._keywords(emit, in_slots)
        lines: list[str] = []
        bag = emit.local("_t_k")
        if conditional:
            lines.append(f"{bag} = {{}}")
            for source in conditional:
                name = source.host.name  # type: ignore[union-attr]
                value = self._value(emit, source, fill=False)
                put = f"{bag}[{source.backend.name!r}] = {value}"
                lines.append(f"if {name} is not {omitted}: {put}")
        args = [*positional, *([f"*{varargs}"] if varargs else []), *keywords]
        spread = [f"**{bag}"] if conditional else []
        target = emit.bind("_t_impl", plan.implementation)
        call = f"{emit.wait}{target}"
        kw, passed = emit.var_keyword, emit.local("_t_fk")
        # the slow path: keywords in the ** dict; given extras join them in one dict
        lines.append(f"if {kw}:")
        lines.append(f"    {passed} = dict({kw})")
        lines += [f"    if {e} is not {omitted}: {passed}[{e!r}] = {e}" for e in self.extras]
        if not plan.accepts_any_keyword:
            accepted = emit.bind("_t_acc", plan.accepted)
            extra = emit.bind("_t_extra", plan.extra)
            lines.append(
                f"    if not {accepted}.issuperset({passed}): {passed} = {extra}({passed})"
            )
        lines.append(f"    return {call}({', '.join([*args, *spread, f'**{passed}'])})")
        # the fast path: no dict unless the backend's signature leaves a default unknown
        by_name: list[str] = []
        for extra_name in self.extras:
            param = plan.backend.by_name.get(extra_name)
            if extra_name in plan.accepted and param is not None:
                if plan.backend.exact and param.has_default:
                    default = emit.const(param.default)
                    value = f"{extra_name} if {extra_name} is not {omitted} else {default}"
                    by_name.append(f"{extra_name}=({value})")
                    continue
            elif not plan.accepts_any_keyword:  # another backend's keyword: warn or raise
                check = emit.bind("_t_extra", plan.extra)
                lines.append(
                    f"if {extra_name} is not {omitted}: {check}({{{extra_name!r}: {extra_name}}})"
                )
                continue
            if not spread:
                lines.append(f"{bag} = {{}}")
                spread = [f"**{bag}"]
            lines.append(f"if {extra_name} is not {omitted}: {bag}[{extra_name!r}] = {extra_name}")
        lines.append(f"return {call}({', '.join([*args, *by_name, *spread])})")
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
