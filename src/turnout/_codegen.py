"""Generate dispatch wrappers with the host function's exact signature."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from types import CodeType

from turnout import _lazytyping as t
from turnout._lazytyping import TYPE_CHECKING
from turnout._names import CPU

if TYPE_CHECKING:
    import inspect

# Names the generated wrapper closes over, in closure (sorted) order; a name
# that clashes with a host parameter gets underscores appended, keeping the order.
FREE = ("_t_extras", "_t_get", "_t_host", "_t_miss", "_t_plans")
FIRST_CALL = ()  # what the unspecialised wrapper passes to `miss`
CO_COROUTINE = 0x80  # inspect.CO_COROUTINE, without importing inspect
_generic_cache: dict[tuple[tuple[str, ...], bool], CodeType] = {}


def generated_namespace() -> dict[str, t.Any]:
    """Globals for generated code: named so warnings skip its frames, with builtins."""
    return {"__name__": "turnout._generated", "__builtins__": builtins}


def free_names(taken: Iterable[str]) -> tuple[str, ...]:
    """Return the closure names for a function whose parameters are `taken`."""
    used = set(taken)
    if used.isdisjoint(FREE):
        return FREE  # the usual case: nothing to rename
    names = []
    for name in FREE:
        chosen = name
        while chosen in used:
            chosen += "_"
        names.append(chosen)
    return tuple(names)


def _inner_code(source: str, filename: str) -> CodeType:
    namespace = generated_namespace()
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own source
    consts = namespace["_t_make"].__code__.co_consts
    return next(const for const in consts if isinstance(const, CodeType))


def is_coroutine_function(func: object) -> bool:
    """Whether `func` is an ``async def`` function (read from its code flags)."""
    code = getattr(func, "__code__", None)
    return code is not None and bool(code.co_flags & CO_COROUTINE)


def generic_code(names: tuple[str, ...], is_async: bool = False) -> CodeType:
    """Return the code a wrapper starts with: specialise on the first call, then run it.

    Decorating stays cheap (no compile per function); the closure is the one
    the specialised code expects, so the first call can swap the code in place.
    An ``async def`` host gets an ``async def`` wrapper from the start, so
    `inspect.iscoroutinefunction` is true for it before and after that swap.
    """
    key = (names, is_async)
    if key not in _generic_cache:
        extras, get, host, miss, plans = names
        prefix, wait = ("async ", "await ") if is_async else ("", "")
        _generic_cache[key] = _inner_code(
            f"def _t_make({', '.join(names)}):\n"
            f"    {prefix}def dispatched(*args, **kwargs):\n"
            f"        if {miss} is None:  # never true: keeps the closure of the specialised code\n"
            f"            return {extras}, {get}, {host}, {plans}\n"
            f"        return {wait}{miss}({FIRST_CALL!r})(*args, **kwargs)\n"
            "    return dispatched\n",
            "<turnout wrapper>",
        )
    return _generic_cache[key]


def specialised_code(
    name: str,
    signature: inspect.Signature,
    keyword: str,
    free: tuple[str, ...],
    is_async: bool = False,
) -> tuple[CodeType, tuple[t.Any, ...] | None, dict[str, t.Any]]:
    """Return the wrapper's code, ``__defaults__`` and ``__kwdefaults__``.

    The code takes exactly the host's parameters plus the selector keyword (and
    ``**kwargs`` for backend-only keywords), so Python binds a call once, in C;
    the default path is then a ContextVar read, a comparison and the host call.
    """
    import inspect  # noqa: PLC0415 - first call only

    kinds = inspect.Parameter
    extras, get, host, miss, plans = free
    params = list(signature.parameters.values())
    taken = {*signature.parameters, *free, keyword}
    plan = _unique("_t_plan", taken)
    var_keyword = next((p.name for p in params if p.kind is kinds.VAR_KEYWORD), None)
    extra = var_keyword or _unique("_t_kw", taken)
    pos_only = [p.name for p in params if p.kind is kinds.POSITIONAL_ONLY]
    pos_kw = [p.name for p in params if p.kind is kinds.POSITIONAL_OR_KEYWORD]
    star = next((f"*{p.name}" for p in params if p.kind is kinds.VAR_POSITIONAL), "")
    keywords = [p.name for p in params if p.kind is kinds.KEYWORD_ONLY]
    header = [*pos_only, *(["/"] if pos_only else []), *pos_kw, star or "*", *keywords]
    header += [keyword, f"**{extra}"]
    positional = [*pos_only, *pos_kw, *([star] if star else [])]
    call = ", ".join([*positional, *(f"{k}={k}" for k in keywords)])
    # With the host's **kwargs empty (the usual case) a plain call avoids Python's
    # slower argument-unpacking call; `ret` emits both forms when needed.
    spread = (f"{call}, **{extra}" if call else f"**{extra}") if var_keyword else call

    wait = "await " if is_async else ""

    def ret(target: str, indent: str) -> list[str]:
        if not var_keyword:
            return [f"{indent}return {wait}{target}({call})"]
        return [
            f"{indent}if {extra}:",
            f"{indent}    return {wait}{target}({spread})",
            f"{indent}return {wait}{target}({call})",
        ]

    func = name if name.isidentifier() else "dispatched"
    prefix = "async " if is_async else ""
    lines = [f"def _t_make({', '.join(free)}):", f"    {prefix}def {func}({', '.join(header)}):"]
    if var_keyword is None:
        args = "".join(f"{item}, " for item in positional)
        kwargs = ", ".join([*(f"{k!r}: {k}" for k in keywords), f"**{extra}"])
        lines += [
            f"        if {extra}:",
            f"            return {wait}{extras}({keyword}, ({args}), {{{kwargs}}})",
        ]
    lines += [
        f"        if {keyword} is None:",
        f"            {keyword} = {get}().name",
        f"        if {keyword} == {CPU!r}:",
        *ret(host, "            "),
        "        try:",
        f"            {plan} = {plans}[{keyword}]",
        "        except (KeyError, TypeError):",
        # `extras` is named here too so every wrapper closes over the same five
        # names (a host with **kwargs never takes the extras path).
        f"            {plan} = {miss}({keyword}) if {extras} else None",
        *ret(plan, "        "),
        f"    return {func}",
    ]
    code = _inner_code("\n".join(lines) + "\n", f"<turnout wrapper of {name}>")
    positional_kinds = (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD)
    defaults = tuple(
        p.default for p in params if p.kind in positional_kinds and p.default is not p.empty
    )
    kwdefaults = {p.name: p.default for p in params if p.kind is kinds.KEYWORD_ONLY}
    kwdefaults = {k: v for k, v in kwdefaults.items() if v is not inspect.Parameter.empty}
    kwdefaults[keyword] = None
    return code, defaults or None, kwdefaults


def _unique(name: str, taken: set[str]) -> str:
    while name in taken:
        name += "_"
    return name
