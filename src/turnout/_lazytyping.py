"""Names for annotations, backed by `typing` only when something evaluates them.

`import typing` would be most of what `import turnout` costs. Modules loaded by
``import turnout`` write annotations as ``t.Any`` after
``from turnout import _lazytyping as t``; with postponed evaluation they are
strings, and `typing.get_type_hints` resolves them through this module's
``__getattr__``, which imports `typing` then.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable

    # `X as X`: an explicit re-export, which mypy --strict needs for `t.Any`
    from typing import Any as Any  # noqa: PLC0414
    from typing import ClassVar as ClassVar  # noqa: PLC0414
    from typing import ParamSpec, TypeVar

    P = ParamSpec("P")
    R = TypeVar("R")
    T = TypeVar("T", bound=type)
    F = TypeVar("F", bound=Callable[..., Any])


def __getattr__(name: str) -> object:
    if name.startswith("__"):  # the import system probes __path__ and the like
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    import typing  # noqa: PLC0415 - the point of this module
    from collections.abc import Callable  # noqa: PLC0415

    made: dict[str, object] = {
        "P": typing.ParamSpec("P"),
        "R": typing.TypeVar("R"),
        "T": typing.TypeVar("T", bound=type),
        "F": typing.TypeVar("F", bound=Callable[..., typing.Any]),
    }
    value = made[name] if name in made else getattr(typing, name)
    globals()[name] = value
    return value
