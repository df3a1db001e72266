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
from turnout._params import OMITTED
from turnout._selection import type_names

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


def converting(
    route: Callable[..., t.Any],
    backend: object,
    *,
    function: str,
    positions: Sequence[tuple[int, str]],
    owned: frozenset[str],
    is_async: bool,
) -> Callable[..., t.Any]:
    """Return `route` converting the arguments at `positions` (route convention) first."""
    to_backend = getattr(backend, "convert_from_host", None)
    if to_backend is None or not positions:
        return route
    to_host = getattr(backend, "convert_to_host", None)
    key = id(backend)

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

    if is_async:

        async def run_async(*args: t.Any) -> t.Any:
            values, changed = convert(args)
            result = await route(*values)
            return to_host(result, function=function) if changed and to_host else result

        return run_async

    def run(*args: t.Any) -> t.Any:
        values, changed = convert(args)
        result = route(*values)
        return to_host(result, function=function) if changed and to_host else result

    return run
