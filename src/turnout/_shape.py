"""Parameter shapes of functions, read from their code objects without `inspect`.

`inspect` costs several milliseconds to import; a plan for a host function and a
backend function needs only names, kinds and defaults, which a plain function's
code object and ``__defaults__``/``__kwdefaults__`` hold. Anything else (builtins,
``functools.wraps`` wrappers, objects with ``__signature__``) goes through
`inspect.signature`, which is what it documents.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import FunctionType, MethodType

from turnout import _lazytyping as t
from turnout._lazytyping import TYPE_CHECKING

if TYPE_CHECKING:
    import inspect

# The kinds, numbered as `inspect.Parameter.kind` numbers them.
POSITIONAL_ONLY, POSITIONAL_OR_KEYWORD, VAR_POSITIONAL, KEYWORD_ONLY, VAR_KEYWORD = range(5)
POSITIONAL = (POSITIONAL_ONLY, POSITIONAL_OR_KEYWORD)
VARIADIC = (VAR_POSITIONAL, VAR_KEYWORD)
_CO_VARARGS, _CO_VARKEYWORDS = 0x04, 0x08


class _Empty:
    """The marker for "no default"."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<no default>"


EMPTY: t.Any = _Empty()


class Param:
    """One parameter: its name, kind (see the module constants) and default."""

    __slots__ = ("default", "kind", "name")

    def __init__(self, name: str, kind: int, default: object = EMPTY) -> None:
        self.name = name
        self.kind = kind
        self.default = default

    @property
    def has_default(self) -> bool:
        """Whether the parameter has a default value."""
        return self.default is not EMPTY

    def __repr__(self) -> str:
        return f"Param({self.name!r}, {self.kind}, {self.default!r})"


class Shape:
    """The parameters of a callable, in order, with lookups a call plan needs."""

    __slots__ = ("by_name", "exact", "params", "var_keyword", "var_positional")

    def __init__(self, params: Iterable[Param], *, exact: bool = False) -> None:
        self.params = tuple(params)
        self.by_name = {p.name: p for p in self.params if p.kind not in VARIADIC}
        self.var_positional = next((p.name for p in self.params if p.kind == VAR_POSITIONAL), None)
        self.var_keyword = next((p.name for p in self.params if p.kind == VAR_KEYWORD), None)
        # exact: read from the code that runs, so its defaults are the real ones
        self.exact = exact

    @property
    def named(self) -> tuple[Param, ...]:
        """Every parameter but ``*args`` and ``**kwargs``, in order."""
        return tuple(p for p in self.params if p.kind not in VARIADIC)

    @property
    def positional(self) -> tuple[Param, ...]:
        """Positional-only and positional-or-keyword parameters, in order."""
        return tuple(p for p in self.params if p.kind in POSITIONAL)

    @property
    def keyword_only(self) -> tuple[Param, ...]:
        """Keyword-only parameters, in order."""
        return tuple(p for p in self.params if p.kind == KEYWORD_ONLY)

    def without_first(self) -> Shape:
        """Return the shape without its first parameter (``self`` of a bound method)."""
        first = next(iter(self.params), None)
        if first is None or first.kind not in POSITIONAL:
            return self
        return Shape(self.params[1:], exact=self.exact)

    def __repr__(self) -> str:
        return f"Shape({list(self.params)!r})"


def is_plain_function(func: object) -> bool:
    """Whether `func` is a Python function whose own code is its documented signature.

    Not a wrapper (``__wrapped__``), not one with a ``__signature__`` override:
    calling it with every parameter given explicitly is the same as calling it
    with its defaults left out.
    """
    if type(func) is not FunctionType:
        return False
    attributes = func.__dict__
    return "__wrapped__" not in attributes and "__signature__" not in attributes


def code_shape(func: object) -> Shape | None:
    """Return the shape of a plain function or a method bound to one, else None."""
    if type(func) is MethodType:
        inner = func.__func__
        if not is_plain_function(inner):
            return None
        return _from_code(inner).without_first()
    if not is_plain_function(func):
        return None
    return _from_code(func)


def _from_code(func: t.Any) -> Shape:
    code = func.__code__
    names = code.co_varnames
    positional_count = code.co_argcount
    only = code.co_posonlyargcount
    keyword_count = code.co_kwonlyargcount
    defaults = func.__defaults__ or ()
    kwdefaults = func.__kwdefaults__ or {}
    first_default = positional_count - len(defaults)
    params = [
        Param(
            names[i],
            POSITIONAL_ONLY if i < only else POSITIONAL_OR_KEYWORD,
            defaults[i - first_default] if i >= first_default else EMPTY,
        )
        for i in range(positional_count)
    ]
    index = positional_count + keyword_count
    if code.co_flags & _CO_VARARGS:
        params.append(Param(names[index], VAR_POSITIONAL))
        index += 1
    params.extend(
        Param(name, KEYWORD_ONLY, kwdefaults.get(name, EMPTY))
        for name in names[positional_count : positional_count + keyword_count]
    )
    if code.co_flags & _CO_VARKEYWORDS:
        params.append(Param(names[index], VAR_KEYWORD))
    return Shape(params, exact=True)


def signature_shape(signature: inspect.Signature) -> Shape:
    """Return the shape `inspect` documents for a callable."""
    empty = signature.empty
    return Shape(
        Param(p.name, int(p.kind), EMPTY if p.default is empty else p.default)
        for p in signature.parameters.values()
    )


def shape_of(func: object) -> Shape:
    """Return the shape of any callable: from its code if plain, else from `inspect`.

    Raises
    ------
    TypeError, ValueError
        `inspect.signature` cannot describe it.
    """
    shape = code_shape(func)
    if shape is not None:
        return shape
    import inspect  # noqa: PLC0415 - only for callables that are not plain functions

    return signature_shape(inspect.signature(func))  # type: ignore[arg-type]


def code_parameter_names(func: Callable[..., t.Any]) -> tuple[str, ...]:
    """Return every parameter name of a function's code, ``*args``/``**kwargs`` included."""
    code = getattr(func, "__code__", None)
    if code is None:
        return ()
    count = code.co_argcount + code.co_kwonlyargcount
    count += bool(code.co_flags & _CO_VARARGS) + bool(code.co_flags & _CO_VARKEYWORDS)
    return tuple(code.co_varnames[:count])


def documented_names(func: Callable[..., t.Any]) -> tuple[str, ...]:
    """Parameter names of `func` and of every function it wraps (``__wrapped__``)."""
    names: list[str] = []
    seen: set[int] = set()
    current: t.Any = func
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        names.extend(code_parameter_names(current))
        current = getattr(current, "__wrapped__", None)
    return tuple(names)


class _Omitted:
    """The default of every parameter of a generated wrapper or route."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<omitted>"

    def __reduce__(self) -> str:
        return "OMITTED"


OMITTED: t.Any = _Omitted()
"""Marks an argument the caller did not pass (the default of generated parameters)."""
