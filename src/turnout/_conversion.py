"""Converting a call's arguments to a backend's types and its result back; a scoped cache.

Off unless declared twice: the host names the parameters that may be converted
(``backend_dispatch(convert=("data",))``) and the backend defines
``convert_from_host(value, *, function, parameter)`` and, optionally,
``convert_to_host(result, *, function)``. An argument already of a type the
backend owns is left as it is; the result is converted back only when an
argument was converted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar

from turnout import _lazytyping as t
from turnout._decision import type_names
from turnout._shape import OMITTED

# (backend id, object id) -> (weak reference to the object, converted value), in a scope
_cache: ContextVar[dict[tuple[int, int], tuple[t.Any, t.Any]] | None] = ContextVar(
    "turnout:conversions", default=None
)


class conversion_cache:  # noqa: N801 - used as a function: `with settings.conversion_cache():`
    """Reuse the conversion of an object within a ``with`` block (held weakly, dropped on exit)."""

    __slots__ = ("_tokens",)

    def __init__(self) -> None:
        self._tokens: list[t.Any] = []

    def __enter__(self) -> None:
        self._tokens.append(_cache.set({}))

    def __exit__(self, *exc_info: object) -> None:
        _cache.reset(self._tokens.pop())


def _converted(convert: Callable[..., t.Any], value: object, key: int, **names: str) -> t.Any:
    cache = _cache.get()
    if cache is None:
        return convert(value, **names)
    import weakref  # noqa: PLC0415 - only inside a conversion cache scope

    found = cache.get((key, id(value)))
    if found is not None and found[0]() is value:
        return found[1]
    result = convert(value, **names)
    try:
        reference = weakref.ref(value)
    except TypeError:  # not weakly referenceable: not cached
        return result
    cache[key, id(value)] = (reference, result)
    return result


class _Declined(Exception):  # noqa: N818 - a signal inside a converting route, never seen
    """The backend declined after its arguments were converted."""

    def __init__(self, error: NotImplementedError) -> None:
        super().__init__(error)
        self.error = error


def declined(error: NotImplementedError, *args: t.Any) -> t.Any:
    """Hand a decline out of a route that `converting` wraps (its decline handler)."""
    del args  # the converted values: the next candidate gets the caller's own
    raise _Declined(error)


def converting(
    route: Callable[..., t.Any],
    backend: object,
    decline: Callable[..., t.Any],
    *,
    function: str,
    positions: Sequence[tuple[int, str]],
    owned: frozenset[str],
    is_async: bool,
) -> Callable[..., t.Any]:
    """Return `route` converting the arguments at `positions` (route convention) first.

    `route` must decline through `declined`; a decline, or a conversion that
    raises `NotImplementedError`, goes to `decline` with the caller's own
    arguments, so the next candidate never sees a converted object.
    """
    to_backend = getattr(backend, "convert_from_host", None)
    if to_backend is None or not positions:
        return route
    to_host = getattr(backend, "convert_to_host", None)
    convert = _converter(to_backend, id(backend), function, positions, owned)

    def back(result: t.Any, changed: bool) -> t.Any:
        return to_host(result, function=function) if changed and to_host else result

    if is_async:

        async def run_async(*args: t.Any) -> t.Any:
            try:
                values, changed = convert(args)
                result = await route(*values)
            except (NotImplementedError, _Declined) as error:
                return await decline(_cause(error), *args)
            return back(result, changed)

        return run_async

    def run(*args: t.Any) -> t.Any:
        try:
            values, changed = convert(args)
            result = route(*values)
        except (NotImplementedError, _Declined) as error:
            return decline(_cause(error), *args)
        return back(result, changed)

    return run


def _converter(
    to_backend: Callable[..., t.Any],
    key: int,
    function: str,
    positions: Sequence[tuple[int, str]],
    owned: frozenset[str],
) -> Callable[[tuple[t.Any, ...]], tuple[list[t.Any], bool]]:
    """Return ``convert(args) -> (values, changed)`` for the arguments at `positions`."""

    def convert(args: tuple[t.Any, ...]) -> tuple[list[t.Any], bool]:
        values, changed = list(args), False
        for index, parameter in positions:
            value = values[index]
            if value is OMITTED or owned.intersection(type_names(type(value))):
                continue
            values[index] = _converted(
                to_backend, value, key, function=function, parameter=parameter
            )
            changed = True
        return values, changed

    return convert


def _cause(error: Exception) -> t.Any:
    """Return the backend's own `NotImplementedError` behind a decline."""
    return error.error if isinstance(error, _Declined) else error
