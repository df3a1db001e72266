"""backend_dispatch: pick the backend for a call, run its function or fall back."""

from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper
from typing import Any

from turnout._discovery import Discovery
from turnout._errors import DispatchDefinitionError
from turnout._names import CPU
from turnout._settings import SelectionState


def qualified_name(obj: Any) -> str:
    """Return ``module.qualname`` of a function or class, for messages."""
    module = getattr(obj, "__module__", None) or "<unknown module>"
    return f"{module}.{getattr(obj, '__qualname__', repr(obj))}"


def parameter_names(func: Callable[..., Any]) -> tuple[str, ...]:
    """Return the named parameters of a plain function, without `inspect`."""
    code = getattr(func, "__code__", None)
    if code is None:
        return ()
    count = code.co_argcount + code.co_kwonlyargcount
    return tuple(code.co_varnames[:count])


class DispatchedFunction:
    """turnout's record of one host function and its implementations per label."""

    __slots__ = ("_discovery", "host", "implementations", "name", "qualified_name")

    def __init__(self, host: Callable[..., Any], discovery: Discovery) -> None:
        self.host = host
        self.name: str = host.__name__
        self.qualified_name = qualified_name(host)
        self._discovery = discovery
        # label -> callable to run; filled on first use of each label, read lock-free.
        self.implementations: dict[str, Callable[..., Any]] = {CPU: host}

    def implementation(self, label: object) -> Callable[..., Any]:
        """Return what runs for `label` (the backend's function or the host's); cache it."""
        entry = self._discovery.require(label)
        found = getattr(entry.obj, self.name, None)
        if found is None:
            found = self.host  # the backend lacks this function: the host's code runs
        elif not callable(found):
            raise DispatchDefinitionError(
                target=self.qualified_name,
                problem=(
                    f"backend {entry.name!r} ({entry.describe_source()}) has an "
                    f"attribute {self.name!r} of type {type(found).__name__}, not a function"
                ),
                action="the backend must expose a callable under that name, or none at all",
            )
        if isinstance(label, str):
            self.implementations[label] = found
        return found


def check_function(host: object, keyword: str) -> None:
    """Raise `DispatchDefinitionError` when `host` cannot be dispatched."""
    if not callable(host) or not hasattr(host, "__code__"):
        raise DispatchDefinitionError(
            target=qualified_name(host),
            problem=f"@backend_dispatch decorates functions, not {type(host).__name__}",
            action="decorate classes with @backend_class",
        )
    if keyword in parameter_names(host):
        raise DispatchDefinitionError(
            target=f"{qualified_name(host)}()",
            problem=f"parameter {keyword!r} is reserved by turnout to select a backend",
            action=(
                "rename it, or choose another selector with BackendDispatcher(backend_keyword=...)"
            ),
        )


def wrap(record: DispatchedFunction, state: SelectionState, keyword: str) -> Callable[..., Any]:
    """Return the function that replaces ``record.host``: select, then call."""
    implementations = record.implementations
    slow = record.implementation
    var = state.var

    def dispatched(*args: Any, **kwargs: Any) -> Any:
        label = kwargs.pop(keyword, None)
        if label is None:
            label = var.get().name
        try:
            func = implementations[label]
        except (KeyError, TypeError):  # first use of this label, or not a label at all
            func = slow(label)
        return func(*args, **kwargs)

    update_wrapper(dispatched, record.host)
    return dispatched
